#include "kofu/driver/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <random>

#include "kofu/driver/worker_stats.hpp"

namespace {

using kofu::driver::latency_histogram;
using kofu::driver::worker_stats;

TEST(LatencyHistogramTest, PercentilesWithinThreeSignificantDigits) {
  latency_histogram h;
  for (std::uint64_t v = 1; v <= 100000; ++v) h.record(v);
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100000u);
  EXPECT_NEAR(h.mean(), 50000.5, 0.01);
  for (double p : {50.0, 90.0, 99.0, 99.9, 99.99}) {
    const double exact = p / 100.0 * 100000.0;
    const auto got = static_cast<double>(h.value_at_percentile(p));
    EXPECT_NEAR(got, exact, exact * 0.001 + 1) << "p" << p;
  }
  EXPECT_EQ(h.value_at_percentile(100), 100000u);
}

TEST(LatencyHistogramTest, SmallValuesAreExactAndHugeOnesClamp) {
  latency_histogram h;
  for (std::uint64_t v : {0u, 1u, 7u, 2047u}) h.record(v);
  EXPECT_EQ(h.value_at_percentile(25), 0u);
  EXPECT_EQ(h.value_at_percentile(50), 1u);
  EXPECT_EQ(h.value_at_percentile(75), 7u);
  EXPECT_EQ(h.value_at_percentile(100), 2047u);
  latency_histogram big;
  big.record(UINT64_MAX / 2);
  EXPECT_EQ(big.count(), 1u);
  EXPECT_GT(big.value_at_percentile(50), latency_histogram::max_trackable_us / 2);
  EXPECT_EQ(latency_histogram{}.value_at_percentile(99), 0u);
}

worker_stats random_stats(std::mt19937_64& rng) {
  worker_stats s;
  std::uniform_int_distribution<std::uint64_t> n(0, 1000);
  s.scheduled = n(rng);
  s.sent = n(rng);
  s.ok = n(rng);
  s.retry = n(rng);
  s.timeouts = n(rng);
  s.max_backlog = n(rng);
  s.updates_unknown = n(rng);
  std::lognormal_distribution<double> latency(7.0, 1.5);
  for (int i = 0; i < 200; ++i) {
    s.latency.record(static_cast<std::uint64_t>(latency(rng)));
    s.service_time.record(static_cast<std::uint64_t>(latency(rng)));
  }
  return s;
}

TEST(WorkerStatsTest, MergeIsAssociativeAndCommutative) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 20; ++round) {
    const auto a = random_stats(rng), b = random_stats(rng), c = random_stats(rng);
    worker_stats left = a;  // (a+b)+c
    left.merge(b);
    left.merge(c);
    worker_stats bc = b;  // a+(b+c)
    bc.merge(c);
    worker_stats right = a;
    right.merge(bc);
    EXPECT_EQ(left, right);
    worker_stats swapped = c;  // (c+b)+a
    swapped.merge(b);
    swapped.merge(a);
    EXPECT_EQ(left, swapped);
    worker_stats with_empty = left;  // identity
    with_empty.merge(worker_stats{});
    EXPECT_EQ(with_empty, left);
  }
}

}  // namespace
