// kofu-mock --print-format pdf end to end: every certificate type, for residents whose names hold
// gaiji (髙, 﨑), a non-BMP character (𠮷 U+20BB7) and an ideographic variation sequence
// (葛󠄀 = U+845B U+E0100), is answered as a PDF whose text layer, read back with poppler, gives
// every value exactly as the population holds it (docs/print-data.md); a three-person household
// spans two pages; both dialects answer errors as JSON.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <map>
#include <set>

#include "certificate_pages.hpp"
#include "mock_fixture.hpp"
#include "paper_renderings.hpp"
#include "pdf_pages.hpp"
#include "sha256.hpp"
#include "test_support.hpp"

namespace kofu::mock::test {
namespace {

using nlohmann::json;

// A 16×16 PNG (a red ring): a seal image that decodes.
constexpr const char* kSealPng =
    "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAATElEQVR4nGP4TyJgoI6GAwICEERYA1wpMsKpAaupaIIM+"
    "FVjSqFowKoaTZaBoPFoCuimgWQ/4LcEeyjh0oMzHpCliY1pTG2YUiSnVgCuQo87Ym7YiAAAAABJRU5ErkJggg==";

const std::string kIvsFamily = "葛\U000E0100西";
const std::string kNonBmpFamily = "𠮷田";
const std::string kGaijiFamily = "髙﨑";
const std::string kIvsGiven = "辻\U000E0100子";

std::string hex(const std::string& bytes) {
  const auto digest = sha256_hex_of_parts({bytes});
  return {digest.begin(), digest.end()};
}

// Active members of a household, in file order.
std::vector<json> household(const std::vector<json>& population, const json& household_id) {
  std::vector<json> out;
  for (const auto& r : population) {
    if (r["household_id"] == household_id && r["status"] == "active") out.push_back(r);
  }
  return out;
}

class PrintFormatTest : public ::testing::Test {
 protected:
  // The fixture's population with three households renamed to the hard cases and every seal
  // image a real PNG; the three-person household is the one with IVS names.
  static void SetUpTestSuite() {
    dir_ = new kofu::test::temp_dir();
    auto population = make_population(*dir_ / "base.jsonl", 80);
    std::map<std::string, std::size_t> active_members;
    for (const auto& r : population) {
      if (r["status"] == "active") ++active_members[r["household_id"].get<std::string>()];
    }
    std::vector<std::string> renamed;
    for (const auto& [id, n] : active_members) {
      if (n == 3 && renamed.empty()) renamed.push_back(id);
    }
    for (const auto& [id, n] : active_members) {
      if (renamed.size() < 3 && n < 3 && id != renamed.front()) renamed.push_back(id);
    }
    ASSERT_EQ(renamed.size(), 3u) << "the population has no three-person household";
    const std::array<std::string, 3> families = {kIvsFamily, kNonBmpFamily, kGaijiFamily};
    std::ofstream out(*dir_ / "pop.jsonl", std::ios::binary | std::ios::trunc);
    for (auto& r : population) {
      for (std::size_t k = 0; k < renamed.size(); ++k) {
        if (r["household_id"] != renamed[k]) continue;
        r["name"]["family_kanji"] = families[k];
        if (k == 0 && r["relationship"] != "世帯主") r["name"]["given_kanji"] = kIvsGiven;
      }
      if (r["seal"].is_object()) {
        r["seal"]["image_png_base64"] = kSealPng;
        r["seal"]["image_sha256"] = hex(*paper::base64_decode(kSealPng));
      }
      out << r.dump() << '\n';
    }
    out.close();
    population_ = new std::vector<json>(read_population(*dir_ / "pop.jsonl"));
    three_ = new std::vector<json>(household(*population_, renamed.front()));
    subjects_ = new std::vector<json>();
    for (const auto& id : renamed) {
      for (const auto& r : household(*population_, id)) subjects_->push_back(r);
    }
    server_ =
        new mock_process(*dir_ / "pop.jsonl", {"--print-format", "pdf"}, *dir_ / "stderr.txt");
  }
  static void TearDownTestSuite() {
    delete server_;
    delete three_;
    delete population_;
    delete dir_;
    delete subjects_;
  }

  static const json& record(const std::string& resident_id) {
    for (const auto& r : *population_) {
      if (r["resident_id"] == resident_id) return r;
    }
    throw std::runtime_error("no resident " + resident_id);
  }

  // Checks every person block of the read document against the population: the rows the type
  // prints, exactly. Returns the resident ids in print order.
  static std::vector<std::string> check_persons(const pdf_read& pdf, const std::string& type) {
    const bool address = type != "koseki_zenbu" && type != "koseki_kojin";
    std::vector<std::string> ids;
    for (std::size_t n = 0; n < pdf.pages.size(); ++n) {
      const auto& page = pdf.pages[n];
      const auto page_ids = page.values("住民票コード");
      const auto names = page.values("氏名");
      const auto kana = page.values("氏名カナ");
      const auto births = page.values("生年月日");
      const auto sexes = page.values("性別");
      const auto addresses = page.values("住所");
      EXPECT_EQ(names.size(), page_ids.size()) << "page " << n + 1;
      EXPECT_LE(page_ids.size(), 2u) << "page " << n + 1;
      for (std::size_t i = 0; i < page_ids.size() && i < names.size(); ++i) {
        const auto& r = record(page_ids[i]);
        const auto& name = r["name"];
        EXPECT_EQ(names[i], name["family_kanji"].get<std::string>() + "\u3000" +
                                name["given_kanji"].get<std::string>())
            << type << " page " << n + 1;
        EXPECT_EQ(kana.at(i), name["family_kana"].get<std::string>() + "\u3000" +
                                  name["given_kana"].get<std::string>());
        EXPECT_EQ(births.at(i), paper::wareki_date(r["birth_date"]));
        EXPECT_EQ(sexes.at(i), r["sex"] == "male" ? "男" : "女");
        if (address) {
          EXPECT_EQ(addresses.at(i), paper::address_line(r["address"])) << type;
        }
        ids.push_back(page_ids[i]);
      }
      if (!address) {
        EXPECT_TRUE(addresses.empty()) << type;
      }
    }
    return ids;
  }

  // Checks what every page carries: title, footer, page number.
  static void check_pages(const pdf_read& pdf, const std::string& app, const std::string& title) {
    ASSERT_TRUE(pdf.error.empty()) << pdf.error;
    ASSERT_FALSE(pdf.pages.empty());
    const auto serial = pdf.pages[0].value("交付番号");
    ASSERT_TRUE(serial.has_value());
    EXPECT_EQ(serial->rfind("C-1-", 0), 0u) << *serial;
    for (std::size_t n = 0; n < pdf.pages.size(); ++n) {
      const auto& page = pdf.pages[n];
      EXPECT_EQ(page.title(), title);
      EXPECT_EQ(page.value("申請番号"), app) << "page " << n + 1;
      EXPECT_EQ(page.value("交付番号"), serial) << "page " << n + 1;
      EXPECT_EQ(page.page_number(), fmt::format("{}/{}", n + 1, pdf.pages.size()));
      EXPECT_EQ(page.value("版数"), "1");
    }
  }

  static kofu::test::temp_dir* dir_;
  static std::vector<json>* population_;
  static std::vector<json>* three_;
  static std::vector<json>* subjects_;
  static mock_process* server_;
};

kofu::test::temp_dir* PrintFormatTest::dir_ = nullptr;
std::vector<json>* PrintFormatTest::population_ = nullptr;
std::vector<json>* PrintFormatTest::three_ = nullptr;
std::vector<json>* PrintFormatTest::subjects_ = nullptr;
mock_process* PrintFormatTest::server_ = nullptr;

TEST_F(PrintFormatTest, EveryTypeReadsBackExactlyWithGaijiAndIvsNames) {
  const std::vector<std::pair<std::string, std::string>> types = {
      {"juminhyo", "住民票の写し"},
      {"juminhyo_kisai", "住民票記載事項証明書"},
      {"inkan", "印鑑登録証明書"},
      {"koseki_zenbu", "戸籍全部事項証明書"},
      {"koseki_kojin", "戸籍個人事項証明書"},
      {"koseki_fuhyo", "戸籍の附票の写し"},
      {"kazei", "課税証明書"}};
  http_client client(server_->port());
  std::set<std::string> seen_names;
  std::size_t issued = 0;
  for (const auto& r : *subjects_) {
    for (const auto& [type, title] : types) {
      const bool has_seal = r["seal"].is_object() && r["seal"]["status"] == "registered";
      if (type == "inkan" && !has_seal) continue;
      const auto app = fmt::format("P-{}-{}", r["resident_id"].get<std::string>(), type);
      auto res = client.post("/v1/issue", issue_body(app, r["card_serial"], type));
      ASSERT_EQ(res.status, 200u) << type << ": " << res.body;
      ASSERT_EQ(res.content_type, "application/pdf");
      const auto pdf = read_pdf(res.body);
      check_pages(pdf, app, title);
      const auto ids = check_persons(pdf, type);
      ASSERT_FALSE(ids.empty()) << type;
      EXPECT_NE(std::find(ids.begin(), ids.end(), r["resident_id"]), ids.end()) << type;
      for (const auto& page : pdf.pages) {
        for (const auto& name : page.values("氏名")) seen_names.insert(name);
      }
      const auto& first = pdf.pages.front();
      if (type == "inkan") {
        EXPECT_EQ(first.value("登録番号"), r["seal"]["registration_number"]);
        ASSERT_TRUE(pdf.seal_png.has_value());
        EXPECT_EQ(hex(*pdf.seal_png), r["seal"]["image_sha256"]);
      } else {
        EXPECT_FALSE(pdf.seal_png.has_value()) << type;
      }
      if (type == "kazei") {
        EXPECT_EQ(first.value("所得金額"), std::to_string(r["tax"]["income"].get<long>()));
        EXPECT_EQ(first.value("市町村民税額"),
                  std::to_string(r["tax"]["municipal_tax"].get<long>()));
      }
      if (type.rfind("koseki", 0) == 0) {
        EXPECT_EQ(first.value("戸籍番号"), r["koseki_id"]);
        EXPECT_TRUE(first.value("本籍").has_value());
      }
      ++issued;
    }
  }
  EXPECT_GT(issued, 20u);
  // The hard names came back whole: the IVS pair, the non-BMP character, the gaiji.
  const auto contains = [&](const std::string& part) {
    for (const auto& name : seen_names) {
      if (name.find(part) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(contains(kIvsFamily + "\u3000" + kIvsGiven));
  EXPECT_TRUE(contains(kNonBmpFamily + "\u3000"));
  EXPECT_TRUE(contains(kGaijiFamily + "\u3000"));
}

TEST_F(PrintFormatTest, ThreePersonHouseholdSpansTwoPages) {
  http_client client(server_->port());
  const auto& subject = three_->front();
  auto res = client.post("/v1/issue", issue_body("P-3", subject["card_serial"], "juminhyo",
                                                 "konbini", {{"scope", "household"}}));
  ASSERT_EQ(res.status, 200u) << res.body;
  const auto pdf = read_pdf(res.body);
  check_pages(pdf, "P-3", "住民票の写し");
  ASSERT_EQ(pdf.pages.size(), 2u);
  EXPECT_EQ(pdf.pages[0].values("記載者"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(pdf.pages[1].values("記載者"), (std::vector<std::string>{"3"}));
  const auto ids = check_persons(pdf, "juminhyo");
  std::vector<std::string> expected;
  for (const auto& r : *three_) expected.push_back(r["resident_id"]);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()),
            std::set<std::string>(expected.begin(), expected.end()));
  // 世帯主 is printed for every person, on both pages.
  for (const auto& page : pdf.pages) {
    for (const auto& head : page.values("世帯主")) EXPECT_EQ(head.find(kIvsFamily), 0u) << head;
  }
}

TEST_F(PrintFormatTest, ErrorsStayJsonAndVersionNamesTheFormat) {
  http_client client(server_->port());
  auto res = client.post("/v1/issue", issue_body("P-E", "0000000000000000"));
  EXPECT_EQ(res.status, 404u);
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_EQ(res.json()["error"], "unknown_card");
  auto bad = client.post("/v1/issue", json{{"application_number", "P-B"}});
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(bad.content_type, "application/json");
  auto version = client.get("/version");
  EXPECT_EQ(version.json()["print_format"], "pdf");
}

TEST_F(PrintFormatTest, VendorJaAnswersThePdfAndItsResultCodesAsJson) {
  mock_process vendor(*dir_ / "pop.jsonl", {"--print-format", "pdf", "--dialect", "vendor-ja"},
                      *dir_ / "stderr-vendor.txt");
  http_client client(vendor.port());
  const auto& subject = three_->front();
  auto res = client.post("/api/koufu/v2/shinsei",
                         {{"申請番号", "V-1"},
                          {"受付区分", "CVS"},
                          {"証明書種別", "11"},
                          {"本人確認", {{"カードシリアル", subject["card_serial"]}}},
                          {"記載指定", {{"世帯全員", true}}}});
  ASSERT_EQ(res.status, 200u);
  ASSERT_EQ(res.content_type, "application/pdf") << res.body;
  const auto pdf = read_pdf(res.body);
  check_pages(pdf, "V-1", "住民票の写し");
  EXPECT_EQ(pdf.pages.size(), 2u);
  check_persons(pdf, "juminhyo");

  auto unknown = client.post("/api/koufu/v2/shinsei",
                             {{"申請番号", "V-2"},
                              {"受付区分", "CVS"},
                              {"証明書種別", "11"},
                              {"本人確認", {{"カードシリアル", "0000000000000000"}}}});
  EXPECT_EQ(unknown.status, 200u);
  EXPECT_EQ(unknown.content_type, "application/json");
  EXPECT_EQ(unknown.json()["処理結果"]["コード"], "E404");
  EXPECT_EQ(unknown.json()["申請番号"], "V-2");
}

}  // namespace
}  // namespace kofu::mock::test
