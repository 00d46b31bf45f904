#pragma once
// Reading PDF print data (issue 12, DESIGN §5a): the text layer of every page with positions,
// and the images each page draws, hashed by their pixels. This is what kofu observes of a PDF
// answer and records in the history (docs/history.md "PDF print data"); the certificate model is
// made from it later by a print layout (kofu/driver/pdf_answer.hpp), never from the PDF itself,
// so `kofu verify` needs no PDF.
//
// Text comes from poppler-cpp (words with their boxes), images from poppler's core renderer
// (the decoded samples of each drawn image, as 8-bit RGB). A PDF that cannot be read is never an
// exception or a crash: `malformed` says why (corrupt, truncated, encrypted, no text layer).
// Thread-safe: every call opens its own document.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kofu/common/error.hpp"

namespace kofu::print {

// One word of the text layer, as poppler groups characters. Boxes are in PDF points (1/72 in)
// from the page's top-left corner, y growing downwards.
struct text_run {
  std::string text;  // UTF-8, exactly as the text layer maps the glyphs (IVS selectors kept)
  double x = 0, y = 0, w = 0, h = 0;
  bool space_after = false;  // poppler saw a space between this word and the next on its line
};

// One image drawn on a page. `pixels_sha256` is the SHA-256 of the image's decoded samples as
// 8-bit RGB, row after row, with no header (see pixels_sha256 below): a PDF re-encodes what it
// embeds, so a PNG's file hash cannot be compared, its pixels can.
struct page_image {
  std::string pixels_sha256;
  int width = 0;  // samples
  int height = 0;
  double x = 0, y = 0, w = 0, h = 0;  // where it is drawn, as text_run
};

struct printed_page {
  int number = 0;  // 1-based, in document order
  double width = 0, height = 0;
  std::vector<text_run> runs;
  std::vector<page_image> images;
};

struct pdf_reading {
  // Why the PDF cannot be read as print data; the other members then hold what was read.
  std::optional<std::string> malformed;
  std::string sha256;  // of the whole file
  std::size_t size = 0;
  std::vector<printed_page> pages;
};

// Reads a PDF held in memory.
pdf_reading read_pdf(std::string_view bytes);

// The history's form (docs/history.md): {"format":"pdf","size","sha256","pages":[{"page",
// "width","height","runs":[[text,x,y,w,h,space_after]...],"images":[{...}]}]}, numbers rounded
// to 0.01 pt; `malformed` when set.
nlohmann::json to_json(const pdf_reading& reading);
// Reads that form back; errors name the member.
result<pdf_reading> from_json(const nlohmann::json& print);

// SHA-256 of an image's pixels in the form page_image uses, from PNG bytes (the population's
// seal image); nullopt when the bytes are not a PNG libpng can read.
std::optional<std::string> png_pixels_sha256(std::string_view png);

// Renders page `page` (1-based) of a PDF as a PNG file (poppler's page renderer, `dpi`).
result<void> render_page_png(std::string_view pdf_bytes, int page, const std::filesystem::path& out,
                             double dpi = 100.0);

}  // namespace kofu::print
