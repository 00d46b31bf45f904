#include "certificate_pages.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <utility>

#include "paper_renderings.hpp"

namespace kofu::mock {
namespace {

using nlohmann::json;

// The grid of docs/print-data.md.
constexpr double kBodySize = 10.5;
constexpr double kTitleSize = 18;
constexpr double kLabelX = 56;
constexpr double kValueX = 170;
constexpr double kRowPitch = 16;
constexpr double kTitleTop = 40;
constexpr double kHeaderTop = 80;
constexpr double kPersonsTop = 190;
constexpr double kPersonPitch = 17 * kRowPitch;
constexpr std::size_t kPersonsPerPage = 2;
constexpr double kClosingTop = 740;
constexpr double kFooterTop = 790;
constexpr double kPageNumberTop = 812;
constexpr double kSealX = 420;
constexpr double kSealSize = 113.4;  // 40 mm

constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kTitles = {{
    {"juminhyo", "住民票の写し"},
    {"juminhyo_kisai", "住民票記載事項証明書"},
    {"inkan", "印鑑登録証明書"},
    {"koseki_zenbu", "戸籍全部事項証明書"},
    {"koseki_kojin", "戸籍個人事項証明書"},
    {"koseki_fuhyo", "戸籍の附票の写し"},
    {"kazei", "課税証明書"},
}};

std::string_view title_of(std::string_view type) {
  for (const auto& [name, title] : kTitles) {
    if (name == type) return title;
  }
  return type;
}

std::string digits(const json& value) {
  if (value.is_number_integer()) return std::to_string(value.get<std::int64_t>());
  if (value.is_string()) return value.get<std::string>();
  return {};
}

// Lays out rows top-down on one page.
class row_cursor {
 public:
  row_cursor(printed_page& page, double top) : page_(page), top_(top) {}
  void row(std::string_view label, std::string value) {
    page_.texts.push_back({kLabelX, top_, kBodySize, std::string(label), false});
    page_.texts.push_back({kValueX, top_, kBodySize, std::move(value), false});
    top_ += kRowPitch;
  }
  double top() const { return top_; }

 private:
  printed_page& page_;
  double top_;
};

// The rows of one person, in the order of docs/print-data.md, only those the answer has.
void lay_out_person(row_cursor& rows, const json& p, std::size_t number) {
  rows.row("記載者", std::to_string(number));
  rows.row("住民票コード", paper::text(p, "resident_id"));
  const auto& name = p.contains("name") ? p["name"] : json();
  rows.row("氏名", paper::kanji_name(name));
  rows.row("氏名カナ", paper::kana_name(name));
  rows.row("生年月日", paper::wareki_date(paper::text(p, "birth_date")));
  rows.row("性別", paper::sex(paper::text(p, "sex")));
  if (p.contains("address")) rows.row("住所", paper::address_line(p["address"]));
  if (p.contains("moved_in_date")) {
    rows.row("住民となった日", paper::wareki_date(paper::text(p, "moved_in_date")));
  }
  if (p.contains("household_head")) {
    rows.row("世帯主", paper::full_width_spaces(paper::text(p, "household_head")));
  }
  if (p.contains("relationship")) rows.row("続柄", paper::text(p, "relationship"));
  if (p.contains("honseki")) rows.row("本籍", paper::text(p, "honseki"));
  if (p.contains("hittousha")) {
    rows.row("筆頭者", paper::full_width_spaces(paper::text(p, "hittousha")));
  }
  if (p.contains("mynumber")) rows.row("個人番号", paper::text(p, "mynumber"));
  if (p.contains("koseki_relationship")) {
    rows.row("戸籍上の続柄", paper::text(p, "koseki_relationship"));
  }
  rows.row("記録版数", digits(p.value("source_version", json())));
}

// Title and certificate rows, repeated on every page.
void lay_out_header(printed_page& page, const json& certificate, const std::string& municipality) {
  page.texts.push_back({kPageWidth / 2, kTitleTop, kTitleSize,
                        std::string(title_of(paper::text(certificate, "type"))), true});
  row_cursor rows(page, kHeaderTop);
  rows.row("発行市区町村", municipality);
  rows.row("交付日時", paper::text(certificate, "issued_at"));
  rows.row("版数", digits(certificate.value("source_version", json())));
  if (certificate.contains("koseki")) {
    const auto& koseki = certificate["koseki"];
    rows.row("本籍", paper::text(koseki, "honseki"));
    rows.row("筆頭者", paper::full_width_spaces(paper::text(koseki, "hittousha")));
    rows.row("戸籍番号", paper::text(koseki, "koseki_id"));
  }
  if (certificate.contains("seal")) {
    rows.row("登録番号", paper::text(certificate["seal"], "registration_number"));
  }
}

void lay_out_footer(printed_page& page, const std::string& application_number,
                    const std::string& serial, std::size_t number, std::size_t count) {
  page.texts.push_back({kLabelX, kFooterTop, kBodySize, "申請番号", false});
  page.texts.push_back({120, kFooterTop, kBodySize, application_number, false});
  page.texts.push_back({330, kFooterTop, kBodySize, "交付番号", false});
  page.texts.push_back({394, kFooterTop, kBodySize, serial, false});
  page.texts.push_back(
      {kPageWidth / 2, kPageNumberTop, kBodySize, fmt::format("{}/{}", number, count), true});
}

void lay_out_tax(printed_page& page, const json& tax) {
  static constexpr std::array<std::pair<std::string_view, const char*>, 5> kTax = {{
      {"年度", "fiscal_year"},
      {"所得金額", "income"},
      {"課税標準額", "taxable_income"},
      {"市町村民税額", "municipal_tax"},
      {"道府県民税額", "prefectural_tax"},
  }};
  row_cursor rows(page, kPersonsTop + kPersonPitch);
  for (const auto& [label, key] : kTax) {
    if (tax.contains(key)) rows.row(label, digits(tax[key]));
  }
}

}  // namespace

std::variant<print_document, std::string> lay_out_certificate(const json& answer) {
  if (!answer.is_object() || !answer.contains("certificate") ||
      !answer["certificate"].is_object()) {
    return std::string("the print data holds no certificate");
  }
  const auto& certificate = answer["certificate"];
  if (!certificate.contains("persons") || !certificate["persons"].is_array() ||
      certificate["persons"].empty()) {
    return std::string("the certificate holds no persons");
  }
  const auto& persons = certificate["persons"];
  const auto application_number = paper::text(answer, "application_number");
  const auto serial = paper::text(certificate, "serial");
  const auto& first_address =
      persons[0].contains("address") ? persons[0]["address"] : json::object();
  const auto municipality =
      paper::text(first_address, "prefecture") + paper::text(first_address, "city");

  print_document document;
  const auto page_count = (persons.size() + kPersonsPerPage - 1) / kPersonsPerPage;
  document.pages.resize(page_count);
  for (std::size_t n = 0; n < page_count; ++n) {
    auto& page = document.pages[n];
    lay_out_header(page, certificate, municipality);
    for (std::size_t slot = 0; slot < kPersonsPerPage; ++slot) {
      const auto index = n * kPersonsPerPage + slot;
      if (index >= persons.size()) break;
      row_cursor rows(page, kPersonsTop + static_cast<double>(slot) * kPersonPitch);
      lay_out_person(rows, persons[index], index + 1);
    }
    lay_out_footer(page, application_number, serial, n + 1, page_count);
  }
  auto& first = document.pages.front();
  if (certificate.contains("seal")) {
    auto png = paper::base64_decode(paper::text(certificate["seal"], "image_png_base64"));
    if (!png) return std::string("the seal image is not base64");
    first.texts.push_back({kSealX, kPersonsTop - kRowPitch, kBodySize, "印影", false});
    first.image = image_item{kSealX, kPersonsTop, kSealSize, kSealSize, *png};
    document.attached_png = std::move(*png);
  }
  if (certificate.contains("tax")) lay_out_tax(first, certificate["tax"]);
  auto& last = document.pages.back();
  last.texts.push_back({kLabelX, kClosingTop, kBodySize, "上記のとおり証明する。", false});
  last.texts.push_back({kValueX + 200, kClosingTop, kBodySize, municipality + "長", false});
  return document;
}

std::string fold_to_jis_x0208(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kSubstitutes = {{
      {"髙", "高"},
      {"﨑", "崎"},
      {"𠮷", "吉"},
  }};
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    const auto character = text.substr(i, length);
    i += length;
    // U+FE00–FE0F (EF B8 80–8F) and U+E0100–E01EF (F3 A0 84 80 – F3 A0 87 AF).
    const bool selector =
        (character.size() == 3 && character[0] == '\xEF' && character[1] == '\xB8' &&
         static_cast<unsigned char>(character[2]) <= 0x8F) ||
        (character.size() == 4 && character.substr(0, 2) == "\xF3\xA0" &&
         static_cast<unsigned char>(character[2]) >= 0x84 &&
         static_cast<unsigned char>(character[2]) <= 0x87);
    if (selector) continue;
    std::string_view printed = character;
    for (const auto& [from, to] : kSubstitutes) {
      if (character == from) printed = to;
    }
    out += printed;
  }
  return out;
}

}  // namespace kofu::mock
