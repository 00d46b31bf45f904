#include "html_text.hpp"

#include <fmt/format.h>

#include <cmath>

namespace kofu::reports::html {

using json = nlohmann::json;

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at text[i], or 0 (overlong forms and surrogates refused).
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07u;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0u) != 0x80u) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3Fu);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}

}  // namespace

std::string esc(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_length(text, i);
    if (n == 0) {
      out += replacement;
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    const char c = text[i++];
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\t':
      case '\n':
        out += c;
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          out += replacement;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string css_string(std::string_view text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_length(text, i);
    if (n == 0) {
      out += replacement;
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    const char c = text[i++];
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       std::string_view(" .,:;_/()-").find(c) != std::string_view::npos;
    if (plain) {
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      out += replacement;
    } else {
      out += fmt::format("\\{:x} ", static_cast<unsigned>(static_cast<unsigned char>(c)));
    }
  }
  return out + "\"";
}

std::string esc_value(const json& value) {
  if (value.is_null()) return "—";
  if (value.is_string()) return esc(value.get_ref<const std::string&>());
  return esc(value.dump(-1, ' ', false, json::error_handler_t::replace));
}

const json& member(const json& object, const char* key) {
  static const json null_value;
  if (!object.is_object()) return null_value;
  const auto it = object.find(key);
  return it == object.end() ? null_value : *it;
}

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

std::string grouped(std::uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

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
