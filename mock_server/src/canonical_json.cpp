#include "canonical_json.hpp"

#include <charconv>

namespace kofu::mock::canonical {
namespace {

// Length of the well-formed UTF-8 sequence starting at text[i] (Unicode Table 3-7: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0 when it is not one. nlohmann's decoder
// accepts exactly these.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const auto in = [](unsigned char b, unsigned char lo, unsigned char hi) {
    return b >= lo && b <= hi;
  };
  const unsigned char b0 = byte(i);
  const std::size_t left = text.size() - i;
  if (in(b0, 0xC2, 0xDF)) return left >= 2 && in(byte(i + 1), 0x80, 0xBF) ? 2 : 0;
  if (in(b0, 0xE0, 0xEF)) {
    if (left < 3) return 0;
    const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;
    return in(byte(i + 1), lo, hi) && in(byte(i + 2), 0x80, 0xBF) ? 3 : 0;
  }
  if (in(b0, 0xF0, 0xF4)) {
    if (left < 4) return 0;
    const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return in(byte(i + 1), lo, hi) && in(byte(i + 2), 0x80, 0xBF) && in(byte(i + 3), 0x80, 0xBF)
               ? 4
               : 0;
  }
  return 0;
}

// Escapes valid UTF-8 text; false (with `out` unchanged) when the text is not valid UTF-8.
bool append_escaped_utf8(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto start = out.size();
  out += '"';
  std::size_t run = 0;  // start of the bytes not yet copied
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const auto n = utf8_sequence_length(text, i);
      if (n == 0) {
        out.resize(start);
        return false;
      }
      i += n;
      continue;
    }
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out.append(text.data() + run, i - run);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default: {
        const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0x0f]};
        out.append(escape, sizeof escape);
      }
    }
    ++i;
    run = i;
  }
  out.append(text.data() + run, text.size() - run);
  out += '"';
  return true;
}

// nlohmann's own printing, for what the fast paths do not cover (floats, binary, bad UTF-8).
void append_dumped(std::string& out, const nlohmann::json& value) {
  out += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void append_string(std::string& out, std::string_view text) {
  if (!append_escaped_utf8(out, text)) append_dumped(out, nlohmann::json(std::string(text)));
}

void append_int(std::string& out, std::int64_t value) {
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, static_cast<std::size_t>(end - digits));
}

void append_value(std::string& out, const nlohmann::json& value) {
  using value_t = nlohmann::json::value_t;
  switch (value.type()) {
    case value_t::null:
      out += "null";
      return;
    case value_t::boolean:
      out += value.get<bool>() ? "true" : "false";
      return;
    case value_t::number_integer:
      append_int(out, value.get<std::int64_t>());
      return;
    case value_t::number_unsigned: {
      char digits[24];
      const auto [end, ec] =
          std::to_chars(digits, digits + sizeof digits, value.get<std::uint64_t>());
      out.append(digits, static_cast<std::size_t>(end - digits));
      return;
    }
    case value_t::string:
      append_string(out, value.get_ref<const std::string&>());
      return;
    case value_t::object: {
      out += '{';
      bool first = true;
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (!first) out += ',';
        first = false;
        append_string(out, it.key());
        out += ':';
        append_value(out, it.value());
      }
      out += '}';
      return;
    }
    case value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value) {
        if (!first) out += ',';
        first = false;
        append_value(out, element);
      }
      out += ']';
      return;
    }
    default:
      append_dumped(out, value);
      return;  // floats, binary, discarded
  }
}

}  // namespace kofu::mock::canonical
