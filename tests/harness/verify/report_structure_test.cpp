// report.json of a real run (`kofu run` against the embedded kofu-mock on 127.0.0.1): its key
// structure against the committed tests/harness/verify/report_structure.json (DESIGN §8 stable
// keys; an accidental change of a key fails here), the test conditions (issue 13 item 2) and the
// findings kept per kind and counted past that (item 7).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Subtrees whose keys are not report.json's own (the scenario, the server's answer, a finding's
// evidence, which differs by kind) or that are optional per element: only their type is fixed.
const std::set<std::string> opaque_paths = {"run.scenario_document",
                                            "run.population",
                                            "run.server_version",
                                            "conditions.server_version",
                                            "findings[]",
                                            "leak_graph.edges[]",
                                            "leak_graph.chains",
                                            "timeline.windows[].detail",
                                            "history_integrity.unsealed_tail",
                                            "conditions.target.defects",
                                            "run.target.defects"};

std::string type_of(const json& j) {
  if (j.is_object()) return "object";
  if (j.is_array()) return "array";
  if (j.is_string()) return "string";
  if (j.is_boolean()) return "boolean";
  if (j.is_null()) return "null";
  return "number";
}

// The structure of a value: an object's keys with theirs, an array's elements merged into one
// (objects by the union of their keys), other values by their type.
json structure(const json& j, const std::string& path) {
  if (opaque_paths.count(path) != 0) return type_of(j);
  if (j.is_object()) {
    json out = json::object();
    for (const auto& [key, value] : j.items()) {
      out[key] = structure(value, path.empty() ? key : path + "." + key);
    }
    return out;
  }
  if (j.is_array()) {
    json merged;
    for (const auto& item : j) {
      json s = structure(item, path + "[]");
      if (merged.is_null()) {
        merged = s;
      } else if (merged.is_object() && s.is_object()) {
        merged.update(s);
      }
    }
    return merged.is_null() ? json::array() : json::array({merged});
  }
  return type_of(j);
}

bool is_hex64(const json& j) {
  return j.is_string() && std::regex_match(j.get<std::string>(), std::regex("[0-9a-f]{64}"));
}

class ReportStructureTest : public ::testing::Test {
 protected:
  // One short failing run for every test of this file: 2 findings of a kind kept in full.
  static void SetUpTestSuite() {
    if (!fs::exists(kofu::test::kofu_binary()) || !fs::exists(kofu::test::mock_binary())) return;
    dir_ = new kofu::test::temp_dir();
    const json scenario = {
        {"name", "report-structure"},
        {"population", {{"residents", 300}, {"seed", 4}}},
        {"load", {{"workers", 2}, {"connections", 8}, {"timeout_ms", 3000}}},
        {"phases",
         {{{"name", "steady"}, {"duration_s", 1.5}, {"rate", 200}},
          {{"name", "closed"}, {"duration_s", 1.0}, {"model", "closed"}, {"users", 8}}}},
        {"updates", {{"rate", 30}}},
        {"report", {{"findings_per_kind", 2}}}};
    kofu::test::write_file(dir_->path() / "s.json", scenario.dump());
    const auto r = kofu::test::run_command(
        {kofu::test::kofu_binary(), "run", (dir_->path() / "s.json").string(), "--out",
         (dir_->path() / "out").string(), "--defect", "channel-slot", "--quiet"},
        std::chrono::seconds(120));
    run_output_ = new std::string(r.out + r.err);
    const auto text = kofu::test::read_file(dir_->path() / "out" / "report.json");
    report_ = new json(json::parse(text, nullptr, false));
  }
  static void TearDownTestSuite() {
    delete report_;
    delete run_output_;
    delete dir_;
    report_ = nullptr;
    run_output_ = nullptr;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (report_ == nullptr) GTEST_SKIP() << "kofu or kofu-mock not built";
    ASSERT_TRUE(report_->is_object()) << *run_output_;
  }

  static kofu::test::temp_dir* dir_;
  static std::string* run_output_;
  static json* report_;
};

kofu::test::temp_dir* ReportStructureTest::dir_ = nullptr;
std::string* ReportStructureTest::run_output_ = nullptr;
json* ReportStructureTest::report_ = nullptr;

TEST_F(ReportStructureTest, KeysMatchTheCommittedStructure) {
  const fs::path golden =
      kofu::test::source_dir() / "tests" / "harness" / "verify" / "report_structure.json";
  const json actual = structure(*report_, "");
  // KOFU_UPDATE_GOLDEN=1 rewrites the committed file (then review its diff before committing).
  if (const char* update = std::getenv("KOFU_UPDATE_GOLDEN"); update != nullptr) {
    kofu::test::write_file(golden, actual.dump(2) + "\n");
  }
  const json expected = json::parse(kofu::test::read_file(golden), nullptr, false);
  ASSERT_FALSE(expected.is_discarded()) << golden;
  EXPECT_EQ(actual, expected) << "report.json's structure changed; the difference:\n"
                              << json::diff(expected, actual).dump(2);
}

TEST_F(ReportStructureTest, CarriesTheTestConditions) {
  const json& c = (*report_)["conditions"];
  EXPECT_EQ(c["scenario"]["name"], "report-structure");
  EXPECT_TRUE(is_hex64(c["scenario"]["sha256"])) << c;
  EXPECT_EQ(c["population"]["residents"], 300);
  EXPECT_TRUE(is_hex64(c["population"]["sha256"])) << c;
  EXPECT_EQ(c["seed"], (*report_)["run"]["seed"]);
  ASSERT_EQ(c["targets"].size(), 1u) << c;
  EXPECT_TRUE(c["targets"][0]["url"].get<std::string>().rfind("http://127.0.0.1:", 0) == 0) << c;
  EXPECT_TRUE(c["targets"][0]["tls_certificate_sha256"].is_null()) << c;  // plain HTTP
  EXPECT_EQ(c["target"]["kind"], "embedded");
  EXPECT_TRUE(c["server_version"].is_object()) << c;
  EXPECT_FALSE(c["host"].get<std::string>().empty());
  EXPECT_FALSE(c["kofu_version"].get<std::string>().empty());
  const std::regex utc(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  const std::regex jst(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00)");
  for (const char* at : {"started_at", "ended_at"}) {
    EXPECT_TRUE(std::regex_match(c[at]["utc"].get<std::string>(), utc)) << c[at];
    EXPECT_TRUE(std::regex_match(c[at]["jst"].get<std::string>(), jst)) << c[at];
  }
  // 9 hours ahead: the hour of the JST text is the UTC hour + 9 (mod 24).
  const auto hour = [](const json& t) { return std::stoi(t.get<std::string>().substr(11, 2)); };
  EXPECT_EQ(hour(c["started_at"]["jst"]), (hour(c["started_at"]["utc"]) + 9) % 24);
  // Per phase: requests, answers, rates and latency percentiles, which add up to the outcomes.
  const json& phases = (*report_)["phases"];
  ASSERT_EQ(phases.size(), 2u) << phases;
  EXPECT_EQ(phases[0]["name"], "steady");
  EXPECT_EQ(phases[1]["name"], "closed");
  std::uint64_t answered = 0;
  for (const auto& p : phases) {
    EXPECT_GT(p["sent"].get<std::uint64_t>(), 0u) << p;
    EXPECT_GT(p["rate_per_s"].get<double>(), 0.0) << p;
    EXPECT_GT(p["duration_s"].get<double>(), 0.5) << p;
    EXPECT_LE(p["latency_ms"]["p50"].get<double>(), p["latency_ms"]["p99"].get<double>()) << p;
    // The max is exact; a percentile is its step's middle (≤ 4.4 % off).
    EXPECT_LE(p["latency_ms"]["p99"].get<double>(), p["latency_ms"]["max"].get<double>() * 1.05)
        << p;
    answered += p["answered"].get<std::uint64_t>();
  }
  EXPECT_EQ(answered, (*report_)["answered"].get<std::uint64_t>());
  // The steady phase ran at about its rate (200/s, open model).
  EXPECT_NEAR(phases[0]["rate_per_s"].get<double>(), 200.0, 40.0) << phases[0];
}

TEST_F(ReportStructureTest, KeepsTheFirstFindingsOfEachKindAndCountsTheRest) {
  const json& r = *report_;
  EXPECT_EQ(r["findings_per_kind"], 2);
  std::map<std::string, std::uint64_t> listed;
  for (const auto& f : r["findings"]) {
    for (const char* key : {"kind", "application_number", "requested_resident", "evidence"}) {
      EXPECT_TRUE(f.contains(key)) << key;
    }
    ++listed[f["kind"].get<std::string>()];
  }
  std::uint64_t omitted_total = 0;
  for (const auto& [kind, count] : r["findings_by_kind"].items()) {
    const std::uint64_t n = count.get<std::uint64_t>();
    EXPECT_EQ(listed[kind], std::min<std::uint64_t>(n, 2)) << kind;
    EXPECT_EQ(r["findings_omitted"][kind].get<std::uint64_t>(), n - listed[kind]) << kind;
    omitted_total += r["findings_omitted"][kind].get<std::uint64_t>();
  }
  // channel-slot mixes up certificates: many findings, so some were counted only.
  EXPECT_GT(omitted_total, 0u) << r["findings_by_kind"];
  // The leak graph's edges likewise: one per WRONG_PERSON or FOREIGN_DATA finding that names
  // its victim, the first 2 of each kind kept.
  std::map<std::string, std::uint64_t> edges_listed;
  for (const auto& e : r["leak_graph"]["edges"]) ++edges_listed[e["kind"].get<std::string>()];
  for (const char* kind : {"WRONG_PERSON", "FOREIGN_DATA"}) {
    EXPECT_LE(edges_listed[kind], 2u) << kind;
    EXPECT_EQ(edges_listed[kind] + r["leak_graph"]["edges_omitted"][kind].get<std::uint64_t>(),
              r["findings_by_kind"][kind].get<std::uint64_t>())
        << kind;
  }
  EXPECT_EQ(edges_listed["WRONG_PERSON"], 2u) << r["leak_graph"];
  EXPECT_EQ(r["verdict"], "fail");
  // `kofu verify` rebuilds the same from the history alone.
  const fs::path out = dir_->path() / "out";
  const json before = r;
  const auto v = kofu::test::run_command({kofu::test::kofu_binary(), "verify", out.string()},
                                         std::chrono::seconds(120));
  EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
  const json again = json::parse(kofu::test::read_file(out / "report.json"), nullptr, false);
  ASSERT_TRUE(again.is_object());
  EXPECT_EQ(again["conditions"], before["conditions"]);
  EXPECT_EQ(again["findings_omitted"], before["findings_omitted"]);
  EXPECT_EQ(again["phases"], before["phases"]);
}

}  // namespace
