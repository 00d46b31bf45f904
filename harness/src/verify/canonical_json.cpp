#include "kofu/verify/canonical_json.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "kofu/common/sha256.hpp"

namespace kofu::verify {
namespace {

void append_string(const std::string& s, std::string& out) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
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
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 0xF]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void append_double(double v, std::string& out) {
  // RFC 8785 uses the ECMAScript number serialisation; integral values within 2^53 print as
  // integers, which is all the protocol ever sends. Other values use the shortest round trip.
  if (std::isfinite(v) && std::trunc(v) == v && std::fabs(v) < 9007199254740992.0) {
    out += std::to_string(static_cast<long long>(v));
    return;
  }
  std::array<char, 64> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), r.ptr);
}

}  // namespace

void append_canonical_json(const nlohmann::json& value, std::string& out) {
  using t = nlohmann::json::value_t;
  switch (value.type()) {
    case t::null:
      out += "null";
      break;
    case t::boolean:
      out += value.get<bool>() ? "true" : "false";
      break;
    case t::number_integer:
      out += std::to_string(value.get<std::int64_t>());
      break;
    case t::number_unsigned:
      out += std::to_string(value.get<std::uint64_t>());
      break;
    case t::number_float:
      append_double(value.get<double>(), out);
      break;
    case t::string:
      append_string(value.get_ref<const std::string&>(), out);
      break;
    case t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : value) {
        if (!first) out.push_back(',');
        first = false;
        append_canonical_json(item, out);
      }
      out.push_back(']');
      break;
    }
    case t::object: {
      // nlohmann's default object is a std::map<std::string, …>: iteration is already in
      // byte order (std::char_traits<char>::compare compares as unsigned char).
      out.push_back('{');
      bool first = true;
      for (const auto& [key, item] : value.items()) {
        if (!first) out.push_back(',');
        first = false;
        append_string(key, out);
        out.push_back(':');
        append_canonical_json(item, out);
      }
      out.push_back('}');
      break;
    }
    case t::binary:
    case t::discarded:
      out += "null";
      break;
  }
}

std::string canonical_json(const nlohmann::json& value) {
  std::string out;
  append_canonical_json(value, out);
  return out;
}

std::string certificate_digest(std::string_view application_number,
                               const nlohmann::json& certificate) {
  std::string text;
  text.reserve(2048);
  text.append(application_number);
  text.push_back('\n');
  append_canonical_json(certificate, text);
  return sha256_hex(text);
}

}  // namespace kofu::verify
