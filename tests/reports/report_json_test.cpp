#include "kofu/reports/report_json.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <sstream>
#include <streambuf>
#include <thread>
#include <type_traits>
#include <vector>

#include <zstd.h>

#include "../harness/verify/verify_fixture.hpp"
#include "kofu/common/sha256.hpp"
#include "kofu/history/chain.hpp"
#include "kofu/history/writer.hpp"
#include "kofu/population/generator.hpp"
#include "kofu/population/reader.hpp"
#include "kofu/reports/summary_text.hpp"
#include "kofu/verify/replay.hpp"
#include "test_support.hpp"

namespace kofu::verify {
namespace {

using population::resident;
using reports::bound_evidence;
using reports::make_report;
using reports::max_answer_evidence_bytes;
using reports::max_evidence_items;
using reports::max_evidence_string_bytes;
using reports::report_directory;
using reports::summary_text;
using reports::verify_result;
using reports::write_report;
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

  // After standard_history(): `requests` more juminhyo requests, up to 4 in flight; every 97th
  // is answered with the certificate of the resident next in the population (WRONG_PERSON).
  // Returns how many were so misanswered.
  std::uint64_t many_requests(std::uint64_t requests) {
    std::uint64_t wrong = 0;
    std::int64_t t = 10'000'000;
    struct open_request {
      std::uint64_t id;
      std::size_t printed;
    };
    std::deque<open_request> open;
    const std::size_t residents = pop.size() - 1;  // not the last one: it moved
    for (std::uint64_t i = 0; i < requests; ++i) {
      const std::uint64_t id = 100 + i;
      const std::size_t r = static_cast<std::size_t>(i % residents);
      t += 100'000;
      events.push_back(invoke(id, t, pop[r], static_cast<std::uint32_t>(i % 3)));
      std::size_t printed = r;
      if (i % 97 == 50) {
        printed = (r + 1) % residents;
        ++wrong;
      }
      open.push_back({id, printed});
      if (open.size() == 4) {
        t += 100'000;
        events.push_back(complete(open.front().id, t, pop[open.front().printed]));
        open.pop_front();
      }
    }
    for (const auto& o : open) {
      t += 100'000;
      events.push_back(complete(o.id, t, pop[o.printed]));
    }
    return wrong;
  }

  std::string text(const std::string& tail = {}) const {
    std::string out;
    for (const auto& e : events) out += e.dump() + "\n";
    out += tail;
    return out;
  }

  void write(const std::string& tail = {}) {
    kofu::test::write_file(dir / "history.jsonl", text(tail));
  }
};

TEST(VerifyDirectoryTest, WritesStableReportKeys) {
  run_folder run;
  run.standard_history();
  run.write();
  auto result = report_directory(run.dir.path());
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
  auto offline = report_directory(run.dir.path());
  ASSERT_TRUE(offline.has_value()) << offline.error().message;
  const json online_report = make_report(online, offline->info);
  EXPECT_EQ(online_report["findings"], offline->report["findings"]);
  // The timeline (and `phases`, taken from it) is made only by the offline replay
  // (verify_directory); the rest is the same.
  json offline_report = offline->report;
  ASSERT_TRUE(offline_report.contains("timeline"));
  EXPECT_EQ(offline_report["timeline"]["buckets"].size(), 1u);
  EXPECT_EQ(offline_report["phases"], offline_report["timeline"]["phases"]);
  offline_report.erase("timeline");
  offline_report.erase("phases");
  EXPECT_EQ(online_report, offline_report);
  EXPECT_EQ(findings_while_running, 1u);  // reported before the end, not only at finish()
  EXPECT_TRUE(offline->report["history"]["complete"].get<bool>());
}

TEST(VerifyDirectoryTest, KilledRunWithTruncatedLastLineIsVerified) {
  run_folder run;
  run.standard_history();
  run.write(R"({"type":"complete","op":"issue","id":5,"t":4)");
  auto result = report_directory(run.dir.path());
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
  auto expected = report_directory(plain.dir.path());
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
  auto got = report_directory(packed.dir.path());
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_EQ(got->report["findings"], expected->report["findings"]);
  EXPECT_EQ(got->report["outcomes"], expected->report["outcomes"]);
  EXPECT_EQ(got->report["verdict"], expected->report["verdict"]);

  // Killed after the first flush, inside the next block: what was flushed is verified.
  const std::string bytes = kofu::test::read_file(packed.dir / "history.jsonl.zst");
  ASSERT_LT(first_flush + 3, bytes.size());
  kofu::test::write_file(packed.dir / "history.jsonl.zst", bytes.substr(0, first_flush + 3));
  auto killed = report_directory(packed.dir.path());
  ASSERT_TRUE(killed.has_value()) << killed.error().message;
  EXPECT_FALSE(killed->report["history"]["complete"].get<bool>());
  EXPECT_LT(killed->report["history"]["lines"].get<int>(),
            got->report["history"]["lines"].get<int>());

  // Corrupt: bytes in the middle of the frame replaced.
  std::string broken = bytes;
  for (std::size_t i = 20; i < 40 && i < broken.size(); ++i) broken[i] = '\xff';
  kofu::test::write_file(packed.dir / "history.jsonl.zst", broken);
  auto bad = report_directory(packed.dir.path());
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
    auto result = report_directory(run.dir.path());
    ASSERT_FALSE(result.has_value()) << c.name;
    EXPECT_NE(result.error().message.find(c.message_part), std::string::npos)
        << c.name << ": " << result.error().message;
  }
}

// ---- History integrity (issue 15 item 5) ---------------------------------------------------

// The run's events as the history writer writes them: blocks of `per_block` lines, each followed
// by its chain line; with `seal_last` false the last block stays unsealed (a killed run).
std::vector<std::string> sealed_lines(const run_folder& run, std::size_t per_block,
                                      bool seal_last = true) {
  kofu::history::chain_sealer sealer;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < run.events.size(); ++i) {
    const std::string line = run.events[i].dump();
    sealer.add(line + "\n");
    out.push_back(line);
    const bool last = i + 1 == run.events.size();
    if ((i + 1) % per_block == 0 || last) {
      if (!last || seal_last) out.push_back(sealer.seal());
    }
  }
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// A clean history (no finding) with a footer: `n` requests, each answered correctly.
void make_clean(run_folder& run, std::uint64_t n) {
  run.many_requests(n);  // fewer than 50: none misanswered
  run.events.push_back({{"type", "footer"}, {"t", 999'000'000}, {"reason", "completed"}});
}

result<verify_result> verify_text(const run_folder& run, const std::vector<std::string>& lines,
                                  const replay_options& how = {}) {
  kofu::test::write_file(run.dir / "history.jsonl", joined(lines));
  return report_directory(run.dir.path(), how);
}

TEST(HistoryIntegrityTest, SealedHistoryIsIntactAndVerifiesAsBefore) {
  run_folder run;
  run.standard_history();
  run.many_requests(300);
  run.events.push_back({{"type", "footer"}, {"t", 999'000'000}, {"reason", "completed"}});
  run.write();
  auto unsealed = report_directory(run.dir.path());
  ASSERT_TRUE(unsealed.has_value()) << unsealed.error().message;
  EXPECT_EQ(unsealed->report["history_integrity"]["status"], "unchained");
  for (unsigned threads : {1u, 3u}) {
    auto sealed = verify_text(run, sealed_lines(run, 17), replay_options{threads});
    ASSERT_TRUE(sealed.has_value()) << sealed.error().message;
    const json& h = sealed->report["history_integrity"];
    EXPECT_EQ(h["status"], "intact") << threads;
    EXPECT_GT(h["sealed_blocks"].get<int>(), 10) << threads;
    EXPECT_EQ(h["chain_head"].get<std::string>().size(), 64u);
    EXPECT_EQ(sealed->report["findings"], unsealed->report["findings"]);
    EXPECT_EQ(sealed->report["verdict"], unsealed->report["verdict"]);
    EXPECT_NE(summary_text(sealed->report).find("intact"), std::string::npos);
  }
}

// One garbage line in the middle: named with its line number, everything else still verified,
// the verdict `unknown` (it was `pass`).
TEST(HistoryIntegrityTest, GarbageLineIsReportedAndTheRestVerified) {
  run_folder run;
  make_clean(run, 40);
  auto lines = sealed_lines(run, 10);
  auto clean = verify_text(run, lines);
  ASSERT_TRUE(clean.has_value()) << clean.error().message;
  ASSERT_EQ(clean->report["verdict"], "pass");
  const std::size_t at = lines.size() / 2;
  lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), "\x01garbage{{{");
  for (const auto& how : {replay_options{1}, replay_options{3, 5}}) {
    kofu::test::write_file(run.dir / "history.jsonl", joined(lines));
    auto got = report_directory(run.dir.path(), how);
    ASSERT_TRUE(got.has_value()) << got.error().message;
    const json& r = got->report;
    EXPECT_EQ(r["verdict"], "unknown");
    const json& h = r["history_integrity"];
    EXPECT_EQ(h["status"], "broken");
    ASSERT_EQ(h["corrupt_lines"].size(), 1u);
    EXPECT_EQ(h["corrupt_lines"][0]["first_line"], at + 1);
    ASSERT_EQ(h["broken_blocks"].size(), 1u);
    EXPECT_LE(h["broken_blocks"][0]["first_line"].get<std::size_t>(), at + 1);
    EXPECT_GE(h["broken_blocks"][0]["last_line"].get<std::size_t>(), at + 1);
    EXPECT_EQ(r["answered"], clean->report["answered"]);  // the rest is verified
    EXPECT_GT(h["requests_set_aside"].get<int>(), 0);
    const std::string text = summary_text(r);
    EXPECT_NE(text.find("BROKEN"), std::string::npos) << text;
    EXPECT_NE(text.find("lines " + std::to_string(at + 1)), std::string::npos) << text;
  }
}

// A valid-JSON edit of an answer is a changed file, not the server's fault: no DIGEST_INVALID,
// the request set aside, the verdict `unknown`. Plain and compressed.
TEST(HistoryIntegrityTest, EditedAnswerIsTamperingNotAServerFinding) {
  run_folder run;
  make_clean(run, 40);
  auto lines = sealed_lines(run, 10);
  std::size_t edited = 0;
  for (std::size_t i = 0; i < lines.size() && edited == 0; ++i) {
    if (lines[i].find(R"("type":"complete")") == std::string::npos) continue;
    json e = json::parse(lines[i]);
    std::string& family =
        e["body"]["certificate"]["persons"][0]["name"]["family_kanji"].get_ref<std::string&>();
    family = family == "高橋" ? "髙橋" : "高橋";
    lines[i] = e.dump();
    edited = i + 1;
  }
  ASSERT_GT(edited, 0u);
  // Without its seal the same edit reads as the server's fault: what the chain is for.
  std::vector<std::string> no_chain;
  for (const auto& l : lines) {
    if (!kofu::history::is_chain_line(l)) no_chain.push_back(l);
  }
  auto blamed = verify_text(run, no_chain);
  ASSERT_TRUE(blamed.has_value()) << blamed.error().message;
  EXPECT_GT(blamed->report["findings_by_kind"]["DIGEST_INVALID"].get<int>(), 0);

  for (const bool compress : {false, true}) {
    std::filesystem::remove(run.dir / "history.jsonl");
    std::filesystem::remove(run.dir / "history.jsonl.zst");
    const std::string text = joined(lines);
    if (compress) {
      std::string packed(ZSTD_compressBound(text.size()), '\0');
      const std::size_t n =
          ZSTD_compress(packed.data(), packed.size(), text.data(), text.size(), 3);
      ASSERT_FALSE(ZSTD_isError(n));
      packed.resize(n);
      kofu::test::write_file(run.dir / "history.jsonl.zst", packed);
    } else {
      kofu::test::write_file(run.dir / "history.jsonl", text);
    }
    auto got = report_directory(run.dir.path());
    ASSERT_TRUE(got.has_value()) << got.error().message;
    const json& r = got->report;
    EXPECT_EQ(r["verdict"], "unknown") << compress;
    EXPECT_EQ(r["findings_by_kind"]["DIGEST_INVALID"], 0) << compress;
    EXPECT_EQ(r["findings_by_kind"]["PHANTOM"], 0) << compress;
    EXPECT_TRUE(r["findings"].empty()) << r["findings"].dump();
    const json& h = r["history_integrity"];
    EXPECT_EQ(h["status"], "broken");
    EXPECT_TRUE(h["corrupt_lines"].empty());
    ASSERT_EQ(h["broken_blocks"].size(), 1u);
    EXPECT_LE(h["broken_blocks"][0]["first_line"].get<std::size_t>(), edited);
    EXPECT_GE(h["broken_blocks"][0]["last_line"].get<std::size_t>(), edited);
    EXPECT_GT(h["findings_set_aside"].get<int>(), 0);
  }
}

TEST(HistoryIntegrityTest, KilledRunVerifiesAndSaysTheTailIsUnsealed) {
  run_folder run;
  make_clean(run, 40);
  run.events.pop_back();  // no footer
  auto got = verify_text(run, sealed_lines(run, 10, false));
  ASSERT_TRUE(got.has_value()) << got.error().message;
  const json& h = got->report["history_integrity"];
  EXPECT_EQ(h["status"], "unsealed_tail");
  ASSERT_TRUE(h["unsealed_tail"].is_object());
  EXPECT_GT(h["unsealed_tail"]["first_line"].get<int>(), 1);
  // A killed run is not a changed file: its verdict is `unknown` for the missing footer alone
  // (run_completed), not for the unsealed tail.
  EXPECT_EQ(got->report["verdict"], "unknown");
  std::vector<std::string> failed;
  for (const auto& t : got->report["thresholds"]) {
    if (!t.value("passed", true)) failed.push_back(t.value("name", "?"));
  }
  EXPECT_EQ(failed, std::vector<std::string>{"run_completed"}) << got->report["thresholds"].dump();
  EXPECT_NE(summary_text(got->report).find("unsealed"), std::string::npos);
}

// A line nested 100,000 deep (written by an older kofu from a hostile answer, or planted) is a
// corrupt line, never a crash; the same answer text decodes as MALFORMED.
TEST(HistoryIntegrityTest, DeeplyNestedLineIsCorruptNotACrash) {
  run_folder run;
  make_clean(run, 10);
  auto lines = sealed_lines(run, 100);
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  lines.insert(
      lines.begin() + 3,
      R"({"type":"complete","op":"issue","id":7,"t":5,"status":200,"outcome":"ok","body":)" + deep +
          "}");
  auto got = verify_text(run, lines);
  ASSERT_TRUE(got.has_value()) << got.error().message;
  const json& h = got->report["history_integrity"];
  ASSERT_EQ(h["corrupt_lines"].size(), 1u);
  EXPECT_NE(h["corrupt_lines"][0]["reason"].get<std::string>().find("nested deeper"),
            std::string::npos);
  EXPECT_EQ(got->report["verdict"], "unknown");
  const auto answer = decode_answer_text(deep);
  ASSERT_TRUE(answer.malformed.has_value());
  EXPECT_NE(answer.malformed->find("deeper than 64"), std::string::npos);
  // Found by fuzz_answer (UBSan): a 19-digit integer overflowed the strict reader's accumulator.
  const auto long_number = decode_answer_text(R"({"application_number":5555555555555555555555})");
  EXPECT_TRUE(long_number.malformed.has_value());
}

// Evidence in a report is bounded whatever the answer's size.
TEST(HistoryIntegrityTest, EvidenceIsBoundedWithSizeAndDigest) {
  json f = {{"kind", "MALFORMED"},
            {"explanation", {{"en", std::string(100000, 'x')}}},
            {"evidence",
             {{"answer", {{"blob", std::string(300000, 'a')}}},
              {"diff", json::array()},
              {"detail", std::string(10000, 'd')}}}};
  for (int i = 0; i < 1000; ++i) f["evidence"]["diff"].push_back(i);
  bound_evidence(f);
  EXPECT_LT(f.dump().size(), 30000u);
  EXPECT_EQ(f["evidence"]["answer"]["truncated"], true);
  EXPECT_GT(f["evidence"]["answer"]["size"].get<int>(), 300000);
  EXPECT_EQ(f["evidence"]["answer"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_NE(f["explanation"]["en"].get<std::string>().find("100000 bytes"), std::string::npos);
}

// The thread and batch settings every parallel test runs under: the plain loop, then workers
// with batches of one line, of a few lines (boundaries fall everywhere), by bytes, and the
// defaults. The first is the reference the others must match.
std::vector<replay_options> replay_settings() {
  return {
      {1, 4096, 1u << 20},  // sequential
      {2, 1, 1u << 20},     // one worker, one line a batch
      {3, 3, 1u << 20},     // two workers, three lines a batch
      {4, 1000, 700},       // three workers, batches of ~700 bytes
      {5, 4096, 1u << 20},  // four workers, default batches
  };
}

std::string describe(const replay_options& how) {
  return "threads=" + std::to_string(how.threads) +
         " batch_lines=" + std::to_string(how.batch_lines) +
         " batch_bytes=" + std::to_string(how.batch_bytes);
}

// One replay of `text` into a fresh checker, as verify_directory does (header on line 1 of the
// text, so first_line 1), and what it gave.
struct replay_outcome {
  bool ok = false;
  history_read_info info;
  error failure;
  std::string report;  // make_report(...).dump() when ok
};

replay_outcome replay_text(const run_folder& run, const std::string& text,
                           const replay_options& how) {
  checker c(resident_model(run.pop), options_from_header(run.events[0]));
  std::istringstream in(text);
  auto got = replay_history(in, "h.jsonl", c, 1, how);
  replay_outcome out;
  out.ok = got.has_value();
  if (!got) {
    out.failure = got.error();
    return out;
  }
  out.info = *got;
  c.finish();
  out.report = make_report(c, out.info).dump();
  return out;
}

TEST(ReplayHistoryTest, ParallelReplayGivesTheSequentialReport) {
  run_folder run;
  run.standard_history();
  const std::uint64_t wrong = run.many_requests(2000);
  run.events.push_back({{"type", "footer"}, {"t", 999'000'000}, {"reason", "completed"}});
  const std::string text = run.text();
  const auto settings = replay_settings();
  const replay_outcome reference = replay_text(run, text, settings[0]);
  ASSERT_TRUE(reference.ok) << reference.failure.message;
  ASSERT_GT(reference.info.lines, 4000u);
  EXPECT_EQ(reference.info.lines, run.events.size());
  const json r = json::parse(reference.report);
  EXPECT_EQ(r["findings_by_kind"]["WRONG_PERSON"], wrong + 1);
  EXPECT_EQ(r["findings"].size(), wrong + 1);
  EXPECT_EQ(r["answered"], 2002);
  EXPECT_TRUE(reference.info.has_footer);
  for (const auto& how : settings) {
    const replay_outcome got = replay_text(run, text, how);
    ASSERT_TRUE(got.ok) << describe(how) << ": " << got.failure.message;
    EXPECT_EQ(got.report, reference.report) << describe(how);
    EXPECT_EQ(got.info.lines, reference.info.lines) << describe(how);
    EXPECT_EQ(got.info.header, run.events[0]) << describe(how);
    EXPECT_TRUE(got.info.has_footer) << describe(how);
    EXPECT_FALSE(got.info.truncated_last_line) << describe(how);
  }

  // The sink overload sees the same events in the same order.
  const auto trace = [&](const replay_options& how) {
    std::vector<std::string> seen;
    std::istringstream in(text);
    auto got = replay_history(
        in, "h.jsonl",
        [&](const history_event& e) {
          std::visit(
              [&](const auto& x) {
                using T = std::decay_t<decltype(x)>;
                std::string s = std::to_string(e.index());
                if constexpr (requires { x.id; }) s += "/" + std::to_string(x.id);
                if constexpr (requires { x.t; }) s += "@" + std::to_string(x.t);
                if constexpr (std::is_same_v<T, issue_complete>) {
                  if (x.answer) s += "#" + x.answer->digest_computed + x.answer->body_json;
                }
                seen.push_back(std::move(s));
              },
              e);
        },
        1, how);
    EXPECT_TRUE(got.has_value()) << describe(how);
    return seen;
  };
  const auto expected = trace(settings[0]);
  EXPECT_EQ(expected.size(), run.events.size());
  for (const auto& how : settings) EXPECT_EQ(trace(how), expected) << describe(how);
}

TEST(ReplayHistoryTest, VerifyDirectoryGivesTheSameReportWithAnyThreads) {
  run_folder run;
  run.standard_history();
  run.many_requests(600);
  run.write();
  auto one = report_directory(run.dir.path(), {1, 4096, 1u << 20});
  ASSERT_TRUE(one.has_value()) << one.error().message;
  EXPECT_GT(one->report["findings"].size(), 1u);
  // The same history compressed: the workers read through the zstd stream.
  run_folder packed;
  packed.events = run.events;
  {
    auto w = kofu::history::writer::open({packed.dir / "history.jsonl.zst", true});
    ASSERT_TRUE(w.has_value()) << w.error().message;
    (*w)->submit(run.text());
    ASSERT_TRUE((*w)->close().has_value());
  }
  for (const auto& how : replay_settings()) {
    for (const auto* folder : {&run, &packed}) {
      auto got = report_directory(folder->dir.path(), how);
      ASSERT_TRUE(got.has_value()) << describe(how) << ": " << got.error().message;
      json expected = one->report;
      json report = got->report;
      if (folder == &packed) {
        // The writer seals what it writes: one chain line more, and an intact chain.
        EXPECT_EQ(report["history_integrity"]["status"], "intact") << describe(how);
        EXPECT_EQ(got->info.lines, one->info.lines + 1) << describe(how);
        for (json* r : {&expected, &report}) {
          r->erase("history_integrity");
          (*r)["history"].erase("lines");
        }
      } else {
        EXPECT_EQ(got->info.lines, one->info.lines) << describe(how);
      }
      EXPECT_EQ(report.dump(), expected.dump()) << describe(how);
    }
  }
}

// The line rules, table-driven, under every thread and batch setting: each case gives the text
// after the header and what the replay must say.
TEST(ReplayHistoryTest, LineRulesHoldUnderEveryThreadCount) {
  run_folder run;
  run.standard_history();
  run.many_requests(20);
  std::vector<std::string> body;  // the lines after the header, without newlines
  for (std::size_t i = 1; i < run.events.size(); ++i) body.push_back(run.events[i].dump());
  const std::string footer = json({{"type", "footer"}, {"t", 99'000'000}, {"reason", "x"}}).dump();
  const auto join = [&](const std::vector<std::string>& lines, bool final_newline) {
    std::string out = run.events[0].dump() + "\n";
    for (std::size_t i = 0; i < lines.size(); ++i) {
      out += lines[i];
      if (i + 1 < lines.size() || final_newline) out += '\n';
    }
    return out;
  };
  const auto with = [&](std::size_t at, const std::string& line) {
    auto lines = body;
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), line);
    return lines;
  };
  const std::uint64_t n = body.size() + 1;  // lines of the clean history, header included
  struct line_case {
    const char* name;
    std::string text;
    std::uint64_t lines;  // expected when it succeeds
    bool truncated;
    bool footer;
    std::string error_part;  // empty: succeeds
    errc error_code;
  };
  auto with_footer = body;
  with_footer.push_back(footer);
  auto empties = body;
  empties.insert(empties.begin() + 3, "");
  empties.insert(empties.begin() + 4, "");
  empties.push_back("");
  auto bad_then_empty = with(7, "{not json");
  bad_then_empty.push_back("");
  const std::string cut = body.back().substr(0, body.back().size() / 2);
  auto truncated = body;
  truncated.back() = cut;
  auto cut_valid_json = body;
  cut_valid_json.push_back(R"({"type":"complete","op":"issue"})");  // parses, lacks fields
  const line_case cases[] = {
      {"clean, no footer", join(body, true), n, false, false, "", errc::io},
      {"clean, no final newline", join(body, false), n, false, false, "", errc::io},
      {"footer", join(with_footer, true), n + 1, false, true, "", errc::io},
      {"empty lines counted and skipped", join(empties, true), n + 3, false, false, "", errc::io},
      {"truncated last line", join(truncated, false), n, true, false, "", errc::io},
      {"cut last line ending in a newline is an error", join(truncated, true), 0, false, false,
       "h.jsonl:" + std::to_string(n) + ":", errc::parse},
      {"bad line in the middle", join(with(7, "{not json"), true), 0, false, false,
       "h.jsonl:9:", errc::parse},
      {"bad line in the middle, no final newline", join(with(30, "{not json"), false), 0, false,
       false, "h.jsonl:32:", errc::parse},
      {"bad line followed by empty lines only", join(bad_then_empty, true), 0, false, false,
       "h.jsonl:9:", errc::parse},
      {"bad last line with its newline", join(with(body.size(), "{not json"), true), 0, false,
       false, "h.jsonl:" + std::to_string(n + 1) + ":", errc::parse},
      {"last line without newline, wrong fields", join(cut_valid_json, false), 0, false, false,
       "h.jsonl:" + std::to_string(n + 1) + ":", errc::invalid_field},
  };
  for (const auto& c : cases) {
    for (const auto& how : replay_settings()) {
      const std::string what = std::string(c.name) + " with " + describe(how);
      const replay_outcome got = replay_text(run, c.text, how);
      if (c.error_part.empty()) {
        ASSERT_TRUE(got.ok) << what << ": " << got.failure.message;
        EXPECT_EQ(got.info.lines, c.lines) << what;
        EXPECT_EQ(got.info.truncated_last_line, c.truncated) << what;
        EXPECT_EQ(got.info.has_footer, c.footer) << what;
        EXPECT_EQ(got.info.header, run.events[0]) << what;
      } else {
        ASSERT_FALSE(got.ok) << what;
        EXPECT_EQ(got.failure.message.rfind(c.error_part, 0), 0u)
            << what << ": " << got.failure.message;
        EXPECT_EQ(got.failure.code, c.error_code) << what << ": " << got.failure.message;
      }
    }
  }
}

// Line numbers count from `first_line` across batch boundaries.
TEST(ReplayHistoryTest, ErrorNamesTheFileLineAfterFirstLine) {
  run_folder run;
  run.standard_history();
  run.many_requests(30);
  std::string text;
  for (std::size_t i = 1; i < run.events.size(); ++i) {
    text += run.events[i].dump() + "\n";
    if (i == 41) text += "[1,2]\n";  // stream line 42, file line 43
  }
  for (const auto& how : replay_settings()) {
    checker c(resident_model(run.pop), options_from_header(run.events[0]));
    std::istringstream in(text);
    auto got = replay_history(in, "dir/history.jsonl", c, 2, how);
    ASSERT_FALSE(got.has_value()) << describe(how);
    EXPECT_EQ(got.error().message.rfind("dir/history.jsonl:43:", 0), 0u)
        << describe(how) << ": " << got.error().message;
  }
}

// A stream that counts the bytes it has handed out, 64 at a time, so a test can see how far the
// workers read ahead of the sink.
class counting_buffer : public std::streambuf {
 public:
  explicit counting_buffer(std::string text) : text_(std::move(text)) {}
  std::size_t delivered() const { return delivered_.load(); }

 protected:
  int_type underflow() override {
    if (delivered_ == text_.size()) return traits_type::eof();
    const std::size_t n = std::min<std::size_t>(64, text_.size() - delivered_);
    char* begin = text_.data() + delivered_;
    setg(begin, begin, begin + n);
    delivered_ += n;
    return traits_type::to_int_type(*begin);
  }

 private:
  std::string text_;
  std::atomic<std::size_t> delivered_{0};
};

TEST(ReplayHistoryTest, WorkersReadOnlyABoundedWindowAhead) {
  run_folder run;
  run.standard_history();
  run.many_requests(1500);
  const std::string text = run.text();
  std::vector<std::size_t> line_end;  // byte offset after each line's newline
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') line_end.push_back(i + 1);
  }
  const replay_options how{4, 10, 1u << 20};          // 3 workers, 10 lines a batch
  const std::size_t window_lines = (4 * 3 + 1) * 10;  // read, not handed over, + current
  counting_buffer buffer(text);
  std::istream in(&buffer);
  std::size_t index = 0;
  std::size_t most_lines_ahead = 0;  // lines read beyond the one being handed over
  auto got = replay_history(
      in, "h.jsonl",
      [&](const history_event&) {
        if (index % 300 == 0) {
          // Give the workers time to run as far ahead as they are allowed.
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        const std::size_t batch_end = (index / 10 + 1) * 10;
        const std::size_t allowed_line =
            std::min(line_end.size(), batch_end - 10 + window_lines) - 1;
        const std::size_t delivered = buffer.delivered();
        EXPECT_LE(delivered, line_end[allowed_line] + 64) << "at line " << index + 1;
        const auto read_lines = static_cast<std::size_t>(
            std::upper_bound(line_end.begin(), line_end.end(), delivered) - line_end.begin());
        most_lines_ahead = std::max(most_lines_ahead, read_lines - std::min(read_lines, index + 1));
        ++index;
      },
      1, how);
  ASSERT_TRUE(got.has_value()) << got.error().message;
  EXPECT_EQ(index, run.events.size());
  EXPECT_GE(most_lines_ahead, 20u);  // the workers did read ahead, batches of 10 lines
}

TEST(ReplayHistoryTest, SinkExceptionStopsTheWorkers) {
  run_folder run;
  run.standard_history();
  run.many_requests(500);
  const std::string text = run.text();
  for (const auto& how : replay_settings()) {
    std::istringstream in(text);
    std::size_t seen = 0;
    EXPECT_THROW(replay_history(
                     in, "h.jsonl",
                     [&](const history_event&) {
                       if (++seen == 100) throw std::runtime_error("sink");
                     },
                     1, how),
                 std::runtime_error)
        << describe(how);
    EXPECT_EQ(seen, 100u) << describe(how);
  }
}

TEST(ReplayHistoryTest, ThreadCountComesFromTheEnvironment) {
  const char* saved = std::getenv("KOFU_VERIFY_THREADS");
  const std::string saved_value = saved != nullptr ? saved : "";
  const unsigned hardware = std::max(1u, std::thread::hardware_concurrency());
  ::unsetenv("KOFU_VERIFY_THREADS");
  EXPECT_EQ(default_replay_threads(), std::min(hardware, 256u));
  ::setenv("KOFU_VERIFY_THREADS", "3", 1);
  EXPECT_EQ(default_replay_threads(), 3u);
  ::setenv("KOFU_VERIFY_THREADS", "1", 1);
  EXPECT_EQ(default_replay_threads(), 1u);
  for (const char* ignored : {"0", "", "two", "3x", "-2"}) {
    ::setenv("KOFU_VERIFY_THREADS", ignored, 1);
    EXPECT_EQ(default_replay_threads(), std::min(hardware, 256u)) << '"' << ignored << '"';
  }
  ::setenv("KOFU_VERIFY_THREADS", "100000", 1);
  EXPECT_EQ(default_replay_threads(), 256u);
  if (saved != nullptr)
    ::setenv("KOFU_VERIFY_THREADS", saved_value.c_str(), 1);
  else
    ::unsetenv("KOFU_VERIFY_THREADS");
}

}  // namespace
}  // namespace kofu::verify
