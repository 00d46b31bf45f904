#include "html_svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "html_text.hpp"

namespace kofu::reports::html {

using json = nlohmann::json;

namespace {

// The plot area inside a 720 × 180 view box.
constexpr double width = 720;
constexpr double height = 180;
constexpr double left = 56;
constexpr double right = 696;
constexpr double top = 12;
constexpr double bottom = 150;

// 1, 2 or 5 × 10^k at or above `v`: an axis maximum people read easily.
double nice_ceiling(double v) {
  if (!(v > 0) || !std::isfinite(v)) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(v)));
  for (const double step : {1.0, 2.0, 5.0, 10.0}) {
    if (v <= step * magnitude) return step * magnitude;
  }
  return 10 * magnitude;
}

std::string axis_number(double v) {
  if (v >= 1000) return grouped(static_cast<std::uint64_t>(std::llround(v)));
  if (v == std::floor(v)) return fmt::format("{:.0f}", v);
  return fmt::format("{:.2g}", v);
}

// Both languages inside SVG text (an HTML <span> there would end the SVG in an HTML parser).
std::string bi_svg(std::string_view ja, std::string_view en) {
  return fmt::format(R"(<tspan lang="ja">{}</tspan><tspan lang="en">{}</tspan>)", ja, en);
}

}  // namespace

std::string time_chart(const json& timeline, const std::vector<chart_series>& series, bool bars) {
  const json& buckets = member(timeline, "buckets");
  const std::size_t n = buckets.is_array() ? buckets.size() : 0;
  const double bucket_s = std::max(num(timeline, "bucket_s", 1.0), 1e-9);
  const double span_s = std::max(static_cast<double>(n) * bucket_s, bucket_s);
  const auto x_of = [&](double t) {
    return left + (right - left) * std::clamp(t / span_s, 0.0, 1.0);
  };
  double max_value = 0;
  for (const auto& s : series) {
    for (const double v : s.values) {
      if (std::isfinite(v)) max_value = std::max(max_value, v);
    }
  }
  const double y_max = nice_ceiling(max_value);
  const auto y_of = [&](double v) {
    return bottom - (bottom - top) * std::clamp(v / y_max, 0.0, 1.0);
  };

  std::string svg = fmt::format(
      R"(<svg class="chart" viewBox="0 0 {} {}" role="img" preserveAspectRatio="xMidYMid meet">)",
      width, height);
  // Windows first, under everything.
  for (const auto& w : member(timeline, "windows")) {
    const double start = num(w, "start_s");
    const double end = member(w, "end_s").is_number() ? num(w, "end_s") : span_s;
    const std::string kind = str(w, "kind");
    svg += fmt::format(
        R"(<rect class="win {}" x="{:.1f}" y="{}" width="{:.1f}" height="{}"><title>{} {:.1f}–{:.1f} s</title></rect>)",
        kind == "maintenance" ? "win-maint" : "win-refl", x_of(start), top,
        std::max(x_of(end) - x_of(start), 1.5), bottom - top, esc(kind), start, end);
  }
  // Grid and axes.
  // Five steps: a maximum of 1, 2 or 5 × 10^k gives round ticks.
  for (int i = 0; i <= 5; ++i) {
    const double v = y_max * i / 5;
    const double y = y_of(v);
    svg += fmt::format(R"(<line class="grid" x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}"/>)", left, y,
                       right, y);
    svg += fmt::format(R"(<text class="tick" x="{}" y="{:.1f}" text-anchor="end">{}</text>)",
                       left - 6, y + 4, axis_number(v));
  }
  const double x_step = nice_ceiling(span_s / 8);
  for (double t = 0; t <= span_s + 1e-9 && t / x_step <= 20; t += x_step) {
    svg += fmt::format(R"(<text class="tick" x="{:.1f}" y="{}" text-anchor="middle">{} s</text>)",
                       x_of(t), bottom + 16, axis_number(t));
  }
  svg += fmt::format(R"(<line class="axis" x1="{}" y1="{}" x2="{}" y2="{}"/>)", left, bottom, right,
                     bottom);
  // Phase starts.
  for (const auto& p : member(timeline, "phases")) {
    const double x = x_of(num(p, "start_s"));
    svg += fmt::format(R"(<line class="phase" x1="{:.1f}" y1="{}" x2="{:.1f}" y2="{}"/>)", x, top,
                       x, bottom);
    svg += fmt::format(R"(<text class="phase-label" x="{:.1f}" y="{}">{}</text>)", x + 3, top + 9,
                       esc(str(p, "name")));
  }
  const double bar_width =
      std::max((right - left) / static_cast<double>(std::max<std::size_t>(n, 1)), 1.0);
  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    if (bars && k == 0) {
      for (std::size_t i = 0; i < s.values.size() && i < n; ++i) {
        const double v = s.values[i];
        if (!std::isfinite(v) || v <= 0) continue;
        const double x = x_of(static_cast<double>(i) * bucket_s);
        svg += fmt::format(
            R"(<rect class="bar {}" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}"/>)",
            s.css_class, x, y_of(v), std::max(bar_width - 0.5, 0.8), bottom - y_of(v));
      }
      continue;
    }
    std::string points;
    const auto flush = [&] {
      if (!points.empty()) {
        svg += fmt::format(R"(<polyline class="line {}" points="{}"/>)", s.css_class, points);
      }
      points.clear();
    };
    for (std::size_t i = 0; i < s.values.size() && i < n; ++i) {
      const double v = s.values[i];
      if (!std::isfinite(v)) {
        flush();
        continue;
      }
      points +=
          fmt::format("{:.1f},{:.1f} ", x_of((static_cast<double>(i) + 0.5) * bucket_s), y_of(v));
    }
    flush();
  }
  svg += "</svg>";
  return svg;
}

std::string leak_graph_svg(const json& leak_graph, std::size_t max_edges) {
  const json& edges = member(leak_graph, "edges");
  if (!edges.is_array() || edges.empty()) return {};
  // Two columns: residents whose data leaked (left) and residents who received it (right), each
  // in order of first appearance; one arrow per (victim, recipient) pair, thicker for more
  // requests. A resident on both sides appears in both columns, marked as such.
  std::map<std::string, std::size_t> victim_row;
  std::map<std::string, std::size_t> recipient_row;
  std::vector<std::string> victims;
  std::vector<std::string> recipients;
  std::map<std::pair<std::size_t, std::size_t>, std::size_t> arrows;  // → how many requests
  std::size_t left_out = 0;
  for (const auto& e : edges) {
    const std::string victim = str(e, "victim");
    const std::string recipient = str(e, "recipient");
    const auto v = victim_row.find(victim);
    const auto r = recipient_row.find(recipient);
    if (v != victim_row.end() && r != recipient_row.end() &&
        arrows.contains({v->second, r->second})) {
      ++arrows[{v->second, r->second}];
      continue;
    }
    if (arrows.size() >= max_edges) {
      ++left_out;
      continue;
    }
    if (v == victim_row.end()) {
      victim_row.emplace(victim, victims.size());
      victims.push_back(victim);
    }
    if (r == recipient_row.end()) {
      recipient_row.emplace(recipient, recipients.size());
      recipients.push_back(recipient);
    }
    ++arrows[{victim_row[victim], recipient_row[recipient]}];
  }
  constexpr double row_height = 20;
  constexpr double x_victim = 220;
  constexpr double x_recipient = 500;
  const double rows = static_cast<double>(std::max(victims.size(), recipients.size()));
  const double view_height = 40 + rows * row_height;
  const auto y_of = [&](std::size_t row, std::size_t count) {
    // The shorter column is centred against the longer one.
    const double offset = (rows - static_cast<double>(count)) * row_height / 2;
    return 34 + offset + static_cast<double>(row) * row_height;
  };
  std::string svg = fmt::format(
      R"svg(<svg class="leak" viewBox="0 0 720 {:.0f}" role="img"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>)svg",
      view_height);
  svg += fmt::format(
      R"(<text class="col-head" x="{}" y="16" text-anchor="end">{}</text><text class="col-head" x="{}" y="16">{}</text>)",
      x_victim + 10, bi_svg("情報が漏れた住民", "whose data leaked"), x_recipient - 10,
      bi_svg("受け取った住民", "who received it"));
  for (const auto& [pair, requests] : arrows) {
    svg += fmt::format(
        R"svg(<line class="edge" x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke-width="{:.1f}" marker-end="url(#arrow)"><title>{} → {} ({})</title></line>)svg",
        x_victim + 9, y_of(pair.first, victims.size()), x_recipient - 11,
        y_of(pair.second, recipients.size()),
        std::min(1.2 + 0.6 * static_cast<double>(requests - 1), 4.0), esc(victims[pair.first]),
        esc(recipients[pair.second]), requests);
  }
  const auto column = [&](const std::vector<std::string>& ids,
                          const std::map<std::string, std::size_t>& other, double x,
                          bool victim_side) {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const double y = y_of(i, ids.size());
      const char* cls = other.contains(ids[i]) ? "both" : victim_side ? "victim" : "recipient";
      svg += fmt::format(R"(<circle class="node {}" cx="{:.1f}" cy="{:.1f}" r="6"/>)", cls, x, y);
      svg += fmt::format(
          R"(<text class="node-label" x="{:.1f}" y="{:.1f}" text-anchor="{}">{}</text>)",
          x + (victim_side ? -12 : 12), y + 4, victim_side ? "end" : "start", esc(ids[i]));
    }
  };
  column(victims, recipient_row, x_victim, true);
  column(recipients, victim_row, x_recipient, false);
  svg += "</svg>";
  if (left_out > 0) {
    svg += fmt::format(
        R"(<p class="note">{}</p>)",
        bi(fmt::format("ほか {} 件の矢印は省略（report.json に全件）", grouped(left_out)),
           fmt::format("{} more arrows left out (all are in report.json)", grouped(left_out))));
  }
  return svg;
}

}  // namespace kofu::reports::html
