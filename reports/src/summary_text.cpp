// The terminal's summary of a report (kofu run, kofu verify, kofu report), in English or Japanese
// (issue 13 item 6). report.json itself is not touched: it stays English and machine-readable.

#include <fmt/args.h>
#include <fmt/format.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kofu/reports/summary_text.hpp"

namespace kofu::reports {
namespace {

using json = nlohmann::json;

// The summary's messages; the arguments are the same in both languages.
constexpr message verdict_line{"verdict: {}\n", "判定: {}\n"};
constexpr message verdict_pass{"pass", "合格（pass）"};
constexpr message verdict_fail{"fail", "不合格（fail）"};
constexpr message verdict_unknown{"unknown", "判定不能（unknown）"};
constexpr message answered_line{"answered: {}\n", "交付された証明書: {} 通\n"};
constexpr message findings_line{"findings:{}\n", "不備:{}\n"};
constexpr message findings_none{" none", " なし"};
constexpr message exposure_line{
    "exposure: {} overlapped another resident, {} overlapped an own update ({} got 409), peak in "
    "flight {}\n",
    "危険な重なり: 他の住民の要求と重なった要求 {} 件、本人の記録の更新と重なった要求 {} 件"
    "（うち 409 で再試行 {} 件）、同時処理数の最大 {}\n"};
constexpr message upper_bound_line{"upper bound (95%) on the mis-issuance rate: {:.3g}\n",
                                   "誤交付率の上限（95 % 信頼）: {:.3g}\n"};
constexpr message integrity_broken{
    "history integrity: BROKEN — the file is not what kofu wrote; {} corrupt lines, {} broken "
    "blocks, {} requests and {} findings set aside; the verdict cannot be pass\n",
    "履歴の完全性: 破損 — ファイルは kofu が書いたものと一致しません。破損行 {} 行、改変された"
    "ブロック {} 個、除外した要求 {} 件・不備 {} 件。合格にはなりません\n"};
constexpr message integrity_stretch{"  lines {}–{}: {}\n", "  {}–{} 行目: {}\n"};
constexpr message integrity_unsealed{
    "history integrity: sealed up to line {}; lines {}–{} are unsealed (the run was killed)\n",
    "履歴の完全性: {} 行目まで封印済み。{}–{} 行目は未封印です（実行が強制終了されました）\n"};
constexpr message integrity_unchained{
    "history integrity: the history carries no chain (not written by this kofu)\n",
    "履歴の完全性: 履歴にチェーンがありません（この kofu が書いたものではありません）\n"};
constexpr message integrity_intact{
    "history integrity: intact ({} sealed blocks, chain head {})\n",
    "履歴の完全性: 改変なし（封印ブロック {} 個、チェーン先頭 {}）\n"};
constexpr message threshold_failed{"threshold {} failed{}{}\n",
                                   "判定基準 {} を満たしていません{}{}\n"};
constexpr message detail_separator{": ", "："};

// Japanese renderings of the verifier's threshold details: the English detail's numbers, in order
// ({0}, {1}, …), placed in a Japanese sentence. `numbers` is how many the English text carries.
struct threshold_text {
  std::string_view name;
  std::size_t numbers;
  std::string_view ja;
};
constexpr std::array threshold_texts{
    // "{} findings (limit {})"
    threshold_text{"max_findings", 2, "不備 {0} 件（上限 {1} 件）"},
    // "{} certificates answered (needed {})"
    threshold_text{"min_answered", 2, "交付された証明書 {0} 通（必要数 {1} 通）"},
    // "{} errors and timeouts in {} requests ({:.4f}, limit {})"
    threshold_text{"max_error_rate", 4,
                   "要求 {1} 件のうちエラー・タイムアウト {0} 件（比率 {2}、上限 {3}）"},
    // "p99 {:.3f} ms (limit {} ms)" ("p99" is part of a word, not a number)
    threshold_text{"max_p99_ms", 2, "応答時間の 99 パーセンタイル {0} ms（上限 {1} ms）"},
    // "{} requests overlapped another resident's (needed {})"
    threshold_text{"min_overlapping_requests", 2,
                   "他の住民の要求と重なった要求 {0} 件（必要数 {1} 件）"},
    // "{} requests overlapped an update of their resident (needed {})"
    threshold_text{"min_update_overlaps", 2,
                   "本人の記録の更新と重なった要求 {0} 件（必要数 {1} 件）"},
    // "{} of {} arrivals dropped, {} sent more than 1 s late ({:.1f} %, at most {:.0f} % allowed)"
    threshold_text{"load_delivered", 6,
                   "予定した {1} 件のうち送出できなかった要求 {0} 件、{3} 秒を超えて遅れた要求 {2} "
                   "件（{4} %、許容は {5} % まで）"},
    // "the history is not what kofu wrote: {} corrupt lines, {} broken blocks; {} requests set
    // aside"
    threshold_text{"history_integrity", 3,
                   "履歴が kofu の書いたものと一致しません。破損行 {0} 行、改変されたブロック {1} "
                   "個、除外した要求 {2} 件"},
};

// The numbers of an English text, in order, as written: a run of digits (with a sign, a fraction
// and an exponent) that does not continue a word ("p99" is not one).
std::vector<std::string> numbers_in(std::string_view text) {
  std::vector<std::string> out;
  const auto digit = [&](std::size_t i) {
    return i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0;
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t sign = text[i] == '-' ? 1 : 0;
    const bool starts =
        digit(i + sign) && (i == 0 || (std::isalnum(static_cast<unsigned char>(text[i - 1])) == 0 &&
                                       text[i - 1] != '.' && text[i - 1] != '_'));
    if (!starts) {
      ++i;
      continue;
    }
    const std::size_t begin = i;
    i += sign;
    while (digit(i)) ++i;
    if (i < text.size() && text[i] == '.' && digit(i + 1)) {
      ++i;
      while (digit(i)) ++i;
    }
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
      std::size_t j = i + 1;
      if (j < text.size() && (text[j] == '-' || text[j] == '+')) ++j;
      if (digit(j)) {
        i = j;
        while (digit(i)) ++i;
      }
    }
    out.emplace_back(text.substr(begin, i - begin));
  }
  return out;
}

std::string run_completed_ja(const json& report) {
  const auto it = report.find("run_end");
  const std::string reason =
      it != report.end() && it->is_object() ? it->value("reason", std::string()) : std::string();
  if (reason == "killed") {
    return "履歴に終了行がなく、実行は強制終了されています。記録された分は検証済みです";
  }
  if (reason == "interrupted") {
    return "実行はシナリオの終了前に中断されました。記録された分は検証済みです";
  }
  return fmt::format("実行はシナリオの終了前に止まりました（{}）。記録された分は検証済みです",
                     reason.empty() ? "?" : reason);
}

}  // namespace

std::string threshold_detail(const json& threshold, const json& report, language lang) {
  const auto it = threshold.find("detail");
  const std::string detail =
      it != threshold.end() && it->is_string() ? it->get<std::string>() : std::string();
  if (lang == language::en || detail.empty()) return detail;
  const std::string name = threshold.value("name", std::string());
  if (name == "run_completed") return run_completed_ja(report);
  for (const auto& t : threshold_texts) {
    if (t.name != name) continue;
    const auto numbers = numbers_in(detail);
    // A detail of another shape (a newer verifier's): English rather than a wrong sentence.
    if (numbers.size() != t.numbers) return detail;
    fmt::dynamic_format_arg_store<fmt::format_context> args;
    for (const auto& n : numbers) args.push_back(n);
    return fmt::vformat(t.ja, args);
  }
  return detail;
}

std::string summary_text(const json& report, language lang) {
  const std::string verdict = report.value("verdict", "unknown");
  const message& verdict_word = verdict == "pass"   ? verdict_pass
                                : verdict == "fail" ? verdict_fail
                                                    : verdict_unknown;
  std::string s = say(lang, verdict_line, verdict_word.in(lang));
  s += say(lang, answered_line, report.value("answered", 0));
  std::string kinds;
  for (const auto& [k, v] : report["findings_by_kind"].items()) {
    if (v.get<std::uint64_t>() > 0) kinds += fmt::format(" {}={}", k, v.get<std::uint64_t>());
  }
  s += say(lang, findings_line, kinds.empty() ? std::string(findings_none.in(lang)) : kinds);
  const auto& x = report["exposure"];
  s += say(lang, exposure_line, x.value("overlapped_other_resident", 0),
           x.value("overlapped_own_update", 0), x.value("overlapped_own_update_retry", 0),
           x.value("peak_in_flight", 0));
  s += say(lang, upper_bound_line, report.value("upper_bound_95", 1.0));
  if (const auto it = report.find("history_integrity"); it != report.end() && it->is_object()) {
    const json& h = *it;
    const std::string status = h.value("status", "");
    if (status == "broken") {
      s += say(lang, integrity_broken, h.value("corrupt_line_count", 0), h["broken_blocks"].size(),
               h.value("requests_set_aside", 0), h.value("findings_set_aside", 0));
      for (const auto* key : {"corrupt_lines", "broken_blocks"}) {
        std::size_t shown = 0;
        for (const auto& b : h[key]) {
          if (++shown > 5) break;
          // The reason is the reader's, in English (like every message about bad input).
          s += say(lang, integrity_stretch, b.value("first_line", 0), b.value("last_line", 0),
                   b.value("reason", ""));
        }
      }
    } else if (status == "unsealed_tail") {
      const json& t = h["unsealed_tail"];
      s += say(lang, integrity_unsealed, t.value("first_line", std::uint64_t{1}) - 1,
               t.value("first_line", 0), t.value("last_line", 0));
    } else if (status == "unchained") {
      s += say(lang, integrity_unchained);
    } else {
      s += say(lang, integrity_intact, h.value("sealed_blocks", 0), h.value("chain_head", ""));
    }
  }
  if (const auto it = report.find("thresholds"); it != report.end() && it->is_array()) {
    for (const auto& t : *it) {
      if (!t.is_object() || t.value("passed", true)) continue;
      const std::string detail = threshold_detail(t, report, lang);
      s += say(lang, threshold_failed, t.value("name", "?"),
               detail.empty() ? std::string_view() : detail_separator.in(lang), detail);
    }
  }
  return s;
}

}  // namespace kofu::reports
