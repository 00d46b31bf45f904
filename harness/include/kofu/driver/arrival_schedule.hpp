#pragma once
// The open model's clock-free schedule (wrk2-style constant-throughput arrivals): the intended
// send time of every request of one worker in one phase, computed from the phase's rate, linear
// ramp and spikes. Pure arithmetic on nanoseconds from the phase's start, so it is tested against
// a fake clock; the worker turns each time into a timer. Not thread-safe: one per worker.

#include <cstdint>
#include <optional>

#include "kofu/scenario/scenario.hpp"

namespace kofu::driver {

class arrival_schedule {
 public:
  // `share`: this worker's part of the phase's rate (workers' shares add up to 1).
  // `offset`: where in the first interval this worker starts (0–1), so that workers interleave
  // instead of all firing at the same instants.
  arrival_schedule(const scenario::phase& phase, double share, double offset = 0);

  // Intended time of the next arrival (ns from the phase start); nullopt once the phase is over.
  std::optional<std::int64_t> next();

  // Requests per second of this worker at `t_ns` into the phase.
  double rate_at(std::int64_t t_ns) const;

 private:
  using spike_span = scenario::spike;
  const scenario::phase* phase_;
  double share_;
  std::int64_t duration_ns_;
  double t_ns_;  // the last arrival (or the start)
  bool first_ = true;
  double offset_;
};

}  // namespace kofu::driver
