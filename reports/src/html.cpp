#include "kofu/reports/html.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <string_view>
#include <vector>

#include "html_svg.hpp"
#include "html_text.hpp"

namespace kofu::reports {

using json = nlohmann::json;
using namespace html;

namespace {

// Finding kinds in severity order (DESIGN §7), in plain words.
struct kind_words {
  std::string_view name, ja, en;
};
constexpr std::array<kind_words, 12> finding_kinds = {{
    {"WRONG_PERSON", "他人の証明書", "another resident's certificate"},
    {"FOREIGN_DATA", "他人の情報の混入", "another resident's data inside"},
    {"TORN", "複数の版の混在", "fields from several versions"},
    {"ABORTED", "失敗した更新の内容", "content of a failed update"},
    {"STALE", "古い版", "a superseded version"},
    {"PHANTOM", "ありえない版・値", "a version or value that cannot exist"},
    {"WRONG_DOCUMENT", "種類・様式の誤り", "wrong certificate type or options"},
    {"NOT_ISSUABLE", "交付できない証明書の交付", "issued although not issuable"},
    {"TAG_MISMATCH", "申請番号の不一致", "application number not echoed"},
    {"DUPLICATE", "証明書番号の重複", "one serial answered twice"},
    {"DIGEST_INVALID", "ダイジェスト不一致", "digest does not match"},
    {"MALFORMED", "読めない応答", "answer cannot be read"},
}};

const kind_words* words_of(std::string_view kind) {
  for (const auto& k : finding_kinds) {
    if (k.name == kind) return &k;
  }
  return nullptr;
}

constexpr std::string_view style = R"css(
:root{--ink:#1d2733;--muted:#5b6b7c;--line:#d5dce4;--soft:#f4f6f9;--accent:#1f4e79;
--pass:#1e6b3a;--fail:#a4262c;--unknown:#8a5a00;--foreign:#fde7e9;}
*{box-sizing:border-box}
html{font-family:"Noto Sans CJK JP","IPAPGothic","IPAexGothic","IPAGothic","Hiragino Sans","Yu Gothic",Meiryo,sans-serif;color:var(--ink);background:#fff;font-size:14px;line-height:1.55}
html:not(.en) [lang=en]{display:none}
html.en [lang=ja]{display:none}
body{margin:0 auto;max-width:960px;padding:24px 28px 48px}
h1{font-size:22px;margin:0 0 2px;font-weight:600;letter-spacing:.02em}
h2{font-size:17px;margin:30px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--accent);color:var(--accent);font-weight:600}
h3{font-size:15px;margin:18px 0 6px;font-weight:600}
.sub{color:var(--muted);margin:0}
.topbar{display:flex;justify-content:space-between;align-items:flex-start;gap:16px;border-bottom:1px solid var(--line);padding-bottom:12px}
.switch a{display:inline-block;padding:3px 10px;border:1px solid var(--line);color:var(--accent);text-decoration:none;font-size:13px}
.switch a:first-child{border-radius:4px 0 0 4px}.switch a:last-child{border-radius:0 4px 4px 0;border-left:0}
html:not(.en) .switch a.ja,html.en .switch a.en{background:var(--accent);color:#fff}
.verdict{margin:18px 0;padding:16px 20px;border-left:6px solid var(--unknown);background:var(--soft)}
.verdict.pass{border-color:var(--pass)}.verdict.fail{border-color:var(--fail)}
.verdict .word{font-size:24px;font-weight:700;letter-spacing:.05em}
.verdict.pass .word{color:var(--pass)}.verdict.fail .word{color:var(--fail)}.verdict.unknown .word{color:var(--unknown)}
.verdict p{margin:6px 0 0;font-size:15px}
.figures{display:grid;grid-template-columns:repeat(3,1fr);gap:10px;margin:12px 0}
.figure{border:1px solid var(--line);border-radius:4px;padding:8px 12px}
.figure .v{font-size:19px;font-weight:600}.figure .k{color:var(--muted);font-size:12px}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13px}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.ok{color:var(--pass);font-weight:600}.ng{color:var(--fail);font-weight:600}
.chart{width:100%;height:auto;display:block}
.chart .grid{stroke:#e8ecf0}.chart .axis{stroke:#9aa7b4}
.chart .tick{font-size:10px;fill:var(--muted)}
.chart .win-maint{fill:#f6d9a8;opacity:.55}.chart .win-refl{fill:#b9d3ee;opacity:.55}
.chart .phase{stroke:#9aa7b4;stroke-dasharray:3 3}.chart .phase-label{font-size:10px;fill:var(--muted)}
.chart .line{fill:none;stroke-width:1.6}
.s1{stroke:#1f4e79;fill:#1f4e79}.s2{stroke:#3c9d6b;fill:#3c9d6b}.s3{stroke:#d08a18;fill:#d08a18}.s4{stroke:#7b5ea7;fill:#7b5ea7}
.bad{stroke:#a4262c;fill:#a4262c}
.chart .line.s1,.chart .line.s2,.chart .line.s3,.chart .line.s4,.chart .line.bad{fill:none}
.chartbox{border:1px solid var(--line);border-radius:4px;padding:8px 10px 4px;margin:10px 0;break-inside:avoid}
.chartbox h3{margin:0 0 4px;font-size:14px}
.legend{font-size:12px;color:var(--muted);margin:2px 0 4px}
.legend i{display:inline-block;width:14px;height:3px;vertical-align:middle;margin:0 4px 0 10px}
.legend i.win{height:10px;opacity:.7}
.legend i.s1{background:#1f4e79}.legend i.s2{background:#3c9d6b}.legend i.s3{background:#d08a18}.legend i.s4{background:#7b5ea7}.legend i.bad{background:#a4262c}
.finding{border:1px solid var(--line);border-radius:4px;margin:10px 0;padding:10px 12px;break-inside:avoid}
.finding .head{font-weight:600}.finding .meta{color:var(--muted);font-size:12px}
.finding p{margin:6px 0}
table.diff td.printed.foreign{background:var(--foreign)}
.owner{display:block;font-size:11px;color:var(--fail);font-weight:600}
.note{color:var(--muted);font-size:12px}
pre{background:var(--soft);border:1px solid var(--line);padding:8px;font-size:11px;white-space:pre-wrap;word-break:break-all;max-height:none}
.leak{width:100%;max-width:720px;height:auto;display:block;margin:auto}
.leak .edge{stroke:#a4262c;opacity:.75}.leak .arrowhead{fill:#a4262c}
.leak .node{stroke:#fff;stroke-width:1.5}.leak .victim{fill:#d08a18}.leak .recipient{fill:#1f4e79}.leak .both{fill:#7b5ea7}
.leak .node-label{font-size:11px;fill:var(--ink)}.leak .col-head{font-size:12px;font-weight:600;fill:var(--muted)}

footer{margin-top:36px;color:var(--muted);font-size:12px;border-top:1px solid var(--line);padding-top:8px}
@media print{
 html{font-size:11.5px}
 body{max-width:none;padding:0}
 .switch{display:none}
 h2{break-after:avoid}
 h2.new-page{break-before:page}
 .figure,.chartbox,.finding,tr{break-inside:avoid}
 details{display:block}details>summary{display:none}
}
)css";

// Sets the language from the address (#en, ?lang=en) and marks the page as scripted (the browser
// test reads data-kofu-ready from the DOM).
constexpr std::string_view script = R"js(
(function(){var d=document.documentElement;
function pick(){var q=/[?&]lang=(en|ja)/.exec(location.search);var h=location.hash.slice(1);
var l=h==='en'||h==='ja'?h:(q?q[1]:'ja');d.classList.toggle('en',l==='en');d.setAttribute('lang',l);}
pick();window.addEventListener('hashchange',pick);d.setAttribute('data-kofu-ready','1');})();
)js";

std::string verdict_words(std::string_view verdict) {
  if (verdict == "pass") return bi("合格", "PASS");
  if (verdict == "fail") return bi("不合格", "FAIL");
  return bi("判定不能", "UNKNOWN");
}

std::uint64_t kind_count(const json& report, std::string_view kind) {
  return u64(member(report, "findings_by_kind"), std::string(kind).c_str());
}

// The timeline's peak sending rate (requests per second).
double peak_rate(const json& timeline) {
  const double bucket_s = std::max(num(timeline, "bucket_s", 1.0), 1e-9);
  double peak = 0;
  for (const auto& b : member(timeline, "buckets")) {
    peak = std::max(peak, static_cast<double>(u64(b, "sent")) / bucket_s);
  }
  return peak;
}

// run.scenario is the scenario's name (make_report); an object with a name is read too.
std::string scenario_name(const json& run) {
  const json& scenario = member(run, "scenario");
  if (scenario.is_string() && !scenario.get_ref<const std::string&>().empty()) {
    return scenario.get<std::string>();
  }
  return str(scenario, "name", str(run, "scenario_path", "—"));
}

// The target in plain text (not escaped): kind, first URLs, defects, profile.
std::string target_plain(const json& run) {
  const json& target = member(run, "target");
  std::string text = str(target, "kind", "—");
  const json& urls = member(target, "urls");
  for (std::size_t i = 0; urls.is_array() && i < urls.size() && i < 3; ++i) {
    text += (i ? ", " : " ") + (urls[i].is_string() ? urls[i].get<std::string>() : urls[i].dump());
  }
  const json& defects = member(target, "defects");
  if (defects.is_array() && !defects.empty()) {
    text += " (defects:";
    for (const auto& d : defects) text += " " + (d.is_string() ? d.get<std::string>() : d.dump());
    text += ")";
  }
  const std::string profile = str(target, "profile");
  if (!profile.empty() && profile != "reference") text += " profile " + profile;
  return text;
}

std::string target_text(const json& run) { return esc(target_plain(run)); }

// The sentence a non-programmer needs: how many certificates, under what load, how many went to
// someone else, and what that bounds.
std::string statement(const json& report) {
  const std::uint64_t answered = u64(report, "answered");
  const std::uint64_t to_others =
      kind_count(report, "WRONG_PERSON") + kind_count(report, "FOREIGN_DATA");
  std::uint64_t findings = 0;
  for (const auto& [k, v] : member(report, "findings_by_kind").items()) {
    if (v.is_number_unsigned()) findings += v.get<std::uint64_t>();
  }
  const json& timeline = member(report, "timeline");
  const double rate = peak_rate(timeline);
  const std::uint64_t in_flight = u64(member(report, "exposure"), "peak_in_flight");
  const std::string load_ja =
      fmt::format("毎秒最大 {} 件・同時 {} 件",
                  grouped(static_cast<std::uint64_t>(std::llround(rate))), grouped(in_flight));
  const std::string load_en =
      fmt::format("up to {} requests per second with up to {} in flight",
                  grouped(static_cast<std::uint64_t>(std::llround(rate))), grouped(in_flight));
  const std::string bound = scientific_html(num(report, "upper_bound_95", 1.0));
  std::string ja = fmt::format("{} 件の証明書を{}の負荷で交付し、", grouped(answered), load_ja);
  std::string en =
      fmt::format("{} certificates were issued under a load of {}; ", grouped(answered), load_en);
  if (to_others == 0) {
    ja += "他人の証明書は 0 件。";
    en += "none went to the wrong person";
    if (findings == 0) {
      ja += fmt::format("誤交付率は 95 % 信頼で {} 未満。", bound);
      en += fmt::format("; the mis-issuance rate is below {} with 95 % confidence.", bound);
    } else {
      ja += fmt::format("ただし他の不備が {} 件ありました。", grouped(findings));
      en += fmt::format(", but {} other findings were made.", grouped(findings));
    }
  } else {
    ja += fmt::format("うち {} 件で他人の情報が交付されました（不備は全 {} 件）。",
                      grouped(to_others), grouped(findings));
    en += fmt::format("{} of them carried another resident's data ({} findings in all).",
                      grouped(to_others), grouped(findings));
  }
  if (str(report, "verdict") == "unknown") {
    ja += "ただし判定に必要な条件が満たされなかったため、合格とは言えません（下の基準を参照）。";
    en +=
        " The conditions for a verdict were not met, so this run cannot pass (see the thresholds "
        "below).";
  }
  return bi(ja, en);
}

std::string figure(std::string_view value, std::string_view ja, std::string_view en) {
  return fmt::format(R"(<div class="figure"><div class="v">{}</div><div class="k">{}</div></div>)",
                     value, bi(ja, en));
}

std::string row(std::string_view key_html, std::string_view value_html, bool numeric = false) {
  return fmt::format("<tr><th>{}</th><td{}>{}</td></tr>", key_html, numeric ? R"( class="n")" : "",
                     value_html);
}

// Thresholds in plain words; an unknown name is shown as it is.
constexpr std::array<kind_words, 9> threshold_names = {{
    {"max_findings", "不備の件数の上限", "findings at most"},
    {"min_answered", "交付した証明書の最低数", "certificates issued at least"},
    {"max_error_rate", "エラー・タイムアウトの率の上限", "error and timeout rate at most"},
    {"max_p99_ms", "応答時間 p99 の上限", "latency p99 at most"},
    {"min_overlapping_requests", "他の住民と重なったリクエストの最低数",
     "requests overlapping another resident's, at least"},
    {"min_update_overlaps", "本人の更新と重なったリクエストの最低数",
     "requests overlapping an update of their resident, at least"},
    {"load_delivered", "指定した負荷を送出できた", "the load asked for was sent"},
    {"run_completed", "実行が最後まで終わった", "the run reached its end"},
    {"history_integrity", "履歴が書かれたとおりである", "the history is as written"},
}};

std::string threshold_label(const std::string& name) {
  for (const auto& t : threshold_names) {
    if (t.name == name) {
      return fmt::format(R"({}<br><span class="note">{}</span>)", bi(t.ja, t.en), esc(name));
    }
  }
  return esc(name);
}

std::string thresholds_section(const json& report) {
  std::string out = fmt::format("<h2>{}</h2>", bi("判定基準", "Thresholds"));
  const json& thresholds = member(report, "thresholds");
  if (!thresholds.is_array() || thresholds.empty()) {
    return out + fmt::format(R"(<p class="note">{}</p>)", bi("基準なし", "No thresholds"));
  }
  out += fmt::format("<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>", bi("基準", "Threshold"),
                     bi("結果", "Result"), bi("内容", "Detail"));
  for (const auto& t : thresholds) {
    const bool passed = member(t, "passed").is_boolean() && member(t, "passed").get<bool>();
    out += fmt::format(R"(<tr><td>{}</td><td class="{}">{}</td><td>{}</td></tr>)",
                       threshold_label(str(t, "name")), passed ? "ok" : "ng",
                       passed ? bi("✓ 合格", "✓ passed") : bi("✗ 不合格", "✗ failed"),
                       esc(str(t, "detail")));
  }
  return out + "</table>";
}

std::vector<double> per_second(const json& timeline, std::initializer_list<const char*> keys) {
  const double bucket_s = std::max(num(timeline, "bucket_s", 1.0), 1e-9);
  std::vector<double> values;
  for (const auto& b : member(timeline, "buckets")) {
    double sum = 0;
    for (const char* k : keys) sum += static_cast<double>(u64(b, k));
    values.push_back(sum / bucket_s);
  }
  return values;
}

std::vector<double> column(const json& timeline, const char* key, bool gap_without_answers) {
  std::vector<double> values;
  for (const auto& b : member(timeline, "buckets")) {
    if (gap_without_answers && u64(b, "answered") == 0) {
      values.push_back(std::numeric_limits<double>::quiet_NaN());
    } else {
      values.push_back(num(b, key));
    }
  }
  return values;
}

struct legend_entry {
  const char* css_class;
  std::string_view ja, en;
};

std::string chart_box(std::string_view ja, std::string_view en, const json& timeline,
                      const std::vector<chart_series>& series,
                      const std::vector<legend_entry>& legend, bool bars) {
  std::string out =
      fmt::format(R"(<div class="chartbox"><h3>{}</h3><div class="legend">)", bi(ja, en));
  for (const auto& l : legend) {
    out += fmt::format(R"(<i class="{}"></i>{})", l.css_class, bi(l.ja, l.en));
  }
  out += fmt::format(
      R"(<i class="win" style="background:#f6d9a8"></i>{}<i class="win" style="background:#b9d3ee"></i>{})",
      bi("保守（システム更新）", "maintenance"), bi("反映バッチ", "reflection batch"));
  out += "</div>" + time_chart(timeline, series, bars) + "</div>";
  return out;
}

std::string charts_section(const json& report) {
  const json& timeline = member(report, "timeline");
  std::string out = fmt::format("<h2>{}</h2>", bi("時系列", "Over time"));
  if (!member(timeline, "buckets").is_array() || member(timeline, "buckets").empty()) {
    return out + fmt::format(R"(<p class="note">{}</p>)", bi("この報告には時系列がありません。",
                                                             "This report has no timeline."));
  }
  out += fmt::format(R"(<p class="note">{}</p>)",
                     bi(fmt::format("区間幅 {} 秒。時刻は実行開始からの秒数。",
                                    fixed(num(timeline, "bucket_s", 1), 0)),
                        fmt::format("Buckets of {} s; times in seconds from the start of the run.",
                                    fixed(num(timeline, "bucket_s", 1), 0))));
  out += chart_box("リクエスト数（毎秒）", "Requests per second", timeline,
                   {{"s1", per_second(timeline, {"sent"})},
                    {"s2", per_second(timeline, {"answered"})},
                    {"bad", per_second(timeline, {"errors", "timeouts"})},
                    {"s3", per_second(timeline, {"retry", "refused"})}},
                   {{"s1", "送信", "sent"},
                    {"s2", "交付", "answered"},
                    {"bad", "エラー・タイムアウト", "errors, timeouts"},
                    {"s3", "再試行・拒否", "retry, refused"}},
                   false);
  out += chart_box("応答時間（ミリ秒）", "Latency of answers (ms)", timeline,
                   {{"s2", column(timeline, "p50_ms", true)},
                    {"s3", column(timeline, "p90_ms", true)},
                    {"bad", column(timeline, "p99_ms", true)}},
                   {{"s2", "p50", "p50"}, {"s3", "p90", "p90"}, {"bad", "p99", "p99"}}, false);
  out += chart_box("同時処理中のリクエスト（最大）", "Requests in flight (peak)", timeline,
                   {{"s1", column(timeline, "in_flight", false)}}, {{"s1", "処理中", "in flight"}},
                   false);
  out += chart_box(
      "住民記録の更新（毎秒）", "Record updates per second", timeline,
      {{"s4", per_second(timeline, {"updates_sent"})},
       {"s2", per_second(timeline, {"updates_applied"})},
       {"bad", per_second(timeline, {"updates_failed"})}},
      {{"s4", "送信", "sent"}, {"s2", "反映", "applied"}, {"bad", "失敗・不明", "failed, unknown"}},
      false);
  out += chart_box("不備（区間ごとの件数）", "Findings per bucket", timeline,
                   {{"bad", column(timeline, "findings", false)}}, {{"bad", "不備", "findings"}},
                   true);
  return out;
}

std::string measures_section(const json& report) {
  const json& x = member(report, "exposure");
  const json& o = member(report, "outcomes");
  const json& l = member(report, "latency_ms");
  std::string out =
      fmt::format("<h2>{}</h2>", bi("負荷と重なり（曝露）", "Load and overlap (exposure)"));
  out += fmt::format(
      R"(<p class="note">{}</p>)",
      bi("合格が意味を持つのは、危険な重なりが実際に起きた場合だけです。",
         "A clean result means something only if the dangerous overlap actually happened."));
  out += "<table>";
  const auto count_row = [&](const json& obj, const char* key, std::string_view ja,
                             std::string_view en) {
    out += row(bi(ja, en), grouped(u64(obj, key)), true);
  };
  count_row(x, "requests", "リクエスト", "requests");
  count_row(x, "overlapped_other_resident", "他の住民のリクエストと重なった",
            "overlapped another resident's request");
  count_row(x, "overlapped_own_update", "本人の記録の更新と重なった",
            "overlapped an update of their own record");
  count_row(x, "overlapped_own_update_retry", "うち 409（再試行）",
            "of which answered 409 (retry)");
  count_row(x, "peak_in_flight", "同時処理中の最大", "peak in flight");
  count_row(x, "updates", "更新", "updates");
  count_row(x, "updates_failed", "更新の失敗", "updates failed");
  count_row(x, "updates_unknown", "結果不明の更新", "updates with unknown outcome");
  out += "</table>";
  out += fmt::format("<h3>{}</h3><table>", bi("応答の内訳", "Outcomes"));
  count_row(o, "answered", "交付（証明書あり）", "answered with a certificate");
  count_row(o, "retry", "再試行（409）", "retry (409)");
  count_row(o, "refused", "拒否", "refused");
  count_row(o, "errors", "エラー", "errors");
  count_row(o, "timeouts", "タイムアウト", "timeouts");
  count_row(o, "unanswered", "応答なし（中断）", "unanswered (run cut)");
  out += "</table>";
  out += fmt::format("<h3>{}</h3><table><tr>", bi("応答時間（ミリ秒）", "Latency (ms)"));
  for (const char* k : {"p50", "p90", "p99", "p999", "max"}) out += fmt::format("<th>{}</th>", k);
  out += "</tr><tr>";
  for (const char* k : {"p50", "p90", "p99", "p999", "max"}) {
    out += fmt::format(R"(<td class="n">{}</td>)", fixed(num(l, k), 1));
  }
  return out + "</tr></table>";
}

// A resident id named by a diff's `source` ("R01518905135", "R48213906575 v3"), or "".
std::string resident_of_source(const std::string& source) {
  if (source.size() < 2 || source[0] != 'R') return {};
  std::size_t end = 1;
  while (end < source.size() && source[end] >= '0' && source[end] <= '9') ++end;
  return end > 1 ? source.substr(1, end - 1) : std::string();
}

std::string finding_card(const json& f) {
  const std::string requested = str(f, "requested_resident");
  const json& evidence = member(f, "evidence");
  const json& request = member(evidence, "request");
  const auto* words = words_of(str(f, "kind"));
  std::string out = R"(<div class="finding">)";
  out += fmt::format(R"(<div class="head">{} · {}</div>)", esc(str(f, "kind")),
                     esc(str(f, "application_number")));
  out += fmt::format(R"(<div class="meta">{} {} · {} · {} · {} {} s → {} s</div>)",
                     bi("住民", "resident"), esc(requested), esc(str(request, "certificate_type")),
                     esc(str(request, "channel")), bi("送信・応答", "sent, answered"),
                     fixed(num(request, "sent_ns") / 1e9, 3),
                     fixed(num(request, "received_ns") / 1e9, 3));
  (void)words;
  const json& explanation = member(f, "explanation");
  out += fmt::format("<p>{}</p>", bi(esc(str(explanation, "ja")), esc(str(explanation, "en"))));
  const json& diff = member(evidence, "diff");
  if (diff.is_array() && !diff.empty()) {
    out +=
        fmt::format(R"(<table class="diff"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>)",
                    bi("項目", "field"), bi("正しい値", "expected"), bi("印字された値", "printed"),
                    bi("出所", "source"));
    for (const auto& d : diff) {
      if (!d.is_object()) continue;  // "… N more entries left out" (bounded evidence)
      const std::string source = str(d, "source");
      const std::string owner = resident_of_source(source);
      const bool foreign = !owner.empty() && owner != requested;
      std::string printed = esc_value(member(d, "printed"));
      if (foreign) {
        printed += fmt::format(R"(<span class="owner">{}</span>)",
                               bi(fmt::format("住民 {} の情報", esc(owner)),
                                  fmt::format("belongs to resident {}", esc(owner))));
      }
      out +=
          fmt::format(R"(<tr><td>{}</td><td>{}</td><td class="printed{}">{}</td><td>{}</td></tr>)",
                      esc(str(d, "path")), esc_value(member(d, "expected")),
                      foreign ? " foreign" : "", printed, esc(source));
    }
    out += "</table>";
  }
  const json& answer = member(evidence, "answer");
  if (!answer.is_null()) {
    std::string text = answer.dump(1, ' ', false, json::error_handler_t::replace);
    constexpr std::size_t max_answer_chars = 6000;
    if (text.size() > max_answer_chars) {
      std::size_t cut = max_answer_chars;
      while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0u) == 0x80u) --cut;
      text = text.substr(0, cut) + "\n…";
    }
    out += fmt::format("<details><summary>{}</summary><pre>{}</pre></details>",
                       bi("受け取った応答", "The answer as received"), esc(text));
  }
  return out + "</div>";
}

std::string findings_section(const json& report, const html_options& options) {
  std::string out = fmt::format(R"(<h2 class="new-page">{}</h2>)", bi("不備", "Findings"));
  out += fmt::format("<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>", bi("種類", "Kind"),
                     bi("内容", "Meaning"), bi("件数", "Count"));
  std::uint64_t total = 0;
  for (const auto& k : finding_kinds) {
    const std::uint64_t n = kind_count(report, k.name);
    total += n;
    out += fmt::format(R"(<tr><td>{}</td><td>{}</td><td class="n{}">{}</td></tr>)", k.name,
                       bi(k.ja, k.en), n > 0 ? " ng" : "", grouped(n));
  }
  out += "</table>";
  if (total == 0) {
    return out + fmt::format("<p>{}</p>", bi("不備はありません。", "No findings."));
  }
  // The first options.findings_per_kind of each kind in full, in severity order; the rest counted.
  std::map<std::string, std::vector<const json*>> shown;
  std::map<std::string, std::uint64_t> listed;
  for (const auto& f : member(report, "findings")) {
    const std::string kind = str(f, "kind", "?");
    ++listed[kind];
    auto& list = shown[kind];
    if (list.size() < options.findings_per_kind) list.push_back(&f);
  }
  std::vector<std::string> order;
  for (const auto& k : finding_kinds) order.emplace_back(k.name);
  for (const auto& [kind, list] : shown) {
    if (words_of(kind) == nullptr) order.push_back(kind);
  }
  for (const auto& kind : order) {
    const auto it = shown.find(kind);
    if (it == shown.end()) continue;
    const auto* words = words_of(kind);
    out += fmt::format("<h3>{} — {}</h3>", esc(kind),
                       words != nullptr ? bi(words->ja, words->en) : std::string());
    for (const json* f : it->second) out += finding_card(*f);
    const std::uint64_t count = std::max(listed[kind], kind_count(report, kind));
    if (count > it->second.size()) {
      const std::uint64_t rest = count - it->second.size();
      out += fmt::format(
          R"(<p class="note rest" data-kind="{}" data-rest="{}">{}</p>)", esc(kind), rest,
          bi(fmt::format("ほか {} 件（report.json に件数があります）", grouped(rest)),
             fmt::format("{} more (counted in report.json)", grouped(rest))));
    }
  }
  return out;
}

std::string leak_section(const json& report, const html_options& options) {
  const json& graph = member(report, "leak_graph");
  const std::string svg = leak_graph_svg(graph, options.leak_edges);
  if (svg.empty()) return {};
  std::string out = fmt::format("<h2>{}</h2>", bi("漏えいの図", "Leak graph"));
  out += fmt::format(
      R"(<p class="note">{}</p>)",
      bi("矢印は、左の住民の情報が右の住民への証明書として交付されたことを示します"
         "（太い矢印は複数回）。紫は両方の側に現れる住民です。",
         "An arrow shows the left resident's data handed out to the right resident (thicker: "
         "several times). Purple: a resident on both sides."));
  out += svg;
  out += "<table>";
  for (const char* key :
       {"swaps", "shifts", "shift_chains", "ambiguous", "unsourced", "duplicates", "victims"}) {
    const json& v = member(graph, key);
    out += row(esc(key), v.is_array() ? grouped(v.size()) : esc_value(v), true);
  }
  return out + "</table>";
}

std::string json_rows(const json& object) {
  std::string out;
  for (const auto& [key, value] : object.items()) {
    if (value.is_object() || value.is_array()) {
      out +=
          row(esc(key),
              "<pre>" + esc(value.dump(1, ' ', false, json::error_handler_t::replace)) + "</pre>");
    } else {
      out += row(esc(key), esc_value(value));
    }
  }
  return out;
}

std::string conditions_section(const json& report) {
  std::string out =
      fmt::format(R"(<h2 class="new-page">{}</h2>)", bi("試験条件", "Test conditions"));
  const json& run = member(report, "run");
  out += "<table>";
  out += row(bi("シナリオ", "scenario"),
             esc(scenario_name(run)) + " " + esc(str(run, "scenario_path")));
  out += row(bi("シナリオの SHA-256", "scenario SHA-256"), esc(str(run, "scenario_sha256")));
  out += row(bi("対象", "target"), target_text(run));
  out += row(bi("開始", "started at"), esc(str(run, "started_at")));
  out += row(bi("乱数の種", "seed"), esc_value(member(run, "seed")));
  if (member(run, "elapsed_s").is_number()) {
    out += row(bi("実行時間", "duration"), fixed(num(run, "elapsed_s"), 1) + " s");
  }
  out += row(bi("kofu の版", "kofu version"), esc(str(report, "kofu_version")));
  out += row(bi("報告の形式", "report format"), esc(str(report, "format")));
  out += "</table>";
  for (const auto& [key, ja, en] :
       std::initializer_list<std::tuple<const char*, const char*, const char*>>{
           {"population", "住民データ（合成）", "Population (synthetic)"},
           {"server_version", "サーバの版", "Server version"}}) {
    const json& v = member(run, key);
    if (v.is_object()) out += fmt::format("<h3>{}</h3><table>{}</table>", bi(ja, en), json_rows(v));
  }
  for (const auto& [key, ja, en] :
       std::initializer_list<std::tuple<const char*, const char*, const char*>>{
           {"verification", "検証の設定", "Verification settings"},
           {"run_end", "実行の終了", "End of the run"},
           {"load", "負荷の送出", "Load delivered"},
           {"history", "履歴", "History"},
           {"history_integrity", "履歴の完全性", "History integrity"}}) {
    const json& v = member(report, key);
    if (v.is_object()) out += fmt::format("<h3>{}</h3><table>{}</table>", bi(ja, en), json_rows(v));
  }
  const json& target = member(run, "target");
  if (target.is_object()) {
    out += fmt::format("<h3>{}</h3><table>{}</table>", bi("対象の詳細", "Target details"),
                       json_rows(target));
  }
  const json& scenario = member(run, "scenario_document").is_object()
                             ? member(run, "scenario_document")
                             : member(run, "scenario");
  if (scenario.is_object()) {
    out += fmt::format("<h3>{}</h3><pre>{}</pre>",
                       bi("シナリオ（読み込んだとおり）", "Scenario (as loaded)"),
                       esc(scenario.dump(2, ' ', false, json::error_handler_t::replace)));
  }
  return out;
}

}  // namespace

std::string render_html(const json& report, const html_options& options) {
  const std::string verdict = str(report, "verdict", "unknown");
  const std::string verdict_class = verdict == "pass" || verdict == "fail" ? verdict : "unknown";
  const json& run = member(report, "run");
  const std::string scenario = esc(scenario_name(run));
  const std::string target = target_text(run);

  std::string out;
  out.reserve(1 << 16);
  out += R"(<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">)";
  out += R"(<meta name="viewport" content="width=device-width, initial-scale=1">)";
  out += fmt::format("<title>kofu 試験報告書 / test report — {}</title>", scenario);
  out += fmt::format("<style>{}</style><script>{}</script></head><body>", style, script);
  // Every printed page names the scenario, the target and the verdict in its top margin (a page
  // margin box: no overlap with the content, whatever breaks where). Both languages: the margin
  // box cannot follow the switch.
  const std::string page_head = fmt::format("kofu 試験報告書 / test report · {} · {} · {}",
                                            scenario_name(run), target_plain(run),
                                            verdict == "pass"   ? "合格 PASS"
                                            : verdict == "fail" ? "不合格 FAIL"
                                                                : "判定不能 UNKNOWN");
  out += fmt::format(
      "<style>@page{{size:A4;margin:16mm 13mm "
      "14mm;@top-left{{content:{};font-size:8pt;color:#5b6b7c;"
      "border-bottom:0.5pt solid #d5dce4;vertical-align:bottom;padding-bottom:2mm}}"
      "@bottom-right{{content:counter(page) \" / \" "
      "counter(pages);font-size:8pt;color:#5b6b7c}}}}</style>",
      css_string(page_head));
  out += fmt::format(
      R"(<div class="topbar"><div><h1>{}</h1><p class="sub">{} <b>{}</b> · {} {} · {}</p></div>)"
      R"(<div class="switch"><a class="ja" href="#ja">日本語</a><a class="en" href="#en">English</a></div></div>)",
      bi("証明書交付の整合性 試験報告書", "Certificate issuance integrity — test report"),
      bi("シナリオ", "Scenario"), scenario, bi("対象", "target"), target,
      esc(str(run, "started_at")));
  out += fmt::format(R"(<div class="verdict {}"><div class="word">{}</div><p>{}</p></div>)",
                     verdict_class, verdict_words(verdict), statement(report));
  const json& latency = member(report, "latency_ms");
  out += R"(<div class="figures">)";
  out += figure(grouped(u64(report, "answered")), "交付した証明書", "certificates issued");
  out += figure(grouped(u64(member(report, "exposure"), "requests")), "リクエスト", "requests");
  out += figure(grouped(u64(report, "requests_with_findings")), "不備のあったリクエスト",
                "requests with findings");
  out += figure(scientific_html(num(report, "upper_bound_95", 1.0)), "誤交付率の上限（95 % 信頼）",
                "upper bound of the mis-issuance rate (95 %)");
  out += figure(grouped(u64(member(report, "exposure"), "peak_in_flight")), "同時処理中の最大",
                "peak in flight");
  out += figure(fixed(num(latency, "p99"), 1) + " ms", "応答時間 p99", "latency p99");
  out += "</div>";
  out += thresholds_section(report);
  out += charts_section(report);
  out += measures_section(report);
  out += findings_section(report, options);
  out += leak_section(report, options);
  out += conditions_section(report);
  out += fmt::format(
      R"(<footer>{}</footer></body></html>)",
      bi(fmt::format("kofu {} が report.json から作成。全データは report.json と history.jsonl "
                     "にあります。",
                     esc(str(report, "kofu_version"))),
         fmt::format(
             "Made by kofu {} from report.json; all data is in report.json and history.jsonl.",
             esc(str(report, "kofu_version")))));
  out += "\n";
  return out;
}

std::string render_html(const json& report) { return render_html(report, html_options{}); }

}  // namespace kofu::reports
