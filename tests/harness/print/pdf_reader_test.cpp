#include "kofu/print/pdf_reader.hpp"

#include <gtest/gtest.h>
#include <png.h>

#include <filesystem>
#include <fstream>

#include "kofu/population/seal_image.hpp"
#include "mini_pdf.hpp"

namespace kofu::print {
namespace {

using test::pages_pdf;
using test::show_text;
using test::stream_object;

// The seal PNG's pixels as a 1-bit DeviceGray PDF image (rows padded to a byte), the way a print
// path may embed it: different bytes from the PNG, the same pixels.
std::string seal_as_pdf_image(const std::string& png) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  EXPECT_NE(png_image_begin_read_from_memory(&image, png.data(), png.size()), 0);
  image.format = PNG_FORMAT_GRAY;
  std::vector<unsigned char> gray(PNG_IMAGE_SIZE(image));
  EXPECT_NE(png_image_finish_read(&image, nullptr, gray.data(), 0, nullptr), 0);
  const auto w = image.width, h = image.height;
  std::string bits;
  for (unsigned y = 0; y < h; ++y) {
    for (unsigned x = 0; x < w; x += 8) {
      unsigned char byte = 0;
      for (unsigned b = 0; b < 8 && x + b < w; ++b) {
        if (gray[y * w + x + b] >= 128) byte = static_cast<unsigned char>(byte | (0x80u >> b));
      }
      bits.push_back(static_cast<char>(byte));
    }
  }
  return stream_object(fmt::format("/Type /XObject /Subtype /Image /Width {} /Height {} "
                                   "/ColorSpace /DeviceGray /BitsPerComponent 1",
                                   w, h),
                       bits);
}

TEST(PdfReaderTest, ReadsWordsWithPositionsOnEveryPage) {
  const auto pdf = pages_pdf(
      {show_text(72, 770, "Application KOFU-000001-0000000017") + show_text(500, 40, "1/2"),
       show_text(72, 770, "Serial S-42") + show_text(500, 40, "2/2")});
  const auto reading = read_pdf(pdf);
  ASSERT_FALSE(reading.malformed) << *reading.malformed;
  ASSERT_EQ(reading.pages.size(), 2u);
  EXPECT_EQ(reading.size, pdf.size());
  EXPECT_EQ(reading.sha256.size(), 64u);
  const auto& first = reading.pages[0];
  EXPECT_EQ(first.number, 1);
  EXPECT_NEAR(first.width, 595, 0.01);
  EXPECT_NEAR(first.height, 842, 0.01);
  ASSERT_EQ(first.runs.size(), 3u);
  EXPECT_EQ(first.runs[0].text, "Application");
  EXPECT_TRUE(first.runs[0].space_after);
  EXPECT_EQ(first.runs[1].text, "KOFU-000001-0000000017");
  EXPECT_NEAR(first.runs[0].x, 72, 0.5);
  // From the top: a line drawn 770 pt above the bottom of an 842 pt page stands near y = 60.
  EXPECT_LT(first.runs[0].y, 72);
  EXPECT_GT(first.runs[2].y, 780);  // the page number at the bottom
  EXPECT_EQ(reading.pages[1].runs[1].text, "S-42");
  EXPECT_EQ(reading.pages[1].runs[2].text, "2/2");
}

TEST(PdfReaderTest, SealImageHashesLikeThePopulationsPng) {
  const std::string png = population::seal_png(0x0123456789ABCDEFull, 77);
  const auto expected = png_pixels_sha256(png);
  ASSERT_TRUE(expected);
  const auto pdf = pages_pdf({show_text(72, 770, "Seal") + "q 60 0 0 60 400 600 cm /Im1 Do Q\n"},
                             seal_as_pdf_image(png));
  const auto reading = read_pdf(pdf);
  ASSERT_FALSE(reading.malformed) << *reading.malformed;
  ASSERT_EQ(reading.pages[0].images.size(), 1u);
  const auto& image = reading.pages[0].images[0];
  EXPECT_EQ(image.pixels_sha256, *expected);
  EXPECT_EQ(image.width, 32);
  EXPECT_EQ(image.height, 32);
  EXPECT_NEAR(image.x, 400, 0.01);
  EXPECT_NEAR(image.y, 842 - 660, 0.01);
  EXPECT_NEAR(image.w, 60, 0.01);
  // Another resident's seal does not.
  EXPECT_NE(*png_pixels_sha256(population::seal_png(0x0123456789ABCDEFull, 78)), *expected);
}

TEST(PdfReaderTest, JsonFormRoundTrips) {
  const auto pdf = pages_pdf({show_text(72, 770, "A B")});
  const auto reading = read_pdf(pdf);
  const auto back = from_json(to_json(reading));
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->pages.size(), 1u);
  EXPECT_EQ(back->pages[0].runs.size(), 2u);
  EXPECT_EQ(back->pages[0].runs[0].text, "A");
  EXPECT_EQ(back->sha256, reading.sha256);
  EXPECT_FALSE(from_json(nlohmann::json{{"pages", {{{"page", 1}, {"runs", {{1, 2}}}}}}}));
}

struct broken_case {
  const char* name;
  std::string pdf;
  const char* reason_starts;
};

std::vector<broken_case> broken_cases() {
  const auto good = pages_pdf({show_text(72, 770, "Hello")});
  std::string garbled = good;
  for (std::size_t i = 20; i < garbled.size() - 40; i += 7) garbled[i] = '#';
  // An /Encrypt dictionary whose user password is not empty: nothing can be read without it.
  const std::string encrypt = "<< /Filter /Standard /V 1 /R 2 /P -44 /O <" + std::string(64, 'A') +
                              "> /U <" + std::string(64, 'B') + "> >>";
  const auto encrypted = pages_pdf({show_text(72, 770, "Hello")}, "",
                                   "/Encrypt 7 0 R /ID [<00112233445566778899AABBCCDDEEFF> "
                                   "<00112233445566778899AABBCCDDEEFF>] ",
                                   {encrypt});
  return {
      {"Empty", "", "corrupt: not a PDF"},
      {"NotPdf", "<html>busy</html>", "corrupt: not a PDF"},
      {"Truncated", good.substr(0, good.size() / 2), "truncated"},
      {"Garbled", garbled, "corrupt"},
      {"Encrypted", encrypted, "encrypted"},
      {"NoTextLayer", pages_pdf({"0 0 m 100 100 l S\n"}), "no text layer: page 1"},
      {"NoPages",
       test::make_pdf(
           {"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [] /Count 0 >>"}),
       "corrupt: the PDF has no pages"},
  };
}

TEST(PdfReaderTest, UnreadablePdfIsMalformedWithTheReason) {
  for (const auto& c : broken_cases()) {
    SCOPED_TRACE(c.name);
    const auto reading = read_pdf(c.pdf);
    ASSERT_TRUE(reading.malformed);
    EXPECT_TRUE(reading.malformed->starts_with(c.reason_starts)) << *reading.malformed;
    EXPECT_EQ(reading.size, c.pdf.size());
  }
}

TEST(PdfReaderTest, EveryCutOfAPdfIsReadWithoutCrashing) {
  // Truncation in depth (run under ASan by the asan preset): each prefix with an end marker put
  // back, so that poppler has to rebuild the cross-reference table of a cut file. kofu must never
  // crash, and must never read text the file did not hold.
  const auto pdf = pages_pdf({show_text(72, 770, "Hello"), show_text(72, 770, "World")});
  std::size_t readable = 0;
  for (std::size_t n = 0; n < pdf.size(); n += 7) {
    const std::string cut = pdf.substr(0, n) + "\n%%EOF\n";
    const auto reading = read_pdf(cut);
    if (reading.malformed) continue;
    ++readable;
    for (const auto& page : reading.pages) {
      for (const auto& run : page.runs) EXPECT_TRUE(run.text == "Hello" || run.text == "World");
    }
  }
  // A cut after the last page's objects loses only the cross-reference table, which poppler
  // rebuilds: those cuts are readable, the early ones are not.
  EXPECT_GT(readable, 0u);
  EXPECT_LT(readable, pdf.size() / 7);
}

TEST(PdfReaderTest, RendersAPageAsPng) {
  const auto pdf = pages_pdf({show_text(72, 770, "Hello"), show_text(72, 770, "World")});
  const auto dir = std::filesystem::temp_directory_path() / "kofu_pdf_reader_test";
  std::filesystem::create_directories(dir);
  const auto out = dir / "page2.png";
  ASSERT_TRUE(render_page_png(pdf, 2, out, 50.0));
  std::ifstream in(out, std::ios::binary);
  std::string png((std::istreambuf_iterator<char>(in)), {});
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_TRUE(png_pixels_sha256(png));
  EXPECT_FALSE(render_page_png(pdf, 3, dir / "page3.png"));
  EXPECT_FALSE(render_page_png("garbage", 1, dir / "x.png"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kofu::print
