#include "kofu/driver/vendor_profile.hpp"

#include <gtest/gtest.h>

#include "kofu/driver/driver.hpp"
#include "kofu/history/reader.hpp"
#include "kofu/population/generator.hpp"
#include "kofu/scenario/loader.hpp"
#include "test_server.hpp"
#include "test_support.hpp"

namespace {

using nlohmann::json;
using namespace kofu::driver;

vendor_profile example_profile() {
  auto p =
      vendor_profile::load(kofu::test::source_dir() / "scenarios/profiles/mirai-gyosei-v3.json");
  EXPECT_TRUE(p) << (p ? "" : p.error().message);
  return *p;
}

TEST(VendorProfileTest, MapsTheRequestWithTypedPlaceholders) {
  const auto p = example_profile();
  const auto req = p.issue_request({"KOFU-000001-0000000007", "window", "inkan", "ABCDEF0123456789",
                                    "12345678901", true, false, true, false});
  EXPECT_EQ(req.target(), "/api/v3/shomeisho/hakko");
  EXPECT_EQ(req["X-Jichitai-Code"], "999999");
  const auto body = json::parse(req.body());
  EXPECT_EQ(body["申請番号"], "KOFU-000001-0000000007");
  EXPECT_EQ(body["窓口区分"], "MADO");
  EXPECT_EQ(body["証明書種別"], "03");
  EXPECT_EQ(body["本人確認"]["カード証明書シリアル"], "ABCDEF0123456789");
  EXPECT_EQ(body["記載事項"]["世帯全員"], true);
  EXPECT_EQ(body["記載事項"]["個人番号"], false);
}

TEST(VendorProfileTest, MapsTheAnswerBackToReferenceFields) {
  const auto p = example_profile();
  const auto a = p.map_issue_answer(200, R"({"受付": {"申請番号": "A-1"}, "ダイジェスト": "ff",
      "証明書": {"種別": "01", "記載者": [{"氏名": {"氏": "髙橋", "名": "美咲"}, "頁": 1}]}})");
  EXPECT_EQ(a.outcome, "ok");
  EXPECT_EQ(a.body["application_number"], "A-1");
  EXPECT_EQ(a.body["digest"], "ff");
  EXPECT_EQ(a.body["certificate"]["persons"][0]["name"]["family_kanji"], "髙橋");
  EXPECT_EQ(a.body["certificate"]["persons"][0]["page"], 1);
  EXPECT_EQ(p.map_issue_answer(423, "{}").outcome, "retry");
  EXPECT_EQ(p.map_issue_answer(404, "{}").outcome, "refused");
  EXPECT_EQ(p.map_issue_answer(500, "{}").outcome, "error");
  EXPECT_FALSE(p.map_issue_answer(200, "<html>").error.empty());
}

TEST(VendorProfileTest, RejectsUnknownPlaceholdersAndKeys) {
  auto p = vendor_profile::parse(json::parse(R"({"name": "x", "colour": 1, "issue": {"path": "/a",
      "body": {"a": "{{card_serail}}"}, "status": {"ok": [200]},
      "response": {"application_number": "/a", "certificate": "/b", "digest": "c"}}})"),
                                 "p.json");
  ASSERT_FALSE(p);
  const auto& m = p.error().message;
  EXPECT_NE(m.find("p.json: /colour: unknown key"), std::string::npos) << m;
  EXPECT_NE(m.find("p.json: /issue/body/a: unknown field '{{card_serail}}'"), std::string::npos)
      << m;
  EXPECT_NE(m.find("/issue/response/digest: not a JSON pointer"), std::string::npos) << m;
}

// A small server speaking the invented vendor API: answers in its own field names and codes.
kofu::test::test_answer vendor_api(const kofu::test::seen_request& r) {
  if (r.target != "/api/v3/shomeisho/hakko") return {404, R"({"エラー":"not found"})"};
  const auto req = json::parse(r.body, nullptr, false);
  if (req.is_discarded() || !req.contains("本人確認")) return {400, R"({"エラー":"bad"})"};
  json answer{
      {"受付", {{"申請番号", req["申請番号"]}}},
      {"証明書",
       {{"種別", req["証明書種別"]},
        {"対象者", {{"カード証明書シリアル", req["本人確認"]["カード証明書シリアル"]}}},
        {"記載者", json::array({{{"氏名", {{"氏", "架空"}, {"名", "太郎"}}}, {"頁", 1}}})}}},
      {"ダイジェスト", "00"}};
  return {200, answer.dump()};
}

TEST(VendorProfileTest, DriverSpeaksTheVendorApiAndRecordsReferenceFields) {
  kofu::test::test_server server(vendor_api);
  kofu::test::temp_dir dir;
  auto sc = kofu::scenario::parse_text(
      R"({"name": "vendor", "target": {"kind": "urls", "urls": ["http://127.0.0.1:1"]},
      "load": {"workers": 1, "connections": 2}, "phases": [{"duration_s": 0.5, "rate": 40}],
      "updates": {"rate": 0}})",
      "vendor.json");
  ASSERT_TRUE(sc);
  std::vector<kofu::population::resident> residents;
  kofu::population::generator g({30, 2, 0.05});
  while (g.next_group(residents)) {
  }
  const population_index pop(std::move(residents), 3, 1);
  const auto profile = example_profile();
  auto writer =
      kofu::history::writer::open({dir / "history.jsonl", false, std::chrono::milliseconds(50)});
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
  EXPECT_GT(result.issue.ok, 10u);
  EXPECT_EQ(result.issue.ok, result.issue.sent);
  auto reader = kofu::history::reader::open(dir.path());
  ASSERT_TRUE(reader);
  std::map<std::uint64_t, json> invokes;
  int checked = 0;
  for (;;) {
    auto rec = reader->next();
    ASSERT_TRUE(rec);
    if (!*rec) break;
    const json& e = (*rec)->event;
    if (e["type"] == "invoke") invokes[e["id"]] = e;
    if (e["type"] == "complete" && e["outcome"] == "ok") {
      const json& inv = invokes.at(e["id"]);
      EXPECT_EQ(e["body"]["application_number"], inv["application_number"]);
      EXPECT_EQ(e["body"]["certificate"]["subject"]["card_serial"], inv["card_serial"]);
      EXPECT_EQ(e["body"]["certificate"]["persons"][0]["name"]["given_kanji"], "太郎");
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(result.issue.ok));
  // The server saw the vendor's field names, never the reference ones.
  for (const auto& seen : server.requests()) {
    EXPECT_EQ(seen.body.find("application_number"), std::string::npos);
    EXPECT_NE(seen.body.find("申請番号"), std::string::npos);
  }
}

}  // namespace
