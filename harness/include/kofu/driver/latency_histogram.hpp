#pragma once
// A log-bucketed latency histogram in the manner of HdrHistogram: 3 significant decimal digits
// (2048 sub-buckets per power of two, relative error < 0.1%) from 1 µs to 2^36 µs (about 19 h);
// larger values are counted in the top bucket. Fixed memory (~230 KiB), O(1) record.
// Not thread-safe: one per worker, combined with merge() (associative and commutative).

#include <array>
#include <cstdint>
#include <vector>

namespace kofu::driver {

class latency_histogram {
 public:
  static constexpr int sub_bucket_half_magnitude = 10;  // 1024: 3 significant digits
  static constexpr std::uint64_t max_trackable_us = (std::uint64_t{1} << 36) - 1;

  latency_histogram();

  void record(std::uint64_t value_us);
  void merge(const latency_histogram& other);
  void reset();

  std::uint64_t count() const { return total_; }
  std::uint64_t min() const { return total_ == 0 ? 0 : min_; }
  std::uint64_t max() const { return max_; }
  double mean() const;
  // The value at or below which `percentile` (0–100) of the recorded values fall, reported as
  // the highest value equivalent to its bucket (as HdrHistogram does). 0 when empty.
  std::uint64_t value_at_percentile(double percentile) const;

  friend bool operator==(const latency_histogram&, const latency_histogram&) = default;

 private:
  static std::size_t index_of(std::uint64_t value);
  static std::uint64_t highest_equivalent(std::size_t index);

  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  std::uint64_t sum_ = 0;  // µs; an integer so that merge() is exactly associative
};

}  // namespace kofu::driver
