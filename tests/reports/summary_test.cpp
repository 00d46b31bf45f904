// summary.md for a failing and a passing report: the verdict line, the sentence for people in
// Japanese then English, thresholds, findings by kind, the first findings, the test conditions.

#include "kofu/reports/summary.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "report_fixture.hpp"
#include "test_support.hpp"

namespace {

using nlohmann::json;

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(SummaryTest, FailingReportSaysWhoGotWhoseData) {
  const std::string md = kofu::reports::render_summary(kofu::test::failing_report());
  const auto lines = kofu::test::split_lines(md);
  ASSERT_GT(lines.size(), 10u);
  EXPECT_EQ(lines[0], "# kofu: demo &lt;slot&gt; & \"quotes\" — 不合格 / FAIL");
  // Japanese first, English on the next line.
  EXPECT_TRUE(has(lines[2], "証明書 48,213 件が交付されました")) << lines[2];
  EXPECT_TRUE(has(lines[2], "うち 3 件に他人の情報が載っていました")) << lines[2];
  EXPECT_TRUE(has(lines[2], "誤交付率の 95 % 信頼上限は 6.21e-05 です")) << lines[2];
  EXPECT_TRUE(has(lines[3],
                  "48,213 certificates were issued under 2000 requests per second for "
                  "25.0 s (up to 32 at once; p99 latency 8.8 ms)"))
      << lines[3];
  EXPECT_TRUE(has(lines[3], "3 carried another resident's data")) << lines[3];
  EXPECT_TRUE(has(lines[3], "at most 6.21e-05")) << lines[3];
  EXPECT_TRUE(has(md, "1 other inconsistencies")) << md;
  // The failed threshold, its detail kept on one table line, markup neutralised.
  EXPECT_TRUE(has(md,
                  "| max\\_findings | **不合格 / FAILED** | 4 findings (limit 0) "
                  "&lt;b&gt;&amp;&lt;/b&gt;   |"))
      << md;
  EXPECT_TRUE(has(md, "| min\\_overlapping\\_requests | 合格 / passed |")) << md;
  EXPECT_TRUE(has(md, "| WRONG\\_PERSON | **3** |")) << md;
  EXPECT_TRUE(has(md, "| STALE | **1** |")) << md;
  EXPECT_TRUE(has(md, "| TORN | 0 |")) << md;
  EXPECT_TRUE(has(md, "## 最初の不整合 / First findings (4 / 4)")) << md;
  EXPECT_TRUE(has(md, "| A-000017 | WRONG\\_PERSON | R 48213906575 | → R 11111111111 |")) << md;
  // The | inside an application number is escaped, so the table keeps its columns.
  EXPECT_TRUE(has(md,
                  "| A-0 &lt;]]&gt;\\|x\xEF\xBF\xBD"
                  "2 | WRONG\\_PERSON | R 22222222222 | → "
                  "R 33333333333 |"))
      << md;
  EXPECT_TRUE(has(md, "| A-000099 | STALE | R 44444444444 | — |")) << md;
  EXPECT_TRUE(has(md, "| 注入した欠陥 / defects injected | channel-slot |")) << md;
  EXPECT_TRUE(has(md, "| シード / seed | 7 |")) << md;
  EXPECT_TRUE(has(md, "| 住民数 / residents | 100000 |")) << md;
  // Every table row has the same number of cells as its header.
  for (const auto& line : lines) {
    if (line.rfind("| 申請番号", 0) == 0 || line.rfind("| A-", 0) == 0) {
      std::size_t cells = 0;
      for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '|' && (i == 0 || line[i - 1] != '\\')) ++cells;
      }
      EXPECT_EQ(cells, 5u) << line;
    }
  }
}

TEST(SummaryTest, PassingReportSaysNoneWentToTheWrongPerson) {
  const std::string md = kofu::reports::render_summary(kofu::test::passing_report());
  const auto lines = kofu::test::split_lines(md);
  ASSERT_GT(lines.size(), 4u);
  EXPECT_EQ(lines[0], "# kofu: campaign — 合格 / PASS");
  EXPECT_TRUE(has(lines[2], "他人の情報が載った証明書は一件もありませんでした")) << lines[2];
  EXPECT_TRUE(has(lines[3], "None carried another resident's data.")) << lines[3];
  EXPECT_FALSE(has(md, "FAILED")) << md;
  EXPECT_FALSE(has(md, "First findings")) << md;
  EXPECT_FALSE(has(md, "other inconsistencies")) << md;
  EXPECT_TRUE(has(md, "| 注入した欠陥 / defects injected | — |")) << md;
}

TEST(SummaryTest, ListsTheFirstFindingsAndCountsTheRest) {
  json r = kofu::test::failing_report();
  for (int i = 0; i < 20; ++i) {
    r["findings"].push_back({{"kind", "TORN"},
                             {"application_number", "T-" + std::to_string(i)},
                             {"requested_resident", "R 1"}});
  }
  const std::string md = kofu::reports::render_summary(r);
  EXPECT_TRUE(has(md, "(10 / 24)")) << md;
  EXPECT_TRUE(has(md, "| T-5 |")) << md;
  EXPECT_FALSE(has(md, "| T-6 |")) << md;
  EXPECT_TRUE(has(md, "14 more in report.json")) << md;
}

// report.json keeps only the first findings of each kind: the total comes from findings_by_kind.
TEST(SummaryTest, CountsFindingsReportJsonOmitted) {
  json r = kofu::test::failing_report();
  r["findings_by_kind"]["WRONG_PERSON"] = 5000;
  r["findings_per_kind"] = 50;
  const std::string md = kofu::reports::render_summary(r);
  const std::size_t listed = std::min<std::size_t>(r["findings"].size(), 10);
  EXPECT_TRUE(has(md, fmt::format("({} / 5001)", listed))) << md;
  EXPECT_TRUE(
      has(md, fmt::format("{} more in report.json (the first 50 of each kind", 5001 - listed)))
      << md;
}

}  // namespace
