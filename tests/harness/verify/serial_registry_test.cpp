#include "kofu/verify/serial_registry.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace kofu::verify {
namespace {

std::string mock_serial(std::uint64_t n) { return fmt::format("C-1-{:012}", n); }

TEST(SerialRegistry, SequentialSerialsAreOneRunAndEveryRepeatIsFound) {
  serial_registry r;
  for (std::uint64_t n = 1; n <= 100'000; ++n) ASSERT_TRUE(r.insert(mock_serial(n))) << n;
  EXPECT_EQ(r.size(), 100'000u);
  EXPECT_EQ(r.fingerprinted(), 0u);
  EXPECT_LT(r.bytes(), 1024u) << "one run, one prefix";
  for (std::uint64_t n : {1ull, 2ull, 50'000ull, 99'999ull, 100'000ull}) {
    EXPECT_FALSE(r.insert(mock_serial(n))) << n;
  }
  EXPECT_TRUE(r.insert(mock_serial(100'001)));
  EXPECT_TRUE(r.insert(mock_serial(0)));
  EXPECT_EQ(r.size(), 100'002u);
}

TEST(SerialRegistry, AnswersOutOfOrderMergeOnceTheGapsFill) {
  // Counters as a server with 64 requests in flight answers them: shuffled within windows.
  std::vector<std::uint64_t> order(64 * 1000);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i + 1;
  std::mt19937_64 rng(7);
  for (std::size_t w = 0; w < order.size(); w += 64) {
    std::shuffle(order.begin() + static_cast<std::ptrdiff_t>(w),
                 order.begin() + static_cast<std::ptrdiff_t>(w + 64), rng);
  }
  serial_registry r;
  for (const auto n : order) ASSERT_TRUE(r.insert(mock_serial(n))) << n;
  EXPECT_EQ(r.fingerprinted(), 0u);
  EXPECT_LT(r.bytes(), 1024u) << "all gaps filled: one run";
  for (const auto n : order) ASSERT_FALSE(r.insert(mock_serial(n))) << n;
}

TEST(SerialRegistry, CounterWidthAndPrefixArePartOfTheSerial) {
  serial_registry r;
  EXPECT_TRUE(r.insert("A-7"));
  EXPECT_TRUE(r.insert("A-07")) << "same number, other width: another serial";
  EXPECT_TRUE(r.insert("B-7"));
  EXPECT_TRUE(r.insert("7"));
  EXPECT_TRUE(r.insert("A-8"));
  EXPECT_FALSE(r.insert("A-7"));
  EXPECT_FALSE(r.insert("A-07"));
  EXPECT_FALSE(r.insert("7"));
  EXPECT_TRUE(r.insert("A-6")) << "the run 7–8 grows downwards";
  EXPECT_FALSE(r.insert("A-6"));
  EXPECT_FALSE(r.insert("A-8"));
  EXPECT_TRUE(r.insert("A-9"));
}

TEST(SerialRegistry, SerialsWithoutACounterAreFingerprinted) {
  serial_registry r;
  EXPECT_TRUE(r.insert("ABC-X"));
  EXPECT_TRUE(r.insert(""));
  EXPECT_TRUE(r.insert("ABC-Y"));
  EXPECT_FALSE(r.insert("ABC-X"));
  EXPECT_FALSE(r.insert(""));
  EXPECT_EQ(r.fingerprinted(), 3u);
}

TEST(SerialRegistry, LongDigitRunsKeepTheirLeadingDigitsInThePrefix) {
  serial_registry r;
  const std::string a = "X1234567" + std::string(18, '0');
  const std::string b = "X7654321" + std::string(18, '0');
  EXPECT_TRUE(r.insert(a));
  EXPECT_TRUE(r.insert(b)) << "same last 18 digits, other leading digits";
  EXPECT_FALSE(r.insert(a));
  EXPECT_FALSE(r.insert(b));
  EXPECT_EQ(r.fingerprinted(), 0u);
}

TEST(SerialRegistry, ScatteredCountersFallBackToFingerprintsWithoutForgettingAny) {
  // Random 12-digit counters never form runs: past min_runs_checked runs the prefix turns to
  // fingerprints, and every serial inserted before that must still be found.
  std::mt19937_64 rng(11);
  std::vector<std::string> inserted;
  serial_registry r;
  for (int i = 0; i < 5000; ++i) {
    std::string s = fmt::format("R-{:012}", rng() % 1'000'000'000'000ull);
    if (r.insert(s)) inserted.push_back(std::move(s));
  }
  EXPECT_GT(r.fingerprinted(), serial_registry::min_runs_checked);
  for (const auto& s : inserted) ASSERT_FALSE(r.insert(s)) << s;
  // The fallback costs what fingerprints cost (1024 shards of at least 64 slots of 8 bytes, then
  // 10–12.5 bytes a serial), not a map node a serial.
  EXPECT_LT(r.bytes(), 1024u * 64 * 8 + inserted.size() * 16);
}

TEST(SerialRegistry, PrefixesBeyondTheLimitAreFingerprinted) {
  serial_registry r;
  for (std::size_t p = 0; p < serial_registry::max_prefixes + 10; ++p) {
    for (int n = 1; n <= 3; ++n) ASSERT_TRUE(r.insert(fmt::format("P{}x-{}", p, n)));
  }
  EXPECT_EQ(r.fingerprinted(), 30u);
  for (std::size_t p = 0; p < serial_registry::max_prefixes + 10; ++p) {
    for (int n = 1; n <= 3; ++n) ASSERT_FALSE(r.insert(fmt::format("P{}x-{}", p, n)));
  }
}

// Against a std::set on random serials from a few prefixes and widths, counters from small
// ranges (many repeats, runs that meet) and from a large one (scattered, so that some prefixes
// turn to fingerprints during the run).
TEST(SerialRegistry, AgreesWithASetOnRandomSerials) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    serial_registry r;
    std::set<std::string> seen;
    for (int i = 0; i < 20'000; ++i) {
      const auto kind = rng() % 6;
      std::string s;
      if (kind == 0) {
        s = fmt::format("S{}", rng() % 50);
      } else if (kind == 1) {
        s = fmt::format("Z-{}-X", rng() % 300);  // no counter at the end
      } else if (kind == 2) {
        s = fmt::format("W-{:0{}}", rng() % 2000, 1 + static_cast<int>(rng() % 5));
      } else if (kind == 3) {
        s = fmt::format("R-{:09}", rng() % 1'000'000'000);
      } else {
        s = fmt::format("C-{}-{:06}", rng() % 3, rng() % 4000);
      }
      const bool fresh = seen.insert(s).second;
      ASSERT_EQ(r.insert(s), fresh) << "seed " << seed << " step " << i << ": " << s;
    }
    EXPECT_EQ(r.size(), seen.size());
  }
}

}  // namespace
}  // namespace kofu::verify
