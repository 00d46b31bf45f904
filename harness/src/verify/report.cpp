#include "kofu/verify/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <istream>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

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

constexpr unsigned max_replay_threads = 256;
// Batches read ahead per worker. Parse and check costs vary along a history (answers with many
// persons, update bursts); on a 2-core machine with a 1 GB history, 2 batches per worker left
// each side waiting ≈ 0.85 s for the other, 4 about half that (and 3 MB more peak RSS).
constexpr std::size_t window_per_worker = 4;

// The rules of a replay, line by line, shared by the sequential and the parallel loop so that the
// two cannot differ. A bad line is remembered rather than returned at once, as the loop has always
// done, and returned at the next non-empty line or at the end: it is fatal either way; only a
// last line without its newline that fails as errc::parse is forgiven (a killed run).
class replay_rules {
 public:
  // One line of the file, in order. `parse()` yields its event; it is called only for a non-empty
  // line that the replay still needs. Returns false when the replay is over (then finish()).
  template <class Parse, class Sink>
  bool on_line(bool empty, bool ended_with_newline, Parse&& parse, Sink& sink) {
    ++info_.lines;
    if (empty) return true;
    if (pending_error_) return false;
    result<history_event> ev = parse();
    if (!ev) {
      if (!ended_with_newline && ev.error().code == errc::parse) {
        info_.truncated_last_line = true;  // killed while writing
        return false;
      }
      pending_error_ = ev.error();
      return true;
    }
    if (const auto* h = std::get_if<history_header>(&*ev)) info_.header = h->raw;
    if (const auto* m = std::get_if<marker_event>(&*ev); m != nullptr && m->name == "footer") {
      info_.has_footer = true;
    }
    sink(std::move(*ev));
    return true;
  }

  result<history_read_info> finish() {
    if (pending_error_) return *pending_error_;
    return std::move(info_);
  }

  std::uint64_t lines() const { return info_.lines; }

 private:
  history_read_info info_;
  std::optional<error> pending_error_;
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
                                            std::uint64_t first_line,
                                            const parse_options& options) {
  replay_rules rules;
  std::string line;
  std::string where;
  while (std::getline(in, line)) {
    const bool ended_with_newline = !in.eof();
    const auto parse = [&] {
      return parse_history_line(line, line_where(where, name, first_line + rules.lines() - 1),
                                options);
    };
    if (!rules.on_line(line.empty(), ended_with_newline, parse, sink)) break;
  }
  return rules.finish();
}

// A batch of consecutive lines, parsed: one entry per line, nullopt for an empty line.
struct parsed_batch {
  std::vector<std::optional<result<history_event>>> lines;
  bool last_line_unterminated = false;  // its last line ended at the end of the stream, not '\n'
  bool final = false;                   // the stream ends with this batch
  std::exception_ptr failure;           // what reading or parsing it threw
};

// The workers of a parallel replay and the bounded window of batches between them and the caller.
// Batches are numbered in file order when they are read; the caller takes them in that order.
class parallel_parser {
 public:
  parallel_parser(std::istream& in, std::string_view name, std::uint64_t first_line,
                  const parse_options& options, const replay_options& how, unsigned workers)
      : in_(in),
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
          read_batch(text, ends, batch);
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

  // Reads up to batch_lines_ lines or about batch_bytes_ of text. Under input_mutex_.
  void read_batch(std::string& text, std::vector<std::size_t>& ends, parsed_batch& batch) {
    text.clear();
    ends.clear();
    while (ends.size() < batch_lines_ && text.size() < batch_bytes_) {
      if (!std::getline(in_, line_)) {
        batch.final = true;
        return;
      }
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
      if (line.empty()) {
        batch.lines.emplace_back();
        continue;
      }
      batch.lines.emplace_back(parse_history_line(
          line, line_where(where, name_, first_line_ + first_index + i), options_));
    }
  }

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
                                          const replay_options& how, unsigned workers) {
  replay_rules rules;
  parallel_parser parser(in, name, first_line, options, how, workers);
  for (;;) {
    parsed_batch batch = parser.next();
    const std::size_t n = batch.lines.size();
    for (std::size_t i = 0; i < n; ++i) {
      const bool ended_with_newline = !(batch.last_line_unterminated && i + 1 == n);
      auto& parsed = batch.lines[i];
      const auto take = [&] { return std::move(*parsed); };
      if (!rules.on_line(!parsed.has_value(), ended_with_newline, take, sink)) {
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
                                       const replay_options& how) {
  const unsigned threads =
      std::min(how.threads != 0 ? how.threads : default_replay_threads(), max_replay_threads);
  if (threads <= 1) return replay_sequential(in, name, sink, first_line, options);
  return replay_parallel(in, name, sink, first_line, options, how, threads - 1);
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
  return replay_lines(
      in, name, [&](history_event&& e) { sink(e); }, first_line, parse_options{}, how);
}

result<history_read_info> replay_history(std::istream& in, std::string_view name, checker& c,
                                         std::uint64_t first_line, const replay_options& how) {
  const parse_options options{c.options().keep_answers, c.options().check_digest,
                              c.options().decoder.get()};
  return replay_lines(
      in, name, [&](history_event&& e) { c.on_event(std::move(e)); }, first_line, options, how);
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
  auto info = replay_history(in, history_path.string(), c, 2, how);
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
