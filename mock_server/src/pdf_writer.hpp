#pragma once
// Draws laid-out pages (certificate_pages.hpp) as a PDF: cairo's PDF surface, text shaped with
// HarfBuzz in IPAmj明朝 (the MJ character set with its IVS) and, for a character it lacks, Noto
// Serif CJK JP. Fonts are embedded as subsets. Each shaping cluster is drawn with its text
// (cairo_show_text_glyphs), so the text layer gives back every code point: a cluster whose glyphs
// do not map one-to-one to its characters — an ideographic variation sequence — is written with
// /ActualText. The seal PNG of an 印鑑登録証明書 is attached as the embedded file "seal.png".
//
// Pango is not used: it drops a variation selector the font has no variant glyph for from the
// text it hands cairo, so the text layer loses U+E0100 (measured, docs/decisions.md).
//
// Thread-safe: the fonts are loaded once per process and are immutable afterwards (HarfBuzz fonts
// are safe to shape with from any thread; cairo's FreeType faces lock themselves); every call
// draws on its own surface.

#include <string>
#include <vector>

#include "certificate_pages.hpp"

namespace kofu::mock {

struct rendered_pdf {
  std::string bytes;  // the PDF, when error is empty
  std::string error;  // what failed (cairo status, an unreadable seal PNG)
};

// Loads the fonts if they are not loaded yet. Throws std::runtime_error naming the font that
// fontconfig cannot find (called when a server with --print-format pdf starts, so that a missing
// font package is a setup error, not a failed answer).
void load_print_fonts();

// Draws the document. Calls load_print_fonts() first (its exception included).
rendered_pdf write_pdf(const print_document& document);

}  // namespace kofu::mock
