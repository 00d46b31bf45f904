// 和暦 rendering and parsing of the vendor-ja dialect (mock_server/src/wareki.hpp): era
// boundaries, 元年, and the exact form (no padding, ASCII digits).
#include "wareki.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kofu::mock {
namespace {

struct wareki_case {
  const char* iso;
  const char* wareki;
};

// Each era boundary from both sides, 元年, and ordinary dates.
constexpr wareki_case kCases[] = {
    {"1873-01-01", "明治6年1月1日"},    {"1912-07-29", "明治45年7月29日"},
    {"1912-07-30", "大正元年7月30日"},  {"1912-12-31", "大正元年12月31日"},
    {"1913-01-01", "大正2年1月1日"},    {"1926-12-24", "大正15年12月24日"},
    {"1926-12-25", "昭和元年12月25日"}, {"1927-01-01", "昭和2年1月1日"},
    {"1978-03-14", "昭和53年3月14日"},  {"1989-01-07", "昭和64年1月7日"},
    {"1989-01-08", "平成元年1月8日"},   {"1990-01-01", "平成2年1月1日"},
    {"2000-02-29", "平成12年2月29日"},  {"2011-06-15", "平成23年6月15日"},
    {"2019-04-30", "平成31年4月30日"},  {"2019-05-01", "令和元年5月1日"},
    {"2019-12-31", "令和元年12月31日"}, {"2020-01-01", "令和2年1月1日"},
    {"2026-11-22", "令和8年11月22日"},
};

TEST(WarekiTest, RendersEveryEraBoundaryAndGannen) {
  for (const auto& c : kCases) {
    EXPECT_EQ(wareki::from_iso(c.iso), std::string(c.wareki)) << c.iso;
  }
}

TEST(WarekiTest, ParsesWhatItRenders) {
  for (const auto& c : kCases) {
    EXPECT_EQ(wareki::to_iso(c.wareki), std::string(c.iso)) << c.wareki;
  }
}

TEST(WarekiTest, RefusesDatesItCannotRender) {
  for (const auto* iso : {"1872-12-31", "2019-02-29", "2019-13-01", "2019-04-31", "2019-5-1",
                          "20190501", "2019-05-01T00:00", "", "abcd-ef-gh"}) {
    EXPECT_EQ(wareki::from_iso(iso), std::nullopt) << iso;
  }
}

TEST(WarekiTest, ParsesOnlyTheExactForm) {
  for (const auto* text : {
           "令和1年5月1日",     // year 1 is written 元
           "平成元年1月7日",    // before 平成 began: 昭和64年1月7日
           "平成31年5月1日",    // 令和元年5月1日
           "昭和64年1月8日",    // 平成元年1月8日
           "大正元年7月29日",   // 明治45年7月29日
           "明治45年7月30日",   // 大正元年7月30日
           "令和08年1月1日",    // zero padding
           "令和8年01月1日",    // zero padding
           "令和８年1月1日",    // full-width digits
           "令和8年2月30日",    // no such day
           "令和8年13月1日",    // no such month
           "令和元年",          // incomplete
           "令和8年1月1日 ",    // trailing text
           "西暦2026年1月1日",  // unknown era
           "明治5年12月31日",   // before the Gregorian calendar
           "令和0年5月1日",     // no year 0
           "令和元元年5月1日",  // garbage
           "",
       }) {
    EXPECT_EQ(wareki::to_iso(text), std::nullopt) << text;
  }
}

}  // namespace
}  // namespace kofu::mock
