// `kofu verify DIR` through the real executable: exit codes and report.json (DESIGN §8).
#include <gtest/gtest.h>

#include <filesystem>

#include "kofu/population/generator.hpp"
#include "kofu/population/reader.hpp"
#include "test_support.hpp"
#include "verify_fixture.hpp"

namespace kofu::verify {
namespace {

using test::json;

// Writes a one-request history whose answer prints `printed` for a request of `requested`, and
// its footer (`footer`: the footer line's object; null: none, as from a killed run).
void write_run(const std::filesystem::path& dir, bool wrong_person, const json& footer) {
  const auto summary = population::generate_file({30, 9, 0.05}, dir / "population.jsonl");
  ASSERT_TRUE(summary.has_value());
  const auto pop = population::load_file(dir / "population.jsonl").value();
  const auto& requested = pop.front();
  const auto& printed = wrong_person ? pop.back() : pop.front();
  std::string head;
  for (const auto& x : pop) {
    if (x.household_id == printed.household_id && x.relationship == "世帯主")
      head = x.name.full_kanji();
  }
  const std::string app = "KOFU-000001-0000000001";
  std::string text;
  text += json{{"type", "header"},
               {"format", "kofu-history/1"},
               {"population", {{"path", "population.jsonl"}, {"sha256", summary->sha256}}}}
              .dump() +
          "\n";
  text += json{{"type", "invoke"},
               {"op", "issue"},
               {"id", 1},
               {"t", 1000},
               {"application_number", app},
               {"resident_id", requested.resident_id},
               {"card_serial", requested.card_serial},
               {"certificate_type", "juminhyo"},
               {"channel", "window"}}
              .dump() +
          "\n";
  text += json{{"type", "complete"},
               {"op", "issue"},
               {"id", 1},
               {"t", 2000},
               {"status", 200},
               {"outcome", "ok"},
               {"body", test::render(app, "juminhyo", {}, printed, {printed}, head, "C-1")}}
              .dump() +
          "\n";
  if (!footer.is_null()) text += footer.dump() + "\n";
  kofu::test::write_file(dir / "history.jsonl", text);
}

TEST(VerifyCommandTest, ExitCodesFollowTheVerdict) {
  if (!std::filesystem::exists(kofu::test::kofu_binary())) {
    GTEST_SKIP() << "kofu executable not built: " << kofu::test::kofu_binary();
  }
  const json completed{{"type", "footer"},
                       {"t", 3000},
                       {"reason", "completed"},
                       {"stats", {{"scheduled", 1}, {"dropped", 0}, {"very_late", 0}}}};
  json interrupted = completed;
  interrupted["reason"] = "interrupted";
  json short_of_load = completed;
  short_of_load["stats"] = {{"scheduled", 100}, {"dropped", 3}, {"very_late", 0}};
  struct command_case {
    const char* name;
    int setup;  // 0 clean, 1 wrong person, 2 empty folder
    json footer;
    int exit_code;
    const char* verdict;
    const char* failed_threshold;  // of the run's end and load; "" none
  };
  const command_case cases[] = {
      {"clean run passes", 0, completed, 0, "pass", ""},
      {"a finding fails", 1, completed, 1, "fail", ""},
      {"a killed run (no footer) cannot pass", 0, json(), 1, "unknown", "run_completed"},
      {"an interrupted run cannot pass", 0, interrupted, 1, "unknown", "run_completed"},
      {"a finding still fails a killed run", 1, json(), 1, "fail", "run_completed"},
      {"3 % of the load undelivered cannot pass", 0, short_of_load, 1, "unknown", "load_delivered"},
      {"no history is bad input", 2, completed, 2, "", ""},
  };
  for (const auto& c : cases) {
    kofu::test::temp_dir dir;
    if (c.setup < 2) write_run(dir.path(), c.setup == 1, c.footer);
    const auto r = kofu::test::run_command(
        {kofu::test::kofu_binary(), "verify", dir.path().string(), "--lang", "en"});
    EXPECT_EQ(r.exit_code, c.exit_code) << c.name << "\n" << r.out << r.err;
    if (c.setup < 2) {
      const json report = json::parse(kofu::test::read_file(dir / "report.json"));
      EXPECT_EQ(report["verdict"], c.verdict) << c.name;
      EXPECT_NE(r.out.find("verdict: "), std::string::npos) << c.name;
      std::string failed;
      for (const auto& t : report["thresholds"]) {
        const std::string name = t.value("name", "?");
        if (name != "max_findings" && !t.value("passed", true)) failed += name;
      }
      EXPECT_EQ(failed, c.failed_threshold) << c.name << "\n" << report["thresholds"].dump();
      if (*c.failed_threshold != '\0') {
        EXPECT_NE(r.out.find(std::string("threshold ") + c.failed_threshold + " failed"),
                  std::string::npos)
            << c.name << "\n"
            << r.out;
      }
    } else {
      EXPECT_NE(r.err.find("history.jsonl"), std::string::npos) << c.name;
    }
  }
}

}  // namespace
}  // namespace kofu::verify
