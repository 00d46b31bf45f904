#pragma once
// summary.md (DESIGN §8): the run for a pull request or a ticket, in Markdown. Each paragraph is
// written in Japanese, then in English on the next line; headings and table headers carry both
// (docs/decisions.md). Contents: the verdict line; the sentence a non-programmer needs (how many
// certificates were issued under what load, whether any went to the wrong person, the 95 % upper
// bound of the mis-issuance rate); the thresholds; findings by kind; the first findings
// (application number, kind, requested resident → whose data); the test conditions.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

namespace kofu::reports {

// How many findings summary.md lists one by one (the rest are counted).
inline constexpr std::size_t summary_findings_listed = 10;

// The whole document, UTF-8. Never throws on odd report content; text from the report is
// escaped for Markdown tables (| and line breaks) and invalid UTF-8 is replaced.
std::string render_summary(const nlohmann::json& report);

}  // namespace kofu::reports
