#include "kofu/verify/replay.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
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

result<verified_run> verify_directory(const std::filesystem::path& dir, const replay_options& how,
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
  auto c = std::make_unique<checker>(resident_model(std::move(*residents), std::move(rendering)),
                                     std::move(options));
  history::chain_verifier chain;
  (void)chain.on_line(first, 1);  // the header is in the first sealed block
  replay_options tolerant = how;
  tolerant.keep_going = true;
  auto over_time = std::make_unique<timeline>();
  auto info = replay_history(in, history_path.string(), *c, 2, tolerant, chain, over_time.get());
  if (!info) return info.error();
  if (auto bad = (*stream)->decode_error()) {
    // What came before the damage is verified; the rest of the file could not be read at all.
    const std::uint64_t after = info->lines + 1;
    info->corrupt_lines.push_back(
        {after + 1, after + 1, fmt::format("corrupt zstd data after line {}: {}", after, *bad)});
    ++info->corrupt_line_count;
  }
  c->finish();
  info->lines += 1;
  info->header = header->raw;
  info->population_path = *pop_path;
  return verified_run{std::move(c), std::move(over_time), std::move(*info)};
}

}  // namespace kofu::verify
