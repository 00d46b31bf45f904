// End-to-end: the real `kofu profile check` against the real kofu-mock on 127.0.0.1, in its
// vendor-style dialect through scenarios/profiles/vendor-ja.json (docs/profiles.md).

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

bool binaries_built() {
  return fs::exists(kofu::test::kofu_binary()) && fs::exists(kofu::test::mock_binary());
}

// The vendor-ja profile with `change` applied, written beside a scenario that uses it.
fs::path vendor_scenario(const kofu::test::temp_dir& dir,
                         const std::function<void(json&)>& change) {
  json profile = json::parse(
      kofu::test::read_file(kofu::test::source_dir() / "scenarios/profiles/vendor-ja.json"));
  change(profile);
  kofu::test::write_file(dir / "profile.json", profile.dump());
  const json scenario = {{"name", "profile-check"},
                         {"seed", 1},
                         {"target",
                          {{"kind", "embedded"},
                           {"mock_args", {"--dialect", "vendor-ja"}},
                           {"profile", "profile.json"}}},
                         {"population", {{"residents", 500}, {"seed", 1}}},
                         {"load", {{"workers", 2}, {"connections", 8}, {"timeout_ms", 3000}}},
                         {"phases", {{{"name", "steady"}, {"duration_s", 20}, {"rate", 200}}}},
                         {"updates", {{"rate", 10}}}};
  kofu::test::write_file(dir / "s.json", scenario.dump());
  return dir / "s.json";
}

TEST(KofuProfileCheckTest, DemoVendorScenarioMapsAndMatchesEveryTypeAndKind) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  const auto scenario = kofu::test::source_dir() / "scenarios/demo-vendor-ja.json";
  const auto r = kofu::test::run_command(
      {kofu::test::kofu_binary(), "profile", "check", scenario.string(), "--json"},
      std::chrono::seconds(60));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json out = json::parse(r.out);
  EXPECT_TRUE(out["passed"].get<bool>());
  EXPECT_TRUE(out["first_mismatch"].is_null());
  std::set<std::string> titles;
  for (const auto& c : out["checks"]) {
    titles.insert(c["check"].get<std::string>());
    EXPECT_TRUE(c["passed"].get<bool>()) << c.dump(2);
    EXPECT_EQ(c["outcome"], "ok") << c["check"];
    bool compared = false;
    for (const auto& f : c["fields"]) {
      EXPECT_TRUE(f["match"].get<bool>()) << f.dump();
      compared = compared || !f["expected"].is_null();
    }
    EXPECT_TRUE(compared) << c["check"];
    if (c["check"].get<std::string>().starts_with("issue")) {
      EXPECT_EQ(c["result_code"], "0000");
      bool name = false;
      for (const auto& f : c["fields"]) {
        if (f["field"] == "persons[0].name") {
          name = true;
          // The full-width space of the vendor's rendering, as printed and as expected.
          EXPECT_NE(f["printed"].get<std::string>().find("\u3000"), std::string::npos);
        }
      }
      EXPECT_TRUE(name) << c["check"];
    } else {
      EXPECT_TRUE(c["version"].is_number()) << c["check"];
    }
  }
  // Every type and kind the profile offers, nothing it does not (juminhyo_kisai, tax).
  for (const char* t :
       {"issue juminhyo", "issue juminhyo (household scope)", "issue inkan", "issue koseki_zenbu",
        "issue koseki_kojin", "issue koseki_fuhyo", "issue kazei", "update move", "update name",
        "update seal", "update household", "issue inkan after the seal update",
        "issue juminhyo after the move update"}) {
    EXPECT_EQ(titles.count(t), 1u) << t;
  }
  EXPECT_EQ(titles.count("issue juminhyo_kisai"), 0u);
  EXPECT_EQ(titles.count("update tax"), 0u);
  EXPECT_EQ(out["not_offered"], json({"juminhyo_kisai", "tax updates"}));

  // The terminal form: one table a check, and the closing count.
  const auto text = kofu::test::run_command(
      {kofu::test::kofu_binary(), "profile", "check", scenario.string()}, std::chrono::seconds(60));
  ASSERT_EQ(text.exit_code, 0) << text.out << text.err;
  EXPECT_NE(text.out.find("15 checks: 15 mapped and matched, 0 did not"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("persons[0].household_head"), std::string::npos);
  EXPECT_NE(text.out.find("outcome   ok (result code 0000)"), std::string::npos);
  EXPECT_EQ(text.out.find("MISMATCH"), std::string::npos);
  EXPECT_EQ(text.out.find("first mismatch"), std::string::npos);
}

TEST(KofuProfileCheckTest, ReferenceScenarioWithoutProfileMatches) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  const auto r =
      kofu::test::run_command({kofu::test::kofu_binary(), "profile", "check",
                               (kofu::test::source_dir() / "scenarios/demo.json").string()},
                              std::chrono::seconds(60));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("profile 'reference'"), std::string::npos);
  EXPECT_NE(r.out.find("issue juminhyo_kisai"), std::string::npos);
  EXPECT_NE(r.out.find("update tax"), std::string::npos);
  EXPECT_NE(r.out.find("digest "), std::string::npos);
}

TEST(KofuProfileCheckTest, WrongNameRenderingNamesTheFirstMismatch) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  // The name written with an ASCII space where the vendor prints a full-width one.
  const auto scenario = vendor_scenario(
      dir, [](json& p) { p["render"]["name"] = "{{name.family_kanji}} {{name.given_kanji}}"; });
  const auto r = kofu::test::run_command(
      {kofu::test::kofu_binary(), "profile", "check", scenario.string()}, std::chrono::seconds(60));
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("MISMATCH"), std::string::npos);
  const auto at = r.out.find("first mismatch: [1] issue juminhyo");
  ASSERT_NE(at, std::string::npos) << r.out;
  const auto line = r.out.substr(at, r.out.find('\n', at) - at);
  EXPECT_NE(line.find("persons[0].name: printed \""), std::string::npos) << line;
  EXPECT_NE(line.find("printed U+3000, expected U+0020"), std::string::npos) << line;

  const auto j = kofu::test::run_command(
      {kofu::test::kofu_binary(), "profile", "check", scenario.string(), "--json"},
      std::chrono::seconds(60));
  ASSERT_EQ(j.exit_code, 1) << j.err;
  const json first = json::parse(j.out)["first_mismatch"];
  EXPECT_EQ(first["field"], "persons[0].name");
  const auto printed = first["printed"].get<std::string>();
  const auto expected = first["expected"].get<std::string>();
  EXPECT_NE(printed.find("\u3000"), std::string::npos) << printed;
  EXPECT_EQ(expected.find("\u3000"), std::string::npos) << expected;
  EXPECT_NE(expected.find(' '), std::string::npos) << expected;
}

TEST(KofuProfileCheckTest, BadProfileIsBadInputNamingFileAndPath) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  const auto scenario =
      vendor_scenario(dir, [](json& p) { p["issue"]["answer"]["persons"] = "no pointer"; });
  const auto r = kofu::test::run_command(
      {kofu::test::kofu_binary(), "profile", "check", scenario.string()}, std::chrono::seconds(60));
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("profile.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/issue/answer/persons"), std::string::npos) << r.err;
}

TEST(KofuRunProfileFitTest, RunWhoseAnswersDoNotMapStopsEarly) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  // A valid pointer that points at nothing in the vendor's answers: no answer maps.
  const auto scenario =
      vendor_scenario(dir, [](json& p) { p["issue"]["answer"]["persons"] = "/nothing"; });
  const auto start = std::chrono::steady_clock::now();
  const auto r = kofu::test::run_command(
      {kofu::test::kofu_binary(), "run", scenario.string(), "--out", (dir / "out").string()},
      std::chrono::seconds(60));
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_LT(seconds, 8.0) << "the scenario lasts 20 s; the run must stop within a few";
  EXPECT_NE(r.err.find("kofu run: the profile '"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("does not fit this server: no persons at /nothing"), std::string::npos)
      << r.err;
  // No wall of findings: not verified, no report.
  EXPECT_EQ(r.out.find("finding"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir / "out" / "report.json"));
  const json run = json::parse(kofu::test::read_file(dir / "out" / "run.json"));
  EXPECT_EQ(run["end_reason"], "profile_misfit");
  EXPECT_EQ(run["profile_misfit"]["reason"], "no persons at /nothing");
  EXPECT_GE(run["profile_misfit"]["sampled"].get<unsigned>(), 20u);
  // `kofu verify` refuses the folder the same way.
  const auto v = kofu::test::run_command(
      {kofu::test::kofu_binary(), "verify", (dir / "out").string()}, std::chrono::seconds(60));
  EXPECT_EQ(v.exit_code, 2) << v.out << v.err;
  EXPECT_NE(v.err.find("does not fit"), std::string::npos) << v.err;
}

TEST(KofuRunProfileFitTest, RunWhoseProfileFitsIsNotStopped) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  const auto scenario = vendor_scenario(dir, [](json&) {});
  const auto r = kofu::test::run_command({kofu::test::kofu_binary(), "run", scenario.string(),
                                          "--out", (dir / "out").string(), "--duration", "2"},
                                         std::chrono::seconds(120));
  // Verified (0 or 1 by the verdict of a 2 s run), never refused as a misfit.
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.out << r.err;
  EXPECT_EQ(r.err.find("does not fit"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(dir / "out" / "report.json"));
  const json run = json::parse(kofu::test::read_file(dir / "out" / "run.json"));
  EXPECT_EQ(run["end_reason"], "completed");
  EXPECT_TRUE(run["profile_misfit"].is_null());
}

}  // namespace
