// Each defect of kofu-mock, provoked by real concurrent load on a hot set of residents (with
// updates or maintenance where the defect needs them), shows a wrong answer; the same load
// against the correct server (same timing knobs, no defect) shows none. All loops are bounded
// in count and time. See mock_server/DEFECTS.md.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "certificate_pages.hpp"
#include "mock_fixture.hpp"
#include "pdf_pages.hpp"
#include "test_support.hpp"

namespace kofu::mock::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr unsigned kWorkers = 32;
constexpr std::size_t kMaxRequests = 20'000;
constexpr auto kControlDuration = 3s;  // how long the correct server is loaded
constexpr auto kDefectDuration = 10s;  // upper bound; defect runs stop at the first wrong answer
const std::string kToken = "defect-test-token";

// Counts of one load run.
struct load_outcome {
  std::size_t answered = 0;  // 200
  std::size_t retries = 0;   // 409 data_changed_retry
  std::size_t refused = 0;   // other 4xx/5xx (print timeouts, not issuable)
  std::size_t wrong = 0;     // 200 answers that are wrong
  std::string first_wrong;
};

class outcome_recorder {
 public:
  void record(const http_result& res, const std::string& problem) {
    std::lock_guard lock(mutex_);
    if (res.status == 200) {
      ++outcome_.answered;
      if (!problem.empty()) {
        ++outcome_.wrong;
        if (outcome_.first_wrong.empty()) outcome_.first_wrong = problem;
        found_ = true;
      }
    } else if (res.status == 409) {
      ++outcome_.retries;
    } else {
      ++outcome_.refused;
    }
  }
  void wrong(const std::string& problem) {
    std::lock_guard lock(mutex_);
    ++outcome_.wrong;
    if (outcome_.first_wrong.empty()) outcome_.first_wrong = problem;
  }
  load_outcome outcome() const {
    std::lock_guard lock(mutex_);
    return outcome_;
  }
  // Set at the first wrong answer (defect runs stop there).
  const std::atomic<bool>* found() const { return &found_; }
  const std::atomic<bool>* never() const { return &never_; }

 private:
  mutable std::mutex mutex_;
  load_outcome outcome_;  // protected by mutex_
  std::atomic<bool> found_{false};
  std::atomic<bool> never_{false};
};

std::string describe(const load_outcome& o) {
  const auto text =
      fmt::format("answered {}, retries {}, refused {}, wrong {}{}{}", o.answered, o.retries,
                  o.refused, o.wrong, o.first_wrong.empty() ? "" : ": ", o.first_wrong);
  // Printed as well, so a run's log shows how each defect bit and what the control saw.
  fmt::print("  [load] {}\n", text);
  return text;
}

bool is_koseki_list(const std::string& type) {
  return type == "koseki_zenbu" || type == "koseki_fuhyo";
}

// What is wrong with a 200 answer to (app, resident, type, options), judged from the request
// alone; empty when nothing is.
std::string base_problem(const json& answer, const std::string& app, const json& r,
                         const std::string& type, const json& options) {
  if (!answer.is_object() || !answer.contains("certificate")) return "malformed answer";
  if (answer["application_number"] != app) {
    return fmt::format("{} answered with application {}", app, answer["application_number"].dump());
  }
  if (!digest_matches(answer)) return app + ": digest does not match";
  const auto& cert = answer["certificate"];
  if (cert["type"] != type) return app + ": wrong type " + cert["type"].dump();
  const auto& id = r["resident_id"];
  if (cert["subject"]["resident_id"] != id) {
    return fmt::format("{} for {} got the certificate of {}", app, id.dump(),
                       cert["subject"]["resident_id"].dump());
  }
  const auto& persons = cert["persons"];
  if (is_koseki_list(type)) {
    if (cert["koseki"]["koseki_id"] != r["koseki_id"]) {
      return fmt::format("{} for {} got 戸籍 {} instead of {}", app, id.dump(),
                         cert["koseki"]["koseki_id"].dump(), r["koseki_id"].dump());
    }
    bool found = false;
    for (const auto& p : persons) found = found || p["resident_id"] == id;
    if (!found) return app + ": the subject is not among the 戸籍 persons";
  } else if (!(type == "juminhyo" && options.is_object() &&
               options.value("scope", "") == "household")) {
    if (persons.size() != 1 || persons[0]["resident_id"] != id) {
      return fmt::format("{} for {} printed person {}", app, id.dump(),
                         persons.empty() ? "none" : persons[0]["resident_id"].dump());
    }
  }
  if (type == "juminhyo") {
    const bool want_mynumber = options.is_object() && options.value("mynumber", false);
    for (const auto& p : persons) {
      if (p.contains("mynumber") != want_mynumber) {
        return fmt::format("{}: 個人番号 {} although {}", app,
                           p.contains("mynumber") ? "printed" : "missing",
                           want_mynumber ? "asked" : "not asked");
      }
    }
    if (want_mynumber && persons[0]["mynumber"] != r["mynumber"]) {
      return app + ": someone else's 個人番号";
    }
  }
  return {};
}

class DefectsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new kofu::test::temp_dir();
    population_ = new std::vector<json>(make_population(*dir_ / "pop.jsonl", 200));
  }
  static void TearDownTestSuite() {
    delete population_;
    delete dir_;
  }

  static std::filesystem::path population_file() { return *dir_ / "pop.jsonl"; }

  // Up to `n` active residents satisfying `pred`, at most one per household (and 戸籍).
  static std::vector<json> hot_set(std::size_t n,
                                   const std::function<bool(const json&)>& pred = {}) {
    std::vector<json> out;
    std::set<std::string> households, koseki;
    for (const auto& r : *population_) {
      if (out.size() == n) break;
      if (r["status"] != "active" || (pred && !pred(r))) continue;
      if (!households.insert(r["household_id"]).second) continue;
      if (!koseki.insert(r["koseki_id"]).second) continue;
      out.push_back(r);
    }
    if (out.size() < 2) throw std::runtime_error("population too small for a hot set");
    return out;
  }

  std::unique_ptr<mock_process> start(std::vector<std::string> args) {
    args.insert(args.end(), {"--admin-token", kToken});
    return std::make_unique<mock_process>(population_file(), args,
                                          *dir_ / fmt::format("stderr-{}.txt", ++servers_));
  }

  // Issues `type` with `options_of(worker)` for hot[i % hot.size()] under kWorkers concurrent
  // workers, checking each answer with base_problem plus `extra` (given the answer and resident).
  load_outcome issue_load(std::uint16_t port, const std::vector<json>& hot, const std::string& type,
                          std::chrono::milliseconds duration, bool stop_at_first,
                          const std::function<json(unsigned)>& options_of = {},
                          const std::function<std::string(unsigned)>& channel_of = {},
                          std::vector<json>* answers = nullptr) {
    outcome_recorder rec;
    std::mutex answers_mutex;
    run_load(
        port, kWorkers, kMaxRequests, duration,
        [&](unsigned w, std::size_t i, http_client& client) {
          const auto& r = hot[i % hot.size()];
          const json options = options_of ? options_of(w) : json(nullptr);
          const auto app = fmt::format("D-{}-{}", w, i);
          auto res =
              client.post("/v1/issue", issue_body(app, r["card_serial"], type,
                                                  channel_of ? channel_of(w) : "konbini", options));
          std::string problem;
          if (res.status == 200) {
            const auto answer = res.json();
            problem = base_problem(answer, app, r, type, options);
            if (answers != nullptr && problem.empty()) {
              std::lock_guard lock(answers_mutex);
              answers->push_back(answer);
            }
          }
          rec.record(res, problem);
        },
        std::nullopt, stop_at_first ? rec.found() : rec.never());
    return rec.outcome();
  }

  static kofu::test::temp_dir* dir_;
  static std::vector<json>* population_;
  int servers_ = 0;
};

kofu::test::temp_dir* DefectsTest::dir_ = nullptr;
std::vector<json>* DefectsTest::population_ = nullptr;

// Address token of each (resident, version) the test's own updates produced.
class version_book {
 public:
  void record(const std::string& id, std::int64_t version, std::string value) {
    std::lock_guard lock(mutex_);
    book_[id][version] = std::move(value);
  }
  std::optional<std::string> value(const std::string& id, std::int64_t version) const {
    std::lock_guard lock(mutex_);
    auto r = book_.find(id);
    if (r == book_.end()) return std::nullopt;
    auto v = r->second.find(version);
    if (v == r->second.end()) return std::nullopt;
    return v->second;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::map<std::int64_t, std::string>> book_;  // protected by mutex_
};

json move_fields(const json& r, const std::string& token) {
  json address = r["address"];
  address["token"] = token;
  address["building"] = "新館 " + token;
  return {{"address", address}, {"moved_in_date", "2026-11-22"}};
}

// Answers whose printed address is not the one of the version they claim (TORN / PHANTOM).
std::size_t count_torn(const std::vector<json>& answers, const version_book& book,
                       std::string& first) {
  std::size_t torn = 0;
  for (const auto& a : answers) {
    for (const auto& p : a["certificate"]["persons"]) {
      const auto id = p["resident_id"].get<std::string>();
      const auto v = p["source_version"].get<std::int64_t>();
      const auto expected = book.value(id, v);
      const auto printed = p["address"]["token"].get<std::string>();
      if (!expected || *expected != printed) {
        if (first.empty()) {
          first =
              fmt::format("{}: resident {} version {} printed address {} but that version's is {}",
                          a["application_number"].get<std::string>(), id, v, printed,
                          expected.value_or("(no such version)"));
        }
        ++torn;
      }
    }
  }
  return torn;
}

TEST_F(DefectsTest, TimeoutPartialReleasePrintsTheNextApplicantsCertificate) {
  const auto hot = hot_set(8);
  {
    auto server = start({"--defect", "timeout-partial-release"});
    const auto o = issue_load(server->port(), hot, "juminhyo", kDefectDuration, true);
    EXPECT_GT(o.wrong, 0u) << describe(o);
    describe(o);
  }
  {
    auto server = start({"--print-ms", "10"});  // the same slow printer, correct timeout path
    const auto o = issue_load(server->port(), hot, "juminhyo", kControlDuration, false);
    EXPECT_EQ(o.wrong, 0u) << describe(o);
    describe(o);
  }
}

TEST_F(DefectsTest, LinkageOverwriteHandsOutAnotherKoseki) {
  const auto hot = hot_set(8);
  {
    auto server = start({"--defect", "linkage-overwrite"});
    const auto o = issue_load(server->port(), hot, "koseki_zenbu", kDefectDuration, true);
    EXPECT_GT(o.wrong, 0u) << describe(o);
    describe(o);
  }
  {
    auto server = start({"--race-window-ms", "2"});
    const auto o = issue_load(server->port(), hot, "koseki_zenbu", kControlDuration, false);
    EXPECT_EQ(o.wrong, 0u) << describe(o);
    describe(o);
    EXPECT_GT(o.answered, 0u);
  }
}

TEST_F(DefectsTest, ChannelSlotSwapsWindowAndStoreRequests) {
  const auto hot = hot_set(8);
  const auto channel_of = [](unsigned w) { return std::string(w % 2 == 0 ? "konbini" : "window"); };
  {
    auto server = start({"--defect", "channel-slot"});
    const auto o =
        issue_load(server->port(), hot, "juminhyo", kDefectDuration, true, {}, channel_of);
    EXPECT_GT(o.wrong, 0u) << describe(o);
    describe(o);
  }
  {
    auto server = start({"--race-window-ms", "2"});
    const auto o =
        issue_load(server->port(), hot, "juminhyo", kControlDuration, false, {}, channel_of);
    EXPECT_EQ(o.wrong, 0u) << describe(o);
    describe(o);
    EXPECT_GT(o.answered, 0u);
  }
}

TEST_F(DefectsTest, ChannelSlotStaysQuietWithStoreRequestsOnly) {
  // The flaw needs a window and a store request at the same moment.
  const auto hot = hot_set(8);
  auto server = start({"--defect", "channel-slot"});
  const auto o = issue_load(server->port(), hot, "juminhyo", 2s, false);
  EXPECT_EQ(o.wrong, 0u) << describe(o);
  describe(o);
  EXPECT_GT(o.answered, 0u);
}

TEST_F(DefectsTest, InitOmissionPrintsColumnsNobodyAskedFor) {
  const auto hot = hot_set(8);
  const auto options_of = [](unsigned w) {
    return json{{"scope", "individual"}, {"mynumber", w % 2 == 0}, {"zokugara", w % 2 == 0}};
  };
  {
    auto server = start({"--defect", "init-omission"});
    const auto o = issue_load(server->port(), hot, "juminhyo", kDefectDuration, true, options_of);
    EXPECT_GT(o.wrong, 0u) << describe(o);
    describe(o);
  }
  {
    auto server = start({"--race-window-ms", "2"});
    const auto o = issue_load(server->port(), hot, "juminhyo", kControlDuration, false, options_of);
    EXPECT_EQ(o.wrong, 0u) << describe(o);
    describe(o);
    EXPECT_GT(o.answered, 0u);
  }
}

// Moves of the hot residents (as single changes or as reflection batches) while they are issued;
// every answer's address must be the one of the version it claims.
load_outcome torn_run(DefectsTest& t, mock_process& server, const std::vector<json>& hot,
                      bool batches, std::chrono::milliseconds duration,
                      const std::function<load_outcome(std::vector<json>*)>& issue) {
  version_book book;
  for (const auto& r : hot) book.record(r["resident_id"], 1, r["address"]["token"]);
  std::atomic<bool> done{false};
  std::thread updater([&] {
    http_client client(server.port());
    std::int64_t change_id = 0;
    const auto deadline = std::chrono::steady_clock::now() + duration;
    for (int round = 0; round < 5000 && !done && std::chrono::steady_clock::now() < deadline;
         ++round) {
      ++change_id;
      if (batches) {
        json changes = json::array();
        std::vector<std::string> tokens;
        for (const auto& r : hot) {
          tokens.push_back(
              fmt::format("M{:09}", change_id * 100 + static_cast<std::int64_t>(tokens.size())));
          changes.push_back({{"resident_id", r["resident_id"]},
                             {"change_id", change_id},
                             {"kind", "move"},
                             {"fields", move_fields(r, tokens.back())}});
        }
        auto res =
            client.post("/v1/reflection/batch",
                        {{"batch_id", fmt::format("B-{}", change_id)}, {"changes", changes}});
        if (res.status != 200) continue;
        const auto versions = res.json()["versions"];
        for (std::size_t k = 0; k < versions.size(); ++k) {
          book.record(versions[k]["resident_id"], versions[k]["version"], tokens[k]);
        }
      } else {
        for (const auto& r : hot) {
          const auto token = fmt::format("M{:09}", change_id);
          auto res = client.post(
              "/v1/residents/" + r["resident_id"].get<std::string>() + "/changes",
              {{"change_id", change_id}, {"kind", "move"}, {"fields", move_fields(r, token)}});
          if (res.status == 200) book.record(r["resident_id"], res.json()["version"], token);
        }
      }
    }
  });
  std::vector<json> answers;
  auto o = issue(&answers);
  done = true;
  updater.join();
  std::string first;
  const auto torn = count_torn(answers, book, first);
  o.wrong += torn;
  if (o.first_wrong.empty()) o.first_wrong = first;
  (void)t;
  return o;
}

TEST_F(DefectsTest, ReflectionRacePrintsNewDataUnderTheOldVersion) {
  const auto hot = hot_set(4);
  const auto duration = 3s;
  {
    auto server = start({"--defect", "reflection-race"});
    const auto o = torn_run(*this, *server, hot, true, duration, [&](std::vector<json>* answers) {
      return issue_load(server->port(), hot, "juminhyo", duration, false, {}, {}, answers);
    });
    EXPECT_GT(o.wrong, 0u) << describe(o);
    describe(o);
  }
  {
    auto server = start({"--race-window-ms", "2"});
    const auto o = torn_run(*this, *server, hot, true, duration, [&](std::vector<json>* answers) {
      return issue_load(server->port(), hot, "juminhyo", duration, false, {}, {}, answers);
    });
    EXPECT_EQ(o.wrong, 0u) << describe(o);
    describe(o);
    EXPECT_GT(o.answered, 0u);
  }
}

TEST_F(DefectsTest, NoVersionCheckMixesTwoVersions) {
  const auto hot = hot_set(4);
  const auto duration = 3s;
  {
    auto server = start({"--defect", "no-version-check"});
    const auto o = torn_run(*this, *server, hot, false, duration, [&](std::vector<json>* answers) {
      return issue_load(server->port(), hot, "juminhyo", duration, false, {}, {}, answers);
    });
    EXPECT_GT(o.wrong, 0u) << describe(o);
    describe(o);
  }
  {
    auto server = start({"--race-window-ms", "2"});
    const auto o = torn_run(*this, *server, hot, false, duration, [&](std::vector<json>* answers) {
      return issue_load(server->port(), hot, "juminhyo", duration, false, {}, {}, answers);
    });
    EXPECT_EQ(o.wrong, 0u) << describe(o);
    describe(o);
    EXPECT_GT(o.retries, 0u) << "the changes did overlap issuance";
  }
}

TEST_F(DefectsTest, CancelledSealIsCertifiedWhileTheCancellationIsReflected) {
  const auto hot = hot_set(4, [](const json& r) {
    return r["seal"].is_object() && r["seal"]["status"] == "registered";
  });
  const auto run = [&](mock_process& server, std::chrono::milliseconds duration, bool stop_first) {
    version_book seal_status;
    for (const auto& r : hot) seal_status.record(r["resident_id"], 1, "registered");
    std::atomic<bool> done{false};
    std::thread updater([&] {
      http_client client(server.port());
      const auto deadline = std::chrono::steady_clock::now() + duration;
      for (std::int64_t change_id = 1;
           change_id < 20'000 && !done && std::chrono::steady_clock::now() < deadline;
           ++change_id) {
        const std::string status = change_id % 2 == 1 ? "cancelled" : "registered";
        for (const auto& r : hot) {
          json seal = r["seal"];
          seal["status"] = status;
          auto res = client.post(
              "/v1/residents/" + r["resident_id"].get<std::string>() + "/changes",
              {{"change_id", change_id}, {"kind", "seal"}, {"fields", {{"seal", seal}}}});
          if (res.status == 200)
            seal_status.record(r["resident_id"], res.json()["version"], status);
        }
      }
    });
    std::vector<json> answers;
    auto o = issue_load(server.port(), hot, "inkan", duration, stop_first, {}, {}, &answers);
    done = true;
    updater.join();
    for (const auto& a : answers) {
      const auto& cert = a["certificate"];
      const auto status = seal_status.value(cert["subject"]["resident_id"], cert["source_version"]);
      if (status != "registered") {
        if (o.first_wrong.empty()) {
          o.first_wrong = fmt::format("{}: 印鑑登録証明書 issued for version {} whose seal is {}",
                                      a["application_number"].get<std::string>(),
                                      cert["source_version"].dump(), status.value_or("unknown"));
        }
        ++o.wrong;
      }
    }
    return o;
  };
  {
    auto server = start({"--defect", "cancelled-seal"});
    const auto o = run(*server, 4s, false);
    EXPECT_GT(o.wrong, 0u) << describe(o);
    describe(o);
  }
  {
    auto server = start({"--race-window-ms", "2"});
    const auto o = run(*server, kControlDuration, false);
    EXPECT_EQ(o.wrong, 0u) << describe(o);
    describe(o);
    EXPECT_GT(o.answered, 0u);
  }
}

TEST_F(DefectsTest, StaleIndexAfterUpdateAuthenticatesTheWrongResident) {
  const auto hot = hot_set(16);
  const auto run = [&](mock_process& server, std::chrono::milliseconds duration, bool stop_first) {
    http_client admin(server.port());
    auto m = admin.post("/v1/admin/maintenance", {{"duration_ms", 20'000}},
                        {{"Authorization", "Bearer " + kToken}});
    EXPECT_EQ(m.status, 202u) << m.body;
    std::atomic<bool> done{false};
    std::thread updater([&] {
      // Address changes during the system update, one every 20 ms, on residents outside the hot
      // set, lowest address first (a move re-sorts the table: every later row shifts).
      std::set<std::string> hot_ids;
      for (const auto& h : hot) hot_ids.insert(h["resident_id"]);
      std::vector<json> movers;
      for (const auto& r : *population_) {
        if (r["status"] == "active" && !hot_ids.contains(r["resident_id"])) movers.push_back(r);
      }
      std::sort(movers.begin(), movers.end(), [](const json& a, const json& b) {
        return a["address"]["token"] < b["address"]["token"];
      });
      http_client client(server.port());
      std::int64_t moved = 0;
      const auto deadline = std::chrono::steady_clock::now() + duration;
      for (const auto& r : movers) {
        if (done || std::chrono::steady_clock::now() >= deadline) break;
        ++moved;
        auto res = client.post("/v1/residents/" + r["resident_id"].get<std::string>() + "/changes",
                               {{"change_id", 1},
                                {"kind", "move"},
                                {"fields", move_fields(r, fmt::format("Z{:09}", moved))}});
        EXPECT_EQ(res.status, 200u) << res.body;
        std::this_thread::sleep_for(20ms);
      }
    });
    auto o = issue_load(server.port(), hot, "juminhyo", duration, stop_first);
    done = true;
    updater.join();
    return o;
  };
  {
    auto server = start({"--defect", "stale-index-after-update"});
    const auto o = run(*server, kDefectDuration, true);
    EXPECT_GT(o.wrong, 0u) << describe(o);
    describe(o);
  }
  {
    auto server = start({"--race-window-ms", "2"});
    const auto o = run(*server, kControlDuration, false);
    EXPECT_EQ(o.wrong, 0u) << describe(o);
    describe(o);
    EXPECT_GT(o.answered, 0u);
  }
}

TEST_F(DefectsTest, SpoolCollisionBetweenTwoInstancesSwapsPrintFiles) {
  const auto hot = hot_set(8);
  const auto run = [&](const std::vector<std::string>& args, std::chrono::milliseconds duration,
                       bool stop_first) {
    kofu::test::temp_dir spool;
    auto a_args = args;
    a_args.insert(a_args.end(), {"--spool-dir", spool.path().string(), "--instance", "1"});
    auto b_args = args;
    b_args.insert(b_args.end(), {"--spool-dir", spool.path().string(), "--instance", "2"});
    auto a = start(a_args);
    auto b = start(b_args);
    outcome_recorder rec;
    std::atomic<std::size_t> issued{0};
    const auto deadline = std::chrono::steady_clock::now() + duration;
    std::vector<std::thread> workers;
    for (unsigned w = 0; w < kWorkers; ++w) {
      workers.emplace_back([&, w] {
        http_client to_a(a->port()), to_b(b->port());
        for (;;) {
          const auto i = issued.fetch_add(1);
          if (i >= kMaxRequests || std::chrono::steady_clock::now() >= deadline) return;
          if (stop_first && rec.found()->load()) return;
          const auto& r = hot[i % hot.size()];
          const auto app = fmt::format("S-{}-{}", w, i);
          auto& client = (i / kWorkers) % 2 == w % 2 ? to_a : to_b;
          auto res = client.post("/v1/issue", issue_body(app, r["card_serial"]));
          rec.record(
              res, res.status == 200 ? base_problem(res.json(), app, r, "juminhyo", nullptr) : "");
        }
      });
    }
    for (auto& t : workers) t.join();
    return rec.outcome();
  };
  {
    const auto o = run({"--defect", "spool-collision"}, kDefectDuration, true);
    EXPECT_GT(o.wrong, 0u) << describe(o);
    describe(o);
  }
  {
    const auto o = run({"--race-window-ms", "2"}, kControlDuration, false);
    EXPECT_EQ(o.wrong, 0u) << describe(o);
    describe(o);
    EXPECT_GT(o.answered, 0u);
  }
}

// With one request at a time — no overlap between requests, each update finished before the next
// request — every defect stays quiet: they are races, not coin flips.
TEST_F(DefectsTest, AllDefectsStayQuietOneRequestAtATime) {
  kofu::test::temp_dir spool;
  std::vector<std::string> args;
  for (const auto* d : {"timeout-partial-release", "reflection-race", "linkage-overwrite",
                        "channel-slot", "stale-index-after-update", "init-omission",
                        "spool-collision", "cancelled-seal", "no-version-check"}) {
    args.insert(args.end(), {"--defect", d});
  }
  args.insert(args.end(), {"--spool-dir", spool.path().string()});
  auto server = start(args);
  const auto hot = hot_set(6, [](const json& r) {
    return r["seal"].is_object() && r["seal"]["status"] == "registered";
  });
  http_client client(server->port());
  outcome_recorder rec;
  const std::vector<std::string> types = {"juminhyo", "inkan", "koseki_zenbu", "kazei"};
  std::int64_t change_id = 0;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  for (std::size_t i = 0; i < 120 && std::chrono::steady_clock::now() < deadline; ++i) {
    const auto& r = hot[i % hot.size()];
    if (i % 10 == 9) {
      // A finished update between requests: a reflection batch moving this resident.
      ++change_id;
      auto res = client.post("/v1/reflection/batch",
                             {{"batch_id", fmt::format("Q-{}", i)},
                              {"changes",
                               {{{"resident_id", r["resident_id"]},
                                 {"change_id", change_id},
                                 {"kind", "move"},
                                 {"fields", move_fields(r, fmt::format("Q{:09}", i))}}}}});
      ASSERT_EQ(res.status, 200u) << res.body;
    }
    const auto& type = types[i % types.size()];
    const json options = type == "juminhyo" ? json{{"mynumber", i % 2 == 0}} : json(nullptr);
    const auto app = fmt::format("Q-{}", i);
    auto res = client.post("/v1/issue", issue_body(app, r["card_serial"], type,
                                                   i % 3 == 0 ? "window" : "konbini", options));
    rec.record(res, res.status == 200 ? base_problem(res.json(), app, r, type, options) : "");
  }
  const auto o = rec.outcome();
  EXPECT_EQ(o.wrong, 0u) << describe(o);
  describe(o);
  EXPECT_EQ(o.retries + o.refused, 0u) << describe(o);
  EXPECT_GT(o.answered, 50u);
}

// ---- The PDF print path's defects (--print-format pdf, docs/print-data.md). Answers are read
// ---- back from the PDF's text layer with poppler.

// Active members of r's household, by resident id.
std::set<std::string> household_of(const std::vector<json>& population, const json& r) {
  std::set<std::string> out;
  for (const auto& m : population) {
    if (m["household_id"] == r["household_id"] && m["status"] == "active") {
      out.insert(m["resident_id"].get<std::string>());
    }
  }
  return out;
}

// What is wrong with a PDF answer to `app`: a page that names another application, a person
// outside `members`, or a name not printed as registered; empty when nothing is.
std::string pdf_problem(const std::string& body, const std::string& app,
                        const std::vector<json>& population, const std::set<std::string>& members) {
  const auto pdf = read_pdf(body);
  if (!pdf.error.empty()) return app + ": " + pdf.error;
  if (pdf.pages.empty()) return app + ": no pages";
  for (std::size_t n = 0; n < pdf.pages.size(); ++n) {
    const auto& page = pdf.pages[n];
    if (page.value("申請番号") != app) {
      return fmt::format("{}: page {} belongs to application {}", app, n + 1,
                         page.value("申請番号").value_or("(none)"));
    }
    const auto ids = page.values("住民票コード");
    const auto names = page.values("氏名");
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (members.count(ids[i]) == 0) {
        return fmt::format("{}: page {} prints {}, not of the household", app, n + 1, ids[i]);
      }
      for (const auto& r : population) {
        if (r["resident_id"] != ids[i]) continue;
        const auto registered = r["name"]["family_kanji"].get<std::string>() + "\u3000" +
                                r["name"]["given_kanji"].get<std::string>();
        if (i >= names.size() || names[i] != registered) {
          return fmt::format("{}: page {} prints {} as {}", app, n + 1, registered,
                             i < names.size() ? names[i] : "(nothing)");
        }
      }
    }
  }
  return {};
}

// Issues juminhyo (`scope`) for hot[i % hot.size()] on `channel_of(worker)` as PDFs under
// kWorkers concurrent workers, each answer judged by pdf_problem.
load_outcome pdf_load(std::uint16_t port, const std::vector<json>& population,
                      const std::vector<json>& hot, const std::string& scope,
                      const std::function<std::string(unsigned)>& channel_of,
                      std::chrono::milliseconds duration, bool stop_at_first) {
  outcome_recorder rec;
  run_load(
      port, kWorkers, kMaxRequests, duration,
      [&](unsigned w, std::size_t i, http_client& client) {
        const auto& r = hot[i % hot.size()];
        const auto app = fmt::format("F-{}-{}", w, i);
        auto res = client.post("/v1/issue", issue_body(app, r["card_serial"], "juminhyo",
                                                       channel_of(w), {{"scope", scope}}));
        std::string problem;
        if (res.status == 200 && res.content_type != "application/pdf") {
          problem = app + ": answered " + res.content_type;
        } else if (res.status == 200) {
          const auto members = scope == "household"
                                   ? household_of(population, r)
                                   : std::set<std::string>{r["resident_id"].get<std::string>()};
          problem = pdf_problem(res.body, app, population, members);
        }
        rec.record(res, problem);
      },
      std::nullopt, stop_at_first ? rec.found() : rec.never());
  return rec.outcome();
}

TEST_F(DefectsTest, PageInterleaveMixesPagesOfConcurrentCertificates) {
  // Households of three or more print on two pages or more (two persons a page).
  const auto hot =
      hot_set(8, [](const json& r) { return household_of(*population_, r).size() >= 3; });
  const auto store = [](unsigned) { return std::string("konbini"); };
  {
    auto server = start({"--print-format", "pdf", "--defect", "page-interleave"});
    const auto o =
        pdf_load(server->port(), *population_, hot, "household", store, kDefectDuration, true);
    EXPECT_GT(o.wrong, 0u) << describe(o);
    describe(o);
    // A continuation page of another certificate; page 1 is never spooled.
    EXPECT_NE(o.first_wrong.find("belongs to application"), std::string::npos) << describe(o);
    EXPECT_EQ(o.first_wrong.find("page 1 "), std::string::npos) << describe(o);
  }
  {
    auto server = start({"--print-format", "pdf", "--race-window-ms", "2"});
    const auto o =
        pdf_load(server->port(), *population_, hot, "household", store, kControlDuration, false);
    EXPECT_EQ(o.wrong, 0u) << describe(o);
    describe(o);
    EXPECT_GT(o.answered, 0u);
  }
}

// Residents whose name a JIS X 0208-only copier cannot print as registered.
std::vector<json> gaiji_named(const std::vector<json>& population, std::size_t n) {
  std::vector<json> out;
  std::set<std::string> households;
  for (const auto& r : population) {
    if (out.size() == n) break;
    const auto family = r["name"]["family_kanji"].get<std::string>();
    if (r["status"] != "active" || fold_to_jis_x0208(family) == family) continue;
    if (!households.insert(r["household_id"].get<std::string>()).second) continue;
    out.push_back(r);
  }
  if (out.size() < 2) throw std::runtime_error("population has too few gaiji names");
  return out;
}

TEST_F(DefectsTest, FontFallbackPrintsJisSubstitutesOnTheStoreChannel) {
  const auto hot = gaiji_named(*population_, 8);
  const auto mixed = [](unsigned w) { return std::string(w % 2 == 0 ? "konbini" : "window"); };
  {
    auto server = start({"--print-format", "pdf", "--defect", "font-fallback"});
    const auto o =
        pdf_load(server->port(), *population_, hot, "individual", mixed, kDefectDuration, true);
    EXPECT_GT(o.wrong, 0u) << describe(o);
    describe(o);
    // The victim is a store request (even worker), its name folded.
    EXPECT_EQ(o.first_wrong.rfind("F-", 0), 0u);
    const auto worker = std::stoul(o.first_wrong.substr(2));
    EXPECT_EQ(worker % 2, 0u) << describe(o);
  }
  {
    auto server = start({"--print-format", "pdf", "--race-window-ms", "2"});
    const auto o =
        pdf_load(server->port(), *population_, hot, "individual", mixed, kControlDuration, false);
    EXPECT_EQ(o.wrong, 0u) << describe(o);
    describe(o);
    EXPECT_GT(o.answered, 0u);
  }
}

TEST_F(DefectsTest, FontFallbackStaysQuietWithStoreRequestsOnly) {
  // The flaw needs an office job ending while a store job lays out its text.
  const auto hot = gaiji_named(*population_, 8);
  auto server = start({"--print-format", "pdf", "--defect", "font-fallback"});
  const auto o = pdf_load(
      server->port(), *population_, hot, "individual",
      [](unsigned) { return std::string("konbini"); }, 2s, false);
  EXPECT_EQ(o.wrong, 0u) << describe(o);
  describe(o);
  EXPECT_GT(o.answered, 0u);
}

TEST_F(DefectsTest, PrintDefectsStayQuietOneRequestAtATime) {
  auto server =
      start({"--print-format", "pdf", "--defect", "page-interleave", "--defect", "font-fallback"});
  auto hot = gaiji_named(*population_, 3);
  for (const auto& r :
       hot_set(3, [](const json& r) { return household_of(*population_, r).size() >= 3; })) {
    hot.push_back(r);
  }
  http_client client(server->port());
  outcome_recorder rec;
  for (std::size_t i = 0; i < 40; ++i) {
    const auto& r = hot[i % hot.size()];
    const auto app = fmt::format("Q-{}", i);
    auto res = client.post("/v1/issue",
                           issue_body(app, r["card_serial"], "juminhyo",
                                      i % 2 == 0 ? "konbini" : "window", {{"scope", "household"}}));
    rec.record(res, res.status == 200
                        ? pdf_problem(res.body, app, *population_, household_of(*population_, r))
                        : "");
  }
  const auto o = rec.outcome();
  EXPECT_EQ(o.wrong, 0u) << describe(o);
  EXPECT_EQ(o.answered, 40u) << describe(o);
}

}  // namespace
}  // namespace kofu::mock::test
