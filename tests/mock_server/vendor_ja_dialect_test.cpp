// End-to-end tests of `kofu-mock --dialect vendor-ja` (docs/vendor-ja.md): every certificate
// type's answer and renderings (names code point for code point, 和暦 at era boundaries, the
// address string, 版数), the result codes, the updates with their idempotency keys, the batch,
// the maintenance window, /version, and defects provoked through the dialect. Real kofu-mock on
// 127.0.0.1:0, real sockets; every load loop is bounded in count and time.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "mock_fixture.hpp"
#include "test_support.hpp"

namespace kofu::mock::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kToken = "vendor-test-token";
const std::string kShinsei = "/api/koufu/v2/shinsei";
const std::string kIdo = "/api/jukiren/v1/ido";
const std::string kIkkatsu = "/api/jukiren/v1/ido/ikkatsu";
const std::string kHoshu = "/api/kanri/v1/hoshu";

// The household the test writes into the population (synthetic values chosen for the
// renderings): 𠮷 (U+20BB7), 髙, an IVS sequence (葛 + U+E0100), dates at era boundaries.
const std::string kIvsGiven = "葛\U000E0100子";
const json kAddress = {{"postal_code", "100-0001"}, {"prefecture", "東京都"},
                       {"city", "架空市"},          {"town", "桜町三丁目"},
                       {"banchi", "12番地3"},       {"building", "コーポ桜 A0K4F2M9QX"},
                       {"token", "A0K4F2M9QX"}};
const std::string kAddressLine = "〒100-0001　東京都架空市桜町三丁目12番地3　コーポ桜 A0K4F2M9QX";
const std::string kHonseki = "神奈川県仮名市緑町一丁目7番地";
const json kSeal = {{"registration_number", "IN00471193"},
                    {"status", "registered"},
                    {"image_png_base64", "iVBORw0KGgoAAAANSUhEUg=="},
                    {"image_sha256", "5be1"}};
const json kTax = {{"fiscal_year", 2025},
                   {"income", 4521337},
                   {"taxable_income", 3101337},
                   {"municipal_tax", 186080},
                   {"prefectural_tax", 124053}};

json shinsei(const std::string& app, const json& r, const std::string& type = "11",
             const std::string& channel = "CVS", const json& kisai = nullptr) {
  json body = {{"申請番号", app},
               {"受付区分", channel},
               {"証明書種別", type},
               {"本人確認", {{"カードシリアル", r["card_serial"]}}}};
  if (!kisai.is_null()) body["記載指定"] = kisai;
  return body;
}

json move_body(const std::string& id, std::int64_t seq, const std::string& token,
               const std::string& moved_in = "令和8年11月22日") {
  return {{"住民票コード", id},
          {"異動連番", seq},
          {"異動種別", "転居"},
          {"異動内容",
           {{"住所",
             {{"郵便番号", "100-0002"},
              {"都道府県", "東京都"},
              {"市区町村", "架空市"},
              {"町域", "梅町一丁目"},
              {"番地", "4番地5"},
              {"方書", "ハイツ梅 " + token}}},
            {"住民となった日", moved_in}}}};
}

std::string code_of(const http_result& res) {
  const auto j = res.json();
  if (!j.is_object() || !j.contains("処理結果")) return "(no 処理結果: " + res.body + ")";
  return j["処理結果"].value("コード", "(no コード)");
}

std::string message_of(const http_result& res) {
  const auto j = res.json();
  if (!j.is_object() || !j.contains("処理結果")) return {};
  return j["処理結果"].value("メッセージ", "");
}

class VendorJaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new kofu::test::temp_dir();
    population_ = new std::vector<json>(make_population(*dir_ / "pop.jsonl", 60));
    shape_population();
    std::string text;
    for (const auto& r : *population_) text += r.dump() + "\n";
    kofu::test::write_file(population_file(), text);
    shared_ = start_server({}).release();
  }
  static void TearDownTestSuite() {
    delete shared_;
    delete population_;
    delete dir_;
  }

  // Picks the first household of three or more active members and rewrites it (household and
  // 戸籍 ids of its own, names, dates, address, seal, tax); picks another active resident for the
  // remaining era boundaries.
  static void shape_population() {
    auto& pop = *population_;
    std::map<std::string, std::vector<std::size_t>> households;
    for (std::size_t i = 0; i < pop.size(); ++i) households[pop[i]["household_id"]].push_back(i);
    for (const auto& [id, members] : households) {
      if (members.size() < 3) continue;
      bool active = true;
      for (auto i : members) active = active && pop[i]["status"] == "active";
      if (!active) continue;
      household_ = {members[0], members[1], members[2]};
      break;
    }
    ASSERT_EQ(household_.size(), 3u) << "no household of three active members";
    // Members beyond the third leave for a household of their own.
    for (const auto& [id, members] : households) {
      if (members[0] != household_[0]) continue;
      for (std::size_t k = 3; k < members.size(); ++k) {
        pop[members[k]]["household_id"] = "H900000002";
        pop[members[k]]["relationship"] = "世帯主";
      }
    }
    const std::array<const char*, 3> given = {"髙志", "", "一郎"};
    const std::array<const char*, 3> given_kana = {"タカシ", "カツコ", "イチロウ"};
    const std::array<const char*, 3> relationship = {"世帯主", "妻", "子"};
    const std::array<const char*, 3> koseki_relationship = {"夫", "妻", "長男"};
    const std::array<const char*, 3> sex = {"male", "female", "male"};
    const std::array<const char*, 3> birth = {"1989-01-08", "1926-12-25", "1912-07-30"};
    const std::array<const char*, 3> moved_in = {"2019-05-01", "1989-01-07", "2019-04-30"};
    for (std::size_t m = 0; m < 3; ++m) {
      auto& r = pop[household_[m]];
      r["household_id"] = "H900000001";
      r["koseki_id"] = "K900000001";
      r["relationship"] = relationship[m];
      r["koseki_relationship"] = koseki_relationship[m];
      r["name"] = {{"family_kanji", "𠮷田"},
                   {"given_kanji", m == 1 ? kIvsGiven : std::string(given[m])},
                   {"family_kana", "ヨシダ"},
                   {"given_kana", given_kana[m]}};
      r["sex"] = sex[m];
      r["birth_date"] = birth[m];
      r["moved_in_date"] = moved_in[m];
      r["address"] = kAddress;
      r["honseki"] = kHonseki;
      r["hittousha"] = "𠮷田 髙志";
      r["seal"] = m == 0 ? kSeal : json(nullptr);
      if (m == 0) r["tax"] = kTax;
    }
    for (std::size_t i = 0; i < pop.size(); ++i) {
      if (pop[i]["status"] != "active" || pop[i]["household_id"] == "H900000001" ||
          pop[i]["household_id"] == "H900000002") {
        continue;
      }
      pop[i]["birth_date"] = "1912-07-29";
      pop[i]["moved_in_date"] = "1926-12-24";
      other_ = i;
      break;
    }
  }

  static std::filesystem::path population_file() { return *dir_ / "pop.jsonl"; }
  static const json& member(std::size_t m) { return (*population_)[household_[m]]; }
  static std::string id_of(const json& r) { return r["resident_id"].get<std::string>(); }

  static std::unique_ptr<mock_process> start_server(std::vector<std::string> args,
                                                    bool with_token = true) {
    args.insert(args.end(), {"--dialect", "vendor-ja"});
    if (with_token) args.insert(args.end(), {"--admin-token", kToken});
    return std::make_unique<mock_process>(population_file(), args,
                                          *dir_ / fmt::format("stderr-{}.txt", ++servers_));
  }

  // A 0000 certificate, or a test failure.
  static json issue_ok(http_client& client, const json& body) {
    auto res = client.post(kShinsei, body);
    EXPECT_EQ(res.status, 200u) << res.body;
    EXPECT_EQ(code_of(res), "0000") << res.body;
    return res.json();
  }

  static http_result ido(http_client& client, const json& body, const std::string& key) {
    return client.post(kIdo, body, {{"Idempotency-Key", key}});
  }

  static kofu::test::temp_dir* dir_;
  static std::vector<json>* population_;
  static std::vector<std::size_t> household_;  // indexes of the shaped household's members
  static std::size_t other_;                   // the resident born 1912-07-29
  static mock_process* shared_;                // read-only tests share it
  static int servers_;
};

kofu::test::temp_dir* VendorJaTest::dir_ = nullptr;
std::vector<json>* VendorJaTest::population_ = nullptr;
std::vector<std::size_t> VendorJaTest::household_;
std::size_t VendorJaTest::other_ = 0;
mock_process* VendorJaTest::shared_ = nullptr;
int VendorJaTest::servers_ = 0;

TEST_F(VendorJaTest, VersionHealthzAndMetrics) {
  http_client client(shared_->port());
  auto version = client.get("/version");
  ASSERT_EQ(version.status, 200u);
  EXPECT_EQ(version.json()["dialect"], "vendor-ja");
  EXPECT_EQ(version.json()["name"], "kofu-mock");
  EXPECT_EQ(version.json()["defects"], json::array());
  EXPECT_EQ(client.get("/healthz").json()["status"], "ok");
  issue_ok(client, shinsei("M-1", member(0)));
  auto metrics = client.get("/metrics");
  EXPECT_NE(metrics.body.find("kofu_mock_requests_total{endpoint=\"issue\",status=\"200\"}"),
            std::string::npos)
      << metrics.body;
}

TEST_F(VendorJaTest, JuminhyoOfOnePersonIsRenderedExactly) {
  http_client client(shared_->port());
  const auto answer = issue_ok(client, shinsei("KOFU-000001-0000000042", member(0)));
  EXPECT_EQ(answer["処理結果"], (json{{"コード", "0000"}, {"メッセージ", "正常終了"}}));
  EXPECT_EQ(answer["申請番号"], "KOFU-000001-0000000042");
  EXPECT_EQ(answer.size(), 3u) << answer.dump();  // 処理結果, 申請番号, 証明書: no digest
  const auto& c = answer["証明書"];
  EXPECT_EQ(c["種別"], "11");
  EXPECT_TRUE(c["交付番号"].get<std::string>().starts_with("C-1-")) << c.dump();
  const auto issued_at = c["交付日時"].get<std::string>();
  EXPECT_EQ(issued_at.size(), 29u) << issued_at;
  EXPECT_TRUE(issued_at.ends_with("+09:00")) << issued_at;
  EXPECT_EQ(c["版数"], 1);
  const json expected_person = {{"頁", 1},
                                {"住民票コード", id_of(member(0))},
                                {"氏名", "𠮷田　髙志"},
                                {"氏名カナ", "ヨシダ　タカシ"},
                                {"生年月日", "平成元年1月8日"},
                                {"性別", "男"},
                                {"住所", kAddressLine},
                                {"住民となった日", "令和元年5月1日"},
                                {"世帯主", "𠮷田　髙志"}};
  EXPECT_EQ(c["記載者"], json::array({expected_person}));
  // Exactly these keys: no subject, no card serial, no per-person version, no seal or tax.
  std::set<std::string> keys;
  for (auto it = c.begin(); it != c.end(); ++it) keys.insert(it.key());
  EXPECT_EQ(keys, (std::set<std::string>{"種別", "交付番号", "交付日時", "版数", "記載者"}));
}

TEST_F(VendorJaTest, JuminhyoOfTheHouseholdWithEveryColumn) {
  http_client client(shared_->port());
  const auto answer = issue_ok(
      client,
      shinsei("H-1", member(0), "11", "MADO",
              {{"世帯全員", true}, {"本籍筆頭者", true}, {"続柄", true}, {"個人番号", true}}));
  const auto& persons = answer["証明書"]["記載者"];
  ASSERT_EQ(persons.size(), 3u) << answer.dump();
  const std::array<const char*, 3> names = {"𠮷田　髙志", "", "𠮷田　一郎"};
  const std::array<const char*, 3> kana = {"ヨシダ　タカシ", "ヨシダ　カツコ", "ヨシダ　イチロウ"};
  const std::array<const char*, 3> births = {"平成元年1月8日", "昭和元年12月25日",
                                             "大正元年7月30日"};
  const std::array<const char*, 3> moved = {"令和元年5月1日", "昭和64年1月7日", "平成31年4月30日"};
  const std::array<const char*, 3> sexes = {"男", "女", "男"};
  const std::array<const char*, 3> relationship = {"世帯主", "妻", "子"};
  for (std::size_t m = 0; m < 3; ++m) {
    const json expected = {{"頁", 1},
                           {"住民票コード", id_of(member(m))},
                           {"氏名", m == 1 ? "𠮷田　" + kIvsGiven : std::string(names[m])},
                           {"氏名カナ", kana[m]},
                           {"生年月日", births[m]},
                           {"性別", sexes[m]},
                           {"住所", kAddressLine},
                           {"住民となった日", moved[m]},
                           {"世帯主", "𠮷田　髙志"},
                           {"続柄", relationship[m]},
                           {"本籍", kHonseki},
                           {"筆頭者", "𠮷田　髙志"},
                           {"個人番号", member(m)["mynumber"]}};
    EXPECT_EQ(persons[m], expected) << m;
  }
  // The IVS sequence is printed code point for code point: base, then U+E0100 (F3 A0 84 80).
  EXPECT_NE(answer.dump().find("\xE8\x91\x9B\xF3\xA0\x84\x80\xE5\xAD\x90"), std::string::npos);
}

TEST_F(VendorJaTest, EraBoundariesOfMeijiAndTaisho) {
  http_client client(shared_->port());
  const auto answer = issue_ok(client, shinsei("E-1", (*population_)[other_]));
  const auto& p = answer["証明書"]["記載者"][0];
  EXPECT_EQ(p["生年月日"], "明治45年7月29日");
  EXPECT_EQ(p["住民となった日"], "大正15年12月24日");
}

TEST_F(VendorJaTest, InkanCertificateCarriesTheSealFlat) {
  http_client client(shared_->port());
  const auto answer = issue_ok(client, shinsei("I-1", member(0), "21", "KIOSK"));
  const auto& c = answer["証明書"];
  EXPECT_EQ(c["種別"], "21");
  EXPECT_EQ(c["印鑑登録番号"], "IN00471193");
  EXPECT_EQ(c["印影画像"], "iVBORw0KGgoAAAANSUhEUg==");
  EXPECT_FALSE(c.contains("印影ハッシュ"));
  EXPECT_EQ(c["記載者"], json::array({{{"頁", 1},
                                       {"住民票コード", id_of(member(0))},
                                       {"氏名", "𠮷田　髙志"},
                                       {"氏名カナ", "ヨシダ　タカシ"},
                                       {"生年月日", "平成元年1月8日"},
                                       {"性別", "男"},
                                       {"住所", kAddressLine}}}));
}

TEST_F(VendorJaTest, KazeiCertificateCarriesTheFiveFigures) {
  http_client client(shared_->port());
  const auto answer = issue_ok(client, shinsei("T-1", member(0), "41"));
  const auto& c = answer["証明書"];
  EXPECT_EQ(c["種別"], "41");
  EXPECT_EQ(c["課税"], (json{{"年度", 2025},
                             {"所得金額", 4521337},
                             {"課税標準額", 3101337},
                             {"市町村民税額", 186080},
                             {"道府県民税額", 124053}}));
  ASSERT_EQ(c["記載者"].size(), 1u);
  EXPECT_EQ(c["記載者"][0]["住所"], kAddressLine);
  EXPECT_FALSE(c["記載者"][0].contains("住民となった日"));
}

TEST_F(VendorJaTest, KosekiCertificatesOfEachType) {
  http_client client(shared_->port());
  const json koseki = {{"本籍", kHonseki}, {"筆頭者", "𠮷田　髙志"}};
  const std::array<const char*, 3> kr = {"夫", "妻", "長男"};
  {  // 31 全部事項: every member, two a page
    const auto c = issue_ok(client, shinsei("K-31", member(1), "31"))["証明書"];
    EXPECT_EQ(c["種別"], "31");
    EXPECT_EQ(c["戸籍"], koseki);
    ASSERT_EQ(c["記載者"].size(), 3u) << c.dump();
    for (std::size_t m = 0; m < 3; ++m) {
      const auto& p = c["記載者"][m];
      EXPECT_EQ(p["頁"], m / 2 + 1);
      EXPECT_EQ(p["住民票コード"], id_of(member(m)));
      EXPECT_EQ(p["戸籍上の続柄"], kr[m]);
      EXPECT_FALSE(p.contains("住所"));
    }
    EXPECT_EQ(c["記載者"][1]["氏名"], "𠮷田　" + kIvsGiven);
  }
  {  // 32 個人事項: the subject only
    const auto c = issue_ok(client, shinsei("K-32", member(1), "32"))["証明書"];
    EXPECT_EQ(c["種別"], "32");
    EXPECT_EQ(c["戸籍"], koseki);
    EXPECT_EQ(c["記載者"], json::array({{{"頁", 1},
                                         {"住民票コード", id_of(member(1))},
                                         {"氏名", "𠮷田　" + kIvsGiven},
                                         {"氏名カナ", "ヨシダ　カツコ"},
                                         {"生年月日", "昭和元年12月25日"},
                                         {"性別", "女"},
                                         {"戸籍上の続柄", "妻"}}}));
  }
  {  // 33 附票: every member with address and 住民となった日
    const auto c = issue_ok(client, shinsei("K-33", member(2), "33"))["証明書"];
    EXPECT_EQ(c["種別"], "33");
    EXPECT_EQ(c["戸籍"], koseki);
    ASSERT_EQ(c["記載者"].size(), 3u);
    EXPECT_EQ(c["記載者"][2]["住所"], kAddressLine);
    EXPECT_EQ(c["記載者"][2]["住民となった日"], "平成31年4月30日");
    EXPECT_FALSE(c["記載者"][2].contains("戸籍上の続柄"));
  }
}

TEST_F(VendorJaTest, IssuanceResultCodes) {
  http_client client(shared_->port());
  const auto& pop = *population_;
  const auto expect_code = [&](const json& body, const std::string& code,
                               const std::string& message_part = {}) {
    auto res = client.post(kShinsei, body);
    EXPECT_EQ(res.status, 200u) << res.body;
    EXPECT_EQ(code_of(res), code) << body.dump() << " → " << res.body;
    EXPECT_NE(message_of(res).find(message_part), std::string::npos) << res.body;
    EXPECT_FALSE(res.json().contains("証明書")) << res.body;
    return res.json();
  };
  {
    json unknown = member(0);
    unknown["card_serial"] = "0000000000000000";
    const auto j = expect_code(shinsei("R-404", unknown), "E404");
    EXPECT_EQ(j["申請番号"], "R-404");
  }
  for (const auto& r : pop) {
    if (r["status"] == "removed") {
      expect_code(shinsei("R-removed", r), "E422");
      break;
    }
  }
  for (const auto& r : pop) {
    if (r["status"] == "active" && r["seal"].is_object() && r["seal"]["status"] == "cancelled") {
      expect_code(shinsei("R-cancelled", r, "21"), "E422");
      break;
    }
  }
  expect_code(shinsei("R-noseal", member(1), "21"), "E422");  // never registered
  expect_code(shinsei("R-kisai", member(0), "12"), "E400", "証明書種別");
  expect_code(shinsei("R-web", member(0), "11", "WEB"), "E400", "受付区分");
  {
    auto body = shinsei("R-key", member(0));
    body["FAX"] = true;
    expect_code(body, "E400", "FAX");
  }
  expect_code(shinsei("R-opt", member(0), "11", "CVS", {{"郵送", true}}), "E400", "記載指定.郵送");
  expect_code(shinsei("R-bool", member(0), "11", "CVS", {{"世帯全員", "はい"}}), "E400",
              "記載指定.世帯全員");
  {
    auto body = shinsei("R-card", member(0));
    body["本人確認"] = {{"カードシリアル", member(0)["card_serial"]}, {"暗証番号", "1234"}};
    expect_code(body, "E400", "本人確認.暗証番号");
    body.erase("本人確認");
    expect_code(body, "E400", "本人確認");
  }
  expect_code(json::array({1, 2}), "E400");
  // The reference answer of the same request is 400 invalid_value: no reference shapes leak.
  expect_code({{"申請番号", ""}}, "E400", "申請番号");

  // Only a body that is not JSON at all, and HTTP-level faults, keep an HTTP error status.
  const auto expect_fault = [](const http_result& res, unsigned status) {
    EXPECT_EQ(res.status, status) << res.body;
    EXPECT_EQ(code_of(res), fmt::format("E{}", status)) << res.body;
    EXPECT_FALSE(res.json().contains("error")) << res.body;
  };
  expect_fault(client.request("POST", kShinsei, "{\"申請番号\": "), 400);
  expect_fault(client.request("POST", kShinsei, "{}", {}, "text/plain"), 415);
  expect_fault(client.request("GET", kShinsei), 405);
  expect_fault(client.request("POST", "/api/koufu/v9/shinsei", "{}"), 404);
  expect_fault(client.post("/v1/issue", issue_body("R-ref", member(0)["card_serial"])), 404);
  auto charset = client.request("POST", kShinsei, shinsei("R-utf8", member(0)).dump(), {},
                                "application/json; charset=utf-8");
  EXPECT_EQ(code_of(charset), "0000") << charset.body;
}

TEST_F(VendorJaTest, UpdatesOfEveryKind) {
  auto server = start_server({});
  http_client client(server->port());
  const auto head = id_of(member(0));
  const auto child = id_of(member(2));
  {  // 転居
    auto res = ido(client, move_body(head, 1, "M0K4F2M9QX"), "k-move");
    EXPECT_EQ(res.json(),
              (json{{"処理結果", {{"コード", "0000"}}}, {"住民票コード", head}, {"反映後版数", 2}}))
        << res.body;
    const auto p = issue_ok(client, shinsei("U-1", member(0)))["証明書"]["記載者"][0];
    EXPECT_EQ(p["住所"], "〒100-0002　東京都架空市梅町一丁目4番地5　ハイツ梅 M0K4F2M9QX");
    EXPECT_EQ(p["住民となった日"], "令和8年11月22日");
  }
  {  // 氏名変更
    json body = {
        {"住民票コード", head},
        {"異動連番", 2},
        {"異動種別", "氏名変更"},
        {"異動内容",
         {{"氏", "髙橋"}, {"名", "健一"}, {"氏カナ", "タカハシ"}, {"名カナ", "ケンイチ"}}}};
    auto res = ido(client, body, "k-name");
    EXPECT_EQ(code_of(res), "0000") << res.body;
    EXPECT_EQ(res.json()["反映後版数"], 3);
    const auto c = issue_ok(client, shinsei("U-2", member(0)))["証明書"];
    EXPECT_EQ(c["版数"], 3);
    EXPECT_EQ(c["記載者"][0]["氏名"], "髙橋　健一");
    EXPECT_EQ(c["記載者"][0]["氏名カナ"], "タカハシ　ケンイチ");
  }
  {  // 印鑑登録 for the child, who had none; then 印鑑廃止
    auto before = client.post(kShinsei, shinsei("U-3", member(2), "21"));
    EXPECT_EQ(code_of(before), "E422") << before.body;
    json reg = {{"住民票コード", child},
                {"異動連番", 1},
                {"異動種別", "印鑑登録"},
                {"異動内容", {{"登録番号", "IN00999999"}, {"印影画像", "UE5HLTk5OQ=="}}}};
    auto res = ido(client, reg, "k-seal");
    EXPECT_EQ(code_of(res), "0000") << res.body;
    EXPECT_EQ(res.json()["反映後版数"], 2);
    const auto c = issue_ok(client, shinsei("U-4", member(2), "21"))["証明書"];
    EXPECT_EQ(c["印鑑登録番号"], "IN00999999");
    EXPECT_EQ(c["印影画像"], "UE5HLTk5OQ==");
    EXPECT_EQ(c["版数"], 2);
    json wrong_number = {{"住民票コード", child},
                         {"異動連番", 2},
                         {"異動種別", "印鑑廃止"},
                         {"異動内容", {{"登録番号", "IN00000001"}}}};
    auto refused = ido(client, wrong_number, "k-cancel-wrong");
    EXPECT_EQ(code_of(refused), "E400") << refused.body;
    EXPECT_NE(message_of(refused).find("異動内容.登録番号"), std::string::npos);
    json cancel = {{"住民票コード", child},
                   {"異動連番", 2},
                   {"異動種別", "印鑑廃止"},
                   {"異動内容", {{"登録番号", "IN00999999"}}}};
    res = ido(client, cancel, "k-cancel");
    EXPECT_EQ(code_of(res), "0000") << res.body;
    EXPECT_EQ(res.json()["反映後版数"], 3);
    auto after = client.post(kShinsei, shinsei("U-5", member(2), "21"));
    EXPECT_EQ(code_of(after), "E422") << after.body;
  }
  {  // 世帯変更: the child leaves for a household of its own and is printed as its 世帯主
    json body = {{"住民票コード", child},
                 {"異動連番", 3},
                 {"異動種別", "世帯変更"},
                 {"異動内容", {{"世帯番号", "H900000009"}, {"続柄", "世帯主"}}}};
    auto res = ido(client, body, "k-household");
    EXPECT_EQ(code_of(res), "0000") << res.body;
    EXPECT_EQ(res.json()["反映後版数"], 4);
    const auto c = issue_ok(client, shinsei("U-6", member(2), "11", "CVS",
                                            {{"世帯全員", true}, {"続柄", true}}))["証明書"];
    ASSERT_EQ(c["記載者"].size(), 1u) << c.dump();
    EXPECT_EQ(c["記載者"][0]["続柄"], "世帯主");
    EXPECT_EQ(c["記載者"][0]["世帯主"], "𠮷田　一郎");
    const auto rest =
        issue_ok(client, shinsei("U-7", member(0), "11", "CVS", {{"世帯全員", true}}))["証明書"];
    EXPECT_EQ(rest["記載者"].size(), 2u) << rest.dump();
  }
}

TEST_F(VendorJaTest, HansuIsTheHighestVersionAmongThePersonsPrinted) {
  auto server = start_server({});
  http_client client(server->port());
  json body = {
      {"住民票コード", id_of(member(1))},
      {"異動連番", 5},
      {"異動種別", "氏名変更"},
      {"異動内容", {{"氏", "𠮷田"}, {"名", "花子"}, {"氏カナ", "ヨシダ"}, {"名カナ", "ハナコ"}}}};
  ASSERT_EQ(ido(client, body, "k-1").json()["反映後版数"], 2);
  ASSERT_EQ(ido(client, move_body(id_of(member(2)), 1, "M1", "令和8年1月1日"), "k-2")
                .json()["反映後版数"],
            2);
  body["異動連番"] = 6;
  body["異動内容"]["名"] = "春子";
  ASSERT_EQ(ido(client, body, "k-3").json()["反映後版数"], 3);
  // The head is at version 1, the wife at 3, the son at 2.
  const auto household =
      issue_ok(client, shinsei("V-1", member(0), "11", "CVS", {{"世帯全員", true}}))["証明書"];
  EXPECT_EQ(household["版数"], 3);
  EXPECT_EQ(household["記載者"][1]["氏名"], "𠮷田　春子");
  EXPECT_EQ(issue_ok(client, shinsei("V-2", member(0)))["証明書"]["版数"], 1);
  EXPECT_EQ(issue_ok(client, shinsei("V-3", member(2)))["証明書"]["版数"], 2);
  EXPECT_EQ(issue_ok(client, shinsei("V-4", member(0), "31"))["証明書"]["版数"], 3);
  EXPECT_EQ(issue_ok(client, shinsei("V-5", member(0), "32"))["証明書"]["版数"], 1);
}

TEST_F(VendorJaTest, UpdateRefusalsChangeNothing) {
  auto server = start_server({});
  http_client client(server->port());
  const auto head = id_of(member(0));
  const auto first = ido(client, move_body(head, 7, "M7"), "key-7");
  ASSERT_EQ(code_of(first), "0000") << first.body;
  ASSERT_EQ(first.json()["反映後版数"], 2);

  // The same key and body: the first answer, byte for byte, and no new version.
  const auto replay = ido(client, move_body(head, 7, "M7"), "key-7");
  EXPECT_EQ(replay.status, 200u);
  EXPECT_EQ(replay.body, first.body);
  // The same key with another body.
  const auto conflict = ido(client, move_body(head, 8, "M8"), "key-7");
  EXPECT_EQ(code_of(conflict), "E409") << conflict.body;
  // 異動連番 not increasing (equal, then lower), under new keys.
  EXPECT_EQ(code_of(ido(client, move_body(head, 7, "M9"), "key-7b")), "E409");
  EXPECT_EQ(code_of(ido(client, move_body(head, 3, "M9"), "key-3")), "E409");
  // A tax change is not offered; nor is an unknown 異動種別.
  json tax = {{"住民票コード", head},
              {"異動連番", 9},
              {"異動種別", "課税"},
              {"異動内容", {{"所得金額", 1}}}};
  auto res = ido(client, tax, "key-tax");
  EXPECT_EQ(code_of(res), "E400") << res.body;
  EXPECT_NE(message_of(res).find("異動種別"), std::string::npos) << res.body;
  // Bad input, each named.
  const auto expect_400 = [&](const json& body, const std::string& key, const std::string& field) {
    auto r = ido(client, body, key);
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(code_of(r), "E400") << r.body;
    EXPECT_NE(message_of(r).find(field), std::string::npos) << field << ": " << r.body;
  };
  expect_400(move_body(head, 9, "M9", "平成31年5月1日"), "key-era", "異動内容.住民となった日");
  expect_400(move_body(head, 9, "M9", "令和1年5月1日"), "key-gannen", "異動内容.住民となった日");
  {
    auto body = move_body(head, 9, "M9");
    body["異動内容"]["住所"].erase("方書");
    expect_400(body, "key-katagaki", "異動内容.住所.方書");
    body = move_body(head, 9, "M9");
    body["異動内容"]["電話"] = "03";
    expect_400(body, "key-extra", "異動内容.電話");
    body = move_body(head, 0, "M9");
    expect_400(body, "key-zero", "異動連番");
  }
  {
    auto r = client.post(kIdo, move_body(head, 9, "M9"));  // no Idempotency-Key
    EXPECT_EQ(code_of(r), "E400") << r.body;
    EXPECT_NE(message_of(r).find("Idempotency-Key"), std::string::npos);
    r = client.post(kIdo, move_body(head, 9, "M9"), {{"Idempotency-Key", std::string(129, 'k')}});
    EXPECT_EQ(code_of(r), "E400") << r.body;
  }
  {
    auto r = ido(client, move_body("00000000000", 9, "M9"), "key-unknown");
    EXPECT_EQ(code_of(r), "E404") << r.body;
  }
  {
    auto r = client.request("POST", kIdo, "not json", {{"Idempotency-Key", "key-garbage"}});
    EXPECT_EQ(r.status, 400u);
    EXPECT_EQ(code_of(r), "E400") << r.body;
  }
  // Nothing of the above changed the record: version 2, the address of the first move.
  const auto c = issue_ok(client, shinsei("N-1", member(0)))["証明書"];
  EXPECT_EQ(c["版数"], 2);
  EXPECT_TRUE(c["記載者"][0]["住所"].get<std::string>().ends_with(" M7")) << c.dump();
  // The next accepted change is version 3.
  EXPECT_EQ(ido(client, move_body(head, 8, "M8"), "key-8").json()["反映後版数"], 3);
}

TEST_F(VendorJaTest, ReflectionBatch) {
  auto server = start_server({});
  http_client client(server->port());
  const auto a = id_of(member(0));
  const auto b = id_of(member(2));
  json batch = {{"一括番号", "B-1"},
                {"異動一覧",
                 {move_body(a, 1, "B1A"),
                  {{"住民票コード", b},
                   {"異動連番", 1},
                   {"異動種別", "印鑑登録"},
                   {"異動内容", {{"登録番号", "IN00888888"}, {"印影画像", "QkFUQ0g="}}}},
                  {{"住民票コード", b},
                   {"異動連番", 2},
                   {"異動種別", "印鑑廃止"},
                   {"異動内容", {{"登録番号", "IN00888888"}}}},
                  move_body(a, 2, "B1B")}}};
  auto res = client.post(kIkkatsu, batch);
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.json(), (json{{"処理結果", {{"コード", "0000"}}},
                              {"一括番号", "B-1"},
                              {"反映結果",
                               {{{"住民票コード", a}, {"反映後版数", 2}},
                                {{"住民票コード", b}, {"反映後版数", 2}},
                                {{"住民票コード", b}, {"反映後版数", 3}},
                                {{"住民票コード", a}, {"反映後版数", 3}}}}}))
      << res.body;
  EXPECT_EQ(code_of(client.post(kShinsei, shinsei("B-2", member(2), "21"))), "E422");

  // Any invalid element rejects the whole batch, naming it; nothing changes.
  json bad = {{"一括番号", "B-2"}, {"異動一覧", {move_body(a, 3, "B2A"), move_body(b, 3, "B2B")}}};
  bad["異動一覧"][1]["異動種別"] = "転出";
  res = client.post(kIkkatsu, bad);
  EXPECT_EQ(code_of(res), "E400") << res.body;
  EXPECT_NE(message_of(res).find("異動一覧[1].異動種別"), std::string::npos) << res.body;
  bad["異動一覧"][1] = move_body(b, 1, "B2B");  // 異動連番 1 is not above 2
  res = client.post(kIkkatsu, bad);
  EXPECT_EQ(code_of(res), "E400") << res.body;
  EXPECT_NE(message_of(res).find("異動一覧[1].異動連番"), std::string::npos) << res.body;
  bad["異動一覧"][1] = move_body("00000000000", 1, "B2B");
  res = client.post(kIkkatsu, bad);
  EXPECT_EQ(code_of(res), "E400") << res.body;
  EXPECT_NE(message_of(res).find("異動一覧[1].住民票コード"), std::string::npos) << res.body;
  EXPECT_EQ(code_of(client.post(kIkkatsu, {{"一括番号", "B-3"}, {"異動一覧", json::array()}})),
            "E400");
  const auto c = issue_ok(client, shinsei("B-4", member(0)))["証明書"];
  EXPECT_EQ(c["版数"], 3);
  EXPECT_TRUE(c["記載者"][0]["住所"].get<std::string>().ends_with(" B1B")) << c.dump();
}

TEST_F(VendorJaTest, MaintenanceTokens) {
  {
    auto server = start_server({});
    http_client client(server->port());
    const json body = {{"保守時間ミリ秒", 2000}};
    auto res = client.post(kHoshu, body);
    EXPECT_EQ(res.status, 401u);
    EXPECT_EQ(code_of(res), "E401") << res.body;
    res = client.post(kHoshu, body, {{"X-Kanri-Token", "wrong"}});
    EXPECT_EQ(res.status, 401u);
    EXPECT_EQ(code_of(res), "E401") << res.body;
    res = client.post(kHoshu, body, {{"Authorization", "Bearer " + kToken}});
    EXPECT_EQ(res.status, 401u) << "the reference header is not the vendor's";
    for (const json& bad : {json{{"保守時間ミリ秒", 0}}, json{{"保守時間ミリ秒", 3'600'001}},
                            json{{"保守時間ミリ秒", "2000"}}, json{{"期間", 2000}}}) {
      res = client.post(kHoshu, bad, {{"X-Kanri-Token", kToken}});
      EXPECT_EQ(res.status, 200u);
      EXPECT_EQ(code_of(res), "E400") << bad.dump() << " → " << res.body;
    }
    const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    res = client.post(kHoshu, body, {{"X-Kanri-Token", kToken}});
    const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    EXPECT_EQ(res.status, 200u);
    EXPECT_EQ(code_of(res), "0000") << res.body;
    const auto until = res.json()["終了予定"].get<std::int64_t>();
    EXPECT_GE(until, before + 2000);
    EXPECT_LE(until, after + 2000);
    // Issuance goes on during the window.
    issue_ok(client, shinsei("W-1", member(0)));
  }
  {
    auto server = start_server({}, /*with_token=*/false);
    http_client client(server->port());
    auto res = client.post(kHoshu, {{"保守時間ミリ秒", 2000}}, {{"X-Kanri-Token", kToken}});
    EXPECT_EQ(res.status, 403u);
    EXPECT_EQ(code_of(res), "E403") << res.body;
  }
}

// ---- Defects provoked through the dialect (mock_server/DEFECTS.md) ----

constexpr unsigned kWorkers = 32;
constexpr std::size_t kMaxRequests = 20'000;
constexpr auto kDefectDuration =
    10s;  // upper bound; the defect runs stop at the first wrong answer
constexpr auto kControlDuration = 2s;

struct tally {
  std::mutex mutex;
  std::size_t issued = 0;  // 0000
  std::size_t wrong = 0;
  std::string first_wrong;  // protected by mutex
  std::atomic<bool> found{false};
  std::atomic<bool> never{false};

  void record(const std::string& problem) {
    std::lock_guard lock(mutex);
    ++issued;
    if (problem.empty()) return;
    ++wrong;
    if (first_wrong.empty()) first_wrong = problem;
    found = true;
  }
  std::string describe() {
    std::lock_guard lock(mutex);
    const auto text = fmt::format("issued {}, wrong {}{}{}", issued, wrong,
                                  first_wrong.empty() ? "" : ": ", first_wrong);
    fmt::print("  [load] {}\n", text);
    return text;
  }
};

// What is wrong with a 0000 answer to `app` for resident `r` of certificate `type`: the
// application number echoed, and the subject among the persons printed (the only one for 11).
std::string problem_of(const json& answer, const std::string& app, const json& r,
                       const std::string& type) {
  if (answer["申請番号"] != app) {
    return fmt::format("{} answered with 申請番号 {} ({})", app, answer["申請番号"].dump(),
                       answer["証明書"]["交付番号"].dump());
  }
  const auto& persons = answer["証明書"]["記載者"];
  bool subject = false;
  for (const auto& p : persons) subject = subject || p["住民票コード"] == r["resident_id"];
  if (!subject || (type == "11" && persons.size() != 1)) {
    return fmt::format("{} for {} printed {}", app, r["resident_id"].dump(),
                       persons.empty() ? "nobody" : persons[0]["住民票コード"].dump());
  }
  return {};
}

class VendorJaDefectsTest : public VendorJaTest {
 protected:
  // Up to `n` active residents, one per household and 戸籍.
  static std::vector<json> hot_set(std::size_t n) {
    std::vector<json> out;
    std::set<std::string> households, koseki;
    for (const auto& r : *population_) {
      if (out.size() == n) break;
      if (r["status"] != "active") continue;
      if (!households.insert(r["household_id"]).second) continue;
      if (!koseki.insert(r["koseki_id"]).second) continue;
      out.push_back(r);
    }
    return out;
  }

  static void issue_load(std::uint16_t port, const std::vector<json>& hot, const std::string& type,
                         std::chrono::milliseconds duration, bool stop_at_first, tally& t,
                         const std::function<std::string(unsigned)>& channel_of) {
    run_load(
        port, kWorkers, kMaxRequests, duration,
        [&](unsigned w, std::size_t i, http_client& client) {
          const auto& r = hot[i % hot.size()];
          const auto app = fmt::format("VD-{}-{}", w, i);
          auto res = client.post(kShinsei, shinsei(app, r, type, channel_of(w)));
          if (res.status == 200 && code_of(res) == "0000") {
            t.record(problem_of(res.json(), app, r, type));
          }
        },
        std::nullopt, stop_at_first ? &t.found : &t.never);
  }
};

TEST_F(VendorJaDefectsTest, ChannelSlotSwapsWindowAndStoreRequests) {
  const auto hot = hot_set(8);
  ASSERT_GE(hot.size(), 4u);
  const auto channel_of = [](unsigned w) { return std::string(w % 2 == 0 ? "CVS" : "MADO"); };
  {
    auto server = start_server({"--defect", "channel-slot"});
    tally t;
    issue_load(server->port(), hot, "11", kDefectDuration, true, t, channel_of);
    EXPECT_GT(t.wrong, 0u) << t.describe();
    t.describe();
  }
  {
    auto server = start_server({"--race-window-ms", "2"});
    tally t;
    issue_load(server->port(), hot, "11", kControlDuration, false, t, channel_of);
    EXPECT_EQ(t.wrong, 0u) << t.describe();
    EXPECT_GT(t.issued, 0u);
    t.describe();
  }
}

TEST_F(VendorJaDefectsTest, LinkageOverwriteHandsOutAnotherKoseki) {
  const auto hot = hot_set(8);
  ASSERT_GE(hot.size(), 4u);
  const auto channel_of = [](unsigned) { return std::string("CVS"); };
  {
    auto server = start_server({"--defect", "linkage-overwrite"});
    tally t;
    issue_load(server->port(), hot, "31", kDefectDuration, true, t, channel_of);
    EXPECT_GT(t.wrong, 0u) << t.describe();
    t.describe();
  }
  {
    auto server = start_server({"--race-window-ms", "2"});
    tally t;
    issue_load(server->port(), hot, "31", kControlDuration, false, t, channel_of);
    EXPECT_EQ(t.wrong, 0u) << t.describe();
    EXPECT_GT(t.issued, 0u);
    t.describe();
  }
}

// Two vendor-ja instances on one spool folder: one instance's print file reaches the other
// instance's client (its 交付番号 carries the other instance number). The same two instances
// without the defect hand out no foreign answer.
TEST_F(VendorJaDefectsTest, SpoolCollisionHandsOneInstancesAnswerToTheOthersClient) {
  const auto hot = hot_set(8);
  ASSERT_GE(hot.size(), 4u);
  const auto run = [&](const std::vector<std::string>& args, std::chrono::milliseconds duration,
                       bool stop_first, std::size_t& foreign_out) {
    kofu::test::temp_dir spool;
    auto a_args = args;
    a_args.insert(a_args.end(), {"--spool-dir", spool.path().string(), "--instance", "1"});
    auto b_args = args;
    b_args.insert(b_args.end(), {"--spool-dir", spool.path().string(), "--instance", "2"});
    auto a = start_server(a_args);
    auto b = start_server(b_args);
    auto t = std::make_unique<tally>();
    std::atomic<std::size_t> sent{0}, foreign{0};
    const auto deadline = std::chrono::steady_clock::now() + duration;
    std::vector<std::thread> workers;
    for (unsigned w = 0; w < kWorkers; ++w) {
      workers.emplace_back([&, w] {
        http_client to_a(a->port()), to_b(b->port());
        for (;;) {
          const auto i = sent.fetch_add(1);
          if (i >= kMaxRequests || std::chrono::steady_clock::now() >= deadline) return;
          if (stop_first && t->found) return;
          const auto& r = hot[i % hot.size()];
          const auto app = fmt::format("VS-{}-{}", w, i);
          const bool first = (i / kWorkers) % 2 == w % 2;
          auto res = (first ? to_a : to_b).post(kShinsei, shinsei(app, r));
          if (res.status != 200 || code_of(res) != "0000") continue;
          const auto answer = res.json();
          const auto serial = answer["証明書"]["交付番号"].get<std::string>();
          if (!serial.starts_with(first ? "C-1-" : "C-2-")) ++foreign;
          t->record(problem_of(answer, app, r, "11"));
        }
      });
    }
    for (auto& th : workers) th.join();
    foreign_out = foreign;
    return t;
  };
  {
    std::size_t foreign = 0;
    auto t = run({"--defect", "spool-collision"}, kDefectDuration, true, foreign);
    EXPECT_GT(t->wrong, 0u) << t->describe();
    EXPECT_GT(foreign, 0u) << t->describe();
    t->describe();
  }
  {
    std::size_t foreign = 0;
    auto t = run({"--race-window-ms", "2"}, kControlDuration, false, foreign);
    EXPECT_EQ(t->wrong, 0u) << t->describe();
    EXPECT_EQ(foreign, 0u);
    EXPECT_GT(t->issued, 0u);
    t->describe();
  }
}

// The correct server under moves of the residents being issued: some requests are answered
// W409 (the record changed in flight), and every 0000 is right.
TEST_F(VendorJaDefectsTest, ChangesInFlightAreAnsweredW409) {
  const auto hot = hot_set(4);
  ASSERT_GE(hot.size(), 2u);
  auto server = start_server({"--race-window-ms", "2"});
  std::atomic<bool> done{false};
  std::thread updater([&] {
    http_client client(server->port());
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    for (std::int64_t seq = 1; seq < 5000 && !done && std::chrono::steady_clock::now() < deadline;
         ++seq) {
      for (const auto& r : hot) {
        const auto id = r["resident_id"].get<std::string>();
        auto res = ido(client, move_body(id, seq, fmt::format("W{:09}", seq)),
                       fmt::format("{}-{}", id, seq));
        EXPECT_EQ(code_of(res), "0000") << res.body;
      }
      std::this_thread::sleep_for(5ms);  // leave room for requests that complete
    }
  });
  tally t;
  std::atomic<std::size_t> w409{0};
  run_load(
      server->port(), 16, kMaxRequests, 3s,
      [&](unsigned w, std::size_t i, http_client& client) {
        const auto& r = hot[i % hot.size()];
        const auto app = fmt::format("VW-{}-{}", w, i);
        auto res = client.post(kShinsei, shinsei(app, r));
        const auto code = code_of(res);
        if (code == "W409") {
          ++w409;
          EXPECT_EQ(res.json()["申請番号"], app);
          EXPECT_FALSE(res.json().contains("証明書"));
        } else if (code == "0000") {
          t.record(problem_of(res.json(), app, r, "11"));
        } else {
          ADD_FAILURE() << res.body;
        }
      },
      std::nullopt, &t.never);
  done = true;
  updater.join();
  EXPECT_EQ(t.wrong, 0u) << t.describe();
  EXPECT_GT(w409.load(), 0u) << t.describe();
  EXPECT_GT(t.issued, 0u);
  t.describe();
  http_client client(server->port());
  const auto metrics = client.get("/metrics").body;
  EXPECT_EQ(metrics.find("kofu_mock_issue_retries_total 0\n"), std::string::npos) << metrics;
}

}  // namespace
}  // namespace kofu::mock::test
