#include "paper_renderings.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdint>

#include "wareki.hpp"

namespace kofu::mock::paper {

std::string text(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string full_width_spaces(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 4);
  for (const char c : name) {
    if (c == ' ') {
      out += kFullWidthSpace;
    } else {
      out += c;
    }
  }
  return out;
}

std::string wareki_date(const std::string& iso) { return wareki::from_iso(iso).value_or(iso); }

std::string address_line(const nlohmann::json& a) {
  return fmt::format("〒{}{}{}{}{}{}{}{}", text(a, "postal_code"), kFullWidthSpace,
                     text(a, "prefecture"), text(a, "city"), text(a, "town"), text(a, "banchi"),
                     kFullWidthSpace, text(a, "building"));
}

std::string sex(const std::string& reference) {
  if (reference == "male") return "男";
  if (reference == "female") return "女";
  return reference;
}

std::string kanji_name(const nlohmann::json& name) {
  return text(name, "family_kanji") + std::string(kFullWidthSpace) + text(name, "given_kanji");
}

std::string kana_name(const nlohmann::json& name) {
  return text(name, "family_kana") + std::string(kFullWidthSpace) + text(name, "given_kana");
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  const auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::array<int, 4> v{};
    int padding = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && last && k >= 2) {
        ++padding;
        v[k] = 0;
        continue;
      }
      if (padding > 0) return std::nullopt;  // data after '='
      v[k] = value(c);
      if (v[k] < 0) return std::nullopt;
    }
    const auto bits = static_cast<std::uint32_t>((v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3]);
    out += static_cast<char>((bits >> 16) & 0xff);
    if (padding < 2) out += static_cast<char>((bits >> 8) & 0xff);
    if (padding < 1) out += static_cast<char>(bits & 0xff);
  }
  return out;
}

}  // namespace kofu::mock::paper
