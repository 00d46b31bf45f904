#pragma once
// Sizing a run by request count (issue 14 item 4): `kofu run --requests N` bounds the whole run,
// a phase's `requests` bounds that phase; durations still bound both in time. Issue requests take
// a ticket before they are sent (open model: when an arrival enters the backlog; closed model:
// when a user sends), so the history holds exactly as many issue requests as the bound, unless
// time ran out first.
//
// A phase whose tickets are used up ends at that instant (its "cut"): the next phase starts
// there, and its own end moves with it. When the run's tickets are used up every later phase ends
// at the same instant. Every boundary is computed from the cuts, so all threads agree on them.
// Thread-safe: tickets and cuts are atomics (relaxed order is enough: a worker that reads a cut
// late only sends its next request a little later).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "kofu/scenario/scenario.hpp"

namespace kofu::driver {

class request_budget {
 public:
  using clock = std::chrono::steady_clock;

  // `run_limit`: tickets of the whole run; nullopt: no bound but the phases' own.
  request_budget(const std::vector<scenario::phase>& phases, std::optional<std::uint64_t> run_limit,
                 clock::time_point run_start);

  // Whether any phase (or the run) is bounded by count.
  bool bounded() const { return bounded_; }
  // One ticket for a request of phase `k`; false when the phase's or the run's are used up.
  bool take(std::size_t k);
  // Whether phase `k` has no ticket left (it ended, or ends when its requests in flight answer).
  bool exhausted(std::size_t k) const;
  // Where phase `k` starts and ends: as planned from the durations, or earlier after cuts.
  clock::time_point phase_start(std::size_t k) const;
  clock::time_point phase_end(std::size_t k) const;

 private:
  static constexpr std::uint64_t unbounded = UINT64_MAX;
  static constexpr std::int64_t no_cut = INT64_MAX;
  static bool take_one(std::atomic<std::uint64_t>& left);
  void cut(std::atomic<std::int64_t>& at);
  std::int64_t now_ns() const;

  clock::time_point run_start_;
  std::vector<std::int64_t> durations_ns_;
  bool bounded_ = false;
  // Tickets left (unbounded: never counted down) and cuts (ns from run start; no_cut: none).
  std::vector<std::unique_ptr<std::atomic<std::uint64_t>>> phase_left_;
  std::vector<std::unique_ptr<std::atomic<std::int64_t>>> phase_cut_;
  std::atomic<std::uint64_t> run_left_;
  std::atomic<std::int64_t> run_cut_{no_cut};
};

}  // namespace kofu::driver
