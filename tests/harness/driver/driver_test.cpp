#include "kofu/driver/driver.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <set>

#include "kofu/history/reader.hpp"
#include "kofu/population/generator.hpp"
#include "kofu/population/reader.hpp"
#include "kofu/scenario/loader.hpp"
#include "mock_process.hpp"
#include "test_server.hpp"
#include "test_support.hpp"

namespace {

using nlohmann::json;
using namespace kofu::driver;

kofu::history::writer_options history_options(const std::filesystem::path& path) {
  kofu::history::writer_options o;
  o.path = path;
  o.flush_interval = std::chrono::milliseconds(50);
  return o;
}

// A stand-in for the reference protocol (docs/protocol.md), enough for the driver: issues echo
// the application number; some answers come late (past the client's deadline); updates count
// versions per resident; batches and maintenance are acknowledged. Runs on the server's thread.
kofu::test::test_answer fake_reference(const kofu::test::seen_request& r) {
  static std::map<std::string, int> versions;
  static int issues = 0;
  static int updates = 0;
  const auto body = json::parse(r.body, nullptr, false);
  if (r.target == "/v1/issue") {
    const bool late = ++issues % 25 == 0;
    json answer{{"application_number", body["application_number"]},
                {"certificate", {{"type", body["certificate_type"]}}},
                {"digest", "0"}};
    return {200, answer.dump(), std::chrono::milliseconds(late ? 400 : 0)};
  }
  if (r.target.rfind("/v1/residents/", 0) == 0) {
    const auto id = r.target.substr(14, 11);
    if (++updates % 10 == 0) return {200, "{}", std::chrono::milliseconds(400)};  // outcome unknown
    if (updates % 7 == 0) return {400, R"({"error":"bad","detail":"x"})"};        // aborted
    const int v = (versions.count(id) ? versions[id] : 1) + 1;
    versions[id] = v;
    return {200, json{{"resident_id", id}, {"version", v}}.dump()};
  }
  if (r.target == "/v1/reflection/batch") {
    json out{{"batch_id", body["batch_id"]}, {"versions", json::array()}};
    for (const auto& c : body["changes"]) {
      const auto id = c["resident_id"].get<std::string>();
      const int v = (versions.count(id) ? versions[id] : 1) + 1;
      versions[id] = v;
      out["versions"].push_back({{"resident_id", id}, {"version", v}});
    }
    return {200, out.dump()};
  }
  if (r.target == "/v1/admin/maintenance") {
    if (r.authorization != "Bearer secret") return {401, R"({"error":"unauthorized"})"};
    return {202, R"({"until_ms":1})"};
  }
  return {404, R"({"error":"not_found"})"};
}

TEST(DriverTest, RecordsEveryRequestUpdateAndEvent) {
  kofu::test::test_server server(fake_reference);
  kofu::test::temp_dir dir;
  auto sc = kofu::scenario::parse_text(R"({
    "name": "driver-test", "seed": 3,
    "target": {"kind": "urls", "urls": ["http://127.0.0.1:1"], "admin_token": "secret"},
    "load": {"workers": 2, "connections": 4, "timeout_ms": 150},
    "phases": [{"duration_s": 1.5, "rate": 150, "ramp_to": 250},
               {"duration_s": 1, "model": "closed", "users": 4}],
    "concentration": {"hot_residents": 5, "hot_share": 0.5, "group_share": 0.2},
    "updates": {"rate": 60, "concurrency": 3, "hot_share": 0.5},
    "events": [{"at_s": 0.2, "kind": "maintenance", "duration_ms": 300},
               {"at_s": 0.4, "kind": "exec", "command": ["true"]},
               {"at_s": 0.5, "kind": "reflection_batch", "size": 5, "every_s": 1}],
    "history": {"flush_ms": 50}
  })",
                                       "driver-test.json");
  ASSERT_TRUE(sc) << sc.error().message;
  std::vector<kofu::population::resident> residents;
  kofu::population::generator g({120, 2, 0.05});
  while (g.next_group(residents)) {
  }
  const population_index pop(std::move(residents), 5, 3);
  auto writer = kofu::history::writer::open(history_options(dir / "history.jsonl"));
  ASSERT_TRUE(writer);
  run_settings rs;
  rs.scenario = &*sc;
  rs.population = &pop;
  rs.targets = {*parse_endpoint(server.url())};
  rs.history = writer->get();
  rs.anchor = clock_type::now();
  int progress_calls = 0;
  rs.on_progress = [&](const progress&) { ++progress_calls; };
  const auto result = run(rs);
  ASSERT_TRUE((*writer)->close());

  EXPECT_EQ(result.end_reason, "completed");
  EXPECT_GT(result.issue.ok, 200u);
  EXPECT_GT(result.issue.timeouts, 0u);
  EXPECT_GT(result.issue.updates_ok, 10u);
  EXPECT_GT(progress_calls, 1);
  EXPECT_EQ(result.issue.sent, result.issue.done());

  auto reader = kofu::history::reader::open(dir.path());
  ASSERT_TRUE(reader);
  std::map<std::uint64_t, json> invokes;
  std::set<std::uint64_t> completes;
  std::set<std::string> application_numbers;
  std::map<std::string, std::vector<std::pair<std::int64_t, std::int64_t>>> update_windows;
  std::map<std::string, std::uint32_t> last_version;
  std::set<std::string> retired;
  std::set<std::string> events;
  std::uint64_t issue_timeouts = 0;
  for (;;) {
    auto rec = reader->next();
    ASSERT_TRUE(rec) << rec.error().message;
    if (!*rec) break;
    const json& e = (*rec)->event;
    const std::string type = e.at("type");
    if (type == "invoke") {
      const auto id = e.at("id").get<std::uint64_t>();
      EXPECT_TRUE(invokes.emplace(id, e).second) << "duplicate id " << id;
      if (e.at("op") == "issue") {
        EXPECT_TRUE(application_numbers.insert(e.at("application_number")).second);
        EXPECT_LE(e.at("intended").get<std::int64_t>(), e.at("t").get<std::int64_t>() + 1'000'000);
      }
      if (e.at("op") == "update") {
        const std::string rid = e.at("resident_id");
        EXPECT_FALSE(retired.count(rid)) << "update after an unknown outcome for " << rid;
        const auto v = e.at("version").get<std::uint32_t>();
        EXPECT_GT(v, last_version.count(rid) ? last_version[rid] : 1u) << rid;
      }
    } else if (type == "complete") {
      const auto id = e.at("id").get<std::uint64_t>();
      ASSERT_TRUE(invokes.count(id)) << "complete before its invoke: " << id;
      EXPECT_TRUE(completes.insert(id).second);
      const json& inv = invokes[id];
      EXPECT_GE(e.at("t").get<std::int64_t>(), inv.at("t").get<std::int64_t>());
      if (e.at("op") == "issue") {
        if (e.at("outcome") == "ok") {
          EXPECT_EQ(e.at("body").at("application_number"), inv.at("application_number"));
        }
        if (e.at("outcome") == "timeout") ++issue_timeouts;
      } else if (e.at("op") == "update") {
        const std::string rid = inv.at("resident_id");
        update_windows[rid].push_back(
            {inv.at("t").get<std::int64_t>(), e.at("t").get<std::int64_t>()});
        if (e.at("outcome") == "ok") last_version[rid] = e.at("version").get<std::uint32_t>();
        if (e.at("outcome") == "unknown") retired.insert(rid);
      }
    } else if (type == "event") {
      events.insert(e.at("name").get<std::string>() + "/" + e.at("phase").get<std::string>());
      if (e.at("name") == "maintenance" && e.at("phase") == "start") {
        EXPECT_EQ(e.at("detail").at("status"), 202);
      }
      if (e.at("name") == "exec" && e.at("phase") == "end") {
        EXPECT_EQ(e.at("detail").at("exit_code"), 0);
      }
    }
  }
  EXPECT_FALSE(reader->truncated());
  EXPECT_EQ(invokes.size(), completes.size());
  EXPECT_EQ(issue_timeouts, result.issue.timeouts);
  EXPECT_FALSE(retired.empty());
  // Updates of one resident never overlap in time.
  for (auto& [rid, windows] : update_windows) {
    std::sort(windows.begin(), windows.end());
    for (std::size_t i = 1; i < windows.size(); ++i) {
      EXPECT_GE(windows[i].first, windows[i - 1].second) << "overlapping updates of " << rid;
    }
  }
  for (const char* name : {"maintenance/start", "maintenance/end", "exec/start", "exec/end",
                           "reflection_batch/start", "reflection_batch/end"}) {
    EXPECT_TRUE(events.count(name)) << name;
  }
}

TEST(DriverTest, StopFlagEndsEarlyAndDrains) {
  kofu::test::test_server server(fake_reference);
  auto sc = kofu::scenario::parse_text(
      R"({"name": "stop", "target": {"kind": "urls", "urls": ["http://127.0.0.1:1"]},
    "load": {"workers": 1, "connections": 2, "timeout_ms": 1000},
    "phases": [{"duration_s": 30, "rate": 100}], "updates": {"rate": 10}})",
      "stop.json");
  ASSERT_TRUE(sc);
  std::vector<kofu::population::resident> residents;
  kofu::population::generator g({50, 2, 0.05});
  while (g.next_group(residents)) {
  }
  const population_index pop(std::move(residents), 5, 3);
  std::atomic<bool> stop{false};
  run_settings rs;
  rs.scenario = &*sc;
  rs.population = &pop;
  rs.targets = {*parse_endpoint(server.url())};
  rs.anchor = clock_type::now();
  rs.stop = &stop;
  rs.on_progress = [&](const progress& p) {
    if (p.elapsed_s > 0.5) stop = true;
  };
  const auto start = clock_type::now();
  const auto result = run(rs);
  EXPECT_EQ(result.end_reason, "interrupted");
  EXPECT_LT(clock_type::now() - start, std::chrono::seconds(15));
  EXPECT_EQ(result.issue.sent, result.issue.done());
  EXPECT_GT(result.issue.sent, 0u);
}

// Closed model against a real kofu-mock: pairs of requests for *different* members of one
// household or 戸籍 that were in flight at the same time (send-to-receive windows overlap).
struct closed_run {
  std::uint64_t sent = 0;
  std::uint64_t group_pairs = 0;
};

closed_run run_closed_model(const kofu::test::mock_process& mock,
                            const std::vector<kofu::population::resident>& residents,
                            double group_share) {
  closed_run out;
  kofu::test::temp_dir dir;
  json doc = json::parse(R"({"name": "closed-groups", "seed": 9,
      "target": {"kind": "urls"}, "load": {"workers": 1, "timeout_ms": 3000},
      "phases": [{"duration_s": 1.2, "model": "closed", "users": 6}],
      "concentration": {"hot_share": 0, "group_size": 3},
      "updates": {"rate": 0}, "history": {"flush_ms": 50}})");
  doc["target"]["urls"] = json::array({mock.url()});
  doc["concentration"]["group_share"] = group_share;
  auto sc = kofu::scenario::parse_text(doc.dump(), "closed-groups.json");
  EXPECT_TRUE(sc) << sc.error().message;
  if (!sc) return out;
  const population_index pop(residents, 20, 9);
  auto writer = kofu::history::writer::open(history_options(dir / "history.jsonl"));
  EXPECT_TRUE(writer);
  run_settings rs;
  rs.scenario = &*sc;
  rs.population = &pop;
  rs.targets = {*parse_endpoint(mock.url())};
  rs.history = writer->get();
  rs.anchor = clock_type::now();
  const auto result = run(rs);
  EXPECT_TRUE((*writer)->close());
  out.sent = result.issue.sent;

  std::map<std::string, std::pair<std::string, std::string>> groups;  // household, koseki
  for (const auto& r : residents) groups[r.resident_id] = {r.household_id, r.koseki_id};
  struct window {
    std::int64_t from = 0, to = -1;
    std::string resident;
  };
  std::map<std::uint64_t, window> windows;
  auto reader = kofu::history::reader::open(dir.path());
  EXPECT_TRUE(reader);
  for (;;) {
    auto rec = reader->next();
    EXPECT_TRUE(rec);
    if (!rec || !*rec) break;
    const json& e = (*rec)->event;
    if (e["type"] == "invoke" && e["op"] == "issue") {
      windows[e["id"]] = {e["t"].get<std::int64_t>(), -1, e["resident_id"]};
    }
    if (e["type"] == "complete" && e["op"] == "issue" && windows.count(e["id"])) {
      windows[e["id"]].to = e["t"].get<std::int64_t>();
    }
  }
  std::vector<window> sorted;
  for (const auto& [id, w] : windows) sorted.push_back(w);
  std::sort(sorted.begin(), sorted.end(),
            [](const window& a, const window& b) { return a.from < b.from; });
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    for (std::size_t j = i + 1; j < sorted.size() && sorted[j].from <= sorted[i].to; ++j) {
      const auto& a = sorted[i];
      const auto& b = sorted[j];
      if (a.resident == b.resident) continue;
      const auto& ga = groups.at(a.resident);
      const auto& gb = groups.at(b.resident);
      if (ga.first == gb.first || ga.second == gb.second) ++out.group_pairs;
    }
  }
  return out;
}

TEST(DriverTest, ClosedModelSendsGroupMembersAtTheSameInstant) {
  if (!std::filesystem::exists(kofu::test::mock_binary())) GTEST_SKIP() << "kofu-mock not built";
  kofu::test::temp_dir dir;
  kofu::test::mock_process mock(dir, 3000, 13);
  ASSERT_NE(mock.port, 0) << "kofu-mock did not start";
  auto residents = kofu::population::load_file(mock.population);
  ASSERT_TRUE(residents) << residents.error().message;
  // The same load without groups: six users on 3000 residents rarely meet a family by chance.
  const auto grouped = run_closed_model(mock, *residents, 0.5);
  const auto control = run_closed_model(mock, *residents, 0);
  RecordProperty("grouped_pairs_per_sent",
                 std::to_string(grouped.group_pairs) + "/" + std::to_string(grouped.sent));
  RecordProperty("control_pairs_per_sent",
                 std::to_string(control.group_pairs) + "/" + std::to_string(control.sent));
  EXPECT_GT(grouped.sent, 100u);
  EXPECT_GT(control.sent, 100u);
  EXPECT_GE(grouped.group_pairs, 30u) << "control: " << control.group_pairs;
  // Per request sent, so a faster or slower run of either does not decide the comparison.
  EXPECT_GT(static_cast<double>(grouped.group_pairs) / static_cast<double>(grouped.sent),
            5 * static_cast<double>(control.group_pairs) / static_cast<double>(control.sent))
      << grouped.group_pairs << "/" << grouped.sent << " vs " << control.group_pairs << "/"
      << control.sent;
}

// A wire protocol that counts the driver's calls and otherwise speaks the reference protocol.
// Worker threads and the updater call it at once: the counters are atomics.
class counting_wire final : public wire_protocol {
 public:
  enum call : std::size_t {
    issue_request_call,
    classify_issue_call,
    judge_fit_call,
    update_request_call,
    classify_update_call,
    batch_request_call,
    classify_batch_call,
    maintenance_request_call,
    classify_maintenance_call,
    call_count
  };
  std::uint64_t calls(call c) const { return calls_[c].load(); }

  const std::string& name() const override { return inner_.name(); }
  json header_document() const override { return inner_.header_document(); }
  bool offers_type(std::string_view t) const override { return inner_.offers_type(t); }
  bool offers_household_scope() const override { return inner_.offers_household_scope(); }
  bool offers_update_kind(std::string_view k) const override {
    return inner_.offers_update_kind(k);
  }
  std::shared_ptr<const kofu::verify::answer_decoder> decoder() const override {
    return inner_.decoder();
  }
  std::shared_ptr<const kofu::verify::record_rendering> rendering() const override {
    return inner_.rendering();
  }
  http_request issue_request(const issue_fields& f) const override {
    ++calls_[issue_request_call];
    return inner_.issue_request(f);
  }
  issue_answer classify_issue(unsigned status, const std::string& body,
                              std::string_view content_type) const override {
    ++calls_[classify_issue_call];
    return inner_.classify_issue(status, body, content_type);
  }
  kofu::verify::decoded_answer decode_issue(unsigned status,
                                            const std::string& body) const override {
    return inner_.decode_issue(status, body);
  }
  std::optional<fit_sample> judge_fit(const issue_answer& a, unsigned status,
                                      const std::string& body) const override {
    ++calls_[judge_fit_call];
    return inner_.judge_fit(a, status, body);
  }
  std::optional<std::string> issue_result_code(const json& body) const override {
    return inner_.issue_result_code(body);
  }
  std::optional<std::string> update_result_code(const json& body) const override {
    return inner_.update_result_code(body);
  }
  http_request update_request(const change_fields& c) const override {
    ++calls_[update_request_call];
    return inner_.update_request(c);
  }
  change_answer classify_update(unsigned status, const std::string& body) const override {
    ++calls_[classify_update_call];
    return inner_.classify_update(status, body);
  }
  http_request batch_request(const std::string& id,
                             const std::vector<change_fields>& changes) const override {
    ++calls_[batch_request_call];
    return inner_.batch_request(id, changes);
  }
  change_answer classify_batch(unsigned status, const std::string& body,
                               const std::vector<change_fields>& changes) const override {
    ++calls_[classify_batch_call];
    return inner_.classify_batch(status, body, changes);
  }
  http_request maintenance_request(std::uint32_t duration_ms,
                                   const std::string& token) const override {
    ++calls_[maintenance_request_call];
    return inner_.maintenance_request(duration_ms, token);
  }
  maintenance_answer classify_maintenance(unsigned status, const std::string& body) const override {
    ++calls_[classify_maintenance_call];
    return inner_.classify_maintenance(status, body);
  }

 private:
  reference_wire inner_;
  mutable std::array<std::atomic<std::uint64_t>, call_count> calls_{};
};

// Every request the driver writes and every answer it reads goes through its wire protocol:
// against a real kofu-mock, each call is counted as often as the history shows its request
// (or its answer), for issuance, updates, a reflection batch and a maintenance window.
TEST(DriverTest, SpeaksOnlyThroughItsWireProtocol) {
  if (!std::filesystem::exists(kofu::test::mock_binary())) GTEST_SKIP() << "kofu-mock not built";
  kofu::test::temp_dir dir;
  kofu::test::mock_process mock(dir, 400, 17);
  ASSERT_NE(mock.port, 0) << "kofu-mock did not start";
  json doc = json::parse(R"({"name": "wire", "seed": 17, "target": {"kind": "urls"},
      "load": {"workers": 2, "connections": 4, "timeout_ms": 3000},
      "phases": [{"duration_s": 1.2, "rate": 150}],
      "updates": {"rate": 40, "concurrency": 2},
      "events": [{"at_s": 0.2, "kind": "maintenance", "duration_ms": 200},
                 {"at_s": 0.5, "kind": "reflection_batch", "size": 3}],
      "history": {"flush_ms": 50}})");
  doc["target"]["urls"] = json::array({mock.url()});
  doc["target"]["admin_token"] = kofu::test::mock_process::admin_token;
  auto sc = kofu::scenario::parse_text(doc.dump(), "wire.json");
  ASSERT_TRUE(sc) << sc.error().message;
  auto residents = kofu::population::load_file(mock.population);
  ASSERT_TRUE(residents) << residents.error().message;
  const population_index pop(std::move(*residents), 20, 17);
  auto writer = kofu::history::writer::open(history_options(dir / "history.jsonl"));
  ASSERT_TRUE(writer);
  const auto wire = std::make_shared<counting_wire>();
  run_settings rs;
  rs.scenario = &*sc;
  rs.population = &pop;
  rs.targets = {*parse_endpoint(mock.url())};
  rs.history = writer->get();
  rs.anchor = clock_type::now();
  rs.wire = wire;
  const auto result = run(rs);
  ASSERT_TRUE((*writer)->close());

  // What the history shows, per call of the wire protocol.
  std::map<counting_wire::call, std::uint64_t> seen;
  auto reader = kofu::history::reader::open(dir.path());
  ASSERT_TRUE(reader);
  for (;;) {
    auto rec = reader->next();
    ASSERT_TRUE(rec);
    if (!*rec) break;
    const json& e = (*rec)->event;
    const bool answered = e.contains("status") && !e.contains("body_withheld");
    if (e["type"] == "complete" && e["op"] == "issue" && answered) {
      ++seen[counting_wire::classify_issue_call];
    }
    if (e["type"] == "complete" && e["op"] == "update") {
      ++seen[counting_wire::update_request_call];
      if (answered) ++seen[counting_wire::classify_update_call];
    }
    if (e["type"] == "complete" && e["op"] == "batch") {
      ++seen[counting_wire::batch_request_call];
      if (answered) ++seen[counting_wire::classify_batch_call];
    }
    if (e["type"] == "event" && e["name"] == "maintenance" && e["phase"] == "start") {
      ++seen[counting_wire::maintenance_request_call];
      if (e["detail"].contains("status")) ++seen[counting_wire::classify_maintenance_call];
    }
  }
  EXPECT_GT(result.issue.sent, 50u);
  EXPECT_EQ(wire->calls(counting_wire::issue_request_call), result.issue.sent);
  for (const auto c : {counting_wire::classify_issue_call, counting_wire::update_request_call,
                       counting_wire::classify_update_call, counting_wire::batch_request_call,
                       counting_wire::classify_batch_call, counting_wire::maintenance_request_call,
                       counting_wire::classify_maintenance_call}) {
    EXPECT_GT(seen[c], 0u) << "call " << c << " never happened";
    EXPECT_EQ(wire->calls(c), seen[c]) << "call " << c;
  }
  // The reference protocol never samples the fit, so every answer was offered to it.
  EXPECT_EQ(wire->calls(counting_wire::judge_fit_call),
            wire->calls(counting_wire::classify_issue_call));
  EXPECT_EQ(result.fit_sampled, 0u);
  EXPECT_EQ(result.end_reason, "completed");
}

}  // namespace
