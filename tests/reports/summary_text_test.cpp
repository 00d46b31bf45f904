// The terminal summary in English and Japanese, and the Japanese threshold details, from reports
// the real verifier makes (issue 13 item 6).
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "../harness/verify/verify_fixture.hpp"
#include "kofu/reports/report_json.hpp"
#include "kofu/reports/summary_text.hpp"
#include "kofu/verify/replay.hpp"

namespace kofu::verify {
namespace {

using reports::make_report;
using reports::summary_text;
using reports::threshold_detail;

using test::json;

// A report of a run with no request, with every threshold the verifier knows switched on.
json report_of(const history_read_info& info) {
  checker_options o;
  o.min_answered = 1;
  o.max_error_rate = 0.25;
  o.max_p99_ms = 250.0;
  o.min_overlaps = 5;
  o.min_update_overlaps = 3;
  checker c(resident_model(test::small_population(10)), o);
  c.finish();
  return make_report(c, info, nullptr);
}

history_read_info completed_but_short() {
  history_read_info info;
  info.has_footer = true;
  info.end_reason = "completed";
  info.footer_stats = {{"scheduled", 100u}, {"dropped", 3u}, {"very_late", 2u}};
  info.corrupt_line_count = 2;
  info.corrupt_lines.push_back({7, 8, "not JSON"});
  return info;
}

// The numbers of a text as written (a minus sign, digits, a fraction, an exponent).
std::vector<std::string> numbers(const std::string& text) {
  std::vector<std::string> out;
  const std::regex number(R"((?:^|[^A-Za-z0-9._])(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), number);
       it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

// Every threshold the verifier reports gets a Japanese detail: no English word is left in it
// (ms and kofu aside), and it carries every number of the English detail.
TEST(SummaryTextTest, EveryThresholdDetailHasAJapaneseRendering) {
  history_read_info killed;  // no footer: run_completed fails
  history_read_info interrupted = completed_but_short();
  interrupted.end_reason = "interrupted";
  std::set<std::string> names;
  for (const json& report :
       {report_of(completed_but_short()), report_of(killed), report_of(interrupted)}) {
    for (const json& t : report["thresholds"]) {
      const std::string name = t["name"];
      names.insert(name);
      const std::string en = threshold_detail(t, report, language::en);
      const std::string ja = threshold_detail(t, report, language::ja);
      EXPECT_EQ(en, t["detail"].get<std::string>()) << name;
      EXPECT_NE(ja, en) << name;
      std::string letters = std::regex_replace(ja, std::regex("kofu|ms|p\\d+"), "");
      EXPECT_FALSE(std::regex_search(letters, std::regex("[A-Za-z]{2,}"))) << name << ": " << ja;
      if (name == "max_p99_ms") {
        EXPECT_NE(ja.find("99 パーセンタイル"), std::string::npos) << ja;
      }
      for (const auto& n : numbers(name == "max_p99_ms" ? en.substr(3) : en)) {
        EXPECT_NE(ja.find(n), std::string::npos) << name << ": " << n << " missing in " << ja;
      }
    }
  }
  const std::set<std::string> expected{"max_findings",
                                       "min_answered",
                                       "max_error_rate",
                                       "max_p99_ms",
                                       "min_overlapping_requests",
                                       "min_update_overlaps",
                                       "run_completed",
                                       "load_delivered",
                                       "history_integrity"};
  EXPECT_EQ(names, expected);
}

TEST(SummaryTextTest, RunCompletedSaysWhyInJapanese) {
  history_read_info killed;
  history_read_info interrupted = completed_but_short();
  interrupted.end_reason = "interrupted";
  const auto detail_of = [](const json& report) {
    for (const json& t : report["thresholds"]) {
      if (t["name"] == "run_completed") return threshold_detail(t, report, language::ja);
    }
    return std::string("(none)");
  };
  EXPECT_NE(detail_of(report_of(killed)).find("強制終了"), std::string::npos);
  EXPECT_NE(detail_of(report_of(interrupted)).find("中断"), std::string::npos);
}

// A detail of a shape the table does not know (another number count, another name) stays English
// rather than becoming a wrong sentence.
TEST(SummaryTextTest, UnknownDetailStaysEnglish) {
  const json report = json::object();
  const json odd{{"name", "max_findings"}, {"passed", false}, {"detail", "3 findings"}};
  EXPECT_EQ(threshold_detail(odd, report, language::ja), "3 findings");
  const json other{{"name", "max_new_things"}, {"passed", false}, {"detail", "2 of 5"}};
  EXPECT_EQ(threshold_detail(other, report, language::ja), "2 of 5");
  const json none{{"name", "max_findings"}, {"passed", false}};
  EXPECT_EQ(threshold_detail(none, report, language::ja), "");
}

TEST(SummaryTextTest, SummaryInBothLanguages) {
  const json report = report_of(completed_but_short());
  const std::string en = summary_text(report, language::en);
  const std::string ja = summary_text(report, language::ja);
  EXPECT_NE(en.find("verdict: unknown\n"), std::string::npos) << en;
  EXPECT_NE(en.find("findings: none\n"), std::string::npos) << en;
  EXPECT_NE(en.find("threshold min_answered failed: 0 certificates answered (needed 1)\n"),
            std::string::npos)
      << en;
  EXPECT_NE(en.find("history integrity: BROKEN"), std::string::npos) << en;
  EXPECT_EQ(en, summary_text(report));  // English unless asked

  EXPECT_NE(ja.find("判定: 判定不能（unknown）\n"), std::string::npos) << ja;
  EXPECT_NE(ja.find("交付された証明書: 0 通\n"), std::string::npos) << ja;
  EXPECT_NE(ja.find("不備: なし\n"), std::string::npos) << ja;
  EXPECT_NE(
      ja.find("判定基準 min_answered を満たしていません：交付された証明書 0 通（必要数 1 通）\n"),
      std::string::npos)
      << ja;
  EXPECT_NE(ja.find("判定基準 load_delivered を満たしていません：予定した 100 件のうち送出できな"
                    "かった要求 3 件、1 秒を超えて遅れた要求 2 件（5.0 %、許容は 1 % まで）\n"),
            std::string::npos)
      << ja;
  EXPECT_NE(ja.find("履歴の完全性: 破損"), std::string::npos) << ja;
  EXPECT_NE(ja.find("  7–8 行目: not JSON\n"), std::string::npos) << ja;
  EXPECT_EQ(ja.find("threshold "), std::string::npos) << ja;
  EXPECT_EQ(ja.find("verdict"), std::string::npos) << ja;
}

TEST(SummaryTextTest, FindingKindsStayMachineReadable) {
  json report = report_of(completed_but_short());
  report["verdict"] = "fail";
  report["findings_by_kind"]["WRONG_PERSON"] = 4;
  const std::string ja = summary_text(report, language::ja);
  EXPECT_NE(ja.find("判定: 不合格（fail）\n"), std::string::npos) << ja;
  EXPECT_NE(ja.find("不備: WRONG_PERSON=4\n"), std::string::npos) << ja;
  report["verdict"] = "pass";
  EXPECT_NE(summary_text(report, language::ja).find("判定: 合格（pass）\n"), std::string::npos);
}

}  // namespace
}  // namespace kofu::verify
