#include "kofu/verify/report.hpp"

#include <fmt/format.h>

#include <fstream>
#include <istream>
#include <optional>

#include "kofu/common/sha256.hpp"
#include "kofu/history/reader.hpp"
#include "kofu/population/reader.hpp"

namespace kofu::verify {

using json = nlohmann::json;

json make_report(const checker& c, const history_read_info& info) {
  const verification_summary s = c.summary();
  json by_kind = json::object();
  for (const finding_kind k : all_finding_kinds) {
    by_kind[std::string(to_string(k))] = s.findings_by_kind[static_cast<std::size_t>(k)];
  }
  json findings = json::array();
  for (const auto& f : c.findings()) findings.push_back(to_json(f));
  json thresholds = json::array();
  for (const auto& t : s.thresholds) {
    thresholds.push_back(
        {{"name", t.name}, {"passed", t.passed}, {"detail", t.detail}, {"exposure", t.exposure}});
  }
  json edges = json::array();
  for (const auto& e : s.leaks.edges) {
    json je = {{"victim", e.victim_resident},
               {"recipient", e.recipient_resident},
               {"recipient_request", e.recipient_request},
               {"kind", to_string(e.kind)},
               {"same_worker", e.same_worker},
               {"same_conn", e.same_conn}};
    if (e.victim_request) je["victim_request"] = *e.victim_request;
    edges.push_back(std::move(je));
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
      {"verdict", to_string(s.final_verdict)},
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
      {"requests_with_findings", s.requests_with_findings},
      {"findings", findings},
      {"leak_graph",
       {{"edges", edges},
        {"swaps", s.leaks.swaps},
        {"shifts", s.leaks.shifts},
        {"shift_chains", s.leaks.shift_chains},
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
  };
  if (info.header.is_object()) {
    report["run"] = {{"scenario_sha256", info.header.value("scenario_sha256", "")},
                     {"seed", info.header.value("seed", json())},
                     {"started_at", info.header.value("started_at", "")},
                     {"population", info.header.value("population", json())},
                     {"server_version", info.header.value("server_version", json())}};
  }
  return report;
}

namespace {

// The loop behind replay_history and verify_directory: `sink` receives each event as an rvalue.
template <class Sink>
result<history_read_info> replay_lines(std::istream& in, std::string_view name, Sink&& sink,
                                       std::uint64_t first_line, const parse_options& options) {
  history_read_info info;
  std::string line;
  std::string where;
  std::optional<error> pending_error;  // a bad line is fatal only if it is not the last one
  while (std::getline(in, line)) {
    const bool ended_with_newline = !in.eof();
    ++info.lines;
    if (line.empty()) continue;
    if (pending_error) return *pending_error;
    where.assign(name);
    where += ':';
    where += std::to_string(first_line + info.lines - 1);
    auto ev = parse_history_line(line, where, options);
    if (!ev) {
      if (!ended_with_newline && ev.error().code == errc::parse) {
        info.truncated_last_line = true;  // killed while writing
        break;
      }
      pending_error = ev.error();
      continue;
    }
    if (const auto* h = std::get_if<history_header>(&*ev)) info.header = h->raw;
    if (const auto* m = std::get_if<marker_event>(&*ev); m != nullptr && m->name == "footer") {
      info.has_footer = true;
    }
    sink(std::move(*ev));
  }
  if (pending_error) return *pending_error;
  return info;
}

}  // namespace

result<history_read_info> replay_history(std::istream& in, std::string_view name,
                                         const std::function<void(const history_event&)>& sink,
                                         std::uint64_t first_line) {
  return replay_lines(
      in, name, [&](history_event&& e) { sink(e); }, first_line, parse_options{});
}

result<history_read_info> replay_history(std::istream& in, std::string_view name, checker& c,
                                         std::uint64_t first_line) {
  const parse_options options{c.options().keep_answers, c.options().check_digest};
  return replay_lines(
      in, name, [&](history_event&& e) { c.on_event(std::move(e)); }, first_line, options);
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

result<verify_result> verify_directory(const std::filesystem::path& dir) {
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
  checker c(resident_model(std::move(*residents)), options_from_header(header->raw));
  auto info = replay_history(in, history_path.string(), c, 2);
  if (!info) return info.error();
  if (auto bad = (*stream)->decode_error()) {
    return make_error(errc::parse, fmt::format("{}: corrupt zstd data after line {}: {}",
                                               history_path.string(), info->lines + 1, *bad));
  }
  c.finish();
  info->lines += 1;
  info->header = header->raw;
  info->population_path = *pop_path;
  verify_result out{make_report(c, *info), *info};
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

std::string summary_text(const nlohmann::json& report) {
  std::string s = fmt::format("verdict: {}\nanswered: {}\n", report.value("verdict", "unknown"),
                              report.value("answered", 0));
  const auto& by_kind = report["findings_by_kind"];
  std::string kinds;
  for (const auto& [k, v] : by_kind.items()) {
    if (v.get<std::uint64_t>() > 0) kinds += fmt::format(" {}={}", k, v.get<std::uint64_t>());
  }
  s += fmt::format("findings:{}\n", kinds.empty() ? " none" : kinds);
  const auto& x = report["exposure"];
  s += fmt::format(
      "exposure: {} overlapped another resident, {} overlapped an own update ({} got 409), "
      "peak in flight {}\n",
      x.value("overlapped_other_resident", 0), x.value("overlapped_own_update", 0),
      x.value("overlapped_own_update_retry", 0), x.value("peak_in_flight", 0));
  s += fmt::format("upper bound (95%) on the mis-issuance rate: {:.3g}\n",
                   report.value("upper_bound_95", 1.0));
  return s;
}

}  // namespace kofu::verify
