#pragma once
// Whether a vendor profile fits the server it drives (issue 11): a run whose answers mostly fail
// to map stops early with "the profile does not fit this server" instead of ending in a wall of
// false findings.
//
// The workers offer it the first answers of the run (about `sample_size` in all): each answer the
// profile classified ok, decoded with the profile's decoder (cheap), counts as unmapped when it is
// malformed or has missing parts; each answer classified `error` because the profile knows its
// result code or status not, counts as unmapped too. Once at least `min_answers` were seen and
// more than half of them were unmapped, the verdict is "does not fit" (once, for good).
//
// Thread-safe and lock-free: counters are atomics, touched only while sampling (the first
// `sample_size` answers of the run); afterwards sampling() is one relaxed load.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace kofu::driver {

class profile_fit {
 public:
  static constexpr std::uint32_t sample_size = 100;
  static constexpr std::uint32_t min_answers = 20;

  // Whether answers are still wanted (a worker skips the decoding otherwise).
  bool sampling() const { return seen_.load(std::memory_order_relaxed) < sample_size; }

  // One answer: mapped, or not with the reason (the first reason is kept). Returns true exactly
  // once: when this answer reaches the verdict "does not fit".
  bool record(bool mapped, std::string_view reason);

  bool misfit() const { return misfit_.load(std::memory_order_acquire); }
  // The first reason an answer did not map ("" when none did, or while the thread that saw it
  // is still writing it: read it once the recording threads were joined).
  std::string first_reason() const;
  std::uint32_t seen() const { return std::min(seen_.load(), sample_size); }
  std::uint32_t unmapped() const { return unmapped_.load(); }

 private:
  std::atomic<std::uint32_t> seen_{0};
  std::atomic<std::uint32_t> unmapped_{0};
  std::atomic<bool> misfit_{false};
  std::atomic<bool> reason_claimed_{false};
  std::atomic<bool> reason_ready_{false};
  std::string first_reason_;  // written once by the thread that claimed it, before reason_ready_
};

}  // namespace kofu::driver
