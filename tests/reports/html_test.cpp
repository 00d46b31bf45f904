#include "kofu/reports/html.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <regex>
#include <string>

namespace kofu::reports {
namespace {

using json = nlohmann::json;

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

json finding(std::size_t i, const std::string& kind, const std::string& printed) {
  return {{"kind", kind},
          {"application_number", "KOFU-000001-" + std::to_string(i)},
          {"request_id", i},
          {"requested_resident", "70102978607"},
          {"explanation", {{"ja", "申請番号の説明"}, {"en", "the explanation"}}},
          {"evidence",
           {{"request", {{"certificate_type", "juminhyo"}, {"channel", "konbini"}}},
            {"diff", json::array({{{"path", "certificate.subject"},
                                   {"expected", "R70102978607 近藤 健太"},
                                   {"printed", printed},
                                   {"source", "R01518905135"}}})}}}};
}

json small_report() {
  return {{"format", "kofu-report/1"},
          {"kofu_version", "0.1.0"},
          {"verdict", "fail"},
          {"answered", 1000000},
          {"upper_bound_95", 3.0e-6},
          {"findings_by_kind", {{"WRONG_PERSON", 1}}},
          {"findings", json::array({finding(1, "WRONG_PERSON", "R01518905135 近藤 恵子")})},
          {"exposure", {{"requests", 1000100}, {"peak_in_flight", 64}}},
          {"thresholds", json::array({{{"name", "max_findings"}, {"passed", false}}})},
          {"run", {{"scenario", {{"name", "demo"}}}, {"target", {{"kind", "embedded"}}}}},
          {"timeline",
           {{"bucket_s", 1.0},
            {"buckets", json::array({{{"t_s", 0}, {"sent", 10}, {"answered", 9}, {"p50_ms", 4.0}},
                                     {{"t_s", 1}, {"sent", 12}, {"answered", 12}}})},
            {"windows", json::array({{{"kind", "maintenance"}, {"start_s", 0.5}, {"end_s", 1.5}}})},
            {"phases", json::array({{{"name", "steady"}, {"start_s", 0.0}}})}}},
          {"leak_graph",
           {{"edges", json::array({{{"victim", "01518905135"}, {"recipient", "70102978607"}}})}}}};
}

TEST(RenderHtmlTest, HostileStringsAreEscapedEverywhere) {
  json report = small_report();
  const std::string hostile = "<script>alert(1)</script>\"'&\x01\xff";
  report["findings"][0]["evidence"]["diff"][0]["printed"] = hostile;
  report["findings"][0]["evidence"]["diff"][0]["path"] = hostile;
  report["findings"][0]["explanation"]["ja"] = hostile;
  report["findings"][0]["evidence"]["answer"] = {{"name", hostile}};
  report["run"]["scenario"]["name"] = hostile + "</style>";
  report["thresholds"][0]["detail"] = hostile;
  report["timeline"]["phases"][0]["name"] = hostile;
  report["leak_graph"]["edges"][0]["victim"] = hostile;
  const std::string html = render_html(report);
  // The page's own script is the only one; no markup of the input survives.
  EXPECT_EQ(occurrences(html, "<script>"), 1u);
  EXPECT_EQ(occurrences(html, "</style>"), 2u);  // the page's two style elements only
  EXPECT_EQ(html.find("alert(1)</script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"), std::string::npos);
  // The control character and the invalid byte became U+FFFD; the file is valid UTF-8.
  EXPECT_EQ(html.find('\x01'), std::string::npos);
  EXPECT_EQ(html.find('\xff'), std::string::npos);
  EXPECT_NE(html.find("\xEF\xBF\xBD"), std::string::npos);
  // In the CSS string of the printed page head, quotes and angle brackets are CSS escapes.
  EXPECT_NE(html.find("\\3c script\\3e alert(1)"), std::string::npos);
}

TEST(RenderHtmlTest, BothLanguagesArePresentAndJapaneseIsFirst) {
  const std::string html = render_html(small_report());
  EXPECT_NE(html.find("<html lang=\"ja\">"), std::string::npos);
  EXPECT_NE(html.find("不合格"), std::string::npos);
  EXPECT_NE(html.find("FAIL"), std::string::npos);
  EXPECT_NE(html.find("1,000,000 件の証明書を"), std::string::npos);
  EXPECT_NE(html.find("1,000,000 certificates were issued"), std::string::npos);
  EXPECT_NE(html.find("不備の件数の上限"), std::string::npos);  // threshold max_findings
  EXPECT_NE(html.find("findings at most"), std::string::npos);
  EXPECT_EQ(occurrences(html, "<span lang=\"ja\">"), occurrences(html, "<span lang=\"en\">"));
  EXPECT_GT(occurrences(html, "<span lang=\"en\">"), 50u);
  // The switch and the script that reads #en / ?lang=en.
  EXPECT_NE(html.find("href=\"#en\""), std::string::npos);
  EXPECT_NE(html.find("lang=(en|ja)"), std::string::npos);
}

TEST(RenderHtmlTest, TheSentenceStatesTheBoundWhenNothingWasFound) {
  json report = small_report();
  report["verdict"] = "pass";
  report["findings_by_kind"]["WRONG_PERSON"] = 0;
  report["findings"] = json::array();
  const std::string html = render_html(report);
  EXPECT_NE(html.find("他人の証明書は 0 件。誤交付率は 95 % 信頼で 3.0×10<sup>−6</sup> 未満"),
            std::string::npos);
  EXPECT_NE(html.find("none went to the wrong person; the mis-issuance rate is below "
                      "3.0×10<sup>−6</sup> with 95 % confidence"),
            std::string::npos);
  EXPECT_NE(html.find("毎秒最大 12 件・同時 64 件"), std::string::npos);  // from the timeline
}

TEST(RenderHtmlTest, ManyFindingsShowTheFirstPerKindAndCountTheRest) {
  json report = small_report();
  json findings = json::array();
  for (std::size_t i = 0; i < 100000; ++i) {
    findings.push_back(
        finding(i, i % 10 == 0 ? "STALE" : "WRONG_PERSON", "R01518905135 近藤 恵子"));
  }
  report["findings"] = std::move(findings);
  report["findings_by_kind"] = {{"WRONG_PERSON", 90000}, {"STALE", 10000}};
  html_options options;
  options.findings_per_kind = 7;
  const std::string html = render_html(report, options);
  EXPECT_EQ(occurrences(html, "<div class=\"finding\">"), 14u);
  EXPECT_NE(html.find("data-kind=\"WRONG_PERSON\" data-rest=\"89993\""), std::string::npos);
  EXPECT_NE(html.find("data-kind=\"STALE\" data-rest=\"9993\""), std::string::npos);
  EXPECT_NE(html.find("ほか 89,993 件"), std::string::npos);
  EXPECT_NE(html.find("89,993 more"), std::string::npos);
  EXPECT_LT(html.size(), std::size_t{400'000});  // usable: not proportional to the findings
}

TEST(RenderHtmlTest, AValueOfAnotherResidentIsMarkedAndAttributed) {
  const std::string html = render_html(small_report());
  EXPECT_NE(html.find("class=\"printed foreign\">R01518905135 近藤 恵子"), std::string::npos);
  EXPECT_NE(html.find("住民 01518905135 の情報"), std::string::npos);
  EXPECT_NE(html.find("belongs to resident 01518905135"), std::string::npos);
}

TEST(RenderHtmlTest, ChartsAndLeakGraphAreInlineSvgWithoutExternalReferences) {
  const std::string html = render_html(small_report());
  EXPECT_EQ(occurrences(html, "<svg class=\"chart\""), 5u);
  EXPECT_EQ(occurrences(html, "<svg class=\"leak\""), 1u);
  EXPECT_NE(html.find("class=\"win win-maint\""), std::string::npos);
  // Nothing to fetch: no src attribute, links only to anchors in the page, no URL in CSS.
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(href="[^#])")));
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(url\((?!#))")));
  EXPECT_EQ(html.find("@import"), std::string::npos);
}

TEST(RenderHtmlTest, AnIncompleteReportStillRenders) {
  for (const json& report : {json::object(), json::array(), json{{"verdict", 3}, {"timeline", "x"}},
                             json{{"findings", json::array({1, "x", json::object()})},
                                  {"findings_by_kind", {{"MALFORMED", 3}}}}}) {
    const std::string html = render_html(report);
    EXPECT_NE(html.find("判定不能"), std::string::npos);
    EXPECT_NE(html.find("</html>"), std::string::npos);
  }
}

}  // namespace
}  // namespace kofu::reports
