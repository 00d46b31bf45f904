#pragma once
// Server metrics in Prometheus text format (GET /metrics): requests by endpoint and status,
// requests in flight, a request-duration histogram per endpoint, and 409 retries; the arrival
// spread of request groups (X-Kofu-Group) and the deadlines requests carried
// (X-Request-Timeout-Ms), issue 14.
// Thread-safe: every member may be called from any thread.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

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
  // A request of a group arrived complete (its last byte read) at `at`. `header` is the
  // X-Kofu-Group value "ID;n=MEMBERS"; when all MEMBERS of ID have arrived, the time from the
  // first to the last is one sample of the group arrival spread. A malformed value is counted.
  void group_member_arrived(std::string_view header, std::chrono::steady_clock::time_point at);
  // A request carried X-Request-Timeout-Ms with this value (whole milliseconds, as text).
  void deadline_seen(std::string_view value);
  std::string render() const;

  // Groups still waiting for members at most; beyond, the oldest (over open_group_age) count as
  // incomplete and are forgotten, so a client that never completes a group cannot grow memory.
  static constexpr std::size_t max_open_groups = 10'000;
  static constexpr auto open_group_age = std::chrono::seconds(10);
  // Spread samples kept for the quantiles at most (the first ones; the count goes on).
  static constexpr std::size_t max_spread_samples = 1'000'000;

 private:
  void forget_stale_groups(std::chrono::steady_clock::time_point now);  // caller holds mutex_
  void render_groups(std::string& out) const;                           // caller holds mutex_

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

  struct open_group {
    std::chrono::steady_clock::time_point first;
    std::chrono::steady_clock::time_point last;
    std::size_t arrived = 0;
    std::size_t members = 0;
  };
  std::unordered_map<std::string, open_group> open_groups_;  // by group id
  std::vector<std::uint32_t> spread_us_;                     // complete groups' spreads, µs
  std::uint64_t groups_complete_ = 0;
  std::uint64_t groups_incomplete_ = 0;  // forgotten before all members arrived
  std::uint64_t group_headers_malformed_ = 0;
  double spread_sum_seconds_ = 0;
  std::uint64_t deadlines_seen_ = 0;
  std::uint64_t deadlines_malformed_ = 0;
  std::uint64_t deadline_min_ms_ = UINT64_MAX;
  std::uint64_t deadline_max_ms_ = 0;
};

}  // namespace kofu::mock
