#pragma once
// 和暦 (Japanese era) dates as the vendor-ja dialect prints and reads them (docs/vendor-ja.md):
// "<era><year>年<month>月<day>日" with ASCII digits, no zero padding, and year 1 written 元
// ("令和元年5月1日", "昭和53年3月14日"). Era boundaries: 明治 until 1912-07-29, 大正 from
// 1912-07-30, 昭和 from 1926-12-25, 平成 from 1989-01-08, 令和 from 2019-05-01.
//
// 和暦 is rendered from 1873-01-01 (明治6年1月1日) on: Japan adopted the Gregorian calendar
// then, and an earlier Gregorian date has no 和暦 of the same day.
//
// Pure functions; safe from any thread.

#include <optional>
#include <string>
#include <string_view>

namespace kofu::mock::wareki {

// "YYYY-MM-DD" → 和暦. nullopt when `iso` is not a valid date in that exact form, or lies before
// 1873-01-01.
std::optional<std::string> from_iso(std::string_view iso);

// 和暦 → "YYYY-MM-DD". Accepts exactly the strings from_iso prints: nullopt for an unknown era,
// a number with a leading zero, year 1 not written 元 (or 元 for another year), a day that does
// not exist, or a date outside its era (平成31年5月1日 is 令和元年5月1日).
std::optional<std::string> to_iso(std::string_view text);

}  // namespace kofu::mock::wareki
