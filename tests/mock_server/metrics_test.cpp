#include "metrics.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace {

using kofu::mock::metrics;
using namespace std::chrono_literals;

// The value of one sample line ("NAME VALUE") of the rendered metrics; "" when absent.
std::string sample(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return {};
  const auto start = at + name.size() + 2;
  return text.substr(start, text.find('\n', start) - start);
}

TEST(MockMetricsTest, GroupSpreadIsFirstToLastArrivalOfCompleteGroups) {
  metrics m;
  const auto t0 = std::chrono::steady_clock::now();
  // Group a: three members, arriving out of order over 300 µs.
  m.group_member_arrived("1-0-0;n=3", t0 + 200us);
  m.group_member_arrived("1-0-0;n=3", t0);
  m.group_member_arrived("1-0-0;n=3", t0 + 300us);
  // Group b: two members 100 µs apart; group c never completes.
  m.group_member_arrived("1-0-1;n=2", t0 + 1000us);
  m.group_member_arrived("1-0-1;n=2", t0 + 1100us);
  m.group_member_arrived("1-0-2;n=2", t0);
  const auto text = m.render();
  EXPECT_EQ(sample(text, "kofu_mock_group_arrival_spread_seconds_count"), "2") << text;
  EXPECT_EQ(sample(text, R"(kofu_mock_group_arrival_spread_seconds{quantile="0.5"})"), "0.000100")
      << text;
  EXPECT_EQ(sample(text, R"(kofu_mock_group_arrival_spread_seconds{quantile="0.99"})"), "0.000300")
      << text;
  EXPECT_EQ(sample(text, "kofu_mock_groups_open"), "1");
  EXPECT_EQ(sample(text, "kofu_mock_groups_incomplete_total"), "0");
}

TEST(MockMetricsTest, MalformedGroupHeadersAreCountedNotTracked) {
  metrics m;
  const auto t0 = std::chrono::steady_clock::now();
  for (const char* bad : {"", "abc", ";n=3", "g;n=", "g;n=0", "g;n=x", "g;n=99999", "g;n=-2"}) {
    m.group_member_arrived(bad, t0);
  }
  const auto text = m.render();
  EXPECT_EQ(sample(text, "kofu_mock_group_headers_malformed_total"), "8") << text;
  EXPECT_EQ(sample(text, "kofu_mock_groups_open"), "0");
}

TEST(MockMetricsTest, GroupsThatNeverCompleteAreForgottenWithinBounds) {
  metrics m;
  const auto t0 = std::chrono::steady_clock::now();
  // More open groups than kept: the old ones are forgotten and counted incomplete.
  for (std::size_t i = 0; i <= metrics::max_open_groups; ++i) {
    m.group_member_arrived("old-" + std::to_string(i) + ";n=2", t0);
  }
  m.group_member_arrived("new;n=2", t0 + metrics::open_group_age + 1s);
  const auto text = m.render();
  EXPECT_EQ(sample(text, "kofu_mock_groups_incomplete_total"),
            std::to_string(metrics::max_open_groups + 1))
      << text;
  EXPECT_EQ(sample(text, "kofu_mock_groups_open"), "1");
}

TEST(MockMetricsTest, DeadlineHeadersGiveTheirRange) {
  metrics m;
  EXPECT_EQ(sample(m.render(), R"(kofu_mock_request_deadline_ms{bound="min"})"), "");
  m.deadline_seen("4995");
  m.deadline_seen("120");
  m.deadline_seen("12.5");
  m.deadline_seen("soon");
  const auto text = m.render();
  EXPECT_EQ(sample(text, "kofu_mock_request_deadlines_total"), "2");
  EXPECT_EQ(sample(text, "kofu_mock_request_deadlines_malformed_total"), "2");
  EXPECT_EQ(sample(text, R"(kofu_mock_request_deadline_ms{bound="min"})"), "120");
  EXPECT_EQ(sample(text, R"(kofu_mock_request_deadline_ms{bound="max"})"), "4995");
}

}  // namespace
