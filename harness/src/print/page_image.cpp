// Pixels on both sides of a seal comparison, and a page as a picture for the evidence.
#include <fmt/format.h>
#include <png.h>
#include <poppler-document.h>
#include <poppler-image.h>
#include <poppler-page-renderer.h>
#include <poppler-page.h>

#include <memory>
#include <vector>

#include "kofu/common/sha256.hpp"
#include "kofu/print/pdf_reader.hpp"
#include "print/poppler_errors.hpp"

namespace kofu::print {

std::optional<std::string> png_pixels_sha256(std::string_view png) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_memory(&image, png.data(), png.size()) == 0) return std::nullopt;
  // 8-bit sRGB without alpha: the form image_collector hashes a PDF's samples in.
  image.format = PNG_FORMAT_RGB;
  std::vector<unsigned char> pixels(PNG_IMAGE_SIZE(image));
  if (png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr) == 0) {
    png_image_free(&image);
    return std::nullopt;
  }
  return sha256_hex(std::string_view(reinterpret_cast<const char*>(pixels.data()), pixels.size()));
}

result<void> render_page_png(std::string_view pdf_bytes, int page, const std::filesystem::path& out,
                             double dpi) {
  poppler_error_capture errors;
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(pdf_bytes.data(), static_cast<int>(pdf_bytes.size())));
  if (!doc || doc->is_locked()) {
    return make_error(errc::parse, "the PDF cannot be opened to render it");
  }
  if (page < 1 || page > doc->pages()) {
    return make_error(errc::invalid_field,
                      fmt::format("page {} does not exist (the PDF has {})", page, doc->pages()));
  }
  std::unique_ptr<poppler::page> p(doc->create_page(page - 1));
  if (!p) return make_error(errc::parse, fmt::format("page {} cannot be read", page));
  poppler::page_renderer renderer;
  renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
  renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
  const poppler::image picture = renderer.render_page(p.get(), dpi, dpi);
  if (!picture.is_valid() || !picture.save(out.string(), "png", static_cast<int>(dpi))) {
    return make_error(errc::io, fmt::format("{}: cannot write the page as PNG", out.string()));
  }
  return {};
}

}  // namespace kofu::print
