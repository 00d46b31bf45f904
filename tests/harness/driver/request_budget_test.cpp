#include "kofu/driver/request_budget.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace {

using kofu::driver::request_budget;
using clock_type = request_budget::clock;

std::vector<kofu::scenario::phase> phases(
    std::vector<std::pair<double, std::optional<std::uint64_t>>> spec) {
  std::vector<kofu::scenario::phase> out;
  for (const auto& [duration, requests] : spec) {
    kofu::scenario::phase p;
    p.duration_s = duration;
    p.requests = requests;
    out.push_back(p);
  }
  return out;
}

TEST(RequestBudgetTest, UnboundedPhasesKeepThePlannedBoundaries) {
  const auto start = clock_type::now();
  request_budget b(phases({{2, std::nullopt}, {3, std::nullopt}}), std::nullopt, start);
  EXPECT_FALSE(b.bounded());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(b.take(0));
  EXPECT_FALSE(b.exhausted(0));
  EXPECT_EQ(b.phase_start(1), start + std::chrono::seconds(2));
  EXPECT_EQ(b.phase_end(1), start + std::chrono::seconds(5));
}

TEST(RequestBudgetTest, LastTicketCutsThePhaseAndMovesTheNextOne) {
  const auto start = clock_type::now();
  request_budget b(phases({{60, 3}, {10, std::nullopt}}), std::nullopt, start);
  EXPECT_TRUE(b.bounded());
  EXPECT_TRUE(b.take(0));
  EXPECT_TRUE(b.take(0));
  EXPECT_FALSE(b.exhausted(0));
  EXPECT_TRUE(b.take(0));
  EXPECT_TRUE(b.exhausted(0));
  EXPECT_FALSE(b.take(0));
  // Cut now, not after 60 s; the next phase starts there and keeps its own duration.
  const auto cut = b.phase_end(0);
  EXPECT_LT(cut, start + std::chrono::seconds(60));
  EXPECT_LE(cut, clock_type::now());
  EXPECT_EQ(b.phase_start(1), cut);
  EXPECT_EQ(b.phase_end(1), cut + std::chrono::seconds(10));
  EXPECT_TRUE(b.take(1));
}

TEST(RequestBudgetTest, RunLimitEndsEveryLaterPhase) {
  const auto start = clock_type::now();
  request_budget b(phases({{60, std::nullopt}, {60, 100}}), 2, start);
  EXPECT_TRUE(b.take(0));
  EXPECT_TRUE(b.take(0));
  EXPECT_FALSE(b.take(0));
  EXPECT_TRUE(b.exhausted(1));
  EXPECT_FALSE(b.take(1));
  EXPECT_EQ(b.phase_start(1), b.phase_end(1));  // no time left for it
}

TEST(RequestBudgetTest, ConcurrentTakersGetExactlyTheBound) {
  request_budget b(phases({{60, 10'000}}), std::nullopt, clock_type::now());
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        if (b.take(0)) taken.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(taken.load(), 10'000);
}

}  // namespace
