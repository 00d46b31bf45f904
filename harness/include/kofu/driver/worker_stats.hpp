#pragma once
// What one worker counted. Each worker owns one (no sharing, no atomics); the coordinator merges
// copies taken between requests. merge() is associative and commutative (tested), so the order in
// which workers are combined never changes a figure.

#include <cstdint>

#include "kofu/driver/latency_histogram.hpp"

namespace kofu::driver {

struct worker_stats {
  // Issue requests.
  std::uint64_t scheduled = 0;     // open model: arrivals due (each request of a group counts)
  std::uint64_t sent = 0;          // requests whose first byte was written (or attempted)
  std::uint64_t ok = 0;            // 200 with a body: a certificate to verify (subset of done)
  std::uint64_t retry = 0;         // 409 data_changed_retry: the safe answer to a change in flight
  std::uint64_t refused = 0;       // other 4xx (unknown card, not issuable, bad input)
  std::uint64_t server_error = 0;  // 5xx
  std::uint64_t errors = 0;        // connect, TLS, write or read failures and protocol errors
  std::uint64_t timeouts = 0;      // deadline expired; the connection was closed
  std::uint64_t late = 0;          // open model: sent more than 1 ms after the intended time
  std::uint64_t very_late = 0;     // open model: sent more than 1 s after it (subset of late)
  std::uint64_t dropped = 0;   // open model: due but never sent (backlog full, or still due at the
                               // phase's end); not in the history
  std::uint64_t connects = 0;  // connections opened (a reconnect after a timeout counts)
  std::uint64_t max_backlog = 0;  // open model: most requests ever waiting for a connection
  // Updates (single and batch changes).
  std::uint64_t updates_sent = 0;
  std::uint64_t updates_ok = 0;
  std::uint64_t updates_failed = 0;   // the server said no: aborted version
  std::uint64_t updates_unknown = 0;  // timeout or connection lost: resident retired

  // Latency of issue requests in µs: from the intended send time (open model: corrects
  // coordinated omission) to the last byte of the answer; warm-up phases excluded.
  latency_histogram latency;
  // Service time in µs: from the actual send to the last byte read.
  latency_histogram service_time;

  std::uint64_t done() const { return ok + retry + refused + server_error + errors + timeouts; }
  void merge(const worker_stats& other);
  friend bool operator==(const worker_stats&, const worker_stats&) = default;
};

}  // namespace kofu::driver
