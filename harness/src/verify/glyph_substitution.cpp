// glyph_substitution.hpp: an exact walk over code points. The table holds the characters of
// personal names outside JIS X 0208 that print paths are known to fold, each with the JIS X 0208
// character a 0208-only font shows instead.

#include "kofu/verify/glyph_substitution.hpp"

#include <fmt/format.h>

#include <array>
#include <utility>
#include <vector>

namespace kofu::verify {

namespace {

// Characters of the population's confusable names outside JIS X 0208, and what a 0208-only
// font shows instead.
constexpr std::array<std::pair<char32_t, char32_t>, 3> jis0208_substitutes{{
    {U'\u9AD9', U'\u9AD8'},     // 髙 → 高
    {U'\uFA11', U'\u5D0E'},     // 﨑 → 崎
    {U'\U00020BB7', U'\u5409'}  // 𠮷 → 吉
}};

bool is_variation_selector(char32_t c) {
  return (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0100 && c <= 0xE01EF);
}

// UTF-8 to code points; nullopt for invalid UTF-8.
std::optional<std::vector<char32_t>> code_points(std::string_view s) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return std::nullopt;
    auto c = static_cast<char32_t>(n == 1 ? b : (b & (0x7Fu >> n)));
    for (std::size_t k = 1; k < n; ++k) {
      const auto continuation = static_cast<unsigned char>(s[i + k]);
      if ((continuation & 0xC0u) != 0x80u) return std::nullopt;
      c = (c << 6) | static_cast<char32_t>(continuation & 0x3Fu);
    }
    out.push_back(c);
    i += n;
  }
  return out;
}

std::string utf8(char32_t c) {
  std::string out;
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
  return out;
}

}  // namespace

std::optional<std::string> glyph_substitution(std::string_view printed, std::string_view expected) {
  const auto p = code_points(printed);
  const auto e = code_points(expected);
  if (!p || !e) return std::nullopt;
  std::vector<std::string> changes;
  std::size_t i = 0;
  for (std::size_t k = 0; k < e->size(); ++k) {
    const char32_t want = (*e)[k];
    if (i < p->size() && (*p)[i] == want) {
      ++i;
      continue;
    }
    if (is_variation_selector(want)) {
      changes.push_back(fmt::format("U+{:04X} dropped", static_cast<std::uint32_t>(want)));
      continue;
    }
    bool substituted = false;
    for (const auto& [from, to] : jis0208_substitutes) {
      if (want == from && i < p->size() && (*p)[i] == to) {
        changes.push_back(fmt::format("U+{:04X} {} printed as U+{:04X} {}",
                                      static_cast<std::uint32_t>(from), utf8(from),
                                      static_cast<std::uint32_t>(to), utf8(to)));
        substituted = true;
        ++i;
        break;
      }
    }
    if (!substituted) return std::nullopt;
  }
  if (i != p->size() || changes.empty()) return std::nullopt;
  return fmt::format("the expected value with glyphs substituted: {}", fmt::join(changes, ", "));
}

}  // namespace kofu::verify
