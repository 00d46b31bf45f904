#include "kofu/driver/request_budget.hpp"

#include <algorithm>

namespace kofu::driver {

request_budget::request_budget(const std::vector<scenario::phase>& phases,
                               std::optional<std::uint64_t> run_limit, clock::time_point run_start)
    : run_start_(run_start), run_left_(run_limit.value_or(unbounded)) {
  bounded_ = run_limit.has_value();
  for (const auto& ph : phases) {
    durations_ns_.push_back(static_cast<std::int64_t>(ph.duration_s * 1e9));
    phase_left_.push_back(
        std::make_unique<std::atomic<std::uint64_t>>(ph.requests.value_or(unbounded)));
    phase_cut_.push_back(std::make_unique<std::atomic<std::int64_t>>(no_cut));
    bounded_ = bounded_ || ph.requests.has_value();
  }
}

bool request_budget::take_one(std::atomic<std::uint64_t>& left) {
  std::uint64_t n = left.load(std::memory_order_relaxed);
  if (n == unbounded) return true;
  while (n > 0) {
    if (left.compare_exchange_weak(n, n - 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

std::int64_t request_budget::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - run_start_).count();
}

void request_budget::cut(std::atomic<std::int64_t>& at) {
  // The earliest cut wins (two workers may find the tickets gone at nearly the same time).
  std::int64_t current = at.load(std::memory_order_relaxed);
  const std::int64_t now = now_ns();
  while (now < current && !at.compare_exchange_weak(current, now, std::memory_order_relaxed)) {
  }
}

bool request_budget::take(std::size_t k) {
  auto& phase = *phase_left_.at(k);
  if (!take_one(phase)) {
    cut(*phase_cut_[k]);
    return false;
  }
  if (!take_one(run_left_)) {
    cut(run_cut_);
    return false;
  }
  // The last ticket ends the phase (or the run) now: what follows starts at once.
  if (phase.load(std::memory_order_relaxed) == 0) cut(*phase_cut_[k]);
  if (run_left_.load(std::memory_order_relaxed) == 0) cut(run_cut_);
  return true;
}

bool request_budget::exhausted(std::size_t k) const {
  return phase_left_.at(k)->load(std::memory_order_relaxed) == 0 ||
         run_left_.load(std::memory_order_relaxed) == 0;
}

request_budget::clock::time_point request_budget::phase_start(std::size_t k) const {
  return k == 0 ? run_start_ : phase_end(k - 1);
}

request_budget::clock::time_point request_budget::phase_end(std::size_t k) const {
  // Iterative: boundary i = min(boundary i-1 + duration i, cut i, run cut), never before the start.
  std::int64_t end = 0;
  const std::int64_t run_cut = run_cut_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i <= k; ++i) {
    const std::int64_t start = end;
    end = std::min(
        {start + durations_ns_[i], phase_cut_[i]->load(std::memory_order_relaxed), run_cut});
    end = std::max(end, start);
  }
  return run_start_ + std::chrono::nanoseconds(end);
}

}  // namespace kofu::driver
