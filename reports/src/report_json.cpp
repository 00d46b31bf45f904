// report.json from a verified run (moved from the verifier's report.cpp; issue 13 item 1).
#include "kofu/reports/report_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kofu/common/sha256.hpp"
#include "kofu/scenario/loader.hpp"

namespace kofu::reports {

using json = nlohmann::json;
// The report is made of the verifier's results and speaks its vocabulary throughout (findings,
// their kinds, exposure, the verdict).
using namespace kofu::verify;

namespace {

std::string_view utf8_cut(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t n = limit;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0u) == 0x80u) --n;
  return text.substr(0, n);
}

// Cuts strings and lists of a finding's JSON (not the answer, handled apart). The finding's own
// JSON nests a few levels; an answer inside is bounded by max_history_line_depth.
void bound_values(json& v) {
  if (v.is_string()) {
    const auto& text = v.get_ref<const std::string&>();
    if (text.size() > max_evidence_string_bytes) {
      v = fmt::format("{}… ({} bytes in all, SHA-256 {})",
                      utf8_cut(text, max_evidence_string_bytes), text.size(), sha256_hex(text));
    }
  } else if (v.is_array()) {
    if (v.size() > max_evidence_items) {
      const std::size_t dropped = v.size() - max_evidence_items;
      v.erase(v.begin() + static_cast<std::ptrdiff_t>(max_evidence_items), v.end());
      v.push_back(fmt::format("… {} more entries left out of the report", dropped));
    }
    for (auto& item : v) bound_values(item);
  } else if (v.is_object()) {
    for (auto& [key, item] : v.items()) bound_values(item);
  }
}

// Findings of these requests are set aside (the file, not the server, is in doubt).
bool is_set_aside(const history_read_info& info, std::uint64_t request) {
  return std::binary_search(info.set_aside_requests.begin(), info.set_aside_requests.end(),
                            request);
}

json stretch_json(const history::line_stretch& l) {
  return {{"first_line", l.first_line}, {"last_line", l.last_line}, {"reason", l.reason}};
}

}  // namespace

void bound_evidence(json& finding) {
  const auto evidence = finding.find("evidence");
  if (evidence != finding.end() && evidence->is_object()) {
    if (const auto answer = evidence->find("answer"); answer != evidence->end()) {
      const std::string text = answer->dump(-1, ' ', false, json::error_handler_t::replace);
      if (text.size() > max_answer_evidence_bytes) {
        *answer = {{"truncated", true},
                   {"size", text.size()},
                   {"sha256", sha256_hex(text)},
                   {"prefix", utf8_cut(text, max_evidence_string_bytes)}};
      }
    }
  }
  for (auto& [key, item] : finding.items()) {
    if (key == "evidence" && item.is_object()) {
      for (auto& [k, v] : item.items()) {
        if (k != "answer") bound_values(v);
      }
    } else {
      bound_values(item);
    }
  }
}

namespace {

// Share of the open model's arrivals that may go unsent (dropped, or sent more than 1 s late)
// before a run counts as not having delivered its load: a few arrivals due at a phase's very end
// are normal; a run that could not keep its schedule proves nothing about the load it asked for.
constexpr double max_unsent_share = 0.01;

// Whether the run delivered the load its scenario asked for, and ran to its end (issue 15 items 3
// and 4), from the history's footer: its `reason`, and the driver's counters in its `stats`. A
// run that did not can find a mix-up, but it cannot pass: `pass` becomes `unknown`, and each
// shortfall is a failed threshold. No footer: the run was killed.
void judge_run_end(const history_read_info& info, json& report) {
  const std::string reason = !info.has_footer          ? std::string("killed")
                             : info.end_reason.empty() ? std::string("completed")
                                                       : info.end_reason;
  auto& thresholds = report["thresholds"];
  if (!thresholds.is_array()) thresholds = json::array();
  const bool interrupted = reason != "completed";
  report["run_end"] = {{"reason", reason}, {"interrupted", interrupted}};
  bool shortfall = interrupted;
  if (interrupted) {
    thresholds.push_back(
        {{"name", "run_completed"},
         {"passed", false},
         {"detail", reason == "killed"
                        ? "the history has no footer: the run was killed; what it recorded was "
                          "verified"
                        : fmt::format("the run was {} before its scenario's end; what it recorded "
                                      "was verified",
                                      reason)}});
  }
  const json& stats = info.footer_stats;
  const auto count = [&](const char* key) {
    const auto it = stats.is_object() ? stats.find(key) : stats.end();
    return stats.is_object() && it != stats.end() && it->is_number_unsigned()
               ? it->get<std::uint64_t>()
               : std::uint64_t{0};
  };
  const std::uint64_t scheduled = count("scheduled");
  const std::uint64_t dropped = count("dropped");
  const std::uint64_t very_late = count("very_late");
  if (scheduled > 0) {
    const double unsent = static_cast<double>(dropped + very_late) / static_cast<double>(scheduled);
    const bool delivered = unsent <= max_unsent_share;
    thresholds.push_back(
        {{"name", "load_delivered"},
         {"passed", delivered},
         {"detail",
          fmt::format("{} of {} arrivals dropped, {} sent more than 1 s late ({:.1f} %, "
                      "at most {:.0f} % allowed)",
                      dropped, scheduled, very_late, unsent * 100, max_unsent_share * 100)}});
    report["load"] = {{"scheduled", scheduled},
                      {"dropped", dropped},
                      {"very_late", very_late},
                      {"delivered", delivered}};
    shortfall = shortfall || !delivered;
  }
  if (shortfall && report.value("verdict", "unknown") == "pass") report["verdict"] = "unknown";
}

}  // namespace

namespace {

// "2026-12-07T10:00:00Z" → "2026-12-07T19:00:00+09:00" (Asia/Tokyo has no daylight saving time);
// null for anything else (a history without the time).
json in_jst(const std::string& utc) {
  std::tm tm{};
  int year = 0;
  char zulu = 0;
  if (std::sscanf(utc.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &zulu) != 7 ||
      zulu != 'Z') {
    return nullptr;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon -= 1;
  const std::time_t tokyo = ::timegm(&tm) + 9 * 3600;
  std::tm local{};
  if (::gmtime_r(&tokyo, &local) == nullptr) return nullptr;
  char text[40];
  if (std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S+09:00", &local) == 0) return nullptr;
  return std::string(text);
}

json instant(const std::string& utc) {
  return {{"utc", utc.empty() ? json() : json(utc)}, {"jst", in_jst(utc)}};
}

// report.json `conditions`: what the run was, from the history's header and footer alone, so that
// `kofu verify` and `kofu report` rebuild it (docs/reports.md).
json conditions_of(const history_read_info& info) {
  const json& h = info.header;
  const auto member = [&](const char* key) {
    const auto it = h.find(key);
    return it != h.end() ? *it : json();
  };
  const json scenario = member("scenario");
  const json target = member("target");
  const json population = member("population");
  json targets = json::array();
  if (target.is_object()) {
    const json fingerprints = target.value("tls_certificate_sha256", json::object());
    for (const auto& url : target.value("urls", json::array())) {
      if (!url.is_string()) continue;
      const auto fp =
          fingerprints.is_object() ? fingerprints.find(url.get<std::string>()) : fingerprints.end();
      targets.push_back({{"url", url},
                         {"tls_certificate_sha256",
                          fingerprints.is_object() && fp != fingerprints.end() ? *fp : json()}});
    }
  }
  const auto text = [](const json& obj, const char* key) {
    return obj.is_object() ? obj.value(key, json()) : json();
  };
  return {
      {"scenario",
       {{"name", text(scenario, "name")},
        {"path", member("scenario_path")},
        {"sha256", member("scenario_sha256")}}},
      {"population",
       {{"residents", text(population, "residents")},
        {"sha256", text(population, "sha256")},
        {"path", text(population, "path")}}},
      {"seed", member("seed")},
      {"target",
       {{"kind", text(target, "kind")},
        {"profile", text(target, "profile_name")},
        {"defects", text(target, "defects")},
        {"tls_verify", text(target, "tls_verify")}}},
      {"targets", targets},
      {"server_version", member("server_version")},
      {"kofu_version", member("kofu_version")},
      {"host", member("host")},
      {"started_at", instant(h.is_object() ? h.value("started_at", "") : std::string())},
      {"ended_at", instant(info.ended_at)},
  };
}

// One edge of the leak graph: `class` is shift (one source), chain (one source, in a chain of
// shifts), ambiguous (`source_candidates` ≥ 2, the first few listed) or unsourced.
json leak_edge_json(const leak_edge& e) {
  const char* cls = e.source_candidates >= 2 ? "ambiguous"
                    : !e.victim_request      ? "unsourced"
                    : e.chain                ? "chain"
                                             : "shift";
  json je = {{"victim", e.victim_resident},
             {"recipient", e.recipient_resident},
             {"recipient_request", e.recipient_request},
             {"kind", to_string(e.kind)},
             {"class", cls},
             {"source_candidates", e.source_candidates},
             {"same_worker", e.same_worker},
             {"same_conn", e.same_conn}};
  if (e.victim_request) {
    je["victim_request"] = *e.victim_request;
    je["source_timing"] = e.source_preceded ? "preceding" : "overlapping";
  }
  if (!e.candidate_requests.empty()) je["candidate_requests"] = e.candidate_requests;
  if (e.chain) je["chain"] = *e.chain;
  return je;
}

// The most findings of one kind a report keeps in full: the scenario's
// `report.findings_per_kind` as the header holds it, else the default.
std::uint64_t findings_per_kind_of(const json& header) {
  const auto scenario = header.is_object() ? header.find("scenario") : header.end();
  if (scenario == header.end() || !scenario->is_object())
    return kofu::scenario::default_findings_per_kind();
  const auto report = scenario->find("report");
  if (report == scenario->end() || !report->is_object())
    return kofu::scenario::default_findings_per_kind();
  const auto n = report->find("findings_per_kind");
  return n != report->end() && n->is_number_unsigned()
             ? n->get<std::uint64_t>()
             : kofu::scenario::default_findings_per_kind();
}

}  // namespace

json make_report(const checker& c, const history_read_info& info, const timeline* over_time) {
  const verification_summary s = c.summary();
  const std::uint64_t per_kind = findings_per_kind_of(info.header);
  std::array<std::uint64_t, all_finding_kinds.size()> kept{};
  std::array<std::uint64_t, all_finding_kinds.size()> omitted{};
  // Findings of requests in a broken block of the history are set aside (issue 15 item 5).
  auto findings_by_kind = s.findings_by_kind;
  std::uint64_t requests_with_findings = s.requests_with_findings;
  json findings = json::array();
  json set_aside = json::array();
  std::uint64_t set_aside_count = 0;
  std::set<std::uint64_t> requests_set_aside;  // those with findings
  // The timeline gets the findings that are reported (the set-aside ones are not).
  std::optional<timeline> with_findings;
  if (over_time != nullptr) with_findings = *over_time;
  for (const auto& f : c.findings()) {
    if (is_set_aside(info, f.request_id)) {
      --findings_by_kind[static_cast<std::size_t>(f.kind)];
      if (requests_set_aside.insert(f.request_id).second && requests_with_findings > 0) {
        --requests_with_findings;
      }
      if (set_aside.size() < history_read_info::max_listed_stretches) {
        set_aside.push_back({{"kind", to_string(f.kind)},
                             {"request_id", f.request_id},
                             {"application_number", f.application_number}});
      }
      ++set_aside_count;
      continue;
    }
    if (with_findings) with_findings->on_finding(f.received_ns);
    // Past the first `per_kind` of its kind a finding is counted, not kept (issue 13 item 7).
    const auto kind = static_cast<std::size_t>(f.kind);
    if (kept[kind] >= per_kind) {
      ++omitted[kind];
      continue;
    }
    ++kept[kind];
    json j = to_json(f);
    bound_evidence(j);
    findings.push_back(std::move(j));
  }
  json by_kind = json::object();
  json omitted_by_kind = json::object();
  for (const finding_kind k : all_finding_kinds) {
    by_kind[std::string(to_string(k))] = findings_by_kind[static_cast<std::size_t>(k)];
    omitted_by_kind[std::string(to_string(k))] = omitted[static_cast<std::size_t>(k)];
  }
  json thresholds = json::array();
  for (const auto& t : s.thresholds) {
    thresholds.push_back(
        {{"name", t.name}, {"passed", t.passed}, {"detail", t.detail}, {"exposure", t.exposure}});
  }
  std::string integrity_status = "intact";
  if (info.integrity_broken()) {
    integrity_status = "broken";
  } else if (!info.chained) {
    integrity_status = "unchained";
  } else if (info.unsealed_tail) {
    integrity_status = "unsealed_tail";
  }
  if (info.integrity_broken()) {
    thresholds.push_back(
        {{"name", "history_integrity"},
         {"passed", false},
         {"detail", fmt::format("the history is not what kofu wrote: {} corrupt lines, {} broken "
                                "blocks; {} requests set aside",
                                info.corrupt_line_count, info.broken_blocks.size(),
                                info.set_aside_requests.size())},
         {"exposure", false}});
  }
  json broken_blocks = json::array();
  for (const auto& b : info.broken_blocks) broken_blocks.push_back(stretch_json(b));
  json corrupt = json::array();
  for (const auto& b : info.corrupt_lines) corrupt.push_back(stretch_json(b));
  json integrity = {
      {"status", integrity_status},
      {"chained", info.chained},
      {"sealed_blocks", info.sealed_blocks},
      {"chain_head", info.chain_head},
      {"broken_blocks", broken_blocks},
      {"corrupt_lines", corrupt},
      {"corrupt_line_count", info.corrupt_line_count},
      {"unsealed_tail", info.unsealed_tail ? stretch_json(*info.unsealed_tail) : json()},
      {"requests_set_aside", info.set_aside_requests.size()},
      {"requests_set_aside_incomplete", info.set_aside_incomplete},
      {"findings_set_aside", set_aside_count},
      {"findings_set_aside_list", set_aside}};
  // A damaged file proves nothing either way: never pass, and not fail on its word either.
  const std::string verdict =
      info.integrity_broken() ? "unknown" : std::string(to_string(s.final_verdict));
  // The edges as the findings: the first `per_kind` of each kind in full, the rest counted.
  json edges = json::array();
  std::array<std::uint64_t, all_finding_kinds.size()> edges_kept{};
  std::array<std::uint64_t, all_finding_kinds.size()> edges_past{};
  for (const auto& e : s.leaks.edges) {
    if (is_set_aside(info, e.recipient_request)) continue;
    const auto kind = static_cast<std::size_t>(e.kind);
    if (edges_kept[kind] >= per_kind) {
      ++edges_past[kind];
      continue;
    }
    ++edges_kept[kind];
    edges.push_back(leak_edge_json(e));
  }
  json edges_omitted = json::object();
  for (const finding_kind k : {finding_kind::wrong_person, finding_kind::foreign_data}) {
    edges_omitted[std::string(to_string(k))] = edges_past[static_cast<std::size_t>(k)];
  }
  json chains = json::array();
  for (std::size_t k = 0; k < s.leaks.chains.size() && k < per_kind; ++k) {
    const auto& ch = s.leaks.chains[k];
    chains.push_back({{"chain", k},
                      {"shifts", ch.shifts},
                      {"first_request", ch.first_request},
                      {"last_request", ch.last_request}});
  }
  json by_phase = json::array();
  for (const auto& [name, e] : s.exposure_by_phase) {
    by_phase.push_back({{"phase", name},
                        {"requests", e.requests},
                        {"overlapped_other_resident", e.overlapped_other_resident},
                        {"overlapped_own_update", e.overlapped_own_update},
                        {"overlapped_own_update_retry", e.overlapped_own_update_retry},
                        {"peak_in_flight", e.peak_in_flight}});
  }
  const auto& x = s.exposure_counts;
  const auto& o = s.outcomes;
  json report = {
      {"format", "kofu-report/1"},
      {"kofu_version", KOFU_VERSION},
      {"verdict", verdict},
      {"answered", o.answered},
      {"outcomes",
       {{"answered", o.answered},
        {"retry", o.retry},
        {"refused", o.refused},
        {"errors", o.errors},
        {"timeouts", o.timeouts},
        {"unanswered", o.unanswered},
        {"unknown_resident", o.unknown_resident},
        {"history_errors", o.history_errors}}},
      {"findings_by_kind", by_kind},
      {"requests_with_findings", requests_with_findings},
      {"findings", findings},
      {"findings_per_kind", per_kind},
      {"findings_omitted", omitted_by_kind},
      {"leak_graph",
       {{"edges", edges},
        {"edges_omitted", edges_omitted},
        {"swaps", s.leaks.swaps},
        {"shifts", s.leaks.shifts},
        {"shift_chains", s.leaks.shift_chains},
        {"chains", chains},
        {"ambiguous", s.leaks.ambiguous},
        {"unsourced", s.leaks.unsourced},
        {"duplicates", s.leaks.duplicates},
        {"victims", s.leaks.victims}}},
      {"exposure",
       {{"requests", x.requests},
        {"overlapped_other_resident", x.overlapped_other_resident},
        {"overlapped_own_update", x.overlapped_own_update},
        {"overlapped_own_update_retry", x.overlapped_own_update_retry},
        {"peak_in_flight", x.peak_in_flight},
        {"updates", x.updates},
        {"updates_failed", x.updates_failed},
        {"updates_unknown", x.updates_unknown},
        {"by_phase", by_phase}}},
      {"upper_bound_95", s.upper_bound_95},
      {"latency_ms",
       {{"count", s.latency.count()},
        {"p50", s.latency.percentile_ms(50)},
        {"p90", s.latency.percentile_ms(90)},
        {"p99", s.latency.percentile_ms(99)},
        {"p999", s.latency.percentile_ms(99.9)},
        {"max", s.latency.max_ms()}}},
      {"thresholds", thresholds},
      {"verification",
       {{"staleness_ms", static_cast<double>(c.options().staleness_ns) / 1e6},
        {"require_echo", c.options().require_echo},
        {"check_digest", c.options().check_digest}}},
      {"history",
       {{"lines", info.lines},
        {"truncated_last_line", info.truncated_last_line},
        {"complete", info.has_footer}}},
      {"history_integrity", integrity},
  };
  if (info.header.is_object()) {
    report["run"] = {{"scenario_sha256", info.header.value("scenario_sha256", "")},
                     {"seed", info.header.value("seed", json())},
                     {"started_at", info.header.value("started_at", "")},
                     {"population", info.header.value("population", json())},
                     {"server_version", info.header.value("server_version", json())}};
    // What the reports (junit.xml, summary.md, report.html) say of the run's conditions.
    const auto scenario = info.header.find("scenario");
    const auto target = info.header.find("target");
    json& run = report["run"];
    run["scenario"] = scenario != info.header.end() && scenario->is_object()
                          ? scenario->value("name", "")
                          : std::string();
    if (target != info.header.end() && target->is_object()) {
      run["target"] = {{"kind", target->value("kind", "")},
                       {"profile", target->value("profile_name", json())},
                       {"defects", target->value("defects", json::array())},
                       {"urls", target->value("urls", json::array())}};
    }
    if (info.footer_stats.is_object()) {
      run["elapsed_s"] = info.footer_stats.value("elapsed_s", json());
      run["sent"] = info.footer_stats.value("sent", json());
    }
    // report.html's test conditions in full: the scenario as loaded (its admin token is already
    // redacted in the header) and the file it was read from.
    run["scenario_path"] = info.header.value("scenario_path", "");
    run["scenario_document"] =
        scenario != info.header.end() && scenario->is_object() ? *scenario : json();
  }
  report["conditions"] = conditions_of(info);
  if (with_findings) {
    report["timeline"] = with_findings->to_json();
    report["phases"] = report["timeline"]["phases"];
  }
  judge_run_end(info, report);
  return report;
}

result<void> write_report(const std::filesystem::path& dir, const nlohmann::json& report) {
  const auto path = dir / "report.json";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error(errc::io, fmt::format("{}: cannot write", path.string()));
  out << report.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
  if (!out) return make_error(errc::io, fmt::format("{}: write failed", path.string()));
  return {};
}

result<verify_result> report_directory(const std::filesystem::path& dir,
                                       const verify::replay_options& how,
                                       const verify::protocol_loader& protocol) {
  auto run = verify::verify_directory(dir, how, protocol);
  if (!run) return run.error();
  return verify_result{make_report(*run->checks, run->info, run->over_time.get()),
                       std::move(run->info)};
}

}  // namespace kofu::reports
