#include "kofu/verify/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <istream>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "kofu/common/sha256.hpp"
#include "kofu/history/reader.hpp"
#include "kofu/population/reader.hpp"

namespace kofu::verify {

using json = nlohmann::json;

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
  if (scenario == header.end() || !scenario->is_object()) return default_findings_per_kind;
  const auto report = scenario->find("report");
  if (report == scenario->end() || !report->is_object()) return default_findings_per_kind;
  const auto n = report->find("findings_per_kind");
  return n != report->end() && n->is_number_unsigned() ? n->get<std::uint64_t>()
                                                       : default_findings_per_kind;
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

namespace {

constexpr unsigned max_replay_threads = 256;
// Batches read ahead per worker. Parse and check costs vary along a history (answers with many
// persons, update bursts); on a 2-core machine with a 1 GB history, 2 batches per worker left
// each side waiting ≈ 0.85 s for the other, 4 about half that (and 3 MB more peak RSS).
constexpr std::size_t window_per_worker = 4;

// The rules of a replay, line by line, shared by the sequential and the parallel loop so that the
// two cannot differ. A bad line is remembered rather than returned at once, as the loop has always
// done, and returned at the next non-empty line or at the end: it is fatal either way; only a
// last line without its newline that fails as errc::parse is forgiven (a killed run). With
// keep_going a bad line is noted instead (corrupt_lines) and the replay goes on.
// The rules also note which issue requests each block of the chain touched, so that those of a
// block whose seal fails can be set aside (history_read_info::set_aside_requests).
class replay_rules {
 public:
  using line_kind = history::chain_verifier::line_kind;
  // Requests of one block noted at most: a writer's block holds one flush interval of events.
  static constexpr std::size_t max_block_requests = std::size_t{1} << 20;

  replay_rules(std::uint64_t first_line, bool keep_going)
      : first_line_(first_line), keep_going_(keep_going) {}

  // One line of the file, in order, with what the chain made of it. `parse()` yields its event;
  // it is called only for a non-empty data line that the replay still needs. Returns false when
  // the replay is over (then finish()).
  template <class Parse, class Sink>
  bool on_line(line_kind kind, bool empty, bool ended_with_newline, Parse&& parse, Sink& sink) {
    ++info_.lines;
    if (kind != line_kind::data) {
      end_block(kind == line_kind::broken);
      return true;
    }
    if (empty) return true;
    if (pending_error_) return false;
    result<history_event> ev = parse();
    if (!ev) {
      if (!ended_with_newline && ev.error().code == errc::parse) {
        info_.truncated_last_line = true;  // killed while writing
        return false;
      }
      if (keep_going_) {
        const std::uint64_t number = first_line_ + info_.lines - 1;
        if (info_.corrupt_lines.size() < history_read_info::max_listed_stretches) {
          info_.corrupt_lines.push_back({number, number, ev.error().message});
        }
        ++info_.corrupt_line_count;
        return true;
      }
      pending_error_ = ev.error();
      return true;
    }
    if (const auto* h = std::get_if<history_header>(&*ev)) info_.header = h->raw;
    if (const auto* m = std::get_if<marker_event>(&*ev); m != nullptr && m->name == "footer") {
      info_.has_footer = true;
      info_.end_reason = m->phase;
      info_.footer_stats = m->detail;
      info_.ended_at = m->ended_at;
    }
    if (const auto* i = std::get_if<issue_invoke>(&*ev)) note_request(i->id);
    if (const auto* c = std::get_if<issue_complete>(&*ev)) note_request(c->id);
    sink(std::move(*ev));
    return true;
  }

  result<history_read_info> finish() {
    if (pending_error_) return *pending_error_;
    std::sort(info_.set_aside_requests.begin(), info_.set_aside_requests.end());
    info_.set_aside_requests.erase(
        std::unique(info_.set_aside_requests.begin(), info_.set_aside_requests.end()),
        info_.set_aside_requests.end());
    return std::move(info_);
  }

  std::uint64_t lines() const { return info_.lines; }

 private:
  void note_request(std::uint64_t id) {
    if (block_requests_.size() < max_block_requests) {
      block_requests_.push_back(id);
    } else {
      block_overflow_ = true;
    }
  }
  void end_block(bool broken) {
    if (broken) {
      info_.set_aside_requests.insert(info_.set_aside_requests.end(), block_requests_.begin(),
                                      block_requests_.end());
      if (block_overflow_) info_.set_aside_incomplete = true;
    }
    block_requests_.clear();
    block_overflow_ = false;
  }

  history_read_info info_;
  std::optional<error> pending_error_;
  std::uint64_t first_line_;
  bool keep_going_;
  std::vector<std::uint64_t> block_requests_;  // issue ids of the block being read
  bool block_overflow_ = false;
};

// "name:LINE", into a buffer reused from line to line.
const std::string& line_where(std::string& where, std::string_view name,
                              std::uint64_t line_number) {
  where.assign(name);
  where += ':';
  where += std::to_string(line_number);
  return where;
}

// The plain loop: read, parse and hand over one line at a time on the calling thread.
template <class Sink>
result<history_read_info> replay_sequential(std::istream& in, std::string_view name, Sink& sink,
                                            std::uint64_t first_line, const parse_options& options,
                                            bool keep_going, history::chain_verifier& chain) {
  replay_rules rules(first_line, keep_going);
  std::string line;
  std::string where;
  while (std::getline(in, line)) {
    const bool ended_with_newline = !in.eof();
    const auto kind = chain.on_line(line, first_line + rules.lines());
    const auto parse = [&] {
      return parse_history_line(line, line_where(where, name, first_line + rules.lines() - 1),
                                options);
    };
    if (!rules.on_line(kind, line.empty(), ended_with_newline, parse, sink)) break;
  }
  return rules.finish();
}

// A batch of consecutive lines, parsed: one entry per line, nullopt for an empty line.
struct parsed_batch {
  std::vector<std::optional<result<history_event>>> lines;
  std::vector<history::chain_verifier::line_kind> kinds;  // what the chain made of each line
  bool last_line_unterminated = false;  // its last line ended at the end of the stream, not '\n'
  bool final = false;                   // the stream ends with this batch
  std::exception_ptr failure;           // what reading or parsing it threw
};

// The workers of a parallel replay and the bounded window of batches between them and the caller.
// Batches are numbered in file order when they are read; the caller takes them in that order.
class parallel_parser {
 public:
  parallel_parser(std::istream& in, std::string_view name, std::uint64_t first_line,
                  const parse_options& options, const replay_options& how, unsigned workers,
                  history::chain_verifier& chain)
      : chain_(chain),
        in_(in),
        name_(name),
        first_line_(first_line),
        options_(options),
        batch_lines_(std::max<std::size_t>(how.batch_lines, 1)),
        batch_bytes_(std::max<std::size_t>(how.batch_bytes, 1)),
        slots_(window_per_worker * static_cast<std::size_t>(workers)) {
    workers_.reserve(workers);
    try {
      for (unsigned i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
    } catch (...) {
      stop_and_join();
      throw;
    }
  }
  ~parallel_parser() { stop_and_join(); }
  parallel_parser(const parallel_parser&) = delete;
  parallel_parser& operator=(const parallel_parser&) = delete;

  // The next batch in file order (blocks until it is parsed); rethrows what its worker threw.
  // Not to be called again after a final batch.
  parsed_batch next() {
    std::unique_lock lock(mutex_);
    auto& slot = slots_[taken_ % slots_.size()];
    ready_.wait(lock, [&] { return slot.has_value(); });
    parsed_batch batch = std::move(*slot);
    slot.reset();
    ++taken_;
    lock.unlock();
    space_.notify_one();  // only the worker holding input_mutex_ ever waits for room
    if (batch.failure) std::rethrow_exception(batch.failure);
    return batch;
  }

 private:
  void stop_and_join() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    space_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  void work() {
    std::string text;               // the batch's lines, back to back
    std::vector<std::size_t> ends;  // where each line ends in `text`
    for (;;) {
      parsed_batch batch;
      std::uint64_t seq = 0;
      std::uint64_t first_index = 0;  // lines read before this batch
      {
        std::unique_lock input(input_mutex_);
        if (input_done_) return;
        {
          std::unique_lock lock(mutex_);
          space_.wait(lock, [&] { return stop_ || reserved_ < taken_ + slots_.size(); });
          if (stop_) return;
          seq = reserved_++;
        }
        first_index = lines_read_;
        try {
          read_batch(text, ends, batch, first_index);
        } catch (...) {
          batch.failure = std::current_exception();
          batch.final = true;
        }
        lines_read_ += ends.size();
        input_done_ = batch.final;
      }
      if (!batch.failure) {
        try {
          parse_batch(text, ends, first_index, batch);
        } catch (...) {
          batch.failure = std::current_exception();
        }
      }
      {
        std::lock_guard lock(mutex_);
        slots_[seq % slots_.size()] = std::move(batch);
      }
      // The caller may be waiting for an earlier batch: wake it anyway, it checks its own slot.
      ready_.notify_one();
    }
  }

  // Reads up to batch_lines_ lines or about batch_bytes_ of text, and checks them against the
  // chain, which must see the lines in file order: that is why it is done here, under
  // input_mutex_, and not by the parsing (which runs in parallel).
  void read_batch(std::string& text, std::vector<std::size_t>& ends, parsed_batch& batch,
                  std::uint64_t first_index) {
    text.clear();
    ends.clear();
    while (ends.size() < batch_lines_ && text.size() < batch_bytes_) {
      if (!std::getline(in_, line_)) {
        batch.final = true;
        return;
      }
      batch.kinds.push_back(chain_.on_line(line_, first_line_ + first_index + ends.size()));
      text += line_;
      ends.push_back(text.size());
      if (in_.eof()) {  // the same test as the plain loop's `ended_with_newline`
        batch.last_line_unterminated = true;
        batch.final = true;
        return;
      }
    }
  }

  void parse_batch(const std::string& text, const std::vector<std::size_t>& ends,
                   std::uint64_t first_index, parsed_batch& batch) const {
    batch.lines.reserve(ends.size());
    std::string where;
    std::size_t begin = 0;
    for (std::size_t i = 0; i < ends.size(); ++i) {
      const std::string_view line(text.data() + begin, ends[i] - begin);
      begin = ends[i];
      if (line.empty() || batch.kinds[i] != history::chain_verifier::line_kind::data) {
        batch.lines.emplace_back();
        continue;
      }
      batch.lines.emplace_back(parse_history_line(
          line, line_where(where, name_, first_line_ + first_index + i), options_));
    }
  }

  history::chain_verifier& chain_;  // under input_mutex_

  // Read-only after construction.
  std::istream& in_;
  const std::string_view name_;
  const std::uint64_t first_line_;
  const parse_options options_;
  const std::size_t batch_lines_;
  const std::size_t batch_bytes_;

  // State below is protected by input_mutex_ (one worker reads the stream at a time).
  std::mutex input_mutex_;
  std::string line_;
  std::uint64_t lines_read_ = 0;
  bool input_done_ = false;

  // State below is protected by mutex_. Lock order: input_mutex_, then mutex_.
  std::mutex mutex_;
  std::condition_variable space_;  // reserved_ fell below taken_ + slots_.size(), or stop_
  std::condition_variable ready_;  // a batch was put in its slot
  std::uint64_t reserved_ = 0;     // batches read or being read
  std::uint64_t taken_ = 0;        // batches handed to the caller
  bool stop_ = false;
  std::vector<std::optional<parsed_batch>> slots_;  // batch number s lives in slots_[s % size]

  std::vector<std::thread> workers_;  // started last, joined by stop_and_join()
};

template <class Sink>
result<history_read_info> replay_parallel(std::istream& in, std::string_view name, Sink& sink,
                                          std::uint64_t first_line, const parse_options& options,
                                          const replay_options& how, unsigned workers,
                                          history::chain_verifier& chain) {
  replay_rules rules(first_line, how.keep_going);
  parallel_parser parser(in, name, first_line, options, how, workers, chain);
  for (;;) {
    parsed_batch batch = parser.next();
    const std::size_t n = batch.lines.size();
    for (std::size_t i = 0; i < n; ++i) {
      const bool ended_with_newline = !(batch.last_line_unterminated && i + 1 == n);
      auto& parsed = batch.lines[i];
      const auto take = [&] { return std::move(*parsed); };
      if (!rules.on_line(batch.kinds[i], !parsed.has_value(), ended_with_newline, take, sink)) {
        return rules.finish();
      }
    }
    if (batch.final) return rules.finish();
  }
}

// The loop behind replay_history and verify_directory: `sink` receives each event as an rvalue,
// on the calling thread, in file order.
template <class Sink>
result<history_read_info> replay_lines(std::istream& in, std::string_view name, Sink&& sink,
                                       std::uint64_t first_line, const parse_options& options,
                                       const replay_options& how, history::chain_verifier& chain) {
  const unsigned threads =
      std::min(how.threads != 0 ? how.threads : default_replay_threads(), max_replay_threads);
  auto info = threads <= 1
                  ? replay_sequential(in, name, sink, first_line, options, how.keep_going, chain)
                  : replay_parallel(in, name, sink, first_line, options, how, threads - 1, chain);
  if (!info) return info;
  // The workers are joined: the chain is the caller's again.
  chain.finish();
  info->chained = chain.chained();
  info->sealed_blocks = chain.sealed_blocks();
  info->chain_head = chain.head();
  info->unsealed_tail = chain.unsealed_tail();
  const auto& broken = chain.broken();
  info->broken_blocks.assign(
      broken.begin(),
      broken.begin() + static_cast<std::ptrdiff_t>(
                           std::min(broken.size(), history_read_info::max_listed_stretches)));
  if (broken.size() > history_read_info::max_listed_stretches) {
    info->broken_blocks.push_back({broken.back().first_line, broken.back().last_line,
                                   fmt::format("… and {} more broken blocks before this one",
                                               broken.size() - info->broken_blocks.size())});
  }
  return info;
}

}  // namespace

unsigned default_replay_threads() {
  // Read once per replay, before any thread of ours starts; nothing in kofu sets the environment.
  if (const char* forced = std::getenv("KOFU_VERIFY_THREADS"); forced != nullptr) {
    const std::string_view text(forced);
    unsigned n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec == std::errc() && end == text.data() + text.size() && n > 0) {
      return std::min(n, max_replay_threads);
    }
  }
  return std::clamp(std::thread::hardware_concurrency(), 1u, max_replay_threads);
}

result<history_read_info> replay_history(std::istream& in, std::string_view name,
                                         const std::function<void(const history_event&)>& sink,
                                         std::uint64_t first_line, const replay_options& how) {
  history::chain_verifier chain;
  return replay_lines(
      in, name, [&](history_event&& e) { sink(e); }, first_line, parse_options{}, how, chain);
}

result<history_read_info> replay_history(std::istream& in, std::string_view name, checker& c,
                                         std::uint64_t first_line, const replay_options& how) {
  history::chain_verifier chain;
  return replay_history(in, name, c, first_line, how, chain);
}

result<history_read_info> replay_history(std::istream& in, std::string_view name, checker& c,
                                         std::uint64_t first_line, const replay_options& how,
                                         history::chain_verifier& chain, timeline* over_time) {
  const parse_options options{c.options().keep_answers, c.options().check_digest,
                              c.options().decoder.get()};
  return replay_lines(
      in, name,
      [&](history_event&& e) {
        if (over_time != nullptr) over_time->on_event(e);
        c.on_event(std::move(e));
      },
      first_line, options, how, chain);
}

namespace {

result<std::filesystem::path> resolve_population(const std::filesystem::path& dir,
                                                 const json& header) {
  const auto pop = header.find("population");
  std::string path;
  if (pop != header.end() && pop->is_object()) path = pop->value("path", "");
  std::vector<std::filesystem::path> tries;
  if (!path.empty()) {
    const std::filesystem::path p(path);
    if (p.is_absolute())
      tries.push_back(p);
    else {
      tries.push_back(dir / p);
      tries.push_back(p);
      tries.push_back(dir / p.filename());
    }
  }
  tries.push_back(dir / "population.jsonl");
  for (const auto& t : tries) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(t, ec)) return t;
  }
  return make_error(errc::io, fmt::format("{}: the population file '{}' named by the history "
                                          "header was not found",
                                          (dir / "history.jsonl").string(), path));
}

result<std::string> file_sha256(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return make_error(errc::io, fmt::format("{}: cannot open", p.string()));
  sha256_hasher h;
  std::string buf(1 << 16, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(std::string_view(buf.data(), static_cast<std::size_t>(in.gcount())));
  }
  return to_hex(h.finish());
}

}  // namespace

result<verify_result> verify_directory(const std::filesystem::path& dir, const replay_options& how,
                                       const protocol_loader& protocol_of) {
  // history.jsonl, or history.jsonl.zst (decompressed as it is read; a killed run's too).
  const auto found = history::find_history(dir);
  if (!found) {
    return make_error(errc::io,
                      fmt::format("{}: no history.jsonl or history.jsonl.zst in it", dir.string()));
  }
  const auto& history_path = *found;
  auto stream = history::text_stream::open(history_path);
  if (!stream) return stream.error();
  std::istream& in = **stream;
  // The header is the first line: it names the population and the verification settings.
  std::string first;
  if (!std::getline(in, first)) {
    return make_error(errc::parse, fmt::format("{}: empty history", history_path.string()));
  }
  auto ev = parse_history_line(first, history_path.string() + ":1");
  if (!ev) return ev.error();
  const auto* header = std::get_if<history_header>(&*ev);
  if (header == nullptr) {
    return make_error(errc::invalid_field,
                      fmt::format("{}:1: the first line is not a header", history_path.string()));
  }
  auto pop_path = resolve_population(dir, header->raw);
  if (!pop_path) return pop_path.error();
  if (const auto pop = header->raw.find("population");
      pop != header->raw.end() && pop->is_object()) {
    const std::string want = pop->value("sha256", "");
    if (!want.empty()) {
      auto got = file_sha256(*pop_path);
      if (!got) return got.error();
      if (*got != want) {
        return make_error(errc::invalid_field,
                          fmt::format("{}: SHA-256 {} differs from the history header's {}",
                                      pop_path->string(), *got, want));
      }
    }
  }
  auto residents = population::load_file(*pop_path);
  if (!residents) return residents.error();
  auto options = options_from_header(header->raw);
  std::shared_ptr<const record_rendering> rendering;
  if (protocol_of) {
    auto protocol = protocol_of(header->raw);
    if (!protocol) return protocol.error();
    rendering = protocol->rendering;
    if (protocol->decoder) {
      options.answers = protocol->decoder->capabilities();
      options.decoder = protocol->decoder;
    }
  }
  checker c(resident_model(std::move(*residents), std::move(rendering)), std::move(options));
  history::chain_verifier chain;
  (void)chain.on_line(first, 1);  // the header is in the first sealed block
  replay_options tolerant = how;
  tolerant.keep_going = true;
  timeline over_time;
  auto info = replay_history(in, history_path.string(), c, 2, tolerant, chain, &over_time);
  if (!info) return info.error();
  if (auto bad = (*stream)->decode_error()) {
    // What came before the damage is verified; the rest of the file could not be read at all.
    const std::uint64_t after = info->lines + 1;
    info->corrupt_lines.push_back(
        {after + 1, after + 1, fmt::format("corrupt zstd data after line {}: {}", after, *bad)});
    ++info->corrupt_line_count;
  }
  c.finish();
  info->lines += 1;
  info->header = header->raw;
  info->population_path = *pop_path;
  verify_result out{make_report(c, *info, &over_time), *info};
  return out;
}

result<void> write_report(const std::filesystem::path& dir, const nlohmann::json& report) {
  const auto path = dir / "report.json";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error(errc::io, fmt::format("{}: cannot write", path.string()));
  out << report.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
  if (!out) return make_error(errc::io, fmt::format("{}: write failed", path.string()));
  return {};
}

}  // namespace kofu::verify
