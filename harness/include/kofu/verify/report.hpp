#pragma once
// Offline verification of a run folder (`kofu verify DIR`) and the machine-readable report
// (DESIGN §8 report.json). Stable keys: verdict, answered, findings_by_kind, findings (each with
// kind, application_number, requested_resident, evidence), exposure, upper_bound_95, latency_ms,
// thresholds (each with name, passed).

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>

#include "kofu/common/error.hpp"
#include "kofu/verify/checker.hpp"

namespace kofu::verify {

// What the history file held, beside the events.
struct history_read_info {
  std::uint64_t lines = 0;
  bool truncated_last_line = false;  // a run killed mid-write: the partial line is ignored
  bool has_footer = false;
  nlohmann::json header;
  std::filesystem::path population_path;
};

// The report object for a checker (after finish()) and the run's header.
nlohmann::json make_report(const checker& c, const history_read_info& info);

// Reads DIR/history.jsonl and the population its header names (resolved against DIR when
// relative; its SHA-256 is checked when the header gives one), replays every event through a
// checker, and returns the report. Errors (exit code 2): no or unreadable history, no header,
// a malformed line other than a truncated last one, a population that cannot be loaded or does
// not match its digest.
struct verify_result {
  nlohmann::json report;
  history_read_info info;
};
result<verify_result> verify_directory(const std::filesystem::path& dir);

// Replays history lines from a stream into `sink`; `first_line` is the file line number of the
// stream's first line (for messages). Exposed for tests and benchmarks.
result<history_read_info> replay_history(std::istream& in, std::string_view name,
                                         const std::function<void(const history_event&)>& sink,
                                         std::uint64_t first_line = 1);
// The same, straight into a checker: answers are decoded as its options need (no digest when
// digests are not checked, no evidence copy when answers are not kept) and events are moved in.
result<history_read_info> replay_history(std::istream& in, std::string_view name, checker& c,
                                         std::uint64_t first_line = 1);

// Writes DIR/report.json (pretty, UTF-8).
result<void> write_report(const std::filesystem::path& dir, const nlohmann::json& report);

// A few lines for the terminal.
std::string summary_text(const nlohmann::json& report);

}  // namespace kofu::verify
