// Vendor profiles that map answers into the certificate model (DESIGN §5a): body-coded outcomes,
// the answer adapter, renderings, and the checker on a vendor's answers. The vendor answers are
// written here by hand from docs/vendor-ja.md, never by the code under test.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kofu/driver/driver.hpp"
#include "kofu/driver/vendor_profile.hpp"
#include "kofu/history/reader.hpp"
#include "kofu/population/generator.hpp"
#include "kofu/scenario/loader.hpp"
#include "kofu/verify/checker.hpp"
#include "test_server.hpp"
#include "test_support.hpp"

namespace {

using nlohmann::json;
using namespace kofu::driver;
namespace verify = kofu::verify;
using kofu::population::resident;

vendor_profile vendor_ja() {
  auto p = vendor_profile::load(kofu::test::source_dir() / "scenarios/profiles/vendor-ja.json");
  EXPECT_TRUE(p) << (p ? "" : p.error().message);
  return *p;
}

std::vector<resident> population(std::uint64_t n = 60) {
  kofu::population::generator g({n, 11, 0.3});
  std::vector<resident> out;
  while (g.next_group(out)) {
  }
  return out;
}

// 和暦 as docs/vendor-ja.md writes it (the test's own oracle).
std::string wareki(const std::string& iso) {
  const int y = std::stoi(iso.substr(0, 4)), m = std::stoi(iso.substr(5, 2)),
            d = std::stoi(iso.substr(8, 2));
  const int key = y * 10000 + m * 100 + d;
  const char* era = "明治";
  int first = 1868;
  if (key >= 20190501) {
    era = "令和";
    first = 2019;
  } else if (key >= 19890108) {
    era = "平成";
    first = 1989;
  } else if (key >= 19261225) {
    era = "昭和";
    first = 1926;
  } else if (key >= 19120730) {
    era = "大正";
    first = 1912;
  }
  const int year = y - first + 1;
  return std::string(era) + (year == 1 ? std::string("元") : std::to_string(year)) + "年" +
         std::to_string(m) + "月" + std::to_string(d) + "日";
}

std::string wide(const std::string& a, const std::string& b) { return a + "\u3000" + b; }

json vendor_person(const resident& r, const std::string& head) {
  const auto& a = r.address;
  return {{"頁", 1},
          {"住民票コード", r.resident_id},
          {"氏名", wide(r.name.family_kanji, r.name.given_kanji)},
          {"氏名カナ", wide(r.name.family_kana, r.name.given_kana)},
          {"生年月日", wareki(r.birth_date)},
          {"性別", r.sex == kofu::population::sex::male ? "男" : "女"},
          {"住所", "〒" + a.postal_code + "\u3000" + a.prefecture + a.city + a.town + a.banchi +
                       "\u3000" + a.building},
          {"住民となった日", wareki(r.moved_in_date)},
          {"世帯主", head}};
}

// A correct 住民票の写し (individual) of `r` in the vendor-ja dialect.
json juminhyo_answer(const std::string& app_no, const resident& r, const std::string& head,
                     const std::string& serial, std::int64_t version) {
  return {{"処理結果", {{"コード", "0000"}, {"メッセージ", "正常終了"}}},
          {"申請番号", app_no},
          {"証明書",
           {{"種別", "11"},
            {"交付番号", serial},
            {"交付日時", "2026-12-07T15:00:00.000+09:00"},
            {"版数", version},
            {"記載者", json::array({vendor_person(r, head)})}}}};
}

std::string head_of(const std::vector<resident>& pop, const resident& r) {
  for (const auto& m : pop) {
    if (m.household_id == r.household_id && m.relationship == "世帯主")
      return wide(m.name.family_kanji, m.name.given_kanji);
  }
  return "";
}

TEST(VendorAnswerTest, LoadsTheVendorJaProfile) {
  const auto p = vendor_ja();
  EXPECT_TRUE(p.supports_type("juminhyo"));
  EXPECT_FALSE(p.supports_type("juminhyo_kisai"));
  EXPECT_TRUE(p.supports_update_kind("seal"));
  EXPECT_FALSE(p.supports_update_kind("tax"));
  ASSERT_TRUE(p.decoder());
  const auto& caps = p.decoder()->capabilities();
  EXPECT_FALSE(caps.digest);
  EXPECT_FALSE(caps.card_serial);
  EXPECT_FALSE(caps.subject_resident_id);
  EXPECT_FALSE(caps.koseki_id);
  EXPECT_EQ(caps.versions, verify::version_semantics::per_certificate);
}

TEST(VendorAnswerTest, IssueOutcomesComeFromTheResultCode) {
  const auto p = vendor_ja();
  std::string error;
  EXPECT_EQ(p.classify_issue(200, json{{"処理結果", {{"コード", "0000"}}}}, error), "ok");
  EXPECT_EQ(p.classify_issue(200, json{{"処理結果", {{"コード", "W409"}}}}, error), "retry");
  EXPECT_EQ(p.classify_issue(200, json{{"処理結果", {{"コード", "E422"}}}}, error), "refused");
  EXPECT_TRUE(error.empty());
  EXPECT_EQ(p.classify_issue(200, json{{"処理結果", {{"コード", "X999"}}}}, error), "error");
  EXPECT_NE(error.find("result code 'X999' is not in /issue/outcome"), std::string::npos) << error;
  error.clear();
  EXPECT_EQ(p.classify_issue(200, json{{"結果", "?"}}, error), "error");
  EXPECT_NE(error.find("no result code at /処理結果/コード"), std::string::npos) << error;
  error.clear();
  EXPECT_EQ(p.classify_issue(400, json{{"処理結果", {{"コード", "0000"}}}}, error), "refused");
}

TEST(VendorAnswerTest, AnUpdateRejectedInTheBodyIsFailedNotApplied) {
  const auto p = vendor_ja();
  const auto ok = p.map_update_answer(200, R"({"処理結果":{"コード":"0000"},"反映後版数":4})");
  EXPECT_EQ(ok.outcome, "ok");
  ASSERT_EQ(ok.versions.size(), 1u);
  EXPECT_EQ(ok.versions[0], std::optional<std::uint32_t>(4));
  const auto refused = p.map_update_answer(200, R"({"処理結果":{"コード":"E409"}})");
  EXPECT_EQ(refused.outcome, "failed");
  EXPECT_EQ(refused.body["処理結果"]["コード"], "E409");
  const auto strange = p.map_update_answer(200, R"({"処理結果":{"コード":"Z000"}})");
  EXPECT_EQ(strange.outcome, "unknown");
  EXPECT_NE(strange.error.find("'Z000'"), std::string::npos);
}

TEST(VendorAnswerTest, UpdateKindsDependOnTheChange) {
  const auto p = vendor_ja();
  json cancel = {{"seal",
                  {{"registration_number", "IN00000001"},
                   {"status", "cancelled"},
                   {"image_png_base64", "AAAA"},
                   {"image_sha256", "00"}}}};
  auto req = p.update_request({"12345678901", 7, 3, "seal", cancel});
  auto body = json::parse(req.body());
  EXPECT_EQ(body["異動種別"], "印鑑廃止");
  EXPECT_EQ(body["異動内容"], (json{{"登録番号", "IN00000001"}}));
  EXPECT_EQ(req["Idempotency-Key"], "kofu-12345678901-7");
  cancel["seal"]["status"] = "registered";
  body = json::parse(p.update_request({"12345678901", 8, 4, "seal", cancel}).body());
  EXPECT_EQ(body["異動種別"], "印鑑登録");
  EXPECT_EQ(body["異動内容"]["印影画像"], "AAAA");
  const json move = {{"address",
                      {{"postal_code", "100-0001"},
                       {"prefecture", "東京都"},
                       {"city", "架空市"},
                       {"town", "桜町"},
                       {"banchi", "1番地"},
                       {"building", "コーポ M0000000001"},
                       {"token", "M0000000001"}}},
                     {"moved_in_date", "2019-05-01"}};
  body = json::parse(p.update_request({"12345678901", 9, 5, "move", move}).body());
  EXPECT_EQ(body["異動種別"], "転居");
  EXPECT_EQ(body["異動連番"], 9);
  EXPECT_EQ(body["異動内容"]["住所"]["方書"], "コーポ M0000000001");
  EXPECT_EQ(body["異動内容"]["住民となった日"], "令和元年5月1日");
}

TEST(VendorAnswerTest, RendersRecordsTheVendorsWay) {
  const auto p = vendor_ja();
  const auto pop = population();
  const resident& r = pop.front();
  const auto rendered = p.rendering()->render(r);
  EXPECT_EQ(rendered.name.family_kanji, wide(r.name.family_kanji, r.name.given_kanji));
  EXPECT_EQ(rendered.name.family_kana, wide(r.name.family_kana, r.name.given_kana));
  EXPECT_EQ(rendered.birth_date, wareki(r.birth_date));
  EXPECT_EQ(rendered.address.building, vendor_person(r, "")["住所"]);
  EXPECT_EQ(rendered.address.token, rendered.address.building);
  EXPECT_EQ(rendered.resident_id, r.resident_id);
  EXPECT_EQ(p.rendering()->sex(kofu::population::sex::female), "女");
  std::string hittousha = r.hittousha;
  hittousha.replace(hittousha.find(' '), 1, "\u3000");
  EXPECT_EQ(rendered.hittousha, hittousha);
}

TEST(VendorAnswerTest, DecodesAnAnswerIntoTheModel) {
  const auto p = vendor_ja();
  const auto pop = population();
  const resident& r = pop.front();
  const auto a = p.decoder()->decode(juminhyo_answer("A-1", r, "H", "C-1-000000000001", 3), true);
  ASSERT_FALSE(a.malformed);
  EXPECT_TRUE(a.missing.empty());
  EXPECT_EQ(a.certificate.application_number, "A-1");
  EXPECT_EQ(a.certificate.type, "juminhyo");
  EXPECT_EQ(a.certificate.serial, "C-1-000000000001");
  EXPECT_EQ(a.certificate.source_version, 3);
  ASSERT_EQ(a.certificate.persons.size(), 1u);
  const auto& x = a.certificate.persons[0];
  EXPECT_EQ(x.resident_id, r.resident_id);
  EXPECT_EQ(x.source_version, -1);
  EXPECT_EQ(x.name.family_kanji, wide(r.name.family_kanji, r.name.given_kanji));
  EXPECT_EQ(x.sex, r.sex == kofu::population::sex::male ? "男" : "女");
  ASSERT_TRUE(x.household_head);
  EXPECT_EQ(*x.household_head, "H");
  EXPECT_FALSE(x.mynumber);
}

TEST(VendorAnswerTest, PartialAnswersKeepWhatDecoded) {
  const auto p = vendor_ja();
  const json body = {{"処理結果", {{"コード", "0000"}}},
                     {"申請番号", "A-2"},
                     {"証明書", {{"種別", "11"}, {"版数", 1}}}};
  const auto a = p.decoder()->decode(body, false);
  EXPECT_FALSE(a.malformed);
  EXPECT_EQ(a.certificate.application_number, "A-2");
  ASSERT_EQ(a.missing.size(), 2u);
  EXPECT_EQ(a.missing[0], "the certificate serial not found at /交付番号");
  EXPECT_EQ(a.missing[1], "no persons at /記載者");
  const auto none = p.decoder()->decode(json{{"申請番号", "A-3"}}, false);
  ASSERT_TRUE(none.malformed);
  EXPECT_EQ(*none.malformed, "no certificate object at /証明書");
}

std::string load_error(const json& profile) {
  auto p = vendor_profile::parse(profile, "p.json");
  return p ? std::string() : p.error().message;
}

json base_profile() {
  auto doc = vendor_ja().document();
  return doc;
}

TEST(VendorAnswerTest, BadProfilesFailAtLoadNamingThePath) {
  auto doc = base_profile();
  doc["issue"]["answer"]["persons"] = "記載者";
  EXPECT_NE(load_error(doc).find("p.json: /issue/answer/persons: not a JSON pointer"),
            std::string::npos)
      << load_error(doc);
  doc = base_profile();
  doc["issue"]["outcome"]["code"] = json{{"jq", ".処理結果 | ???"}};
  EXPECT_NE(load_error(doc).find("p.json: /issue/outcome/code/jq: jq:"), std::string::npos)
      << load_error(doc);
  doc = base_profile();
  doc["issue"]["answer"]["persn"] = json::object();
  EXPECT_NE(load_error(doc).find("p.json: /issue/answer/persn: unknown key"), std::string::npos);
  doc = base_profile();
  doc["render"]["birth_date"] = "{{birth_day|wareki}}";
  EXPECT_NE(load_error(doc).find("p.json: /render/birth_date: unknown field '{{birth_day}}'"),
            std::string::npos)
      << load_error(doc);
  doc = base_profile();
  doc["update"]["kinds"]["seal"][0]["when"] = ".fields.seal.status ==";
  EXPECT_NE(load_error(doc).find("p.json: /update/kinds/seal/0/when: jq:"), std::string::npos)
      << load_error(doc);
  doc = base_profile();
  doc["issue"]["outcome"]["retry"].push_back("0000");
  EXPECT_NE(load_error(doc).find("'0000' is already in 'ok'"), std::string::npos);
}

TEST(VendorAnswerTest, JqExtractsAndClassifies) {
  auto doc = base_profile();
  doc["issue"]["outcome"]["code"] = json{{"jq", ".[\"処理結果\"][\"コード\"] | ascii_downcase"}};
  doc["issue"]["outcome"]["ok"] = json::array({"0000"});
  doc["issue"]["outcome"]["retry"] = json::array({"w409"});
  doc["issue"]["answer"]["serial"] = json{{"jq", "\"S-\" + .[\"交付番号\"]"}};
  auto p = vendor_profile::parse(doc, "p.json");
  ASSERT_TRUE(p) << p.error().message;
  std::string error;
  EXPECT_EQ(p->classify_issue(200, json{{"処理結果", {{"コード", "W409"}}}}, error), "retry");
  const auto pop = population();
  const auto a = p->decoder()->decode(juminhyo_answer("A-1", pop[0], "H", "9", 1), false);
  EXPECT_EQ(a.certificate.serial, "S-9");
}

// jq has no time limit: a program that could loop without end must fail at load, naming the path
// and the construct, whether it sits in a locator, a result code or an update kind's `when`.
TEST(VendorAnswerTest, JqProgramsThatCouldLoopAreRefusedAtLoad) {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"until(false; .)", "'until'"},
      {"def f: f; f", "'def'"},
      {"[repeat(.)] | length", "'repeat'"},
      {"[range(1e18)] | length", "'range'"},
      {"recurse(. + 1)", "'recurse'"},
      {"reduce .[] as $x (.; [., .])", "'reduce'"},
      {".a | gsub(\"\"; \"x\")", "'gsub'"},
      {"\"code \\(until(false; .))\"", "'until'"},
      {"$ENV.HOME", "'$ENV'"},
      {"_stredit(.; .)", "'_stredit'"},
      {"input", "'input'"},
      {"\"S-\" + ." + std::string(600, ' '), "the program is 608 bytes, above the limit of 512"}};
  for (const auto& [program, named] : refused) {
    auto doc = base_profile();
    doc["issue"]["answer"]["serial"] = json{{"jq", program}};
    auto error = load_error(doc);
    EXPECT_NE(error.find("p.json: /issue/answer/serial/jq: jq: " + named), std::string::npos)
        << program << ": " << error;
    doc = base_profile();
    doc["update"]["kinds"]["seal"][0]["when"] = program;
    error = load_error(doc);
    EXPECT_NE(error.find("p.json: /update/kinds/seal/0/when: jq: " + named), std::string::npos)
        << program << ": " << error;
  }
  // The same words as fields, as string text or in comments are no loop.
  for (const std::string program :
       {".until", ".[\"while\"] // \"range\"", "\"until(false; .)\" | length", ". # repeat(.)\n",
        "\"\\(.while)-x\" | ascii_downcase"}) {
    auto doc = base_profile();
    doc["issue"]["outcome"]["code"] = json{{"jq", program}};
    const auto p = vendor_profile::parse(doc, "p.json");
    EXPECT_TRUE(p) << program << ": " << (p ? "" : p.error().message);
  }
}

// The checker on vendor answers: the model rendered by the profile, answers decoded by it.
struct vendor_check {
  std::vector<resident> pop = population();
  vendor_profile profile = vendor_ja();
  std::string versions = "per_certificate";
  verify::checker c = make();
  std::uint64_t next_id = 1;

  explicit vendor_check(std::string semantics = "per_certificate") : versions(semantics) {
    if (versions != "per_certificate") {
      json doc = profile.document();
      doc["issue"]["answer"]["versions"] = versions;
      profile = *vendor_profile::parse(doc, "none.json");
      c = make();
    }
  }
  verify::checker make() {
    verify::checker_options o;
    o.decoder = profile.decoder();
    o.answers = profile.decoder()->capabilities();
    return verify::checker(verify::resident_model(pop, profile.rendering()), o);
  }

  // Sends a juminhyo request for resident `r` at t and answers it with `answer` at t + 1 ms.
  void issue(const resident& r, std::int64_t t, const json& answer, const std::string& app_no) {
    verify::issue_invoke inv;
    inv.id = next_id++;
    inv.t = t;
    inv.application_number = app_no;
    inv.resident_id = r.resident_id;
    inv.card_serial = r.card_serial;
    inv.certificate_type = "juminhyo";
    inv.channel = "konbini";
    c.on_issue_invoke(inv);
    verify::issue_complete done;
    done.id = inv.id;
    done.t = t + 1'000'000;
    done.status = 200;
    done.answer =
        std::make_shared<const verify::decoded_answer>(profile.decoder()->decode(answer, true));
    c.on_issue_complete(done);
  }
  std::map<std::string, std::uint64_t> findings() {
    c.finish();
    std::map<std::string, std::uint64_t> out;
    for (const auto& f : c.findings()) ++out[std::string(verify::to_string(f.kind))];
    return out;
  }
};

TEST(VendorAnswerTest, CorrectVendorAnswersRaiseNothing) {
  vendor_check v;
  std::size_t issued = 0;
  for (std::size_t i = 0; i < v.pop.size() && issued < 10; ++i) {
    const resident& r = v.pop[i];
    if (r.status != kofu::population::resident_status::active) continue;  // never issuable
    ++issued;
    v.issue(r, static_cast<std::int64_t>(i) * 10'000'000,
            juminhyo_answer("A-" + std::to_string(i), r, head_of(v.pop, r),
                            "C-1-00000000000" + std::to_string(i), 1),
            "A-" + std::to_string(i));
  }
  const auto f = v.findings();
  EXPECT_TRUE(f.empty()) << testing::PrintToString(f) << " first: "
                         << (v.c.findings().empty() ? std::string()
                                                    : to_json(v.c.findings().front()).dump());
  EXPECT_EQ(v.c.summary().outcomes.answered, 10u);
}

TEST(VendorAnswerTest, AnotherResidentsAddressIsForeignDataNamingTheSource) {
  vendor_check v;
  const resident& r = v.pop[0];
  const resident* other = nullptr;
  for (const auto& m : v.pop) {
    if (m.household_id != r.household_id) {
      other = &m;
      break;
    }
  }
  ASSERT_NE(other, nullptr);
  json answer = juminhyo_answer("A-1", r, head_of(v.pop, r), "C-1-000000000001", 1);
  answer["証明書"]["記載者"][0]["住所"] = vendor_person(*other, "")["住所"];
  v.issue(r, 0, answer, "A-1");
  const auto f = v.findings();
  EXPECT_EQ(f.count("FOREIGN_DATA"), 1u) << testing::PrintToString(f);
  ASSERT_FALSE(v.c.findings().empty());
  EXPECT_EQ(v.c.findings().front().victim_resident, other->resident_id);
}

TEST(VendorAnswerTest, AnotherPersonsCertificateIsWrongPerson) {
  vendor_check v;
  const resident& r = v.pop[0];
  const resident& other = v.pop[30];
  v.issue(r, 0, juminhyo_answer("A-1", other, head_of(v.pop, other), "C-1-000000000001", 1), "A-1");
  const auto f = v.findings();
  EXPECT_EQ(f.count("WRONG_PERSON"), 1u) << testing::PrintToString(f);
}

TEST(VendorAnswerTest, ACertificateVersionThatNoRecordHadIsTorn) {
  vendor_check v;
  const resident& r = v.pop[0];
  v.issue(r, 0, juminhyo_answer("A-1", r, head_of(v.pop, r), "C-1-000000000001", 2), "A-1");
  const auto f = v.findings();
  EXPECT_EQ(f.count("TORN"), 1u) << testing::PrintToString(f);
  EXPECT_EQ(f.count("DIGEST_INVALID"), 0u);
}

TEST(VendorAnswerTest, AStaleAddressAfterAnAcknowledgedMoveIsStale) {
  vendor_check v;
  const resident& r = v.pop[0];
  verify::update_invoke u;
  u.id = 1000;
  u.t = 0;
  u.changes.push_back({r.resident_id, 2, 2, "move",
                       json{{"address",
                             {{"postal_code", "100-0001"},
                              {"prefecture", "東京都"},
                              {"city", "架空市"},
                              {"town", "新町"},
                              {"banchi", "2番地"},
                              {"building", "ハイツ M0000000009"},
                              {"token", "M0000000009"}}},
                            {"moved_in_date", "2026-12-01"}}});
  v.c.on_update_invoke(u);
  v.c.on_update_complete({1000, 1'000'000, verify::update_outcome::ok});
  // Long after the move was acknowledged, the old address under version 1.
  v.issue(r, 5'000'000'000, juminhyo_answer("A-1", r, head_of(v.pop, r), "C-1-000000000001", 1),
          "A-1");
  const auto f = v.findings();
  EXPECT_EQ(f.count("STALE"), 1u) << testing::PrintToString(f);
}

// Version semantics at the window's boundaries: a move of resident r sent at 100 ms and
// acknowledged at 200 ms; requests answered 1 ms after they are sent.
struct move_case {
  const char* versions;  // per_certificate | none
  std::int64_t sent_ms;  // the request's send time
  bool new_address;      // prints the moved address (else the population's)
  std::int64_t printed;  // 版数 printed (ignored by `none`)
  const char* finding;   // expected finding kind, "" for none
};

// Shown by name in test output (a readable case instead of gtest's byte dump).
void PrintTo(const move_case& c, std::ostream* os) {
  *os << c.versions << ", sent at " << c.sent_ms << " ms, " << (c.new_address ? "new" : "old")
      << " address, version " << c.printed << " printed → " << (*c.finding ? c.finding : "none");
}

class VersionSemanticsTest : public testing::TestWithParam<move_case> {};

TEST_P(VersionSemanticsTest, JudgesTheContentAgainstTheWindow) {
  const move_case& k = GetParam();
  vendor_check v(k.versions);
  const resident& r = v.pop[0];
  resident moved = r;
  moved.address = {"100-0001",           "東京都",     "架空市", "新町", "2番地",
                   "ハイツ M0000000009", "M0000000009"};
  verify::update_invoke u;
  u.id = 1000;
  u.t = 100'000'000;
  u.changes.push_back({r.resident_id, 2, 2, "move",
                       json{{"address",
                             {{"postal_code", moved.address.postal_code},
                              {"prefecture", moved.address.prefecture},
                              {"city", moved.address.city},
                              {"town", moved.address.town},
                              {"banchi", moved.address.banchi},
                              {"building", moved.address.building},
                              {"token", moved.address.token}}},
                            {"moved_in_date", r.moved_in_date}}});
  const std::int64_t sent = k.sent_ms * 1'000'000;
  const json answer = juminhyo_answer("A-1", k.new_address ? moved : r, head_of(v.pop, r),
                                      "C-1-000000000001", k.printed);
  // Events in time order: the request's invoke and complete, the update's, as the history has
  // them (the checker reorders within its slack).
  bool update_seen = false, ack_seen = false;
  auto updates_until = [&](std::int64_t t) {
    if (!update_seen && u.t <= t) {
      v.c.on_update_invoke(u);
      update_seen = true;
    }
    if (!ack_seen && 200'000'000 <= t) {
      v.c.on_update_complete({1000, 200'000'000, verify::update_outcome::ok});
      ack_seen = true;
    }
  };
  updates_until(sent);
  v.issue(r, sent, answer, "A-1");
  updates_until(1'000'000'000);
  const auto f = v.findings();
  if (std::string(k.finding).empty()) {
    EXPECT_TRUE(f.empty()) << testing::PrintToString(f);
  } else {
    EXPECT_EQ(f.size(), 1u) << testing::PrintToString(f);
    EXPECT_EQ(f.count(k.finding), 1u) << testing::PrintToString(f);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Boundaries, VersionSemanticsTest,
    testing::Values(
        // Before the move was sent: only version 1.
        move_case{"per_certificate", 50, false, 1, ""},
        move_case{"per_certificate", 50, true, 2, "PHANTOM"},
        move_case{"per_certificate", 50, false, 2, "TORN"},
        // While it is in flight: either version, with its own number.
        move_case{"per_certificate", 150, false, 1, ""},
        move_case{"per_certificate", 150, true, 2, ""},
        move_case{"per_certificate", 150, true, 1, "TORN"},
        // After its acknowledgement: only version 2.
        move_case{"per_certificate", 300, true, 2, ""},
        move_case{"per_certificate", 300, false, 1, "STALE"},
        // No version printed: the content alone decides.
        move_case{"none", 50, false, 0, ""}, move_case{"none", 150, true, 0, ""},
        move_case{"none", 150, false, 0, ""}, move_case{"none", 300, false, 0, "STALE"},
        move_case{"none", 50, true, 0, "PHANTOM"}),
    [](const testing::TestParamInfo<move_case>& p) {
      return std::string(p.param.versions) + "_sent" + std::to_string(p.param.sent_ms) + "ms_" +
             (p.param.new_address ? "new" : "old") + "_v" + std::to_string(p.param.printed) + "_" +
             (*p.param.finding ? p.param.finding : "ok") + "_" + std::to_string(p.index);
    });

// An update the vendor refuses in the body (HTTP 200, result code E409) is failed in the history,
// never applied: the driver against a test server in the vendor-ja shape.
TEST(VendorAnswerTest, DriverRecordsAnUpdateRejectedInTheBodyAsFailed) {
  kofu::test::test_server server([](const kofu::test::seen_request& r) -> kofu::test::test_answer {
    if (r.target == "/api/jukiren/v1/ido") return {200, R"({"処理結果":{"コード":"E409"}})"};
    return {200, R"({"処理結果":{"コード":"W504"}})"};
  });
  kofu::test::temp_dir dir;
  auto sc = kofu::scenario::parse_text(
      R"({"name": "v", "target": {"kind": "urls", "urls": ["http://127.0.0.1:1"]},
      "load": {"workers": 1, "connections": 2}, "phases": [{"duration_s": 0.6, "rate": 20}],
      "updates": {"rate": 40, "concurrency": 2, "kinds": {"move": 1, "name": 1}}})",
      "v.json");
  ASSERT_TRUE(sc) << sc.error().message;
  const population_index pop(population(), 3, 1);
  const auto profile = vendor_ja();
  kofu::history::writer_options wo;
  wo.path = dir / "history.jsonl";
  wo.flush_interval = std::chrono::milliseconds(50);
  auto writer = kofu::history::writer::open(wo);
  ASSERT_TRUE(writer);
  run_settings rs;
  rs.scenario = &*sc;
  rs.population = &pop;
  rs.targets = {*parse_endpoint(server.url())};
  rs.history = writer->get();
  rs.anchor = clock_type::now();
  rs.profile = &profile;
  const auto result = run(rs);
  ASSERT_TRUE((*writer)->close());
  EXPECT_GT(result.issue.updates_failed, 3u);
  EXPECT_EQ(result.issue.updates_ok, 0u);
  EXPECT_EQ(result.issue.updates_unknown, 0u);
  EXPECT_EQ(result.issue.ok, 0u);
  EXPECT_GT(result.issue.retry, 3u);  // W504: busy, a safe refusal
  auto reader = kofu::history::reader::open(dir.path());
  ASSERT_TRUE(reader);
  int failed = 0;
  for (;;) {
    auto rec = reader->next();
    ASSERT_TRUE(rec);
    if (!*rec) break;
    const json& e = (*rec)->event;
    if (e["type"] == "complete" && e["op"] == "update") {
      EXPECT_EQ(e["outcome"], "failed") << e.dump();
      EXPECT_FALSE(e.contains("version")) << e.dump();
      EXPECT_EQ(e["body"]["処理結果"]["コード"], "E409");
      ++failed;
    }
  }
  EXPECT_EQ(failed, static_cast<int>(result.issue.updates_failed));
  // Every update went out in the vendor's shape, with an idempotency key.
  for (const auto& seen : server.requests()) {
    if (seen.target != "/api/jukiren/v1/ido") continue;
    EXPECT_TRUE(seen.headers.count("Idempotency-Key")) << seen.body;
    const auto body = json::parse(seen.body);
    EXPECT_TRUE(body["異動種別"] == "転居" || body["異動種別"] == "氏名変更") << seen.body;
  }
}

// kofu run against kofu-mock's vendor dialect: what the vendor does not offer is never sent, and
// the run verifies clean.
TEST(VendorAnswerTest, KofuRunNeverSendsWhatTheVendorDoesNotOffer) {
  if (!std::filesystem::exists(kofu::test::kofu_binary()) ||
      !std::filesystem::exists(kofu::test::mock_binary())) {
    GTEST_SKIP() << "kofu or kofu-mock not built";
  }
  kofu::test::temp_dir dir;
  json sc = json::parse(
      kofu::test::read_file(kofu::test::source_dir() / "scenarios/demo-vendor-ja.json"));
  sc["target"]["profile"] =
      (kofu::test::source_dir() / "scenarios/profiles/vendor-ja.json").string();
  sc["population"] = {{"residents", 300}, {"seed", 3}};
  sc["mix"]["certificate_types"] = {{"juminhyo", 1}, {"juminhyo_kisai", 5}, {"koseki_zenbu", 1}};
  sc["updates"]["kinds"] = {{"tax", 5}, {"move", 1}};
  sc["events"] = json::array();
  sc["thresholds"] = json::object();
  kofu::test::write_file(dir / "s.json", sc.dump());
  const auto r =
      kofu::test::run_command({kofu::test::kofu_binary(), "run", (dir / "s.json").string(), "--out",
                               (dir / "out").string(), "--duration", "3"},
                              std::chrono::seconds(60));
  EXPECT_NE(r.err.find("never sent: juminhyo_kisai, tax updates"), std::string::npos) << r.err;
  const auto report = json::parse(kofu::test::read_file(dir / "out/report.json"), nullptr, false);
  ASSERT_TRUE(report.is_object()) << r.out << r.err;
  EXPECT_EQ(report["findings_by_kind"]["MALFORMED"], 0);
  EXPECT_EQ(report["findings_by_kind"]["DIGEST_INVALID"], 0);
  EXPECT_GT(report["answered"].get<std::uint64_t>(), 50u);
  auto reader = kofu::history::reader::open(dir / "out");
  ASSERT_TRUE(reader) << reader.error().message;
  std::map<std::string, int> types, kinds;
  for (;;) {
    auto rec = reader->next();
    ASSERT_TRUE(rec) << rec.error().message;
    if (!*rec) break;
    const json& e = (*rec)->event;
    if (e["type"] == "invoke" && e["op"] == "issue") ++types[e["certificate_type"]];
    if (e["type"] == "invoke" && e["op"] == "update") ++kinds[e["kind"]];
  }
  EXPECT_EQ(types.count("juminhyo_kisai"), 0u) << testing::PrintToString(types);
  EXPECT_GT(types["juminhyo"], 10) << testing::PrintToString(types);
  EXPECT_EQ(kinds.count("tax"), 0u) << testing::PrintToString(kinds);
  EXPECT_GT(kinds["move"], 5) << testing::PrintToString(kinds);
}

}  // namespace
