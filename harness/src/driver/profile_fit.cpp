#include "kofu/driver/profile_fit.hpp"

#include <algorithm>

namespace kofu::driver {

bool profile_fit::record(bool mapped, std::string_view reason) {
  const std::uint32_t n = seen_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (n > sample_size) return false;  // offered after the sample was full: not counted
  std::uint32_t bad = unmapped_.load(std::memory_order_relaxed);
  if (!mapped) {
    bad = unmapped_.fetch_add(1, std::memory_order_relaxed) + 1;
    bool expected = false;
    if (reason_claimed_.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
      first_reason_ = std::string(reason);
      reason_ready_.store(true, std::memory_order_release);
    }
  }
  // Counts read by concurrent workers may lag each other by an answer or two: the verdict is a
  // threshold on a sample, not an exact figure, and it is reached at most once (the exchange).
  if (n < min_answers || std::uint64_t{bad} * 2 <= n) return false;
  return !misfit_.exchange(true, std::memory_order_acq_rel);
}

std::string profile_fit::first_reason() const {
  return reason_ready_.load(std::memory_order_acquire) ? first_reason_ : std::string();
}

}  // namespace kofu::driver
