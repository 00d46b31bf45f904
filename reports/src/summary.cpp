#include "kofu/reports/summary.hpp"

#include <fmt/format.h>

#include <cstdint>

#include "kofu/verify/finding.hpp"
#include "text.hpp"

namespace kofu::reports {

using detail::count_of;
using detail::grouped;
using detail::member;
using detail::text_of;
using nlohmann::json;

namespace {

// Text from the report made safe inside a Markdown table cell or line: valid UTF-8, no line
// breaks or control characters, | and backslash and backquote escaped, HTML-ish < > as entities.
std::string md(std::string_view text) {
  std::string out;
  detail::for_each_code_point(text, [&out](char32_t cp) {
    if (cp == '|' || cp == '\\' || cp == '`' || cp == '*' || cp == '_') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '<') {
      out += "&lt;";
    } else if (cp == '>') {
      out += "&gt;";
    } else if (cp < 0x20 || cp == 0x7F) {
      out += ' ';
    } else {
      detail::append_utf8(out, cp);
    }
  });
  return out;
}

std::string number_text(const json& v, const char* format = "{:.3g}") {
  if (v.is_number_float()) return fmt::format(fmt::runtime(format), v.get<double>());
  if (v.is_number()) return v.dump();
  return "—";
}

struct verdict_words {
  const char* ja;
  const char* en;
};

verdict_words words_for(const std::string& verdict) {
  if (verdict == "pass") return {"合格", "PASS"};
  if (verdict == "fail") return {"不合格", "FAIL"};
  return {"判定不能", "UNKNOWN"};
}

void headline(std::string& s, const json& report) {
  const std::string verdict = text_of(report, "verdict", "unknown");
  const auto w = words_for(verdict);
  const json& run = member(report, "run");
  std::string scenario = text_of(run, "scenario");
  s += fmt::format("# kofu: {} — {} / {}\n\n", md(scenario.empty() ? "run" : scenario), w.ja, w.en);

  const std::uint64_t answered = count_of(report, "answered");
  const json& exposure = member(report, "exposure");
  const std::uint64_t requests = count_of(exposure, "requests");
  const std::uint64_t peak = count_of(exposure, "peak_in_flight");
  const json& elapsed_v = member(run, "elapsed_s");
  const double elapsed = elapsed_v.is_number() ? elapsed_v.get<double>() : 0.0;
  const std::uint64_t sent = count_of(run, "sent") > 0 ? count_of(run, "sent") : requests;
  const double rate = elapsed > 0 ? static_cast<double>(sent) / elapsed : 0.0;
  const std::string p99 = number_text(member(member(report, "latency_ms"), "p99"), "{:.1f}");
  const json& by_kind = member(report, "findings_by_kind");
  const std::uint64_t wrong = count_of(by_kind, "WRONG_PERSON");
  const std::uint64_t foreign = count_of(by_kind, "FOREIGN_DATA");
  std::uint64_t all_findings = 0;
  for (const auto kind : verify::all_finding_kinds) {
    all_findings += count_of(by_kind, verify::to_string(kind));
  }
  const std::string bound = number_text(member(report, "upper_bound_95"));

  // Japanese first, then English (docs/decisions.md).
  std::string load_ja;
  std::string load_en;
  if (elapsed > 0) {
    load_ja = fmt::format("{:.1f} 秒間に毎秒約 {:.0f} 件の要求（最大同時 {} 件）をかけ、", elapsed,
                          rate, grouped(peak));
    load_en = fmt::format(" under {:.0f} requests per second for {:.1f} s (up to {} at once; ",
                          rate, elapsed, grouped(peak));
  } else {
    load_ja = fmt::format("要求 {} 件（最大同時 {} 件）をかけ、", grouped(requests), grouped(peak));
    load_en = fmt::format(" for {} requests (up to {} at once; ", grouped(requests), grouped(peak));
  }
  s += fmt::format("{}証明書 {} 件が交付されました（p99 応答時間 {} ms）。", load_ja,
                   grouped(answered), p99);
  if (wrong + foreign == 0) {
    s += "他人の情報が載った証明書は一件もありませんでした。";
  } else {
    s += fmt::format(
        "うち {} 件に他人の情報が載っていました（別人の証明書 {} 件、他人の項目を含む {} 件）。",
        grouped(wrong + foreign), grouped(wrong), grouped(foreign));
  }
  s += fmt::format("誤交付率の 95 % 信頼上限は {} です。\n", bound);
  s += fmt::format("{} certificates were issued{}p99 latency {} ms). ", grouped(answered), load_en,
                   p99);
  if (wrong + foreign == 0) {
    s += "None carried another resident's data. ";
  } else {
    s += fmt::format(
        "{} carried another resident's data ({} were another person's certificate, {} held "
        "another person's fields). ",
        grouped(wrong + foreign), grouped(wrong), grouped(foreign));
  }
  s += fmt::format("With 95 % confidence the mis-issuance rate is at most {}.\n\n", bound);
  if (all_findings > wrong + foreign) {
    s += fmt::format("その他の不整合 {} 件（下表）。 / {} other inconsistencies (below).\n\n",
                     grouped(all_findings - wrong - foreign),
                     grouped(all_findings - wrong - foreign));
  }
}

void thresholds_table(std::string& s, const json& report) {
  s += "## しきい値 / Thresholds\n\n";
  s += "| しきい値 / threshold | 結果 / result | 詳細 / detail |\n|---|---|---|\n";
  const json& thresholds = member(report, "thresholds");
  if (!thresholds.is_array() || thresholds.empty()) {
    s += "| — | — | — |\n\n";
    return;
  }
  for (const json& t : thresholds) {
    const json& passed = member(t, "passed");
    const bool ok = passed.is_boolean() && passed.get<bool>();
    s += fmt::format("| {} | {} | {} |\n", md(text_of(t, "name", "?")),
                     ok ? "合格 / passed" : "**不合格 / FAILED**", md(text_of(t, "detail")));
  }
  s += '\n';
}

void findings_tables(std::string& s, const json& report) {
  s += "## 種類別の不整合 / Findings by kind\n\n";
  s += "| 種類 / kind | 件数 / count |\n|---|---:|\n";
  const json& by_kind = member(report, "findings_by_kind");
  std::uint64_t total = 0;  // every finding: report.json keeps only the first N of a kind in full
  for (const auto kind : verify::all_finding_kinds) {
    const std::uint64_t n = count_of(by_kind, verify::to_string(kind));
    total += n;
    s += fmt::format("| {} | {} |\n", md(verify::to_string(kind)),
                     n > 0 ? "**" + grouped(n) + "**" : "0");
  }
  s += '\n';
  const json& findings = member(report, "findings");
  if (!findings.is_array() || findings.empty()) return;
  total = std::max<std::uint64_t>(total, findings.size());
  s += fmt::format("## 最初の不整合 / First findings ({} / {})\n\n",
                   std::min(findings.size(), summary_findings_listed), total);
  s += "| 申請番号 / application | 種類 / kind | 請求された住民 / requested resident | "
       "載っていた情報 / "
       "whose data |\n|---|---|---|---|\n";
  std::size_t listed = 0;
  for (const json& f : findings) {
    if (++listed > summary_findings_listed) break;
    const std::string victim = text_of(f, "victim_resident");
    s += fmt::format("| {} | {} | {} | {} |\n", md(text_of(f, "application_number")),
                     md(text_of(f, "kind")), md(text_of(f, "requested_resident")),
                     victim.empty() ? "—" : "→ " + md(victim));
  }
  const std::uint64_t shown = std::min(findings.size(), summary_findings_listed);
  if (total > shown) {
    s += fmt::format(
        "\n他 {} 件は report.json に（種類ごとに最初の {} 件は証拠つき、残りは件数のみ）。 / {} "
        "more in report.json (the first {} of each kind with their evidence, the rest counted).\n",
        total - shown, text_of(report, "findings_per_kind", "50"), total - shown,
        text_of(report, "findings_per_kind", "50"));
  }
  s += '\n';
}

void conditions(std::string& s, const json& report) {
  const json& run = member(report, "run");
  const json& target = member(run, "target");
  const json& population = member(run, "population");
  const json& end = member(report, "run_end");
  std::string defects;
  if (const json& d = member(target, "defects"); d.is_array()) {
    for (const json& name : d) {
      if (!defects.empty()) defects += ", ";
      defects += name.is_string() ? name.get<std::string>() : name.dump();
    }
  }
  s += "## 試験条件 / Test conditions\n\n| | |\n|---|---|\n";
  const auto row = [&s](std::string_view label, const std::string& value) {
    s += fmt::format("| {} | {} |\n", label, value.empty() ? "—" : md(value));
  };
  row("シナリオ / scenario", text_of(run, "scenario"));
  row("シナリオ SHA-256 / scenario SHA-256", text_of(run, "scenario_sha256"));
  row("シード / seed", text_of(run, "seed"));
  row("開始 / started (UTC)", text_of(run, "started_at"));
  row("所要時間 / duration (s)", number_text(member(run, "elapsed_s"), "{:.1f}"));
  row("終了 / end", text_of(end, "reason"));
  row("住民数 / residents", text_of(population, "residents"));
  row("対象 / target", text_of(target, "kind"));
  row("プロファイル / profile", text_of(target, "profile"));
  row("注入した欠陥 / defects injected", defects);
  row("サーバ / server version", text_of(run, "server_version"));
  row("許容遅延 / staleness (ms)", text_of(member(report, "verification"), "staleness_ms"));
  row("履歴の完全性 / history integrity", text_of(member(report, "history_integrity"), "status"));
  row("kofu", text_of(report, "kofu_version"));
  s += '\n';
}

}  // namespace

std::string render_summary(const json& report) {
  std::string s;
  headline(s, report);
  thresholds_table(s, report);
  findings_tables(s, report);
  conditions(s, report);
  return s;
}

}  // namespace kofu::reports
