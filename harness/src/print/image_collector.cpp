#include "print/image_collector.hpp"

#include <GfxState.h>
#include <OutputDev.h>
#include <PDFDoc.h>
#include <Stream.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <memory>

#include "kofu/common/sha256.hpp"

namespace kofu::print {

namespace {

// An output device that draws nothing and records every image poppler decodes for the page.
class image_hasher final : public OutputDev {
 public:
  explicit image_hasher(std::vector<page_image>& out) : out_(out) {}

  bool upsideDown() override { return true; }  // device space: y grows downwards, as text boxes
  bool useDrawChar() override { return false; }
  bool interpretType3Chars() override { return false; }
  bool needNonText() override { return true; }

  void drawImage(GfxState* state, Object*, Stream* str, int width, int height,
                 GfxImageColorMap* colors, bool, const int*, bool) override {
    record(state, str, width, height, colors);
  }
  void drawMaskedImage(GfxState* state, Object*, Stream* str, int width, int height,
                       GfxImageColorMap* colors, bool, Stream*, int, int, bool, bool) override {
    record(state, str, width, height, colors);
  }
  void drawSoftMaskedImage(GfxState* state, Object*, Stream* str, int width, int height,
                           GfxImageColorMap* colors, bool, Stream*, int, int, GfxImageColorMap*,
                           bool) override {
    record(state, str, width, height, colors);
  }

 private:
  // The samples as 8-bit RGB, whatever the PDF's colour space and bit depth, so that a 1-bit
  // grey seal and its RGB re-encoding hash the same.
  void record(GfxState* state, Stream* str, int width, int height, GfxImageColorMap* colors) {
    if (width <= 0 || height <= 0 || colors == nullptr || !colors->isOk()) return;
    ImageStream samples(str, width, colors->getNumPixelComps(), colors->getBits());
    samples.reset();
    sha256_hasher hasher;
    std::string row(static_cast<std::size_t>(width) * 3, '\0');
    const auto components = static_cast<std::size_t>(colors->getNumPixelComps());
    for (int y = 0; y < height; ++y) {
      unsigned char* line = samples.getLine();
      if (line == nullptr) break;  // a short stream: the missing rows hash as absent
      for (int x = 0; x < width; ++x) {
        GfxRGB rgb;
        colors->getRGB(line + static_cast<std::size_t>(x) * components, &rgb);
        const auto at = static_cast<std::size_t>(x) * 3;
        row[at] = static_cast<char>(colToByte(rgb.r));
        row[at + 1] = static_cast<char>(colToByte(rgb.g));
        row[at + 2] = static_cast<char>(colToByte(rgb.b));
      }
      hasher.update(row);
    }
    samples.close();
    out_.push_back(placed(state, to_hex(hasher.finish()), width, height));
  }

  // The image fills the unit square of its CTM: its box is that square's corners in device space.
  static page_image placed(GfxState* state, std::string hash, int width, int height) {
    const double* m = state->getCTM();
    std::array<double, 4> xs{}, ys{};
    const std::array<std::array<double, 2>, 4> corners{{{0, 0}, {1, 0}, {0, 1}, {1, 1}}};
    for (std::size_t i = 0; i < 4; ++i) {
      xs[i] = m[0] * corners[i][0] + m[2] * corners[i][1] + m[4];
      ys[i] = m[1] * corners[i][0] + m[3] * corners[i][1] + m[5];
    }
    const auto [x0, x1] = std::minmax_element(xs.begin(), xs.end());
    const auto [y0, y1] = std::minmax_element(ys.begin(), ys.end());
    return page_image{std::move(hash), width, height, *x0, *y0, *x1 - *x0, *y1 - *y0};
  }

  std::vector<page_image>& out_;
};

}  // namespace

result<std::vector<std::vector<page_image>>> collect_images(std::string_view pdf_bytes, int pages) {
  // PDFDoc owns the stream; the stream only points into `pdf_bytes`.
  auto* stream =
      new MemStream(pdf_bytes.data(), 0, static_cast<Goffset>(pdf_bytes.size()), Object(objNull));
  PDFDoc doc(stream);
  if (!doc.isOk()) {
    return make_error(
        errc::parse,
        fmt::format("corrupt: the PDF's objects cannot be read (error {})", doc.getErrorCode()));
  }
  if (doc.getNumPages() != pages) {
    return make_error(errc::parse, fmt::format("corrupt: the page count reads as {} and as {}",
                                               pages, doc.getNumPages()));
  }
  std::vector<std::vector<page_image>> out(static_cast<std::size_t>(pages));
  for (int p = 1; p <= pages; ++p) {
    image_hasher device(out[static_cast<std::size_t>(p - 1)]);
    doc.displayPage(&device, p, 72.0, 72.0, 0, true, false, false);
  }
  return out;
}

}  // namespace kofu::print
