// The requests kept to name a leak's source (leak_sources.hpp): the candidate rules, and memory
// bounded by the time window rather than by the length of the run or the heat of a resident.

#include "kofu/verify/leak_sources.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace kofu::verify::detail {
namespace {

TEST(LeakSourcesTest, NamesOverlappingAndLostPrecedingRequestsOnly) {
  leak_sources s(/*horizon_ns=*/10'000, /*reorder_slack_ns=*/100);
  // Resident 7: an answered request long before, a lost one, one still in flight.
  const auto answered = s.on_invoke(7, 1, 11, 1'000, 0, 1);
  s.on_complete(answered, 2'000);
  s.on_settled(answered, false);
  const auto lost = s.on_invoke(7, 2, 12, 3'000, 1, 2);
  s.on_complete(lost, 4'000);
  s.on_settled(lost, true);
  const auto open = s.on_invoke(7, 3, 13, 5'000, 0, 3);
  // Request 9 (another resident's) sent at 6000, answered at 7000.
  leak_source_match m = s.find(7, 9, 6'000, 7'000);
  EXPECT_EQ(m.candidates, 2u);
  EXPECT_EQ(m.ids, (std::vector<std::uint64_t>{2, 3}));
  // Once request 3 has been answered before 6000 and kept its own answer, only 2 remains.
  s.on_complete(open, 5'500);
  s.on_settled(open, false);
  m = s.find(7, 9, 6'000, 7'000);
  ASSERT_EQ(m.candidates, 1u);
  EXPECT_EQ(m.id, 2u);
  EXPECT_EQ(m.tag, 12u);
  EXPECT_EQ(m.worker, 1u);
  EXPECT_EQ(m.conn, 2u);
  EXPECT_TRUE(m.preceded);
  // Sent after the recipient's answer: never its source. Past the horizon: none either.
  EXPECT_EQ(s.find(7, 9, 500, 900).candidates, 0u);
  EXPECT_EQ(s.find(7, 9, 14'001, 15'000).candidates, 0u);
  // The recipient itself is no candidate of its own.
  EXPECT_EQ(s.find(7, 9, 3'500, 4'500).candidates, 1u);
  EXPECT_EQ(s.find(7, 2, 3'500, 4'500).candidates, 0u);
}

// A long run with a few hot residents, every 50th request losing its answer, one never answered:
// the entries held stay within rate × (horizon + slack + 2 × lifetime) (a lost request is kept for
// the horizon after it ended, counted from the send time of the oldest request still open, less the
// slack), and a lost request within the horizon is still named however many requests its resident
// sent since.
TEST(LeakSourcesTest, MemoryStaysWithinTheWindowWhateverTheRunLength) {
  constexpr std::int64_t interval = 1'000;  // one request every 1 µs
  constexpr std::int64_t lifetime = 5'000;
  constexpr std::int64_t slack = 10'000;
  constexpr std::int64_t horizon = 50'000;
  leak_sources s(horizon, slack);
  struct open_request {
    std::uint64_t handle;
    std::int64_t b;
  };
  std::vector<open_request> open;
  std::size_t most = 0;
  std::size_t most_later = 0;
  std::uint64_t last_lost_id = 0;
  constexpr std::uint64_t requests = 200'000;
  for (std::uint64_t id = 1; id <= requests; ++id) {
    const std::int64_t t = static_cast<std::int64_t>(id) * interval;
    // Answers due by now arrive and are settled (the checker settles after its check).
    std::erase_if(open, [&](const open_request& o) {
      if (o.b > t) return false;
      s.on_complete(o.handle, o.b);
      s.on_settled(o.handle, o.handle % 50 == 0);
      return true;
    });
    s.expire(t);
    const auto handle = s.on_invoke(static_cast<std::uint32_t>(id % 3), id, id, t, 0, 0);
    // Request 2 is never answered (a killed run's, or its complete lost): it holds the later
    // entries only until it is abandoned, 2 × horizon + slack after it was sent.
    if (id != 2) open.push_back({handle, t + lifetime});
    most = std::max(most, s.size());
    if (t > 2 * horizon + slack + 2 * interval) most_later = std::max(most_later, s.size());
    if ((id - 1) % 50 == 0) last_lost_id = id;  // handles start at 0: handle % 50 == 0
  }
  const std::size_t bound =
      static_cast<std::size_t>((horizon + slack + 2 * lifetime) / interval) + 2;
  EXPECT_LE(most_later, bound);
  EXPECT_GT(most_later, static_cast<std::size_t>(horizon / interval));  // the lost ones are kept
  EXPECT_LE(most, static_cast<std::size_t>((2 * horizon + slack) / interval) + bound);
  // The last lost request (resident last_lost_id % 3) is named for a request sent just after it
  // ended, although its resident sent hundreds of requests in between.
  const std::int64_t end_of_last_lost =
      static_cast<std::int64_t>(last_lost_id) * interval + lifetime;
  const auto r = static_cast<std::uint32_t>(last_lost_id % 3);
  const leak_source_match m = s.find(r, 999'999'999, end_of_last_lost + 1, end_of_last_lost + 2);
  EXPECT_NE(std::find(m.ids.begin(), m.ids.end(), last_lost_id), m.ids.end());
}

}  // namespace
}  // namespace kofu::verify::detail
