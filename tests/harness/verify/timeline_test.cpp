#include "kofu/verify/timeline.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace kofu::verify {
namespace {

constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t s = 1'000 * ms;

issue_invoke invoke(std::uint64_t id, std::int64_t t) {
  issue_invoke e;
  e.id = id;
  e.t = t;
  return e;
}

issue_complete complete(std::uint64_t id, std::int64_t t, issue_outcome outcome) {
  issue_complete e;
  e.id = id;
  e.t = t;
  e.outcome = outcome;
  return e;
}

marker_event marker(std::string name, std::string phase, std::int64_t t) {
  return {t, std::move(name), std::move(phase), nlohmann::json::object(), {}};
}

// A request counts in the phase it was sent in, even when it is answered in the next; a phase
// lasts to the next one's start, the last to the last event.
TEST(TimelineTest, CountsRequestsPerPhase) {
  timeline tl;
  // Before any phase event: the first phase's (the driver may hand its event off after the run's
  // first requests, so history order is not time order).
  tl.on_event(invoke(9, 0));
  tl.on_event(marker("phase", "warm-up", 0));
  tl.on_event(invoke(1, 100 * ms));
  tl.on_event(invoke(2, 900 * ms));
  tl.on_event(complete(1, 110 * ms, issue_outcome::ok));  // 10 ms
  tl.on_event(invoke(5, 1'050 * ms));  // after steady's start, written before its event: steady's
  tl.on_event(marker("phase", "steady", 1 * s));
  tl.on_event(complete(5, 1'100 * ms, issue_outcome::ok));  // 50 ms
  tl.on_event(complete(2, 1'200 * ms, issue_outcome::ok));  // 300 ms, sent in warm-up
  tl.on_event(invoke(3, 1'500 * ms));
  tl.on_event(invoke(4, 1'600 * ms));
  tl.on_event(complete(3, 1'510 * ms, issue_outcome::timeout));
  tl.on_event(complete(4, 1'620 * ms, issue_outcome::retry));
  tl.on_event(complete(9, 3 * s, issue_outcome::ok));
  const auto phases = tl.to_json()["phases"];
  ASSERT_EQ(phases.size(), 2u);
  const auto& warm = phases[0];
  EXPECT_EQ(warm["name"], "warm-up");
  EXPECT_EQ(warm["sent"], 3);
  EXPECT_EQ(warm["answered"], 3);
  EXPECT_DOUBLE_EQ(warm["duration_s"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(warm["rate_per_s"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(warm["latency_ms"]["max"].get<double>(), 3000.0);
  EXPECT_NEAR(warm["latency_ms"]["p50"].get<double>(), 300.0, 15.0);
  const auto& steady = phases[1];
  EXPECT_EQ(steady["sent"], 3);
  EXPECT_EQ(steady["answered"], 1);
  EXPECT_EQ(steady["timeouts"], 1);
  EXPECT_EQ(steady["retry"], 1);
  EXPECT_DOUBLE_EQ(steady["end_s"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(steady["rate_per_s"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(steady["latency_ms"]["max"].get<double>(), 50.0);
}

TEST(TimelineTest, CountsEventsInTheirBuckets) {
  timeline tl;
  tl.on_event(marker("phase", "ramp", 0));
  tl.on_event(invoke(1, 100 * ms));
  tl.on_event(invoke(2, 200 * ms));
  tl.on_event(invoke(3, 300 * ms));
  tl.on_event(complete(1, 110 * ms, issue_outcome::ok));    // 10 ms
  tl.on_event(complete(2, 1'250 * ms, issue_outcome::ok));  // 1050 ms, second bucket
  tl.on_event(complete(3, 1'400 * ms, issue_outcome::retry));
  update_invoke u;
  u.id = 4;
  u.t = 2'100 * ms;
  tl.on_event(u);
  tl.on_event(update_complete{4, 2'200 * ms, update_outcome::ok, {}});
  tl.on_event(marker("maintenance", "start", 1'500 * ms));
  tl.on_event(marker("maintenance", "end", 2'500 * ms));
  tl.on_finding(1'300 * ms);

  ASSERT_EQ(tl.buckets().size(), 3u);
  const auto& b0 = tl.buckets()[0];
  EXPECT_EQ(b0.sent, 3u);
  EXPECT_EQ(b0.answered, 1u);
  EXPECT_EQ(b0.peak_in_flight, 3u);
  const auto& b1 = tl.buckets()[1];
  EXPECT_EQ(b1.sent, 0u);
  EXPECT_EQ(b1.answered, 1u);
  EXPECT_EQ(b1.retry, 1u);
  EXPECT_EQ(b1.findings, 1u);
  EXPECT_EQ(tl.buckets()[2].updates_sent, 1u);
  EXPECT_EQ(tl.buckets()[2].updates_applied, 1u);

  const auto j = tl.to_json();
  EXPECT_EQ(j["bucket_s"].get<double>(), 1.0);
  EXPECT_NEAR(j["buckets"][0]["p50_ms"].get<double>(), 10.0, 10.0 * 0.05);
  EXPECT_NEAR(j["buckets"][1]["p99_ms"].get<double>(), 1050.0, 1050.0 * 0.05);
  EXPECT_EQ(j["buckets"][2]["p50_ms"].get<double>(), 0.0);  // no answer in it
  ASSERT_EQ(j["windows"].size(), 1u);
  EXPECT_EQ(j["windows"][0]["kind"], "maintenance");
  EXPECT_DOUBLE_EQ(j["windows"][0]["start_s"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(j["windows"][0]["end_s"].get<double>(), 2.5);
  ASSERT_EQ(j["phases"].size(), 1u);
  EXPECT_EQ(j["phases"][0]["name"], "ramp");
}

TEST(TimelineTest, PercentilesOfOneBucket) {
  timeline tl;
  for (std::uint64_t i = 0; i < 100; ++i) tl.on_event(invoke(i, 0));
  for (std::uint64_t i = 0; i < 100; ++i) {
    tl.on_event(complete(i, static_cast<std::int64_t>(i + 1) * ms, issue_outcome::ok));
  }
  const auto b = tl.to_json()["buckets"][0];
  EXPECT_NEAR(b["p50_ms"].get<double>(), 50.0, 50.0 * 0.05);
  EXPECT_NEAR(b["p90_ms"].get<double>(), 90.0, 90.0 * 0.05);
  EXPECT_NEAR(b["p99_ms"].get<double>(), 99.0, 99.0 * 0.05);
  EXPECT_EQ(b["in_flight"].get<std::uint64_t>(), 100u);
}

TEST(TimelineTest, LongRunsStayBoundedAndKeepTheirTotals) {
  timeline tl;
  // Three hours, one request a second: the buckets widen to 32 s (3 h / 32 s = 338 ≤ 600).
  const std::uint64_t n = 3 * 3600;
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto t = static_cast<std::int64_t>(i) * s;
    tl.on_event(invoke(i, t));
    tl.on_event(complete(i, t + 5 * ms, issue_outcome::ok));
  }
  EXPECT_LE(tl.buckets().size(), timeline::max_buckets);
  EXPECT_EQ(tl.bucket_ns(), 32 * s);
  std::uint64_t sent = 0;
  std::uint64_t answered = 0;
  for (const auto& b : tl.buckets()) {
    sent += b.sent;
    answered += b.answered;
  }
  EXPECT_EQ(sent, n);
  EXPECT_EQ(answered, n);
  // A time far in the future still fits in max_buckets.
  tl.on_finding(std::int64_t{1} << 62);
  EXPECT_LE(tl.buckets().size(), timeline::max_buckets);
  EXPECT_EQ(tl.buckets().back().findings, 1u);
}

TEST(TimelineTest, WindowsAreBoundedAndAnOpenOneHasNoEnd) {
  timeline tl;
  for (std::size_t i = 0; i < timeline::max_windows + 5; ++i) {
    tl.on_event(marker("reflection_batch", "start", static_cast<std::int64_t>(i) * ms));
  }
  const auto j = tl.to_json();
  EXPECT_EQ(j["windows"].size(), timeline::max_windows);
  EXPECT_EQ(j["windows_left_out"].get<std::uint64_t>(), 5u);
  EXPECT_TRUE(j["windows"][0]["end_s"].is_null());
}

}  // namespace
}  // namespace kofu::verify
