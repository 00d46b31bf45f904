#pragma once
// How a value of the population is written on paper (docs/vendor-ja.md, "Renderings"): the
// vendor-ja dialect's answers and the PDF print data (docs/print-data.md) print the same strings.
// Pure functions; safe from any thread.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kofu::mock::paper {

inline constexpr std::string_view kFullWidthSpace = "\u3000";

// The string at `key` of `obj`, or empty when it is missing or not a string.
std::string text(const nlohmann::json& obj, const char* key);
// A full name the population writes with ASCII spaces (世帯主, 筆頭者): each becomes U+3000.
std::string full_width_spaces(std::string_view name);
// 和暦 when the date can be written so; any other text is printed as it stands.
std::string wareki_date(const std::string& iso);
// 〒postal U+3000 prefecture city town banchi U+3000 building.
std::string address_line(const nlohmann::json& address);
// 男 / 女; anything else as it stands.
std::string sex(const std::string& reference);
// family U+3000 given, from a reference name object, in kanji or in kana.
std::string kanji_name(const nlohmann::json& name);
std::string kana_name(const nlohmann::json& name);

// Standard base64 (with padding) → bytes (the seal images a population and the vendor API carry);
// nullopt when `text` is not that.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace kofu::mock::paper
