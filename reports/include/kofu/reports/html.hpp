#pragma once
// report.html (DESIGN §8): one self-contained page made from report.json, to attach to a
// contract. No network: no external script, style, font or image; the charts (request rate,
// latency percentiles, in flight, updates, findings over time, with maintenance and reflection
// windows shaded) and the leak graph are inline SVG drawn here. Japanese first, English beside it
// in the same file: a tiny inline script shows one language (`#en` or `?lang=en` in the address,
// or the switch at the top; without script, Japanese). Printable on A4: every printed page repeats
// the scenario, the target and the verdict.
//
// Everything taken from the report is escaped (names are Japanese; answers are hostile input):
// text is HTML-escaped, invalid UTF-8 and control characters become U+FFFD. A report missing keys
// or holding values of unexpected types still renders (what is missing is shown as "—").
// Thread-safe (no shared state).

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>

namespace kofu::reports {

struct html_options {
  // Findings shown in full (evidence, side-by-side diff) per kind; the rest of each kind is
  // counted.
  std::size_t findings_per_kind = 20;
  // Arrows of the leak graph drawn; the rest are counted.
  std::size_t leak_edges = 40;
};

// The page for a report object (make_report's, report_json.hpp, or report.json read back). The
// one-argument form (default options) is the renderer of write_all's table (artifacts.hpp).
std::string render_html(const nlohmann::json& report);
std::string render_html(const nlohmann::json& report, const html_options& options);

}  // namespace kofu::reports
