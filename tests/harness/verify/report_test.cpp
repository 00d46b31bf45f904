#include "kofu/verify/report.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "kofu/common/sha256.hpp"
#include "kofu/history/writer.hpp"
#include "kofu/population/generator.hpp"
#include "kofu/population/reader.hpp"
#include "test_support.hpp"
#include "verify_fixture.hpp"

namespace kofu::verify {
namespace {

using population::resident;
using test::json;

// A run folder with a generated population and a hand-written history: one clean answer, one
// other resident's certificate (a swap half), an update, a 409, and a request never answered.
struct run_folder {
  kofu::test::temp_dir dir;
  std::vector<resident> pop;
  std::vector<json> events;

  run_folder() {
    const auto summary = population::generate_file({50, 5, 0.05}, dir / "population.jsonl");
    EXPECT_TRUE(summary.has_value());
    pop = population::load_file(dir / "population.jsonl").value();
    events.push_back(
        {{"type", "header"},
         {"format", "kofu-history/1"},
         {"kofu_version", "0.1.0"},
         {"scenario",
          {{"verification", {{"staleness_ms", 0}}},
           {"thresholds", {{"min_overlapping_requests", 1}}}}},
         {"scenario_sha256", std::string(64, 'a')},
         {"population",
          {{"path", "population.jsonl"}, {"sha256", summary->sha256}, {"residents", 50}}},
         {"seed", 5}});
  }

  json invoke(std::uint64_t id, std::int64_t t, const resident& r, std::uint32_t worker = 0) {
    return {
        {"type", "invoke"},
        {"op", "issue"},
        {"id", id},
        {"t", t},
        {"intended", t},
        {"worker", worker},
        {"conn", id},
        {"application_number", app(id)},
        {"resident_id", r.resident_id},
        {"card_serial", r.card_serial},
        {"certificate_type", "juminhyo"},
        {"channel", "konbini"},
        {"options",
         {{"scope", "individual"}, {"honseki", false}, {"zokugara", false}, {"mynumber", false}}}};
  }
  json complete(std::uint64_t id, std::int64_t t, const resident& printed) {
    std::string head;
    for (const auto& x : pop) {
      if (x.household_id == printed.household_id && x.relationship == "世帯主") {
        head = x.name.full_kanji();
      }
    }
    return {{"type", "complete"},
            {"op", "issue"},
            {"id", id},
            {"t", t},
            {"status", 200},
            {"outcome", "ok"},
            {"body", test::render(app(id), "juminhyo", {}, printed, {printed}, head,
                                  "C-1-" + std::to_string(id))}};
  }
  static std::string app(std::uint64_t id) { return "KOFU-000001-" + std::to_string(id); }

  void standard_history() {
    const resident& a = pop[0];
    const resident& b = pop[pop.size() - 1];
    events.push_back(invoke(1, 1'000'000, a));
    events.push_back(invoke(2, 1'100'000, b, 1));
    events.push_back(complete(1, 2'000'000, a));
    events.push_back(complete(2, 2'100'000, a));  // b received a's certificate
    resident moved = b;
    moved.address.token = "B000000001";
    moved.address.building = "試験荘 B000000001";
    events.push_back(
        {{"type", "invoke"},
         {"op", "update"},
         {"id", 3},
         {"t", 3'000'000},
         {"resident_id", b.resident_id},
         {"change_id", 2},
         {"version", 2},
         {"kind", "move"},
         {"fields",
          {{"address", test::address_json(moved.address)}, {"moved_in_date", "2026-11-22"}}}});
    events.push_back(invoke(4, 3'100'000, b));
    events.push_back({{"type", "complete"},
                      {"op", "update"},
                      {"id", 3},
                      {"t", 3'200'000},
                      {"status", 200},
                      {"outcome", "ok"},
                      {"version", 2}});
    events.push_back({{"type", "complete"},
                      {"op", "issue"},
                      {"id", 4},
                      {"t", 3'300'000},
                      {"status", 409},
                      {"outcome", "retry"}});
    events.push_back(invoke(5, 4'000'000, a));
  }

  void write(const std::string& tail = {}) {
    std::string text;
    for (const auto& e : events) text += e.dump() + "\n";
    text += tail;
    kofu::test::write_file(dir / "history.jsonl", text);
  }
};

TEST(VerifyDirectoryTest, WritesStableReportKeys) {
  run_folder run;
  run.standard_history();
  run.write();
  auto result = verify_directory(run.dir.path());
  ASSERT_TRUE(result.has_value()) << result.error().message;
  const json& r = result->report;
  EXPECT_EQ(r["verdict"], "fail");
  EXPECT_EQ(r["answered"], 2);
  EXPECT_EQ(r["findings_by_kind"]["WRONG_PERSON"], 1);
  EXPECT_EQ(r["findings_by_kind"].size(), finding_kind_count);
  ASSERT_EQ(r["findings"].size(), 1u);
  const json& f = r["findings"][0];
  EXPECT_EQ(f["kind"], "WRONG_PERSON");
  EXPECT_EQ(f["application_number"], run_folder::app(2));
  EXPECT_EQ(f["requested_resident"], run.pop.back().resident_id);
  EXPECT_EQ(f["victim_resident"], run.pop.front().resident_id);
  EXPECT_EQ(f["victim_request"]["id"], 1);
  EXPECT_TRUE(f["evidence"].contains("answer"));
  EXPECT_TRUE(f["evidence"].contains("expected_versions"));
  EXPECT_FALSE(f["explanation"]["ja"].get<std::string>().empty());
  EXPECT_EQ(r["exposure"]["overlapped_other_resident"], 2);
  EXPECT_EQ(r["exposure"]["overlapped_own_update"], 1);
  EXPECT_EQ(r["exposure"]["overlapped_own_update_retry"], 1);
  EXPECT_EQ(r["outcomes"]["unanswered"], 1);
  EXPECT_TRUE(r["upper_bound_95"].is_number());
  EXPECT_TRUE(r["latency_ms"].contains("p99"));
  ASSERT_FALSE(r["thresholds"].empty());
  EXPECT_TRUE(r["thresholds"][0].contains("name"));
  EXPECT_TRUE(r["thresholds"][0].contains("passed"));
  EXPECT_EQ(r["leak_graph"]["edges"].size(), 1u);
  EXPECT_FALSE(r["history"]["complete"].get<bool>());

  ASSERT_TRUE(write_report(run.dir.path(), r).has_value());
  EXPECT_EQ(json::parse(kofu::test::read_file(run.dir / "report.json")), r);
  EXPECT_NE(summary_text(r).find("WRONG_PERSON=1"), std::string::npos);
}

TEST(VerifyDirectoryTest, OnlineFeedGivesTheOfflineFindings) {
  run_folder run;
  run.standard_history();
  run.events.push_back({{"type", "footer"}, {"t", 5'000'000}, {"reason", "completed"}});
  run.write();
  // Online: the events as the driver produces them, fed one by one while the "run" goes on.
  checker online(resident_model(run.pop), options_from_header(run.events[0]));
  std::size_t seen = 0;
  std::size_t findings_while_running = 0;
  for (std::size_t i = 1; i < run.events.size(); ++i) {
    ASSERT_TRUE(feed_history_line(online, run.events[i].dump(), "online").has_value());
    findings_while_running += online.findings().subspan(seen).size();
    seen = online.findings().size();
  }
  online.finish();
  auto offline = verify_directory(run.dir.path());
  ASSERT_TRUE(offline.has_value()) << offline.error().message;
  const json online_report = make_report(online, offline->info);
  EXPECT_EQ(online_report["findings"], offline->report["findings"]);
  EXPECT_EQ(online_report, offline->report);
  EXPECT_EQ(findings_while_running, 1u);  // reported before the end, not only at finish()
  EXPECT_TRUE(offline->report["history"]["complete"].get<bool>());
}

TEST(VerifyDirectoryTest, KilledRunWithTruncatedLastLineIsVerified) {
  run_folder run;
  run.standard_history();
  run.write(R"({"type":"complete","op":"issue","id":5,"t":4)");
  auto result = verify_directory(run.dir.path());
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_TRUE(result->report["history"]["truncated_last_line"].get<bool>());
  EXPECT_EQ(result->report["outcomes"]["unanswered"], 1);
}

// A compressed history (history.jsonl.zst, written by the real history writer) verifies exactly
// like the plain one; one cut short by a kill still verifies; corrupt data is an error.
TEST(VerifyDirectoryTest, CompressedHistoryVerifiesLikeThePlainOne) {
  run_folder plain;
  plain.standard_history();
  plain.write();
  auto expected = verify_directory(plain.dir.path());
  ASSERT_TRUE(expected.has_value()) << expected.error().message;

  run_folder packed;
  packed.standard_history();
  std::uintmax_t first_flush = 0;
  {
    auto w = kofu::history::writer::open(
        {packed.dir / "history.jsonl.zst", true, std::chrono::milliseconds(20)});
    ASSERT_TRUE(w.has_value()) << w.error().message;
    const std::size_t half = packed.events.size() / 2;
    for (std::size_t part = 0; part < 2; ++part) {
      std::string lines;
      for (std::size_t i = part == 0 ? 0 : half; i < (part == 0 ? half : packed.events.size());
           ++i) {
        lines += packed.events[i].dump() + "\n";
      }
      (*w)->submit(std::move(lines));
      if (part == 0) {
        // Wait (bounded) for the writer's flush of the first half.
        for (int i = 0; i < 200 && first_flush == 0; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
          first_flush = std::filesystem::file_size(packed.dir / "history.jsonl.zst");
        }
      }
    }
    ASSERT_TRUE((*w)->close().has_value());
  }
  ASSERT_GT(first_flush, 0u);
  ASSERT_FALSE(std::filesystem::exists(packed.dir / "history.jsonl"));
  auto got = verify_directory(packed.dir.path());
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_EQ(got->report["findings"], expected->report["findings"]);
  EXPECT_EQ(got->report["outcomes"], expected->report["outcomes"]);
  EXPECT_EQ(got->report["verdict"], expected->report["verdict"]);

  // Killed after the first flush, inside the next block: what was flushed is verified.
  const std::string bytes = kofu::test::read_file(packed.dir / "history.jsonl.zst");
  ASSERT_LT(first_flush + 3, bytes.size());
  kofu::test::write_file(packed.dir / "history.jsonl.zst", bytes.substr(0, first_flush + 3));
  auto killed = verify_directory(packed.dir.path());
  ASSERT_TRUE(killed.has_value()) << killed.error().message;
  EXPECT_FALSE(killed->report["history"]["complete"].get<bool>());
  EXPECT_LT(killed->report["history"]["lines"].get<int>(),
            got->report["history"]["lines"].get<int>());

  // Corrupt: bytes in the middle of the frame replaced.
  std::string broken = bytes;
  for (std::size_t i = 20; i < 40 && i < broken.size(); ++i) broken[i] = '\xff';
  kofu::test::write_file(packed.dir / "history.jsonl.zst", broken);
  auto bad = verify_directory(packed.dir.path());
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("history.jsonl.zst"), std::string::npos)
      << bad.error().message;
}

TEST(VerifyDirectoryTest, RejectsBadInput) {
  struct bad_case {
    const char* name;
    std::function<void(run_folder&)> make;
    const char* message_part;
  };
  const bad_case cases[] = {
      {"no history", [](run_folder&) {}, "history.jsonl"},
      {"malformed line in the middle",
       [](run_folder& r) {
         r.standard_history();
         r.write();
         std::string text = kofu::test::read_file(r.dir / "history.jsonl");
         text.insert(text.find('\n') + 1, "{not json\n");
         kofu::test::write_file(r.dir / "history.jsonl", text);
       },
       ":2:"},
      {"population digest differs",
       [](run_folder& r) {
         r.events[0]["population"]["sha256"] = std::string(64, '0');
         r.write();
       },
       "SHA-256"},
      {"first line not a header",
       [](run_folder& r) {
         r.standard_history();
         r.events.erase(r.events.begin());
         r.write();
       },
       "header"},
  };
  for (const auto& c : cases) {
    run_folder run;
    c.make(run);
    auto result = verify_directory(run.dir.path());
    ASSERT_FALSE(result.has_value()) << c.name;
    EXPECT_NE(result.error().message.find(c.message_part), std::string::npos)
        << c.name << ": " << result.error().message;
  }
}

}  // namespace
}  // namespace kofu::verify
