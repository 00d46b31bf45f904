#include "metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

#include <fmt/format.h>

namespace kofu::mock {

void metrics::request_finished(const std::string& endpoint, unsigned status,
                               std::chrono::nanoseconds duration) {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  const double seconds = std::chrono::duration<double>(duration).count();
  std::lock_guard lock(mutex_);
  ++requests_[{endpoint, status}];
  auto& h = durations_[endpoint];
  ++h.count;
  h.sum_seconds += seconds;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
  if (endpoint == "issue" && status == 409) ++retries_;
}

void metrics::retry_answered() {
  std::lock_guard lock(mutex_);
  ++retries_;
}

namespace {

// A whole number in text (no sign, no spaces); nullopt otherwise.
std::optional<std::uint64_t> whole_number(std::string_view text) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return n;
}

// One metric of a single sample: its HELP and TYPE lines, then NAME VALUE.
void append_sample(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help, std::uint64_t value) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
}

}  // namespace

void metrics::group_member_arrived(std::string_view header,
                                   std::chrono::steady_clock::time_point at) {
  const auto sep = header.find(";n=");
  const auto members =
      sep == std::string_view::npos ? std::nullopt : whole_number(header.substr(sep + 3));
  std::lock_guard lock(mutex_);
  if (!members || *members < 1 || *members > 1024 || sep == 0) {
    ++group_headers_malformed_;
    return;
  }
  const std::string id(header.substr(0, sep));
  auto [it, fresh] = open_groups_.try_emplace(id);
  auto& g = it->second;
  if (fresh) {
    g.first = at;
    g.members = static_cast<std::size_t>(*members);
  }
  g.first = std::min(g.first, at);
  g.last = std::max(g.last, at);
  if (++g.arrived < g.members) {
    if (fresh && open_groups_.size() > max_open_groups) forget_stale_groups(at);
    return;
  }
  const auto spread = std::chrono::duration_cast<std::chrono::microseconds>(g.last - g.first);
  ++groups_complete_;
  spread_sum_seconds_ += std::chrono::duration<double>(g.last - g.first).count();
  if (spread_us_.size() < max_spread_samples) {
    spread_us_.push_back(static_cast<std::uint32_t>(
        std::min<std::int64_t>(spread.count(), std::numeric_limits<std::uint32_t>::max())));
  }
  open_groups_.erase(it);
}

void metrics::forget_stale_groups(std::chrono::steady_clock::time_point now) {
  // Groups whose members stopped coming (dropped by the client): forgotten, counted incomplete.
  // When even that leaves too many, all are (a client opening groups it never completes).
  std::erase_if(open_groups_, [&](const auto& entry) {
    const bool stale = now - entry.second.first > open_group_age;
    if (stale) ++groups_incomplete_;
    return stale;
  });
  if (open_groups_.size() > max_open_groups) {
    groups_incomplete_ += open_groups_.size();
    open_groups_.clear();
  }
}

void metrics::deadline_seen(std::string_view value) {
  const auto ms = whole_number(value);
  std::lock_guard lock(mutex_);
  if (!ms) {
    ++deadlines_malformed_;
    return;
  }
  ++deadlines_seen_;
  deadline_min_ms_ = std::min(deadline_min_ms_, *ms);
  deadline_max_ms_ = std::max(deadline_max_ms_, *ms);
}

std::string metrics::render() const {
  std::string out;
  out += "# HELP kofu_mock_requests_total Requests answered, by endpoint and HTTP status.\n";
  out += "# TYPE kofu_mock_requests_total counter\n";
  std::lock_guard lock(mutex_);
  for (const auto& [key, n] : requests_) {
    out += fmt::format("kofu_mock_requests_total{{endpoint=\"{}\",status=\"{}\"}} {}\n", key.first,
                       key.second, n);
  }
  out += "# HELP kofu_mock_requests_in_flight Requests received and not yet answered.\n";
  out += "# TYPE kofu_mock_requests_in_flight gauge\n";
  out +=
      fmt::format("kofu_mock_requests_in_flight {}\n", in_flight_.load(std::memory_order_relaxed));
  out += "# HELP kofu_mock_issue_retries_total Issue requests answered 409 data_changed_retry.\n";
  out += "# TYPE kofu_mock_issue_retries_total counter\n";
  out += fmt::format("kofu_mock_issue_retries_total {}\n", retries_);
  out += "# HELP kofu_mock_request_duration_seconds Time from request read to answer written.\n";
  out += "# TYPE kofu_mock_request_duration_seconds histogram\n";
  for (const auto& [endpoint, h] : durations_) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      out +=
          fmt::format("kofu_mock_request_duration_seconds_bucket{{endpoint=\"{}\",le=\"{}\"}} {}\n",
                      endpoint, kBuckets[i], cumulative);
    }
    out +=
        fmt::format("kofu_mock_request_duration_seconds_bucket{{endpoint=\"{}\",le=\"+Inf\"}} {}\n",
                    endpoint, h.count);
    out += fmt::format("kofu_mock_request_duration_seconds_sum{{endpoint=\"{}\"}} {}\n", endpoint,
                       h.sum_seconds);
    out += fmt::format("kofu_mock_request_duration_seconds_count{{endpoint=\"{}\"}} {}\n", endpoint,
                       h.count);
  }
  render_groups(out);
  return out;
}

void metrics::render_groups(std::string& out) const {
  // Caller holds mutex_.
  out +=
      "# HELP kofu_mock_group_arrival_spread_seconds Time from the first to the last complete "
      "arrival of one request group's requests (X-Kofu-Group), over complete groups.\n";
  out += "# TYPE kofu_mock_group_arrival_spread_seconds summary\n";
  std::vector<std::uint32_t> sorted = spread_us_;
  std::sort(sorted.begin(), sorted.end());
  for (const double q : {0.5, 0.9, 0.99}) {
    if (sorted.empty()) break;
    // Nearest rank.
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    const double seconds = static_cast<double>(sorted[std::max<std::size_t>(rank, 1) - 1]) / 1e6;
    out += fmt::format("kofu_mock_group_arrival_spread_seconds{{quantile=\"{}\"}} {:.6f}\n", q,
                       seconds);
  }
  out += fmt::format("kofu_mock_group_arrival_spread_seconds_sum {:.6f}\n", spread_sum_seconds_);
  out += fmt::format("kofu_mock_group_arrival_spread_seconds_count {}\n", groups_complete_);
  append_sample(out, "kofu_mock_groups_incomplete_total", "counter",
                "Groups forgotten before all their members arrived.", groups_incomplete_);
  append_sample(out, "kofu_mock_groups_open", "gauge", "Groups still waiting for members.",
                open_groups_.size());
  append_sample(out, "kofu_mock_group_headers_malformed_total", "counter",
                "X-Kofu-Group values not ID;n=MEMBERS.", group_headers_malformed_);
  append_sample(out, "kofu_mock_request_deadlines_total", "counter",
                "Requests that carried X-Request-Timeout-Ms.", deadlines_seen_);
  append_sample(out, "kofu_mock_request_deadlines_malformed_total", "counter",
                "X-Request-Timeout-Ms values that are not whole milliseconds.",
                deadlines_malformed_);
  if (deadlines_seen_ > 0) {
    out += "# HELP kofu_mock_request_deadline_ms Smallest and largest X-Request-Timeout-Ms seen.\n";
    out += "# TYPE kofu_mock_request_deadline_ms gauge\n";
    out += fmt::format("kofu_mock_request_deadline_ms{{bound=\"min\"}} {}\n", deadline_min_ms_);
    out += fmt::format("kofu_mock_request_deadline_ms{{bound=\"max\"}} {}\n", deadline_max_ms_);
  }
}

}  // namespace kofu::mock
