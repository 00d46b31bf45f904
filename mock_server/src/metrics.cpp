#include "metrics.hpp"

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
  return out;
}

}  // namespace kofu::mock
