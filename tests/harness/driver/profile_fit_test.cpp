// The fit check of a vendor profile against the first answers of a run (profile_fit.hpp).

#include "kofu/driver/profile_fit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace {

using kofu::driver::profile_fit;

// Records `pattern` ('u' unmapped, 'm' mapped) and returns the answer (1-based) at which the
// verdict "does not fit" was reached, 0 if never.
unsigned verdict_at(const std::string& pattern) {
  profile_fit fit;
  unsigned at = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const bool mapped = pattern[i] == 'm';
    if (fit.record(mapped, mapped ? "" : "reason " + std::to_string(i))) {
      EXPECT_EQ(at, 0u) << "the verdict is reached once";
      at = static_cast<unsigned>(i + 1);
    }
  }
  return at;
}

TEST(ProfileFitTest, VerdictNeedsTwentyAnswersAndMoreThanHalfUnmapped) {
  struct table_case {
    std::string pattern;
    unsigned verdict_at;
  };
  const std::vector<table_case> cases = {
      {std::string(19, 'u'), 0},                          // too few answers
      {std::string(20, 'u'), 20},                         // at the minimum
      {std::string(100, 'm'), 0},                         // a profile that fits
      {std::string(10, 'u') + std::string(10, 'm'), 0},   // exactly half: fits
      {std::string(11, 'u') + std::string(9, 'm'), 20},   // more than half
      {std::string(10, 'm') + std::string(40, 'u'), 21},  // 10 of 20 is not, 11 of 21 is
      {std::string(90, 'm') + std::string(200, 'u'), 0},  // answers after the sample
      {std::string(60, 'm') + std::string(40, 'u'), 0},   // a minority over the sample
  };
  for (const auto& c : cases) {
    EXPECT_EQ(verdict_at(c.pattern), c.verdict_at) << c.pattern;
  }
}

TEST(ProfileFitTest, KeepsTheFirstReasonAndStopsSampling) {
  profile_fit fit;
  fit.record(true, "");
  fit.record(false, "no persons at /nothing");
  fit.record(false, "another");
  EXPECT_EQ(fit.first_reason(), "no persons at /nothing");
  EXPECT_EQ(fit.unmapped(), 2u);
  for (unsigned i = 0; i < profile_fit::sample_size; ++i) fit.record(true, "");
  EXPECT_FALSE(fit.sampling());
  EXPECT_EQ(fit.seen(), profile_fit::sample_size);
}

TEST(ProfileFitTest, ConcurrentWorkersReachTheVerdictOnce) {
  profile_fit fit;
  std::atomic<unsigned> verdicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (fit.record(false, "unmapped")) ++verdicts;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(verdicts.load(), 1u);
  EXPECT_TRUE(fit.misfit());
  EXPECT_EQ(fit.first_reason(), "unmapped");
  EXPECT_EQ(fit.unmapped(), profile_fit::sample_size);
}

}  // namespace
