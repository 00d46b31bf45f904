// End-to-end: the real `kofu run` against the real `kofu-mock` on 127.0.0.1 (DESIGN §8a).

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "kofu/common/sha256.hpp"
#include "kofu/history/reader.hpp"
#include "kofu/population/generator.hpp"
#include "test_support.hpp"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

bool binaries_built() {
  return fs::exists(kofu::test::kofu_binary()) && fs::exists(kofu::test::mock_binary());
}

struct history_summary {
  std::size_t invokes = 0, completes = 0, ok = 0, updates = 0;
  bool header = false;
  std::string footer_reason;
  bool truncated = false;
};

history_summary summarise(const fs::path& dir) {
  history_summary s;
  auto r = kofu::history::reader::open(dir);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  if (!r) return s;
  for (;;) {
    auto rec = r->next();
    EXPECT_TRUE(rec) << (rec ? "" : rec.error().message);
    if (!rec || !*rec) break;
    const json& e = (*rec)->event;
    if (e["type"] == "header") s.header = true;
    if (e["type"] == "invoke") ++s.invokes;
    if (e["type"] == "invoke" && e["op"] == "update") ++s.updates;
    if (e["type"] == "complete") ++s.completes;
    if (e["type"] == "complete" && e["op"] == "issue" && e["outcome"] == "ok") ++s.ok;
    if (e["type"] == "footer") s.footer_reason = e["reason"];
  }
  s.truncated = r->truncated();
  return s;
}

// The PID of the kofu-mock that `kofu run` started, from its progress output.
int mock_pid(const std::string& err) {
  std::smatch m;
  if (std::regex_search(err, m, std::regex(R"(started kofu-mock \(pid (\d+)\))"))) {
    return std::stoi(m[1]);
  }
  return -1;
}

const char* small_scenario = R"({
  "name": "e2e", "population": {"residents": 300, "seed": 4},
  "load": {"workers": 2, "connections": 4, "timeout_ms": 3000},
  "phases": [{"duration_s": 1.5, "rate": 150}, {"duration_s": 1, "model": "closed", "users": 4}],
  "updates": {"rate": 30},
  "events": [{"at_s": 0.5, "kind": "reflection_batch", "size": 10},
             {"at_s": 1.0, "kind": "maintenance", "duration_ms": 500}]
})";

TEST(KofuRunTest, EmbeddedRunWritesHistoryAndStopsTheServer) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  kofu::test::write_file(dir / "s.json", small_scenario);
  const auto r =
      kofu::test::run_command({kofu::test::kofu_binary(), "run", (dir / "s.json").string(), "--out",
                               (dir / "out").string(), "--lang", "en"},
                              std::chrono::seconds(90));
  // 0 or 1 once the verifier judges the run; 2 would be bad input or a failed start.
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.exit_code << "\n" << r.out << r.err;
  EXPECT_NE(r.out.find("history: "), std::string::npos) << r.out;
  const auto s = summarise(dir / "out");
  EXPECT_TRUE(s.header);
  EXPECT_EQ(s.footer_reason, "completed");
  EXPECT_FALSE(s.truncated);
  EXPECT_EQ(s.invokes, s.completes);
  EXPECT_GT(s.ok, 100u);
  EXPECT_GT(s.updates, 10u);
  EXPECT_TRUE(fs::exists(dir / "out" / "population.jsonl"));
  EXPECT_TRUE(fs::exists(dir / "out" / "run.json"));
  const int pid = mock_pid(r.err);
  ASSERT_GT(pid, 0) << r.err;
  EXPECT_NE(::kill(pid, 0), 0) << "kofu-mock still running after kofu run ended";
}

TEST(KofuRunTest, SigintStopsDrainsAndClosesTheHistory) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  kofu::test::write_file(dir / "s.json", small_scenario);
  kofu::test::child_process run({kofu::test::kofu_binary(), "run", (dir / "s.json").string(),
                                 "--out", (dir / "out").string(), "--duration", "60", "--quiet"},
                                dir / "err.txt");
  // Wait until requests are flowing (history lines on disk), then interrupt.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    const auto size = fs::file_size(dir / "out" / "history.jsonl", ec);
    if (!ec && size > 20000) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  run.signal(SIGINT);
  const auto code = run.wait(std::chrono::seconds(30));
  ASSERT_TRUE(code.has_value()) << "kofu run did not stop after SIGINT";
  EXPECT_NE(*code, 2) << kofu::test::read_file(dir / "err.txt");
  const auto s = summarise(dir / "out");
  EXPECT_EQ(s.footer_reason, "interrupted");
  EXPECT_FALSE(s.truncated);
  EXPECT_EQ(s.invokes, s.completes) << "requests in flight were not drained";
}

// Online verification (issue 5, issue 4 item 8): with a defect that strikes under this load, the
// findings show while the run goes on — a finding line before a later progress line, whose count
// is not zero — and the online count equals the re-verification's (else kofu run exits 2).
TEST(KofuRunTest, FindingsAppearWhileTheRunGoesOn) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  kofu::test::write_file(dir / "s.json", R"({
    "name": "online", "population": {"residents": 300, "seed": 4},
    "load": {"workers": 2, "timeout_ms": 3000},
    "phases": [{"duration_s": 7, "model": "closed", "users": 32}],
    "mix": {"channels": {"konbini": 1, "window": 1, "kiosk": 1}},
    "concentration": {"hot_residents": 10, "hot_share": 0.5},
    "target": {"defects": ["channel-slot"]}
  })");
  const auto r =
      kofu::test::run_command({kofu::test::kofu_binary(), "run", (dir / "s.json").string(), "--out",
                               (dir / "out").string(), "--lang", "en"},
                              std::chrono::seconds(90));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const auto first_finding = r.err.find("finding WRONG_PERSON");
  ASSERT_NE(first_finding, std::string::npos) << r.err;
  // Progress lines (not a terminal: one every 5 s) carry "findings N".
  const std::regex progress(R"(\] .* findings (\d+))");
  std::size_t later_count = 0;
  bool progress_after_finding = false;
  for (auto it = std::sregex_iterator(r.err.begin(), r.err.end(), progress);
       it != std::sregex_iterator(); ++it) {
    if (static_cast<std::size_t>(it->position()) > first_finding) {
      progress_after_finding = true;
      later_count = std::stoul((*it)[1]);
    }
  }
  EXPECT_TRUE(progress_after_finding) << r.err;
  EXPECT_GT(later_count, 0u) << r.err;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
}

TEST(KofuRunTest, RejectsAnInvalidScenarioWithItsPath) {
  kofu::test::temp_dir dir;
  kofu::test::write_file(dir / "bad.json",
                         R"({"name": "x", "phases": [{"duration_s": 1, "rate": -1}], "lod": {}})");
  const auto r = kofu::test::run_command(
      {kofu::test::kofu_binary(), "run", (dir / "bad.json").string()}, std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/phases/0/rate"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/lod: unknown key"), std::string::npos) << r.err;
}

// ---- Issue 15: run folders, waits and signals, failing fast, secrets -------------------------

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

// Whether the process is gone: no such PID, or a zombie nobody reaped yet.
bool process_gone(int pid) {
  if (::kill(pid, 0) != 0) return true;
  const std::string stat = kofu::test::read_file(fs::path("/proc") / std::to_string(pid) / "stat");
  const auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

// Waits until `pattern` appears in the file (a child's standard error); returns its first group
// (or the whole match when it has none).
std::optional<std::string> wait_for_text(const fs::path& file, const std::regex& pattern,
                                         std::chrono::seconds timeout) {
  const auto deadline = clock_type::now() + timeout;
  while (clock_type::now() < deadline) {
    const std::string text = kofu::test::read_file(file);
    std::smatch m;
    if (std::regex_search(text, m, pattern)) return m.size() > 1 ? m[1].str() : m[0].str();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::nullopt;
}

json report_of(const fs::path& dir) {
  return json::parse(kofu::test::read_file(dir / "report.json"), nullptr, false);
}

// A short run on the embedded server; `compress` selects history.jsonl.zst.
std::string tiny_scenario(bool compress) {
  json s = json::parse(small_scenario);
  s["phases"] = json::array({{{"duration_s", 0.6}, {"rate", 50}}});
  s["events"] = json::array();
  s["history"] = {{"compress", compress}};
  return s.dump();
}

// Issue 15's false PASS: a second run into the first run's folder, writing a compressed history,
// was verified on the first run's plain one. Now it is refused, and --force clears the folder.
TEST(KofuRunTest, ReusedRunFolderIsRefusedUnlessForced) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  kofu::test::write_file(dir / "plain.json", tiny_scenario(false));
  kofu::test::write_file(dir / "zst.json", tiny_scenario(true));
  const auto out = dir / "out";
  const auto first = kofu::test::run_command(
      {kofu::test::kofu_binary(), "run", (dir / "plain.json").string(), "--out", out.string()},
      std::chrono::seconds(60));
  ASSERT_TRUE(first.exit_code == 0 || first.exit_code == 1) << first.out << first.err;
  ASSERT_TRUE(fs::exists(out / "history.jsonl"));
  const auto first_history = kofu::test::read_file(out / "history.jsonl");

  const auto refused =
      kofu::test::run_command({kofu::test::kofu_binary(), "run", (dir / "zst.json").string(),
                               "--out", out.string(), "--defect", "channel-slot"},
                              std::chrono::seconds(60));
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find(out.string()), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--force"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(out / "history.jsonl.zst"));
  EXPECT_EQ(kofu::test::read_file(out / "history.jsonl"), first_history) << "first run touched";

  const auto forced =
      kofu::test::run_command({kofu::test::kofu_binary(), "run", (dir / "zst.json").string(),
                               "--out", out.string(), "--force"},
                              std::chrono::seconds(60));
  EXPECT_TRUE(forced.exit_code == 0 || forced.exit_code == 1) << forced.out << forced.err;
  EXPECT_TRUE(fs::exists(out / "history.jsonl.zst"));
  EXPECT_FALSE(fs::exists(out / "history.jsonl")) << "the first run's history was left beside";

  // --force never clears a folder that is not a run's.
  fs::create_directories(dir / "precious");
  kofu::test::write_file(dir / "precious" / "thesis.txt", "keep me");
  const auto guarded =
      kofu::test::run_command({kofu::test::kofu_binary(), "run", (dir / "plain.json").string(),
                               "--out", (dir / "precious").string(), "--force"},
                              std::chrono::seconds(60));
  EXPECT_EQ(guarded.exit_code, 2) << guarded.err;
  EXPECT_TRUE(fs::exists(dir / "precious" / "thesis.txt"));
}

// Issue 15: a maintenance window far longer than the run, and a think time of an hour, end with
// the run; the run ends on time.
TEST(KofuRunTest, WaitsLongerThanTheRunEndWithIt) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  json s = json::parse(small_scenario);
  s["phases"] = json::array(
      {{{"duration_s", 1.5}, {"model", "closed"}, {"users", 2}, {"think_time_ms", 3600000}}});
  s["updates"] = {{"rate", 0}};
  s["events"] = json::array({{{"at_s", 0.2}, {"kind", "maintenance"}, {"duration_ms", 40000}}});
  kofu::test::write_file(dir / "s.json", s.dump());
  const auto start = clock_type::now();
  const auto r =
      kofu::test::run_command({kofu::test::kofu_binary(), "run", (dir / "s.json").string(), "--out",
                               (dir / "out").string(), "--quiet"},
                              std::chrono::seconds(60));
  EXPECT_LT(seconds_since(start), 20.0) << "the run outlasted its 1.5 s";
  EXPECT_NE(r.exit_code, -1) << "killed by the test's timeout";
  EXPECT_NE(r.exit_code, 2) << r.err;
  EXPECT_EQ(summarise(dir / "out").footer_reason, "completed");
}

// Issue 15: SIGINT during a maintenance window longer than the run stops the load at once, and
// what was recorded is verified and reported as interrupted (footer, report, terminal).
TEST(KofuRunTest, SigintDuringALongMaintenanceWindowEndsPromptlyWithAReport) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  json s = json::parse(small_scenario);
  s["phases"] = json::array({{{"duration_s", 60}, {"rate", 50}}});
  s["events"] = json::array({{{"at_s", 0.2}, {"kind", "maintenance"}, {"duration_ms", 600000}}});
  kofu::test::write_file(dir / "s.json", s.dump());
  kofu::test::child_process run({kofu::test::kofu_binary(), "run", (dir / "s.json").string(),
                                 "--out", (dir / "out").string()},
                                dir / "err.txt");
  ASSERT_TRUE(
      wait_for_text(dir / "err.txt", std::regex(R"(started kofu-mock)"), std::chrono::seconds(60)));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // inside the window
  const auto signalled = clock_type::now();
  run.signal(SIGINT);
  const auto code = run.wait(std::chrono::seconds(30));
  ASSERT_TRUE(code.has_value()) << "kofu run did not stop after SIGINT";
  EXPECT_LT(seconds_since(signalled), 10.0);
  const auto err = kofu::test::read_file(dir / "err.txt");
  EXPECT_EQ(*code, 1) << "an interrupted run cannot pass\n" << err;
  EXPECT_NE(err.find("interrupted by SIGINT"), std::string::npos) << err;
  EXPECT_EQ(summarise(dir / "out").footer_reason, "interrupted");
  const json report = report_of(dir / "out");
  ASSERT_TRUE(report.is_object()) << "no report.json";
  EXPECT_EQ(report["run_end"]["reason"], "interrupted") << report["run_end"];
  EXPECT_NE(report["verdict"], "pass");
}

// Issue 15: kill -9 of kofu takes its embedded kofu-mock with it.
TEST(KofuRunTest, KillNineOfKofuTakesTheEmbeddedServer) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  kofu::test::write_file(dir / "s.json", small_scenario);
  kofu::test::child_process run({kofu::test::kofu_binary(), "run", (dir / "s.json").string(),
                                 "--out", (dir / "out").string(), "--duration", "60"},
                                dir / "err.txt");
  const auto m = wait_for_text(dir / "err.txt", std::regex(R"(started kofu-mock \(pid (\d+)\))"),
                               std::chrono::seconds(60));
  ASSERT_TRUE(m.has_value()) << kofu::test::read_file(dir / "err.txt");
  const int mock = std::stoi(*m);
  ASSERT_FALSE(process_gone(mock));
  run.signal(SIGKILL);
  ASSERT_TRUE(run.wait(std::chrono::seconds(10)).has_value());
  const auto deadline = clock_type::now() + std::chrono::seconds(5);
  while (!process_gone(mock) && clock_type::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const bool gone = process_gone(mock);
  if (!gone) ::kill(mock, SIGKILL);  // ours, by its PID: do not leave it behind
  EXPECT_TRUE(gone) << "kofu-mock (pid " << mock << ") outlived kill -9 of kofu";
}

// Issue 15: a second SIGINT exits at once, and takes the embedded server with it.
TEST(KofuRunTest, SecondSigintExitsAtOnce) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  json s = json::parse(small_scenario);
  // Every answer takes 4 s: after the first SIGINT, kofu waits for the requests in flight.
  s["load"]["timeout_ms"] = 600000;
  s["target"] = {{"mock_args", {"--print-ms", "4000", "--print-timeout-ms", "60000"}}};
  kofu::test::write_file(dir / "s.json", s.dump());
  kofu::test::child_process run({kofu::test::kofu_binary(), "run", (dir / "s.json").string(),
                                 "--out", (dir / "out").string(), "--duration", "60"},
                                dir / "err.txt");
  const auto m = wait_for_text(dir / "err.txt", std::regex(R"(started kofu-mock \(pid (\d+)\))"),
                               std::chrono::seconds(60));
  ASSERT_TRUE(m.has_value()) << kofu::test::read_file(dir / "err.txt");
  const int mock = std::stoi(*m);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  run.signal(SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // two signals, not one pending
  run.signal(SIGINT);
  const auto code = run.wait(std::chrono::seconds(3));
  ASSERT_TRUE(code.has_value()) << "a second SIGINT did not end kofu run";
  EXPECT_EQ(*code, 128 + SIGINT);
  EXPECT_NE(kofu::test::read_file(dir / "err.txt").find("second interrupt"), std::string::npos);
  const auto deadline = clock_type::now() + std::chrono::seconds(5);
  while (!process_gone(mock) && clock_type::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const bool gone = process_gone(mock);
  if (!gone) ::kill(mock, SIGKILL);
  EXPECT_TRUE(gone) << "kofu-mock (pid " << mock << ") outlived kofu";
}

// Issue 15: a target that refuses connections stops the run at once, with the reason.
TEST(KofuRunTest, UnreachableTargetFailsFast) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  json s = json::parse(small_scenario);
  s["phases"] = json::array({{{"duration_s", 30}, {"rate", 50}}});
  s["events"] = json::array();
  kofu::test::write_file(dir / "s.json", s.dump());
  const auto start = clock_type::now();
  // Port 1 on loopback: nothing listens there (tcpmux is never served on a test machine).
  const auto r =
      kofu::test::run_command({kofu::test::kofu_binary(), "run", (dir / "s.json").string(), "--out",
                               (dir / "out").string(), "--target", "http://127.0.0.1:1"},
                              std::chrono::seconds(60));
  EXPECT_LT(seconds_since(start), 10.0);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("http://127.0.0.1:1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("refused"), std::string::npos) << r.err;
}

// Issue 15: an open-model run that could not send what the scenario asked is `unknown`, never
// `pass`, and the terminal names the failed threshold. The rate is far beyond one connection.
TEST(KofuRunTest, RunThatCouldNotSendItsLoadIsUnknown) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  json s = json::parse(small_scenario);
  s["load"] = {{"workers", 1}, {"connections", 1}, {"max_backlog", 10}};
  s["phases"] = json::array({{{"duration_s", 1.5}, {"rate", 1000000}}});
  s["updates"] = {{"rate", 0}};
  s["events"] = json::array();
  kofu::test::write_file(dir / "s.json", s.dump());
  const auto start = clock_type::now();
  const auto r =
      kofu::test::run_command({kofu::test::kofu_binary(), "run", (dir / "s.json").string(), "--out",
                               (dir / "out").string(), "--quiet", "--lang", "en"},
                              std::chrono::seconds(90));
  EXPECT_LT(seconds_since(start), 30.0) << "a rate beyond reach kept the run going";
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("verdict: unknown"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("threshold load_delivered failed"), std::string::npos) << r.out;
  const json report = report_of(dir / "out");
  EXPECT_EQ(report["verdict"], "unknown");
  EXPECT_FALSE(report["load"]["delivered"].get<bool>());
}

// Issue 15 item 6: nothing a run leaves holds the admin token, and nothing is readable by others.
TEST(KofuRunTest, RunFolderHoldsNoSecretAndIsPrivate) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  const std::string token = "tok-7f3a9c21-do-not-leak";
  json s = json::parse(small_scenario);
  s["target"] = {{"admin_token", token}};
  kofu::test::write_file(dir / "s.json", s.dump());
  const auto out = dir / "out";
  const auto r = kofu::test::run_command(
      {kofu::test::kofu_binary(), "run", (dir / "s.json").string(), "--out", out.string()},
      std::chrono::seconds(90));
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.out << r.err;
  // The maintenance call was authorised: the token did reach the server.
  bool maintenance_ok = false;
  auto reader = kofu::history::reader::open(out);
  ASSERT_TRUE(reader);
  for (;;) {
    auto rec = reader->next();
    if (!rec || !*rec) break;
    const json& e = (*rec)->event;
    if (e["type"] == "header") {
      EXPECT_TRUE(e["target"]["admin_token_fingerprint"].get<std::string>().starts_with("sha256:"));
    }
    if (e["type"] == "event" && e["name"] == "maintenance" && e["phase"] == "start") {
      const int status = e["detail"].value("status", 0);
      maintenance_ok = status >= 200 && status < 300;
    }
  }
  EXPECT_TRUE(maintenance_ok) << "the embedded server did not get the token";
  EXPECT_FALSE(fs::exists(out / "admin-token"));
  struct stat st {};
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u) << out;
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(out)) {
    ASSERT_EQ(::stat(entry.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 077, 0u) << entry.path() << " is readable by others";
    if (!entry.is_regular_file()) continue;
    ++files;
    EXPECT_EQ(kofu::test::read_file(entry.path()).find(token), std::string::npos)
        << entry.path() << " holds the admin token";
  }
  EXPECT_GE(files, 4u);  // population, history, run.json, report.json, kofu-mock.log
}

// TLS with client certificates against kofu-mock: certificates made for the test by openssl(1).
class KofuRunTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
    auto sh = [&](const std::vector<std::string>& argv) {
      const auto r = kofu::test::run_command(argv, std::chrono::seconds(30));
      ASSERT_EQ(r.exit_code, 0) << argv[1] << ": " << r.err;
    };
    const auto d = [&](const char* name) { return (dir_ / name).string(); };
    kofu::test::write_file(dir_ / "san.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt",
                                         "ec_paramgen_curve:prime256v1", "-nodes"};
    auto req = [&](std::vector<std::string> argv) {
      std::vector<std::string> full{"/usr/bin/openssl", "req"};
      full.insert(full.end(), ec.begin(), ec.end());
      full.insert(full.end(), argv.begin(), argv.end());
      sh(full);
    };
    req({"-x509", "-keyout", d("ca.key"), "-out", d("ca.pem"), "-days", "2", "-subj",
         "/CN=kofu test CA"});
    req({"-keyout", d("server.key"), "-out", d("server.csr"), "-subj", "/CN=localhost"});
    sh({"/usr/bin/openssl", "x509", "-req", "-in", d("server.csr"), "-CA", d("ca.pem"), "-CAkey",
        d("ca.key"), "-CAcreateserial", "-out", d("server.pem"), "-days", "2", "-extfile",
        d("san.ext")});
    req({"-keyout", d("client.key"), "-out", d("client.csr"), "-subj", "/CN=kofu harness"});
    sh({"/usr/bin/openssl", "x509", "-req", "-in", d("client.csr"), "-CA", d("ca.pem"), "-CAkey",
        d("ca.key"), "-CAcreateserial", "-out", d("client.pem"), "-days", "2"});
    // A second CA that signed nothing here: trusting only it must fail verification.
    req({"-x509", "-keyout", d("other.key"), "-out", d("other.pem"), "-days", "2", "-subj",
         "/CN=other CA"});
  }

  std::string scenario(const std::string& ca, bool with_client_cert) const {
    json s = json::parse(small_scenario);
    s["phases"] = json::array({{{"duration_s", 1.0}, {"rate", 100}}});
    s["events"] = json::array();
    s["target"] = {
        {"mock_args",
         {"--tls-cert", (dir_ / "server.pem").string(), "--tls-key", (dir_ / "server.key").string(),
          "--tls-client-ca", (dir_ / "ca.pem").string()}},
        {"tls", {{"ca_file", (dir_ / ca).string()}}}};
    if (with_client_cert) {
      s["target"]["tls"]["client_cert"] = (dir_ / "client.pem").string();
      s["target"]["tls"]["client_key"] = (dir_ / "client.key").string();
    }
    return s.dump();
  }

  kofu::test::temp_dir tmp_;
  fs::path dir_ = tmp_.path();
};

TEST_F(KofuRunTlsTest, MutualTlsRunSucceeds) {
  kofu::test::write_file(dir_ / "s.json", scenario("ca.pem", true));
  const auto r =
      kofu::test::run_command({kofu::test::kofu_binary(), "run", (dir_ / "s.json").string(),
                               "--out", (dir_ / "out").string()},
                              std::chrono::seconds(90));
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.out << r.err;
  EXPECT_NE(r.err.find("https://127.0.0.1:"), std::string::npos) << r.err;
  const auto s = summarise(dir_ / "out");
  EXPECT_GT(s.ok, 50u);
  // report.json names the certificate the server presented: SHA-256 of its leaf's DER (issue 13).
  const auto der =
      kofu::test::run_command({"/usr/bin/openssl", "x509", "-in", (dir_ / "server.pem").string(),
                               "-outform", "DER", "-out", (dir_ / "server.der").string()},
                              std::chrono::seconds(30));
  ASSERT_EQ(der.exit_code, 0) << der.err;
  const json report =
      json::parse(kofu::test::read_file(dir_ / "out" / "report.json"), nullptr, false);
  ASSERT_TRUE(report.is_object());
  const json& targets = report["conditions"]["targets"];
  ASSERT_EQ(targets.size(), 1u) << report["conditions"];
  EXPECT_EQ(targets[0]["url"].get<std::string>().rfind("https://127.0.0.1:", 0), 0u);
  EXPECT_EQ(targets[0]["tls_certificate_sha256"],
            kofu::sha256_hex(kofu::test::read_file(dir_ / "server.der")));
}

TEST_F(KofuRunTlsTest, UntrustedServerCertificateIsRefused) {
  kofu::test::write_file(dir_ / "s.json", scenario("other.pem", true));
  const auto r =
      kofu::test::run_command({kofu::test::kofu_binary(), "run", (dir_ / "s.json").string(),
                               "--out", (dir_ / "out").string()},
                              std::chrono::seconds(90));
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("certificate verify failed"), std::string::npos) << r.err;
}

// Issue 15: a target URL whose certificate fails verification stops the run at once, with the
// reason on the terminal (the embedded case above was already refused).
TEST_F(KofuRunTlsTest, UntrustedTargetUrlFailsFast) {
  ASSERT_TRUE(kofu::population::generate_file({200, 3, 0.05}, dir_ / "population.jsonl"));
  kofu::test::child_process mock(
      {kofu::test::mock_binary(), "--population", (dir_ / "population.jsonl").string(), "--listen",
       "127.0.0.1:0", "--tls-cert", (dir_ / "server.pem").string(), "--tls-key",
       (dir_ / "server.key").string()},
      dir_ / "kofu-mock.log");
  const auto line = mock.read_line(std::chrono::seconds(30));
  std::smatch m;
  ASSERT_TRUE(line && std::regex_search(*line, m, std::regex(R"(listening on (https://\S+))")))
      << "kofu-mock did not start";
  const std::string url = m[1].str();
  json s = json::parse(scenario("other.pem", false));
  s["phases"] = json::array({{{"duration_s", 30}, {"rate", 50}}});
  s["target"].erase("mock_args");
  s["target"]["kind"] = "urls";
  s["target"]["urls"] = {url};
  kofu::test::write_file(dir_ / "s.json", s.dump());
  const auto start = std::chrono::steady_clock::now();
  const auto r =
      kofu::test::run_command({kofu::test::kofu_binary(), "run", (dir_ / "s.json").string(),
                               "--out", (dir_ / "out").string()},
                              std::chrono::seconds(60));
  EXPECT_LT(seconds_since(start), 10.0);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("certificate verify failed"), std::string::npos) << r.err;
}

TEST_F(KofuRunTlsTest, MissingClientCertificateIsRefusedByTheServer) {
  kofu::test::write_file(dir_ / "s.json", scenario("ca.pem", false));
  const auto r =
      kofu::test::run_command({kofu::test::kofu_binary(), "run", (dir_ / "s.json").string(),
                               "--out", (dir_ / "out").string()},
                              std::chrono::seconds(90));
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

// The terminal speaks the user's language (issue 13 item 6): `--lang ja|en`, by default the
// locale's. A short run of the demo with defect channel-slot gives a live finding line and a
// summary with a failed threshold in each language; the locale is set through env(1) so that the
// test does not depend on the environment it runs in.
std::vector<std::string> with_locale(const char* lang, std::vector<std::string> argv) {
  std::vector<std::string> out{"/usr/bin/env", "-u",          "LC_ALL",
                               "-u",           "LC_MESSAGES", std::string("LANG=") + lang};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::vector<std::string> demo_run(const fs::path& out, std::vector<std::string> extra) {
  std::vector<std::string> argv{kofu::test::kofu_binary(),
                                "run",
                                (kofu::test::source_dir() / "scenarios" / "demo.json").string(),
                                "--out",
                                out.string(),
                                "--defect",
                                "channel-slot",
                                "--duration",
                                "6"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

TEST(KofuRunTest, SpeaksTheLocalesLanguageUnlessToldOtherwise) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  // LANG=ja_JP.UTF-8, no --lang: Japanese.
  const auto ja = kofu::test::run_command(with_locale("ja_JP.UTF-8", demo_run(dir / "ja", {})),
                                          std::chrono::seconds(120));
  EXPECT_EQ(ja.exit_code, 1) << ja.out << ja.err;
  EXPECT_TRUE(std::regex_search(ja.err, std::regex(R"(不備 WRONG_PERSON · 要求 \d+（.+、対象者 )")))
      << ja.err;
  EXPECT_TRUE(std::regex_search(ja.err, std::regex(R"(\] .* 件/秒  処理中 .* 不備 \d+)")))
      << ja.err;
  EXPECT_NE(ja.out.find("判定: 不合格（fail）\n"), std::string::npos) << ja.out;
  EXPECT_TRUE(std::regex_search(ja.out, std::regex(R"(不備: WRONG_PERSON=\d+)"))) << ja.out;
  EXPECT_TRUE(std::regex_search(
      ja.out, std::regex(R"(判定基準 max_findings を満たしていません：不備 \d+ 件（上限 0 件）)")))
      << ja.out;
  EXPECT_NE(ja.out.find("レポート: " + (dir / "ja").string() + "/report.json"), std::string::npos)
      << ja.out;
  EXPECT_EQ(ja.err.find("finding WRONG_PERSON"), std::string::npos) << ja.err;
  EXPECT_EQ(ja.out.find("verdict:"), std::string::npos) << ja.out;

  // The same locale with --lang en: English.
  const auto en =
      kofu::test::run_command(with_locale("ja_JP.UTF-8", demo_run(dir / "en", {"--lang", "en"})),
                              std::chrono::seconds(120));
  EXPECT_EQ(en.exit_code, 1) << en.out << en.err;
  EXPECT_TRUE(std::regex_search(en.err, std::regex(R"(finding WRONG_PERSON · request \d+ \()")))
      << en.err;
  EXPECT_TRUE(std::regex_search(en.err, std::regex(R"(\] .* req/s  in flight .* findings \d+)")))
      << en.err;
  EXPECT_NE(en.out.find("verdict: fail\n"), std::string::npos) << en.out;
  EXPECT_TRUE(std::regex_search(
      en.out, std::regex(R"(threshold max_findings failed: \d+ findings \(limit 0\))")))
      << en.out;
  EXPECT_EQ(en.err.find("不備"), std::string::npos) << en.err;
  EXPECT_EQ(en.out.find("判定"), std::string::npos) << en.out;

  // kofu verify of the Japanese run: LANG=C English, --lang ja Japanese whatever the locale.
  const auto verify = [&](const char* lang, std::vector<std::string> extra) {
    std::vector<std::string> argv{kofu::test::kofu_binary(), "verify", (dir / "ja").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return kofu::test::run_command(with_locale(lang, argv), std::chrono::seconds(60));
  };
  const auto c = verify("C", {});
  EXPECT_EQ(c.exit_code, 1) << c.out << c.err;
  EXPECT_NE(c.out.find("verdict: fail\n"), std::string::npos) << c.out;
  const auto c_ja = verify("C", {"--lang", "ja"});
  EXPECT_EQ(c_ja.exit_code, 1) << c_ja.out << c_ja.err;
  EXPECT_NE(c_ja.out.find("判定: 不合格（fail）\n"), std::string::npos) << c_ja.out;
  const auto ja_locale = verify("ja_JP.UTF-8", {});
  EXPECT_NE(ja_locale.out.find("判定: 不合格（fail）\n"), std::string::npos) << ja_locale.out;
  const auto ja_en = verify("ja_JP.UTF-8", {"--lang", "en"});
  EXPECT_NE(ja_en.out.find("verdict: fail\n"), std::string::npos) << ja_en.out;
}

// A language kofu does not speak is a usage error naming the ones it does.
TEST(KofuRunTest, UnknownLanguageIsAUsageError) {
  kofu::test::temp_dir dir;
  for (const char* command : {"run", "verify", "report"}) {
    const std::string target = std::string(command) == "run"
                                   ? (kofu::test::source_dir() / "scenarios" / "demo.json").string()
                                   : dir.path().string();
    const auto r = kofu::test::run_command(
        {kofu::test::kofu_binary(), command, target, "--lang", "xx"}, std::chrono::seconds(30));
    EXPECT_EQ(r.exit_code, 2) << command << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find("--lang"), std::string::npos) << command << "\n" << r.err;
    EXPECT_NE(r.err.find("xx not in {ja,en}"), std::string::npos) << command << "\n" << r.err;
    EXPECT_FALSE(fs::exists(dir / "report.json")) << command;
  }
}

}  // namespace
