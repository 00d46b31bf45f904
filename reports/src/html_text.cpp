#include "html_text.hpp"

#include <fmt/format.h>

#include <cmath>

#include "text.hpp"

namespace kofu::reports::html {

using json = nlohmann::json;

std::string esc(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  detail::for_each_code_point(text, [&out](char32_t cp) {
    switch (cp) {
      case '&':
        out += "&amp;";
        return;
      case '<':
        out += "&lt;";
        return;
      case '>':
        out += "&gt;";
        return;
      case '"':
        out += "&quot;";
        return;
      case '\'':
        out += "&#39;";
        return;
      case '\t':
      case '\n':
        break;
      default:
        if (cp < 0x20 || cp == 0x7F) cp = detail::replacement_character;
    }
    detail::append_utf8(out, cp);
  });
  return out;
}

std::string css_string(std::string_view text) {
  std::string out = "\"";
  detail::for_each_code_point(text, [&out](char32_t cp) {
    const bool plain = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
                       (cp >= '0' && cp <= '9') ||
                       (cp < 0x80 && std::string_view(" .,:;_/()-").find(static_cast<char>(cp)) !=
                                         std::string_view::npos);
    if (plain) {
      out += static_cast<char>(cp);
    } else if (cp < 0x20 || cp == 0x7F) {
      detail::append_utf8(out, detail::replacement_character);
    } else if (cp < 0x80) {
      out += fmt::format("\\{:x} ", static_cast<unsigned>(cp));
    } else {
      detail::append_utf8(out, cp);
    }
  });
  return out + "\"";
}

std::string esc_value(const json& value) {
  if (value.is_null()) return "—";
  if (value.is_string()) return esc(value.get_ref<const std::string&>());
  return esc(value.dump(-1, ' ', false, json::error_handler_t::replace));
}

const json& member(const json& object, const char* key) { return detail::member(object, key); }

std::uint64_t u64(const json& object, const char* key, std::uint64_t fallback) {
  const json& v = member(object, key);
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(v.get<std::int64_t>());
  }
  return fallback;
}

double num(const json& object, const char* key, double fallback) {
  const json& v = member(object, key);
  return v.is_number() ? v.get<double>() : fallback;
}

std::string str(const json& object, const char* key, std::string_view fallback) {
  const json& v = member(object, key);
  return v.is_string() ? v.get<std::string>() : std::string(fallback);
}

std::string grouped(std::uint64_t n) { return detail::grouped(n); }

std::string fixed(double value, int decimals) {
  if (!std::isfinite(value)) return "—";
  return fmt::format("{:.{}f}", value, decimals);
}

std::string scientific_html(double value) {
  if (!std::isfinite(value) || value < 0) return "—";
  if (value == 0) return "0";
  if (value >= 0.01) return fmt::format("{:.2g}", value);
  int exponent = static_cast<int>(std::floor(std::log10(value)));
  double mantissa = value / std::pow(10.0, exponent);
  if (mantissa >= 9.95) {  // 9.96e-6 prints as 1.0×10⁻⁵, not 10.0×10⁻⁶
    mantissa /= 10;
    ++exponent;
  }
  return fmt::format("{:.1f}×10<sup>−{}</sup>", mantissa, -exponent);
}

std::string bi(std::string_view ja, std::string_view en) {
  return fmt::format(R"(<span lang="ja">{}</span><span lang="en">{}</span>)", ja, en);
}

}  // namespace kofu::reports::html
