// End to end (issue 14 items 3 and 4): the real `kofu run` against the real kofu-mock on
// 127.0.0.1 — runs sized by request count, the deadline header, safe refusals counted as
// retries, and request groups named to the server (whose arrival spread kofu-mock measures).
// The server's side is read from the /metrics that `kofu run` keeps in the run folder.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "kofu/history/reader.hpp"
#include "test_support.hpp"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

bool binaries_built() {
  return fs::exists(kofu::test::kofu_binary()) && fs::exists(kofu::test::mock_binary());
}

// Runs `kofu run` on `scenario` (plus `extra` arguments) into DIR/out; the exit code must be 0 or
// 1 (judged by the verifier), never 2 (bad input, failed start).
void run_kofu(const kofu::test::temp_dir& dir, const std::string& scenario,
              const std::vector<std::string>& extra = {}) {
  kofu::test::write_file(dir / "s.json", scenario);
  std::vector<std::string> argv{kofu::test::kofu_binary(),
                                "run",
                                (dir / "s.json").string(),
                                "--out",
                                (dir / "out").string(),
                                "--quiet",
                                "--lang",
                                "en"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const auto r = kofu::test::run_command(argv, std::chrono::seconds(120));
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.exit_code << "\n" << r.out << r.err;
}

struct issue_counts {
  std::size_t invokes = 0;
  std::map<std::string, std::size_t> outcomes;
  std::vector<std::int64_t> phase_starts;  // t of each `phase` event
  std::string footer_reason;
};

issue_counts read_history(const fs::path& dir) {
  issue_counts c;
  auto r = kofu::history::reader::open(dir);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  if (!r) return c;
  for (;;) {
    auto rec = r->next();
    if (!rec || !*rec) break;
    const json& e = (*rec)->event;
    if (e["type"] == "invoke" && e["op"] == "issue") ++c.invokes;
    if (e["type"] == "complete" && e["op"] == "issue") ++c.outcomes[e["outcome"]];
    if (e["type"] == "event" && e["name"] == "phase") c.phase_starts.push_back(e["t"]);
    if (e["type"] == "footer") c.footer_reason = e["reason"];
  }
  return c;
}

// One sample of kofu-mock's /metrics as kept in the run folder: NAME{LABELS} VALUE; nullopt when
// absent.
std::optional<double> metric(const fs::path& run, const std::string& name_and_labels) {
  const std::string text = kofu::test::read_file(run / "kofu-mock-metrics.txt");
  for (const auto& line : kofu::test::split_lines(text)) {
    if (line.rfind(name_and_labels + " ", 0) == 0) {
      return std::stod(line.substr(name_and_labels.size() + 1));
    }
  }
  return std::nullopt;
}

// The sum of every sample whose name and labels start with `prefix`.
double metric_sum(const fs::path& run, const std::string& prefix) {
  double sum = 0;
  for (const auto& line :
       kofu::test::split_lines(kofu::test::read_file(run / "kofu-mock-metrics.txt"))) {
    if (line.rfind(prefix, 0) == 0) sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

json run_json(const fs::path& run) { return json::parse(kofu::test::read_file(run / "run.json")); }

TEST(LoadShapeTest, RequestsOptionStopsTheRunAtExactlyThatManyIssueRequests) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  // Sized for a minute by time; the count must end it long before.
  run_kofu(dir, R"({"name": "sized", "population": {"residents": 300, "seed": 4},
      "load": {"workers": 2, "connections": 4},
      "phases": [{"duration_s": 60, "rate": 300}],
      "updates": {"rate": 20},
      "events": [{"at_s": 40, "kind": "maintenance", "duration_ms": 500}]})",
           {"--requests", "137"});
  const auto c = read_history(dir / "out");
  EXPECT_EQ(c.invokes, 137u);
  std::size_t completes = 0;
  for (const auto& [outcome, n] : c.outcomes) completes += n;
  EXPECT_EQ(completes, 137u);
  EXPECT_EQ(c.footer_reason, "completed");
  const auto summary = run_json(dir / "out");
  EXPECT_EQ(summary["request_limit"], 137);
  EXPECT_EQ(summary["sent"], 137);
  // At 300/s, 137 requests take half a second: the maintenance event at 40 s never came, and
  // the updates stopped with the issue load.
  EXPECT_LT(summary["elapsed_s"].get<double>(), 30.0);
  // The server saw exactly as many (every status).
  EXPECT_EQ(metric_sum(dir / "out", R"(kofu_mock_requests_total{endpoint="issue",)"), 137.0);
}

TEST(LoadShapeTest, PhaseRequestsEndEachPhaseAndTheNextStartsThere) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  run_kofu(dir, R"({"name": "phased", "population": {"residents": 300, "seed": 4},
      "load": {"workers": 2, "connections": 4},
      "concentration": {"group_share": 0.3, "group_size": 3},
      "phases": [{"name": "open", "duration_s": 30, "rate": 200, "requests": 40},
                 {"name": "closed", "duration_s": 30, "model": "closed", "users": 4,
                  "requests": 60}],
      "updates": {"rate": 0}})");
  const auto c = read_history(dir / "out");
  EXPECT_EQ(c.invokes, 100u);
  ASSERT_EQ(c.phase_starts.size(), 2u);
  // The second phase started when the first one's 40 requests were taken, not after 30 s.
  EXPECT_LT(c.phase_starts[1] - c.phase_starts[0], std::int64_t{20'000'000'000});
  EXPECT_LT(run_json(dir / "out")["elapsed_s"].get<double>(), 30.0);
}

TEST(LoadShapeTest, ScenarioRejectsARequestsBoundBelowOne) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  kofu::test::write_file(dir / "s.json", R"({"name": "bad", "phases": [{"duration_s": 1,
      "requests": 0}]})");
  const auto r =
      kofu::test::run_command({kofu::test::kofu_binary(), "run", (dir / "s.json").string(), "--out",
                               (dir / "out").string(), "--quiet"},
                              std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/phases/0/requests"), std::string::npos) << r.err;
}

TEST(LoadShapeTest, DeadlineHeaderCarriesTheRemainingBudget) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  run_kofu(dir, R"({"name": "deadline", "population": {"residents": 300, "seed": 4},
      "target": {"deadline_header": {"name": "X-Request-Timeout-Ms"}},
      "load": {"workers": 1, "connections": 2, "timeout_ms": 3000},
      "phases": [{"duration_s": 1, "rate": 100}],
      "updates": {"rate": 10}})");
  const auto summary = run_json(dir / "out");
  const double requests = summary["sent"].get<double>() + summary["updates_sent"].get<double>();
  // Every issue request and update carried it, as whole milliseconds.
  EXPECT_EQ(metric(dir / "out", "kofu_mock_request_deadlines_total"), requests);
  EXPECT_EQ(metric(dir / "out", "kofu_mock_request_deadlines_malformed_total"), 0.0);
  // What is left of 3000 ms after connecting on loopback: positive, never above the budget.
  const auto min = metric(dir / "out", R"(kofu_mock_request_deadline_ms{bound="min"})");
  const auto max = metric(dir / "out", R"(kofu_mock_request_deadline_ms{bound="max"})");
  ASSERT_TRUE(min && max);
  EXPECT_GT(*min, 0.0);
  EXPECT_LE(*max, 3000.0);
  EXPECT_GT(*max, 2000.0);
}

// The printer takes 20 ms a job and the server waits 5 ms for it: every issuance is cancelled and
// answered 503 print_timeout, a safe refusal (docs/protocol.md).
const char* print_timeout_scenario = R"({"name": "refusals",
    "population": {"residents": 300, "seed": 4},
    "target": {"mock_args": ["--print-ms", "20", "--print-timeout-ms", "5"]%s},
    "load": {"workers": 1, "connections": 4},
    "phases": [{"duration_s": 1, "rate": 100}],
    "updates": {"rate": 0}})";

std::string with_classes(const std::string& classes) {
  std::string s = print_timeout_scenario;
  s.replace(s.find("%s"), 2, classes);
  return s;
}

TEST(LoadShapeTest, SafeRefusalsCountAsRetriesNotErrors) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  run_kofu(dir, with_classes(""));
  const auto summary = run_json(dir / "out");
  const auto refused_503 =
      metric(dir / "out", R"(kofu_mock_requests_total{endpoint="issue",status="503"})");
  ASSERT_TRUE(refused_503.has_value());
  EXPECT_GT(*refused_503, 10.0);
  EXPECT_EQ(summary["retry"].get<double>(), *refused_503);
  EXPECT_EQ(summary["server_error"], 0);
  EXPECT_EQ(read_history(dir / "out").outcomes["retry"], static_cast<std::size_t>(*refused_503));
}

TEST(LoadShapeTest, TargetCanCountARefusalCodeAsAnError) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  run_kofu(dir, with_classes(R"(, "answer_classes": [
      {"status": 503, "error": "print_timeout", "outcome": "error"},
      {"status": 409, "outcome": "retry"}])"));
  const auto summary = run_json(dir / "out");
  const auto refused_503 =
      metric(dir / "out", R"(kofu_mock_requests_total{endpoint="issue",status="503"})");
  ASSERT_TRUE(refused_503.has_value());
  EXPECT_EQ(summary["server_error"].get<double>(), *refused_503);
  EXPECT_EQ(summary["retry"], 0);
}

// A group gathered in the closed model waits for users to come free, at most one answer's
// timeout. When the request bound ends the phase, no user comes: the group goes at once instead of
// holding the run for the timeout (20 s here).
TEST(LoadShapeTest, RequestBoundReleasesAClosedGroupThatNoUserWillJoin) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  run_kofu(dir, R"({"name": "cut-groups", "population": {"residents": 300, "seed": 4},
      "load": {"workers": 1, "connections": 4, "timeout_ms": 20000},
      "concentration": {"group_share": 1, "group_size": 3},
      "phases": [{"duration_s": 60, "model": "closed", "users": 4, "requests": 4}],
      "updates": {"rate": 0}})");
  // Three users send a group; the fourth opened another that one user joins with the last
  // ticket: the two others find the tickets used up and leave, so no third member ever comes.
  const auto c = read_history(dir / "out");
  EXPECT_EQ(c.invokes, 4u);
  EXPECT_LT(run_json(dir / "out")["elapsed_s"].get<double>(), 10.0);
}

// In the open model a group cut short by the request bound is announced to the server with the
// members actually sent, so the server sees every group complete.
TEST(LoadShapeTest, OpenGroupCutByTheRequestBoundAnnouncesTheMembersSent) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  // Groups of 4 and a bound of 6: the second group is cut to 2 members.
  run_kofu(dir, R"({"name": "cut-open-group", "population": {"residents": 300, "seed": 4},
      "load": {"workers": 1, "connections": 8},
      "concentration": {"group_share": 1, "group_size": 4},
      "phases": [{"duration_s": 30, "rate": 50}],
      "updates": {"rate": 0}})",
           {"--requests", "6"});
  EXPECT_EQ(read_history(dir / "out").invokes, 6u);
  EXPECT_EQ(metric(dir / "out", "kofu_mock_group_arrival_spread_seconds_count"), 2.0);
  EXPECT_EQ(metric(dir / "out", "kofu_mock_groups_open"), 0.0);
  EXPECT_EQ(metric(dir / "out", "kofu_mock_group_headers_malformed_total"), 0.0);
}

TEST(LoadShapeTest, GroupsAreNamedToTheServerWhichMeasuresTheirSpread) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  for (const bool sync : {true, false}) {
    kofu::test::temp_dir dir;
    const std::string flag = sync ? "true" : "false";
    run_kofu(dir, R"({"name": "groups", "population": {"residents": 300, "seed": 4},
        "load": {"workers": 1, "connections": 8},
        "concentration": {"group_share": 0.5, "group_size": 3,
                          "last_byte_sync": {"household": )" +
                      flag + R"(, "koseki": )" + flag + R"(}},
        "phases": [{"duration_s": 1.5, "rate": 60}],
        "updates": {"rate": 0}})");
    const auto complete = metric(dir / "out", "kofu_mock_group_arrival_spread_seconds_count");
    ASSERT_TRUE(complete.has_value()) << "sync " << sync;
    EXPECT_GT(*complete, 5.0) << "sync " << sync;
    EXPECT_EQ(metric(dir / "out", "kofu_mock_group_headers_malformed_total"), 0.0);
    EXPECT_TRUE(metric(dir / "out", R"(kofu_mock_group_arrival_spread_seconds{quantile="0.5"})"));
    auto c = read_history(dir / "out");
    EXPECT_GT(c.invokes, 0u);
    EXPECT_EQ(c.outcomes["error"], 0u) << "sync " << sync;
  }
}

}  // namespace
