#pragma once
// Server metrics in Prometheus text format (GET /metrics): requests by endpoint and status,
// requests in flight, a request-duration histogram per endpoint, and 409 retries.
// Thread-safe: every member may be called from any thread.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace kofu::mock {

class metrics {
 public:
  // Histogram bucket upper bounds in seconds (the +Inf bucket is implicit).
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

  void request_started() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  // One finished request: its endpoint label ("issue", "changes", …), status and duration.
  void request_finished(const std::string& endpoint, unsigned status,
                        std::chrono::nanoseconds duration);
  // An issuance answered "retry" under another HTTP status (vendor-ja's W409 under 200): counted
  // as kofu_mock_issue_retries_total like a 409 of the reference protocol.
  void retry_answered();
  std::string render() const;

 private:
  struct histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};  // non-cumulative counts
    std::uint64_t count = 0;
    double sum_seconds = 0;
  };

  std::atomic<std::int64_t> in_flight_{0};
  mutable std::mutex mutex_;
  // State below is protected by mutex_.
  std::map<std::pair<std::string, unsigned>, std::uint64_t> requests_;  // (endpoint, status)
  std::map<std::string, histogram> durations_;                          // by endpoint
  std::uint64_t retries_ = 0;                                           // issue answered 409
};

}  // namespace kofu::mock
