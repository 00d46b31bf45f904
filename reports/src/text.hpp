#pragma once
// Text helpers shared by the report writers (private).

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace kofu::reports::detail {

inline constexpr char32_t replacement_character = 0xFFFD;

// Calls visit(code_point) for each character of `text`; each byte that does not begin a valid
// UTF-8 sequence (overlong forms, surrogates and values above U+10FFFF included) is one
// U+FFFD.
template <class Visit>
void for_each_code_point(std::string_view text, Visit visit) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
      length = 1;
      cp = b0;
    } else if ((b0 & 0xE0u) == 0xC0u) {
      length = 2;
      cp = b0 & 0x1Fu;
      min = 0x80;
    } else if ((b0 & 0xF0u) == 0xE0u) {
      length = 3;
      cp = b0 & 0x0Fu;
      min = 0x800;
    } else if ((b0 & 0xF8u) == 0xF0u) {
      length = 4;
      cp = b0 & 0x07u;
      min = 0x10000;
    }
    bool valid = length > 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if ((b & 0xC0u) != 0x80u) valid = false;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    if (valid && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) valid = false;
    if (!valid) {
      visit(replacement_character);
      ++i;
      continue;
    }
    visit(cp);
    i += length;
  }
}

void append_utf8(std::string& out, char32_t cp);

// A member of an object as text: a string as is, a number or boolean as JSON, anything else
// (absent, null, a wrong type, not an object) as `fallback`.
std::string text_of(const nlohmann::json& object, std::string_view key,
                    std::string_view fallback = "");
// A member as a count; absent, negative or of another type: 0.
std::uint64_t count_of(const nlohmann::json& object, std::string_view key);
// A member when `object` is an object holding it, else a null value.
const nlohmann::json& member(const nlohmann::json& object, std::string_view key);

// 12345678 → "12,345,678".
std::string grouped(std::uint64_t n);

}  // namespace kofu::reports::detail
