#include "pdf_writer.hpp"

#include <cairo-ft.h>
#include <cairo-pdf.h>
#include <cairo.h>
#include <fmt/format.h>
#include <fontconfig/fontconfig.h>
#include <hb-ot.h>
#include <hb.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string_view>

namespace kofu::mock {
namespace {

// One font, shaped by HarfBuzz and drawn by cairo from the same file, so glyph ids agree.
struct print_font {
  hb_font_t* shaper = nullptr;
  cairo_font_face_t* face = nullptr;
  double units_per_em = 1000;
  double ascender = 880;  // font units
};

// The file and face index fontconfig matches for `family`; throws when it matches another family
// (fontconfig always matches something).
std::pair<std::string, int> locate(const char* family, const char* family_prefix) {
  FcPattern* pattern = FcNameParse(reinterpret_cast<const FcChar8*>(family));
  FcConfigSubstitute(nullptr, pattern, FcMatchPattern);
  FcDefaultSubstitute(pattern);
  FcResult result = FcResultNoMatch;
  FcPattern* match = FcFontMatch(nullptr, pattern, &result);
  FcPatternDestroy(pattern);
  FcChar8* file = nullptr;
  FcChar8* found_family = nullptr;
  int index = 0;
  std::pair<std::string, int> located;
  if (match != nullptr && FcPatternGetString(match, FC_FILE, 0, &file) == FcResultMatch &&
      FcPatternGetString(match, FC_FAMILY, 0, &found_family) == FcResultMatch &&
      std::strncmp(reinterpret_cast<const char*>(found_family), family_prefix,
                   std::strlen(family_prefix)) == 0) {
    FcPatternGetInteger(match, FC_INDEX, 0, &index);
    located = {reinterpret_cast<const char*>(file), index};
  }
  if (match != nullptr) FcPatternDestroy(match);
  if (located.first.empty()) {
    throw std::runtime_error(fmt::format(
        "--print-format pdf: font '{}' not found by fontconfig (install the Debian package "
        "fonts-ipamj-mincho for IPAmj明朝 and fonts-noto-cjk for Noto Serif CJK JP)",
        family));
  }
  return located;
}

// Japanese text, left to right. The language is resolved once: hb_language_from_string
// publishes the copy it makes through HarfBuzz's own atomics, which ThreadSanitizer cannot see
// in the uninstrumented library.
void set_japanese(hb_buffer_t* buffer) {
  static const hb_language_t japanese = hb_language_from_string("ja", -1);
  hb_buffer_set_direction(buffer, HB_DIRECTION_LTR);
  hb_buffer_set_script(buffer, HB_SCRIPT_HAN);
  hb_buffer_set_language(buffer, japanese);
}

print_font open_font(const char* family, const char* family_prefix) {
  const auto [file, index] = locate(family, family_prefix);
  print_font font;
  hb_blob_t* blob = hb_blob_create_from_file(file.c_str());
  hb_face_t* face = hb_face_create(blob, static_cast<unsigned>(index));
  hb_blob_destroy(blob);
  font.units_per_em = hb_face_get_upem(face);
  font.shaper = hb_font_create(face);
  hb_face_destroy(face);
  hb_font_extents_t extents{};
  if (hb_font_get_h_extents(font.shaper, &extents)) font.ascender = extents.ascender;
  hb_font_make_immutable(font.shaper);
  // HarfBuzz loads a font's tables on first use, published through its own atomics (unseen by
  // ThreadSanitizer, as above): one shaping here, under fonts()'s static guard, loads them before
  // any two answers shape at once.
  hb_buffer_t* warm_up = hb_buffer_create();
  hb_buffer_add_utf8(warm_up, "氏名　髙橋 﨑 𠮷田 葛󠄀西 1/3", -1, 0, -1);
  set_japanese(warm_up);
  hb_shape(font.shaper, warm_up, nullptr, 0);
  hb_buffer_destroy(warm_up);

  FcPattern* pattern = FcPatternCreate();
  FcPatternAddString(pattern, FC_FILE, reinterpret_cast<const FcChar8*>(file.c_str()));
  FcPatternAddInteger(pattern, FC_INDEX, index);
  font.face = cairo_ft_font_face_create_for_pattern(pattern);
  FcPatternDestroy(pattern);
  return font;
}

// The process's fonts, loaded on first use and kept for the life of the process.
struct font_pair {
  print_font mj;
  print_font fallback;
};

const font_pair& fonts() {
  static const font_pair loaded{open_font("IPAmj明朝", "IPAmj"),
                                open_font("Noto Serif CJK JP", "Noto Serif CJK")};
  return loaded;
}

// Decodes the UTF-8 character at `at`; advances `at`. Malformed bytes decode as U+FFFD.
char32_t next_code_point(std::string_view text, std::size_t& at) {
  const auto lead = static_cast<unsigned char>(text[at]);
  const std::size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  if (at + length > text.size()) {
    at = text.size();
    return U'\uFFFD';
  }
  char32_t c = length == 1 ? char32_t{lead} : static_cast<char32_t>(lead & (0x7Fu >> length));
  for (std::size_t k = 1; k < length; ++k) {
    c = (c << 6) | (static_cast<unsigned char>(text[at + k]) & 0x3F);
  }
  at += length;
  return c;
}

bool is_variation_selector(char32_t c) {
  return (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0100 && c <= 0xE01EF);
}

// A stretch of a text drawn in one font: bytes [begin, end).
struct font_run {
  const print_font* font;
  std::size_t begin;
  std::size_t end;
};

// Splits a text by font: IPAmj明朝 where it has the character, the fallback elsewhere. A variation
// selector stays with the character it modifies.
std::vector<font_run> split_by_font(std::string_view text) {
  const auto& f = fonts();
  std::vector<font_run> runs;
  for (std::size_t at = 0; at < text.size();) {
    const auto begin = at;
    const auto c = next_code_point(text, at);
    hb_codepoint_t glyph = 0;
    const print_font* font = &f.mj;
    if (is_variation_selector(c) && !runs.empty()) {
      font = runs.back().font;
    } else if (!hb_font_get_nominal_glyph(f.mj.shaper, c, &glyph)) {
      font = &f.fallback;
    }
    if (!runs.empty() && runs.back().font == font && runs.back().end == begin) {
      runs.back().end = at;
    } else {
      runs.push_back({font, begin, at});
    }
  }
  return runs;
}

// One run shaped: glyphs (x relative to the run's pen start) and the clusters tying them to the
// run's bytes.
struct shaped_run {
  const print_font* font;
  std::string_view text;
  std::vector<cairo_glyph_t> glyphs;
  std::vector<cairo_text_cluster_t> clusters;
  double advance = 0;
};

shaped_run shape(std::string_view text, const font_run& run, double size) {
  shaped_run out{run.font, text.substr(run.begin, run.end - run.begin), {}, {}, 0};
  hb_buffer_t* buffer = hb_buffer_create();
  hb_buffer_add_utf8(buffer, text.data(), static_cast<int>(text.size()),
                     static_cast<unsigned>(run.begin), static_cast<int>(run.end - run.begin));
  set_japanese(buffer);
  hb_shape(run.font->shaper, buffer, nullptr, 0);
  unsigned count = 0;
  const hb_glyph_info_t* info = hb_buffer_get_glyph_infos(buffer, &count);
  const hb_glyph_position_t* position = hb_buffer_get_glyph_positions(buffer, &count);
  const double scale = size / run.font->units_per_em;
  double pen = 0;
  for (unsigned i = 0; i < count; ++i) {
    out.glyphs.push_back(
        {info[i].codepoint, pen + position[i].x_offset * scale, -position[i].y_offset * scale});
    pen += position[i].x_advance * scale;
    // hb clusters are byte offsets into `text`; cairo's are byte and glyph counts in order.
    if (i == 0 || info[i].cluster != info[i - 1].cluster) {
      out.clusters.push_back({0, 0});
    }
    ++out.clusters.back().num_glyphs;
  }
  std::size_t cluster = 0;
  for (unsigned i = 0; i < count; ++i) {
    if (i + 1 == count || info[i + 1].cluster != info[i].cluster) {
      const auto end = i + 1 == count ? run.end : info[i + 1].cluster;
      out.clusters[cluster++].num_bytes = static_cast<int>(end - info[i].cluster);
    }
  }
  out.advance = pen;
  hb_buffer_destroy(buffer);
  return out;
}

void draw_text(cairo_t* cr, const text_item& item) {
  std::vector<shaped_run> runs;
  double width = 0;
  for (const auto& run : split_by_font(item.text)) {
    runs.push_back(shape(item.text, run, item.size));
    width += runs.back().advance;
  }
  const auto& mj = fonts().mj;
  const double baseline = item.top + mj.ascender / mj.units_per_em * item.size;
  double pen = item.centred ? item.x - width / 2 : item.x;
  for (auto& run : runs) {
    for (auto& glyph : run.glyphs) {
      glyph.x += pen;
      glyph.y += baseline;
    }
    cairo_set_font_face(cr, run.font->face);
    cairo_set_font_size(cr, item.size);
    cairo_show_text_glyphs(cr, run.text.data(), static_cast<int>(run.text.size()),
                           run.glyphs.data(), static_cast<int>(run.glyphs.size()),
                           run.clusters.data(), static_cast<int>(run.clusters.size()),
                           cairo_text_cluster_flags_t{});
    pen += run.advance;
  }
}

struct png_reader {
  std::string_view bytes;
  std::size_t at = 0;
};

cairo_status_t read_png(void* closure, unsigned char* data, unsigned int length) {
  auto* reader = static_cast<png_reader*>(closure);
  if (reader->bytes.size() - reader->at < length) return CAIRO_STATUS_READ_ERROR;
  std::memcpy(data, reader->bytes.data() + reader->at, length);
  reader->at += length;
  return CAIRO_STATUS_SUCCESS;
}

// Draws the PNG scaled into its box; an error message when the PNG does not decode.
std::string draw_image(cairo_t* cr, const image_item& image) {
  png_reader reader{image.png};
  cairo_surface_t* surface = cairo_image_surface_create_from_png_stream(read_png, &reader);
  std::string error;
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    error = fmt::format("the seal image is not a readable PNG ({})",
                        cairo_status_to_string(cairo_surface_status(surface)));
  } else {
    const auto w = cairo_image_surface_get_width(surface);
    const auto h = cairo_image_surface_get_height(surface);
    cairo_save(cr);
    cairo_translate(cr, image.x, image.top);
    cairo_scale(cr, image.width / w, image.height / h);
    cairo_set_source_surface(cr, surface, 0, 0);
    cairo_paint(cr);
    cairo_restore(cr);
  }
  cairo_surface_destroy(surface);
  return error;
}

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

// The integer after `key` and white space in `text` (e.g. "/Size 12"), or -1.
long number_after(std::string_view text, std::string_view key) {
  const auto at = text.find(key);
  if (at == std::string_view::npos) return -1;
  auto begin = text.data() + at + key.size();
  while (begin < text.data() + text.size() && (*begin == ' ' || *begin == '\n' || *begin == '\r')) {
    ++begin;
  }
  long value = -1;
  std::from_chars(begin, text.data() + text.size(), value);
  return value;
}

// Attaches `bytes` as the embedded file `name` by an incremental update: the embedded file, its
// file specification and a new catalog naming it, appended with their own cross-reference
// section. cairo has no API for attachments; its catalog is a plain dictionary we can extend.
std::string attach_file(std::string& pdf, std::string_view name, std::string_view bytes) {
  const auto trailer_at = pdf.rfind("trailer");
  const auto startxref_at = pdf.rfind("startxref");
  if (trailer_at == std::string::npos || startxref_at == std::string::npos) {
    return "cairo's PDF has no trailer";
  }
  const std::string_view trailer(pdf.data() + trailer_at, startxref_at - trailer_at);
  const long size = number_after(trailer, "/Size");
  const long root = number_after(trailer, "/Root");
  const long info = number_after(trailer, "/Info");
  const long previous = number_after(std::string_view(pdf).substr(startxref_at), "startxref");
  const auto root_at = pdf.find(fmt::format("\n{} 0 obj", root));
  if (size <= 0 || root <= 0 || previous <= 0 || root_at == std::string::npos) {
    return "cairo's PDF trailer is not as expected";
  }
  const auto dictionary_begin = pdf.find("<<", root_at);
  const auto dictionary_end = pdf.find("endobj", root_at);
  const auto close = pdf.rfind(">>", dictionary_end);
  const std::string_view catalog(pdf.data() + dictionary_begin + 2, close - dictionary_begin - 2);
  if (catalog.find("/Names") != std::string_view::npos) return "cairo's catalog has /Names";

  const long file_object = size;
  const long spec_object = size + 1;
  std::vector<std::size_t> offsets;
  std::string update = "\n";
  const auto object_at = [&] { return pdf.size() + update.size(); };
  offsets.push_back(object_at());
  update += fmt::format(
      "{} 0 obj\n<< /Type /EmbeddedFile /Subtype /image#2Fpng /Params << /Size {} >> /Length {} "
      ">>\nstream\n",
      file_object, bytes.size(), bytes.size());
  update.append(bytes);
  update += "\nendstream\nendobj\n";
  offsets.push_back(object_at());
  update +=
      fmt::format("{} 0 obj\n<< /Type /Filespec /F ({}) /UF ({}) /EF << /F {} 0 R >> >>\nendobj\n",
                  spec_object, name, name, file_object);
  offsets.push_back(object_at());
  update += fmt::format(
      "{} 0 obj\n<<{} /Names << /EmbeddedFiles << /Names [({}) {} 0 R] >> >> >>\nendobj\n", root,
      catalog, name, spec_object);
  const auto xref_at = object_at();
  update += fmt::format("xref\n{} 1\n{:010} 00000 n \n{} 2\n{:010} 00000 n \n{:010} 00000 n \n",
                        root, offsets[2], file_object, offsets[0], offsets[1]);
  update += fmt::format("trailer\n<< /Size {} /Root {} 0 R", size + 2, root);
  if (info > 0) update += fmt::format(" /Info {} 0 R", info);
  update += fmt::format(" /Prev {} >>\nstartxref\n{}\n%%EOF\n", previous, xref_at);
  pdf += update;
  return {};
}

}  // namespace

void load_print_fonts() { fonts(); }

rendered_pdf write_pdf(const print_document& document) {
  load_print_fonts();
  rendered_pdf out;
  cairo_surface_t* surface = nullptr;
  {
    // cairo dates a PDF when its surface is created, with mktime, which (TZ unset) frees and
    // copies glibc's time zone name under a lock of glibc's own that ThreadSanitizer cannot see:
    // two PDFs begun at once were reported as a race. Surfaces are created one at a time (a few
    // µs); drawing and writing stay parallel.
    static std::mutex creating;
    const std::lock_guard lock(creating);
    surface =
        cairo_pdf_surface_create_for_stream(append_bytes, &out.bytes, kPageWidth, kPageHeight);
  }
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "kofu-mock");
  cairo_t* cr = cairo_create(surface);
  for (const auto& page : document.pages) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (const auto& text : page.texts) draw_text(cr, text);
    if (page.image && out.error.empty()) out.error = draw_image(cr, *page.image);
    cairo_show_page(cr);
  }
  const auto drawn = cairo_status(cr);
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  const auto finished = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (out.error.empty() && (drawn != CAIRO_STATUS_SUCCESS || finished != CAIRO_STATUS_SUCCESS)) {
    out.error = fmt::format(
        "cairo: {}", cairo_status_to_string(drawn != CAIRO_STATUS_SUCCESS ? drawn : finished));
  }
  if (out.error.empty() && !document.attached_png.empty()) {
    out.error = attach_file(out.bytes, "seal.png", document.attached_png);
  }
  if (!out.error.empty()) out.bytes.clear();
  return out;
}

}  // namespace kofu::mock
