#pragma once
// Text helpers of report.html (private to kofu_reports): escaping, reading a report that may be
// incomplete, numbers as people read them, and the two languages side by side.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace kofu::reports::html {

// `text` HTML-escaped (& < > " '), as valid UTF-8: invalid sequences and control characters other
// than tab and newline become U+FFFD.
std::string esc(std::string_view text);
// `text` as a quoted CSS string ("…"): valid UTF-8 (as esc), every ASCII character other than a
// letter, digit, space or one of .,:;_/()- written as a CSS escape (\22 , \3c , …).
std::string css_string(std::string_view text);
// A JSON value as text: a string as itself, anything else compact; escaped. Null: "—".
std::string esc_value(const nlohmann::json& value);

// Members read leniently: the fallback when absent or of another type.
std::uint64_t u64(const nlohmann::json& object, const char* key, std::uint64_t fallback = 0);
double num(const nlohmann::json& object, const char* key, double fallback = 0);
std::string str(const nlohmann::json& object, const char* key, std::string_view fallback = "");
const nlohmann::json& member(const nlohmann::json& object, const char* key);  // null if absent

std::string grouped(std::uint64_t n);           // 1,234,567
std::string fixed(double value, int decimals);  // 12.35
std::string scientific_html(double value);      // 3.0×10<sup>−6</sup> (or 0.25 when ≥ 0.01)

// Both languages, already HTML: <span lang="ja">ja</span><span lang="en">en</span>.
std::string bi(std::string_view ja, std::string_view en);

}  // namespace kofu::reports::html
