#pragma once
// Offline verification of a run folder (`kofu verify DIR`): the replay engine that reads a
// history and feeds the checker, and the run folder (its history, the population its header
// names). The report made from the result (report.json) is kofu/reports/report_json.hpp's.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kofu/common/error.hpp"
#include "kofu/common/language.hpp"
#include "kofu/history/chain.hpp"
#include "kofu/history/read_info.hpp"
#include "kofu/verify/checker.hpp"
#include "kofu/verify/timeline.hpp"

namespace kofu::verify {

// What the history file held beside its events (kofu/history/read_info.hpp).
using history::history_read_info;

// How a replay spreads its work over threads. Parsing a line (JSON, decoding of the certificate,
// its SHA-256) is most of the cost and each line parses on its own; the checker is not
// thread-safe and must see the events in file order. With `threads` = N > 1, N - 1 workers take
// turns reading batches of lines from the stream (one reader at a time, under a lock) and parse
// them, and the calling thread hands the events to the sink in file order, batch after batch:
// on k cores the wall time tends to max(parse / (k - 1), check). With N = 1 the calling thread
// reads, parses and checks line by line (the plain loop). The result is the same for every N.
// Memory is bounded by the threads, not by the history: at most 4 × (N - 1) batches are read and
// not yet handed to the sink, plus the one being handed over, each at most `batch_lines` lines
// and about `batch_bytes` of text (plus its parsed events).
// The adapter of a target's answers and the renderings of expected values, for a history whose
// target did not speak the reference protocol (both null for the reference protocol).
struct answer_protocol {
  std::shared_ptr<const answer_decoder> decoder;
  std::shared_ptr<const record_rendering> rendering;
};
// Builds the answer protocol a history header names (its target's vendor profile); the app layer
// provides it, so that the verifier needs no knowledge of profiles.
using protocol_loader = std::function<result<answer_protocol>(const nlohmann::json& header)>;

struct replay_options {
  unsigned threads = 0;  // threads in all, the caller's included (at most 256); 0: the default
  std::size_t batch_lines = 4096;      // a batch ends after this many lines…
  std::size_t batch_bytes = 1u << 20;  // …or once its text reaches this many bytes
  // A line that does not parse is noted in history_read_info::corrupt_lines and the replay goes
  // on (verify_directory); otherwise it is an error, as described at replay_history.
  bool keep_going = false;
};

// The default thread count: the environment variable KOFU_VERIFY_THREADS when it is a positive
// integer (at most 256; so tests and users can force 1 against N), else
// std::thread::hardware_concurrency() (1 when unknown).
unsigned default_replay_threads();

// Reads DIR/history.jsonl and the population its header names (resolved against DIR when
// relative; its SHA-256 is checked when the header gives one), replays every event through a
// checker (replay_history below, with `how` and keep_going), checks the chain, and returns the
// finished checker, its timeline and what the file held (kofu/reports/report_json.hpp makes
// report.json of them: reports::report_directory). Errors (exit code 2): no or unreadable history,
// no header, a population that cannot be loaded or does not match its digest. Corrupt lines and
// broken seals are not errors: they are reported (`history_integrity`), the rest is verified, and
// the verdict is at best `unknown`.
struct verified_run {
  std::unique_ptr<checker> checks;      // after finish()
  std::unique_ptr<timeline> over_time;  // the history's events, fed as the checker was
  history_read_info info;
};
// `protocol` builds the adapter of the answers when the header names a vendor profile (unset:
// every answer is read as the reference protocol's).
result<verified_run> verify_directory(const std::filesystem::path& dir,
                                      const replay_options& how = {},
                                      const protocol_loader& protocol = {});

// Replays history lines from a stream into `sink`; `first_line` is the file line number of the
// stream's first line (for messages). Exposed for tests and benchmarks.
// Line rules: empty lines are counted and skipped; a line that does not parse is an error that
// names "name:LINE" — except a last line without its newline that fails as errc::parse, which a
// killed run leaves behind: it is counted, ignored, and reported as truncated_last_line.
// `sink` is called on the calling thread only, in file order, whatever `how.threads`; the
// workers (if any) are joined before the call returns or throws. Exceptions thrown by the sink
// or by a worker (std::bad_alloc) propagate. On an error, how far `in` was read is unspecified
// (workers read ahead); on success it was read to its end.
// This overload parses with default parse_options (answers keep their bodies, digests are
// computed) and uses the same threads as the checker overload.
result<history_read_info> replay_history(std::istream& in, std::string_view name,
                                         const std::function<void(const history_event&)>& sink,
                                         std::uint64_t first_line = 1,
                                         const replay_options& how = {});
// The same, straight into a checker: answers are decoded as its options need (no digest when
// digests are not checked, no evidence copy when answers are not kept) and events are moved in.
result<history_read_info> replay_history(std::istream& in, std::string_view name, checker& c,
                                         std::uint64_t first_line = 1,
                                         const replay_options& how = {});
// The same, feeding every line (chain lines included) to `chain` in file order: a caller that
// read lines before `first_line` itself (the header) has fed them to `chain` first.
// Every line is checked against the chain in any case; chain lines are never events.
// With `over_time`, each event goes to it too, before the checker.
result<history_read_info> replay_history(std::istream& in, std::string_view name, checker& c,
                                         std::uint64_t first_line, const replay_options& how,
                                         history::chain_verifier& chain,
                                         timeline* over_time = nullptr);

}  // namespace kofu::verify
