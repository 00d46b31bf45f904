#pragma once
// Inline SVG of report.html (private to kofu_reports): charts over the run's time and the leak
// graph. Every label taken from the report is escaped; sizes are bounded by the report's
// (timeline: at most its buckets; leak graph: at most `max_edges` arrows).

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace kofu::reports::html {

struct chart_series {
  std::string css_class;       // colour: s1 … s4, bad
  std::vector<double> values;  // one per timeline bucket; NaN: no value (a gap in the line)
};

// A chart over the timeline's buckets (report.json `timeline`), maintenance and reflection-batch
// windows shaded, phase starts marked. `bars`: the first series as bars, not a line.
std::string time_chart(const nlohmann::json& timeline, const std::vector<chart_series>& series,
                       bool bars);

// The leak graph (report.json `leak_graph`): one node per resident, an arrow from the resident
// whose data leaked (victim) to the one who received it. Empty when there is no edge.
std::string leak_graph_svg(const nlohmann::json& leak_graph, std::size_t max_edges);

}  // namespace kofu::reports::html
