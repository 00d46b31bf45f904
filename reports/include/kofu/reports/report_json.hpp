#pragma once
// report.json (DESIGN §8), the machine-readable report, made from a verified run (the checker
// after finish(), the history's read info and timeline: kofu/verify/replay.hpp). Stable keys:
// verdict, answered, findings_by_kind, findings (each with kind, application_number,
// requested_resident, evidence), exposure, upper_bound_95, latency_ms, thresholds (each with
// name, passed). The other writers (HTML, JUnit, Markdown, the terminal's summary) read this
// object, never the checker.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "kofu/common/error.hpp"
#include "kofu/verify/checker.hpp"
#include "kofu/verify/replay.hpp"
#include "kofu/verify/timeline.hpp"

namespace kofu::reports {

// Evidence kept in a report is bounded (issue 15 item 2): an answer whose compact JSON exceeds
// max_answer_evidence_bytes is replaced by its size, SHA-256 and first bytes, and any other
// string above max_evidence_string_bytes, and any list above max_evidence_items entries, is cut
// the same way. So a finding's size does not depend on the size of the answer it is about.
inline constexpr std::size_t max_answer_evidence_bytes = 64 * 1024;
inline constexpr std::size_t max_evidence_string_bytes = 4 * 1024;
inline constexpr std::size_t max_evidence_items = 256;
// A report keeps the first findings_per_kind findings of each kind in full (the scenario's
// `report.findings_per_kind`, read from the history header; else the schema's default,
// scenario::default_findings_per_kind) and counts the rest in `findings_omitted` (kind → count);
// `findings_by_kind` counts them all (issue 13 item 7).

// Applies those bounds to one finding's JSON (to_json(finding)).
void bound_evidence(nlohmann::json& finding);

// The report object for a checker (after finish()) and the run's header.
// A run that did not end `completed` (footer `reason`; no footer: killed) or did not deliver its
// load (footer `stats`: over 1 % of its arrivals dropped or sent more than 1 s late) fails the
// threshold `run_completed` or `load_delivered`, and cannot pass.
// With `over_time` (the history's events, fed as the checker was), the report has a `timeline`
// (timeline::to_json) that also counts the reported findings by the time their answer arrived.
// The run's `scenario` and `target` (without the profile document) come from the header.
nlohmann::json make_report(const verify::checker& c, const verify::history_read_info& info,
                           const verify::timeline* over_time = nullptr);

// Writes DIR/report.json (pretty, UTF-8).
result<void> write_report(const std::filesystem::path& dir, const nlohmann::json& report);

// A run folder verified (verify::verify_directory, same arguments and errors) and its report.
struct verify_result {
  nlohmann::json report;
  verify::history_read_info info;
};
result<verify_result> report_directory(const std::filesystem::path& dir,
                                       const verify::replay_options& how = {},
                                       const verify::protocol_loader& protocol = {});

}  // namespace kofu::reports
