#include "kofu/driver/pdf_answer.hpp"

#include <gtest/gtest.h>

#include "kofu/population/seal_image.hpp"

namespace kofu::driver {
namespace {

using print::pdf_reading;
using print::printed_page;
using print::text_run;

// Pages laid out as docs/print-data.md says kofu-mock prints them: a label at x = 56, its value
// from x = 170, rows 16 pt apart; the footer at y = 790, the page number at y = 812.
class page_builder {
 public:
  explicit page_builder(int number) { page_.number = number; }

  page_builder& title(const std::string& text) { return word(text, 240, 40, false); }
  // A row: the label and the value's words. A word ending in ' ' has space_after; "　" between
  // words is a one-em gap.
  page_builder& row(double y, const std::string& label, std::vector<std::string> words) {
    word(label, 56, y, false);
    double x = 170;
    for (auto w : words) {
      bool space = false;
      if (w == "\u3000") {
        x += 10.5;
        continue;
      }
      if (!w.empty() && w.back() == ' ') {
        w.pop_back();
        space = true;
      }
      word(w, x, y, space);
      x += 10.5 * static_cast<double>(w.size()) / 3.0 + (space ? 3 : 0);
    }
    return *this;
  }
  page_builder& footer(const std::string& application, const std::string& serial, int k, int n) {
    word("申請番号", 56, 790, false);
    word(application, 120, 790, false);
    word("交付番号", 330, 790, false);
    word(serial, 394, 790, false);
    return word(std::to_string(k) + "/" + std::to_string(n), 290, 812, false);
  }
  page_builder& word(const std::string& text, double x, double y, bool space_after) {
    page_.runs.push_back(
        {text, x, y, 10.5 * static_cast<double>(text.size()) / 3.0, 10.5, space_after});
    return *this;
  }
  printed_page page() const { return page_; }

 private:
  printed_page page_;
};

std::string base64(const std::string& bytes) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t n = std::uint32_t{static_cast<std::uint8_t>(bytes[i])} << 16;
    if (i + 1 < bytes.size())
      n |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<std::uint8_t>(bytes[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? alphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? alphabet[n & 63] : '=';
  }
  return out;
}

page_builder person(page_builder b, double y, int n, const std::string& id,
                    std::vector<std::string> name, const std::string& version) {
  return b.row(y, "記載者", {std::to_string(n)})
      .row(y + 16, "住民票コード", {id})
      .row(y + 32, "氏名", std::move(name))
      .row(y + 48, "生年月日", {"昭和53年3月14日"})
      .row(y + 64, "性別", {"女"})
      .row(y + 80, "住所",
           {"〒100-0001", "\u3000", "東京都架空市一丁目", "\u3000", "ハイツ ", "A1234"})
      .row(y + 96, "記録版数", {version});
}

pdf_reading household_of_three() {
  pdf_reading r;
  r.pages.push_back(person(person(page_builder(1)
                                      .title("住民票の写し")
                                      .row(80, "発行市区町村", {"東京都架空市"})
                                      .row(112, "版数", {"3"}),
                                  190, 1, "11111111111", {"髙橋", "\u3000", "花子"}, "3"),
                           462, 2, "22222222222", {"髙橋", "\u3000", "太郎"}, "1")
                        .footer("KOFU-000001-0000000042", "C-1-000000000123", 1, 2)
                        .page());
  r.pages.push_back(person(page_builder(2).title("住民票の写し").row(112, "版数", {"3"}), 190, 3,
                           "33333333333", {"𠮷田", "\u3000", "葛\U000E0100"}, "2")
                        .footer("KOFU-000001-0000000042", "C-1-000000000123", 2, 2)
                        .page());
  return r;
}

TEST(PdfAnswerTest, MapsAHouseholdAcrossPagesIntoTheModel) {
  const auto decoded = decode_print(household_of_three(), print_layout::reference());
  ASSERT_FALSE(decoded.malformed);
  EXPECT_TRUE(decoded.missing.empty()) << decoded.missing.front();
  const auto& c = decoded.certificate;
  EXPECT_EQ(c.type, "juminhyo");
  EXPECT_EQ(c.application_number, "KOFU-000001-0000000042");
  EXPECT_EQ(c.serial, "C-1-000000000123");
  EXPECT_EQ(c.source_version, 3);
  ASSERT_EQ(c.persons.size(), 3u);
  EXPECT_EQ(c.persons[0].resident_id, "11111111111");
  EXPECT_EQ(c.persons[0].name.family_kanji, "髙橋\u3000花子");
  EXPECT_EQ(c.persons[0].page, 1);
  EXPECT_EQ(c.persons[0].source_version, 3);
  EXPECT_EQ(c.persons[1].page, 1);
  EXPECT_EQ(c.persons[2].page, 2);
  // Non-BMP and an ideographic variation sequence, exactly as the text layer gave them.
  EXPECT_EQ(c.persons[2].name.family_kanji, "𠮷田\u3000葛\U000E0100");
  ASSERT_TRUE(c.persons[2].address);
  // U+3000 across a one-em gap, ' ' after a word poppler saw a space after.
  EXPECT_EQ(c.persons[2].address->building, "〒100-0001\u3000東京都架空市一丁目\u3000ハイツ A1234");
  EXPECT_EQ(c.persons[2].birth_date, "昭和53年3月14日");
  EXPECT_EQ(c.persons[2].sex, "女");
  ASSERT_EQ(c.pages.size(), 2u);
  EXPECT_EQ(c.pages[1].application_number, "KOFU-000001-0000000042");
  EXPECT_EQ(c.pages[1].page_label, "2/2");
  EXPECT_EQ(c.pages[1].printed_number, 2);
  EXPECT_EQ(c.pages[1].printed_total, 2);
}

TEST(PdfAnswerTest, AValueEqualToALabelIsAValue) {
  // 続柄 世帯主: "世帯主" is also a label, but not where it stands (right after its label).
  pdf_reading r;
  r.pages.push_back(person(page_builder(1).title("住民票の写し").row(112, "版数", {"1"}), 190, 1,
                           "11111111111", {"山田", "\u3000", "一"}, "1")
                        .row(300, "続柄", {"世帯主"})
                        .footer("KOFU-1", "C-1", 1, 1)
                        .page());
  const auto decoded = decode_print(r, print_layout::reference());
  ASSERT_EQ(decoded.certificate.persons.size(), 1u);
  ASSERT_TRUE(decoded.certificate.persons[0].relationship);
  EXPECT_EQ(*decoded.certificate.persons[0].relationship, "世帯主");
  EXPECT_FALSE(decoded.certificate.persons[0].household_head);
}

TEST(PdfAnswerTest, WhatThePagesLackIsMissingAndAnUnreadablePdfMalformed) {
  pdf_reading r;
  r.pages.push_back(page_builder(1).title("謎の証明書").page());
  const auto decoded = decode_print(r, print_layout::reference());
  EXPECT_FALSE(decoded.malformed);
  ASSERT_GE(decoded.missing.size(), 3u);
  EXPECT_EQ(decoded.missing[0], "page 1: no 申請番号 row");

  pdf_reading broken;
  broken.malformed = "truncated: the PDF has no %%EOF end marker";
  const auto bad = decode_print(broken, print_layout::reference());
  ASSERT_TRUE(bad.malformed);
  EXPECT_EQ(*bad.malformed, "PDF print data: truncated: the PDF has no %%EOF end marker");
}

TEST(PdfAnswerTest, DecoderReadsTheHistoryForm) {
  const auto decoder = make_print_decoder(print_layout::reference(), nullptr);
  EXPECT_FALSE(decoder->capabilities().digest);
  EXPECT_FALSE(decoder->capabilities().card_serial);
  const auto body = nlohmann::json{{"print", print::to_json(household_of_three())}};
  const auto decoded = decoder->decode(body, true);
  ASSERT_FALSE(decoded.malformed);
  EXPECT_EQ(decoded.certificate.persons.size(), 3u);
  EXPECT_EQ(decoded.body, body);
  EXPECT_TRUE(decoder->decode(nlohmann::json{{"print", {{"pages", 3}}}}, false).malformed);
}

TEST(PdfAnswerTest, LayoutOverridesAndErrorsNameThePath) {
  auto l = print_layout::parse({{"application_number", "受付番号"},
                                {"person", {{"名前", "name"}, {"誕生日", "birth_date"}}}},
                               "p.json: /print");
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->application_number, "受付番号");
  EXPECT_EQ(l->person.size(), 2u);
  EXPECT_EQ(l->serial, "交付番号");
  const auto again = print_layout::parse(l->to_json(), "again");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->person, l->person);

  const auto bad = print_layout::parse({{"person", {{"名前", "nickname"}}}}, "p.json: /print");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "p.json: /print/person/名前: not a field kofu knows");
  EXPECT_FALSE(print_layout::parse({{"format", "xps"}}, "x"));
  EXPECT_FALSE(print_layout::parse({{"colour", 1}}, "x"));
}

TEST(PdfAnswerTest, RenderingComparesASealByItsPixels) {
  const auto rendering = make_print_rendering(nullptr);
  population::resident r;
  r.name = {"髙橋", "花子", "タカハシ", "ハナコ"};
  r.birth_date = "1978-03-14";
  r.sex = population::sex::female;
  const auto printed = rendering->render(r);
  EXPECT_EQ(printed.name.family_kanji, "髙橋\u3000花子");
  EXPECT_EQ(printed.birth_date, "昭和53年3月14日");
  EXPECT_EQ(rendering->sex(population::sex::female), "女");
  // A PDF keeps the seal's pixels, not its PNG file: the expected seal is their hash.
  const std::string png = population::seal_png(42, 7);
  r.seal = population::seal_registration{"IU00000001", population::seal_status::registered,
                                         base64(png), "sha256 of the PNG file"};
  const auto sealed = rendering->render(r);
  ASSERT_TRUE(sealed.seal);
  EXPECT_EQ(sealed.seal->image_sha256, print::png_pixels_sha256(png).value());
  EXPECT_EQ(sealed.seal->registration_number, "IU00000001");
}

}  // namespace
}  // namespace kofu::driver
