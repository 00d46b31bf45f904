#pragma once
// The run over time (report.json `timeline`, drawn by report.html; DESIGN §8): per time bucket
// the requests sent and how they ended, latency percentiles of the answers, requests in flight,
// updates and findings; and the maintenance, reflection-batch and phase windows of the history's
// `event` lines. Fed with the history events in file order, as the checker is.
//
// Bounded memory: at most max_buckets buckets of a fixed size each. Buckets start 1 s wide; when a
// run outlasts max_buckets of them, the width doubles and neighbouring buckets merge, so a run of
// any length ends with at most max_buckets buckets of 2^k seconds. Requests in flight are kept by
// id until they complete (at most the run's in-flight requests, plus the unanswered ones of a
// killed run); windows and phases are kept up to max_windows each, the rest counted.
// Not thread-safe.

#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "kofu/verify/events.hpp"

namespace kofu::verify {

// Latency of one bucket's answers: log-bucketed, 16 steps per power of two (≤ 4.4 % relative
// error) from 1 µs to 2^32 µs (≈ 72 min; larger values land in the top step). 2 KiB.
class coarse_latency_histogram {
 public:
  void add(std::int64_t ns);
  void merge(const coarse_latency_histogram& other);
  std::uint64_t count() const { return count_; }
  double percentile_ms(double p) const;  // p in [0, 100]; 0 when empty
  double max_ms() const { return static_cast<double>(max_ns_) / 1e6; }  // exact; 0 when empty

 private:
  static constexpr std::size_t steps_per_octave = 16;
  static constexpr std::size_t octaves = 32;
  static constexpr std::size_t steps = steps_per_octave * octaves;
  static std::size_t step_of(std::uint64_t us);
  static double step_mid_us(std::size_t step);
  std::array<std::uint32_t, steps> counts_{};
  std::uint64_t count_ = 0;
  std::int64_t max_ns_ = 0;
};

class timeline {
 public:
  static constexpr std::size_t max_buckets = 600;
  static constexpr std::size_t max_windows = 1000;
  static constexpr std::int64_t first_bucket_ns = 1'000'000'000;

  // One bucket [start, start + width): counts by the time of the event that makes them (a
  // request's send for `sent`, its completion for its outcome and latency).
  struct bucket {
    std::uint64_t sent = 0;
    std::uint64_t answered = 0;  // outcome ok: a certificate
    std::uint64_t retry = 0;     // 409
    std::uint64_t refused = 0;
    std::uint64_t errors = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t peak_in_flight = 0;  // the most issue requests in flight at an event in it
    std::uint64_t updates_sent = 0;    // updates and reflection batches
    std::uint64_t updates_applied = 0;
    std::uint64_t updates_failed = 0;  // failed or unknown
    std::uint64_t findings = 0;        // by the answer's receive time
    coarse_latency_histogram latency;  // of the answers completed in it
    void merge(const bucket& other);
  };

  // A maintenance window or reflection batch (start to end; an end never seen: end_ns = -1).
  struct window {
    std::string kind;  // "maintenance" | "reflection_batch"
    std::int64_t start_ns = 0;
    std::int64_t end_ns = -1;
    nlohmann::json detail;  // the start event's, with the end event's merged in
  };
  // A phase from its `phase` event to the next one (the last: to the last event of the history).
  // Requests count in the phase they were sent in (invoke time), their outcome and latency too.
  struct phase {
    std::string name;
    std::int64_t start_ns = 0;
    std::int64_t end_ns = 0;
    std::uint64_t sent = 0;
    std::uint64_t answered = 0;
    std::uint64_t retry = 0;
    std::uint64_t refused = 0;
    std::uint64_t errors = 0;
    std::uint64_t timeouts = 0;
    coarse_latency_histogram latency;  // of its answered requests
  };

  void on_event(const history_event& event);
  // A finding whose answer was received at `received_ns` (taken from checker::findings()).
  void on_finding(std::int64_t received_ns);

  std::int64_t bucket_ns() const { return bucket_ns_; }
  const std::vector<bucket>& buckets() const { return buckets_; }
  const std::vector<window>& windows() const { return windows_; }
  const std::vector<phase>& phases() const { return phases_; }

  // report.json's `timeline`: {bucket_s, buckets: [{t_s, sent, answered, retry, refused, errors,
  // timeouts, p50_ms, p90_ms, p99_ms, in_flight, updates_sent, updates_applied, updates_failed,
  // findings}], windows: [{kind, start_s, end_s, detail}], phases: [{name, start_s, end_s,
  // duration_s, sent, answered, retry, refused, errors, timeouts, rate_per_s (sent / duration),
  // answered_per_s, latency_ms: {p50, p90, p99, max}}],
  // windows_left_out, phases_left_out}. Times in seconds from the run's clock anchor (t = 0).
  nlohmann::json to_json() const;

 private:
  bucket& at(std::int64_t t_ns);  // widens the buckets as needed
  void note_in_flight(std::int64_t t_ns);
  void on_phase_start(const std::string& name, std::int64_t t_ns);

  std::int64_t bucket_ns_ = first_bucket_ns;
  std::vector<bucket> buckets_;
  struct in_flight {
    std::int64_t sent_ns = 0;
    std::size_t phase = 0;  // index in phases_ + 1 (past its end: first_phase_)
  };
  std::unordered_map<std::uint64_t, in_flight> issue_sent_;  // id → when and in which phase
  std::int64_t last_ns_ = 0;                                 // the latest event time seen
  std::vector<window> windows_;
  std::vector<phase> phases_;
  phase first_phase_;  // what was sent before any phase event: the first phase's, once it comes
  std::uint64_t windows_left_out_ = 0;
  std::uint64_t phases_left_out_ = 0;
};

}  // namespace kofu::verify
