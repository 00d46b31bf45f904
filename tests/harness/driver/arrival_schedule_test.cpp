#include "kofu/driver/arrival_schedule.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace {

using kofu::driver::arrival_schedule;
using kofu::scenario::phase;

// Collects every intended time (the schedule is its own fake clock: nothing sleeps).
std::vector<std::int64_t> all_arrivals(const phase& p, double share = 1.0, double offset = 0) {
  arrival_schedule s(p, share, offset);
  std::vector<std::int64_t> out;
  while (auto t = s.next()) out.push_back(*t);
  return out;
}

std::size_t count_in(const std::vector<std::int64_t>& ts, double from_s, double to_s) {
  std::size_t n = 0;
  for (auto t : ts) {
    const double s = static_cast<double>(t) / 1e9;
    if (s >= from_s && s < to_s) ++n;
  }
  return n;
}

TEST(ArrivalScheduleTest, ConstantRateIsEvenlySpaced) {
  phase p;
  p.duration_s = 10;
  p.rate = 1000;
  const auto ts = all_arrivals(p);
  ASSERT_EQ(ts.size(), 10000u);
  for (std::size_t i = 1; i < ts.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(ts[i] - ts[i - 1]), 1e6, 2) << i;
  }
  EXPECT_EQ(ts.front(), 0);
  EXPECT_LT(ts.back(), 10'000'000'000);
}

TEST(ArrivalScheduleTest, LinearRampMatchesTheIntegral) {
  phase p;
  p.duration_s = 10;
  p.rate = 100;
  p.ramp_to = 1100;
  const auto ts = all_arrivals(p);
  // ∫ (100 + 100 t) dt over [0, 10] = 1000 + 5000.
  EXPECT_NEAR(static_cast<double>(ts.size()), 6000.0, 6000 * 0.01);
  // Per second: ∫ over [k, k+1] = 100 + 100 (k + 0.5).
  for (int k = 0; k < 10; ++k) {
    const double expected = 100 + 100 * (k + 0.5);
    EXPECT_NEAR(static_cast<double>(count_in(ts, k, k + 1)), expected, expected * 0.01 + 2) << k;
  }
}

TEST(ArrivalScheduleTest, SpikeRaisesTheRateOnlyWhileItLasts) {
  phase p;
  p.duration_s = 6;
  p.rate = 100;
  p.spikes.push_back({2, 1, 1000});
  const auto ts = all_arrivals(p);
  EXPECT_NEAR(static_cast<double>(count_in(ts, 0, 2)), 200, 2);
  EXPECT_NEAR(static_cast<double>(count_in(ts, 2, 3)), 1000, 3);
  EXPECT_NEAR(static_cast<double>(count_in(ts, 3, 6)), 300, 3);
}

TEST(ArrivalScheduleTest, WorkersSharesAddUpAndInterleave) {
  phase p;
  p.duration_s = 5;
  p.rate = 999;
  std::size_t total = 0;
  std::vector<std::int64_t> firsts;
  for (int w = 0; w < 3; ++w) {
    const auto ts = all_arrivals(p, 1.0 / 3, w / 3.0);
    total += ts.size();
    firsts.push_back(ts.front());
  }
  EXPECT_NEAR(static_cast<double>(total), 999 * 5, 3);
  EXPECT_EQ(firsts[0], 0);
  EXPECT_NEAR(static_cast<double>(firsts[1]), 1e9 / 333 / 3, 10);
  EXPECT_NEAR(static_cast<double>(firsts[2]), 2e9 / 333 / 3, 10);
}

TEST(ArrivalScheduleTest, RampFromZeroStartsAndZeroRateIsSilent) {
  phase p;
  p.duration_s = 2;
  p.rate = 0;
  p.ramp_to = 200;
  const auto ts = all_arrivals(p);
  EXPECT_NEAR(static_cast<double>(ts.size()), 200, 4);
  phase silent;
  silent.duration_s = 1;
  silent.rate = 0;
  EXPECT_TRUE(all_arrivals(silent).empty());
}

}  // namespace
