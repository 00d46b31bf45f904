#include "kofu/driver/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace kofu::driver {
namespace {
constexpr int half = latency_histogram::sub_bucket_half_magnitude;
constexpr std::uint64_t sub_bucket_count = std::uint64_t{1} << (half + 1);  // 2048
constexpr std::uint64_t sub_bucket_mask = sub_bucket_count - 1;
constexpr int leading_zero_base = 64 - half - 1;
// Buckets needed for max_trackable_us: bucket b covers [2^(b+10), 2^(b+11)).
constexpr int bucket_count = 36 - half;  // 2^36 needs bucket 25 (0-based), so 26 buckets
constexpr std::size_t counts_length = static_cast<std::size_t>(bucket_count + 1)
                                      << half;  // (buckets + 1) * 1024
}  // namespace

latency_histogram::latency_histogram() : counts_(counts_length, 0) {}

std::size_t latency_histogram::index_of(std::uint64_t value) {
  value = std::min(value, max_trackable_us);
  const int bucket = leading_zero_base - std::countl_zero(value | sub_bucket_mask);
  const std::uint64_t sub = value >> bucket;
  return (static_cast<std::size_t>(bucket + 1) << half) +
         static_cast<std::size_t>(sub - (std::uint64_t{1} << half));
}

std::uint64_t latency_histogram::highest_equivalent(std::size_t index) {
  int bucket = static_cast<int>(index >> half) - 1;
  std::uint64_t sub = (index & ((std::size_t{1} << half) - 1)) + (std::uint64_t{1} << half);
  if (bucket < 0) {
    sub -= std::uint64_t{1} << half;
    bucket = 0;
  }
  const std::uint64_t lowest = sub << bucket;
  return lowest + (std::uint64_t{1} << bucket) - 1;
}

void latency_histogram::record(std::uint64_t value_us) {
  ++counts_[index_of(value_us)];
  ++total_;
  min_ = std::min(min_, value_us);
  max_ = std::max(max_, value_us);
  sum_ += value_us;
}

void latency_histogram::merge(const latency_histogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void latency_histogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

double latency_histogram::mean() const {
  return total_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(total_);
}

std::uint64_t latency_histogram::value_at_percentile(double percentile) const {
  if (total_ == 0) return 0;
  const double p = std::clamp(percentile, 0.0, 100.0);
  auto wanted = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total_)));
  wanted = std::clamp<std::uint64_t>(wanted, 1, total_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= wanted) return std::min(highest_equivalent(i), max_);
  }
  return max_;
}

}  // namespace kofu::driver
