#include "wareki.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>

namespace kofu::mock::wareki {
namespace {

struct ymd {
  int year = 0;
  int month = 0;
  int day = 0;
  auto operator<=>(const ymd&) const = default;
};

struct era {
  std::string_view name;
  ymd first_day;  // the era's first day (Gregorian)
};

// In order; each era lasts until the day before the next one's first day.
constexpr std::array<era, 5> kEras = {{
    {"明治", {1868, 1, 1}},  // rendered from kFirstRenderedDay on only (see the header)
    {"大正", {1912, 7, 30}},
    {"昭和", {1926, 12, 25}},
    {"平成", {1989, 1, 8}},
    {"令和", {2019, 5, 1}},
}};
constexpr ymd kFirstRenderedDay{1873, 1, 1};

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[static_cast<std::size_t>(m - 1)];
}

bool valid(const ymd& d) {
  return d.year >= 1 && d.year <= 9999 && d.month >= 1 && d.month <= 12 && d.day >= 1 &&
         d.day <= days_in_month(d.year, d.month);
}

// Index of the era `d` falls in (d >= kFirstRenderedDay).
std::size_t era_of(const ymd& d) {
  std::size_t i = kEras.size() - 1;
  while (i > 0 && d < kEras[i].first_day) --i;
  return i;
}

// A fixed number of ASCII digits.
bool fixed_digits(std::string_view s, int& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Digits without a leading zero (at most 4) at the front of `s`, consumed.
bool number(std::string_view& s, int& out) {
  std::size_t n = 0;
  while (n < s.size() && n < 5 && s[n] >= '0' && s[n] <= '9') ++n;
  if (n == 0 || n > 4 || s[0] == '0') return false;
  out = 0;
  for (std::size_t i = 0; i < n; ++i) out = out * 10 + (s[i] - '0');
  s.remove_prefix(n);
  return true;
}

bool literal(std::string_view& s, std::string_view word) {
  if (!s.starts_with(word)) return false;
  s.remove_prefix(word.size());
  return true;
}

}  // namespace

std::optional<std::string> from_iso(std::string_view iso) {
  ymd d;
  if (iso.size() != 10 || iso[4] != '-' || iso[7] != '-' ||
      !fixed_digits(iso.substr(0, 4), d.year) || !fixed_digits(iso.substr(5, 2), d.month) ||
      !fixed_digits(iso.substr(8, 2), d.day) || !valid(d) || d < kFirstRenderedDay) {
    return std::nullopt;
  }
  const auto& e = kEras[era_of(d)];
  const int year = d.year - e.first_day.year + 1;
  if (year == 1) return fmt::format("{}元年{}月{}日", e.name, d.month, d.day);
  return fmt::format("{}{}年{}月{}日", e.name, year, d.month, d.day);
}

std::optional<std::string> to_iso(std::string_view text) {
  std::size_t index = kEras.size();
  for (std::size_t i = 0; i < kEras.size(); ++i) {
    if (literal(text, kEras[i].name)) {
      index = i;
      break;
    }
  }
  if (index == kEras.size()) return std::nullopt;
  int year = 0;
  if (literal(text, "元")) {
    year = 1;
  } else if (!number(text, year) || year == 1) {
    return std::nullopt;
  }
  ymd d;
  if (!literal(text, "年") || !number(text, d.month) || !literal(text, "月") ||
      !number(text, d.day) || !literal(text, "日") || !text.empty()) {
    return std::nullopt;
  }
  d.year = kEras[index].first_day.year + year - 1;
  if (!valid(d) || d < kFirstRenderedDay || era_of(d) != index) return std::nullopt;
  return fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day);
}

}  // namespace kofu::mock::wareki
