#pragma once
// A minimal streaming JSON text writer for the generator's hot loop: appends to a string with
// no intermediate DOM (nlohmann::json would allocate a node per field, several times slower).
// Strings are escaped as RFC 8259 requires; everything else is copied as UTF-8.

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace kofu::population {

class json_text {
 public:
  explicit json_text(std::string& out) : out_(out) {}

  void begin_object() {
    separate();
    out_.push_back('{');
    first_ = true;
  }
  void end_object() {
    out_.push_back('}');
    first_ = false;
  }
  void key(std::string_view k) {
    separate();
    string(k);
    out_.push_back(':');
    after_key_ = true;
  }
  void field(std::string_view k, std::string_view value) {
    key(k);
    separate();
    string(value);
  }
  void field(std::string_view k, std::int64_t value) {
    key(k);
    separate();
    fmt::format_to(std::back_inserter(out_), "{}", value);
  }
  void field(std::string_view k, std::int32_t value) { field(k, static_cast<std::int64_t>(value)); }
  void null_value() {
    separate();
    out_.append("null");
  }

 private:
  // Writes the comma between members; nothing right after '{' or after a key.
  void separate() {
    if (after_key_) {
      after_key_ = false;
      first_ = false;
      return;
    }
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  void string(std::string_view s) {
    out_.push_back('"');
    // Append runs of bytes that need no escape in one go; almost every string is one run.
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out_.append(s.data() + run, i - run);
      run = i + 1;
      switch (c) {
        case '"':
          out_.append("\\\"");
          break;
        case '\\':
          out_.append("\\\\");
          break;
        case '\n':
          out_.append("\\n");
          break;
        case '\r':
          out_.append("\\r");
          break;
        case '\t':
          out_.append("\\t");
          break;
        case '\b':
          out_.append("\\b");
          break;
        case '\f':
          out_.append("\\f");
          break;
        default:
          fmt::format_to(std::back_inserter(out_), "\\u{:04x}", static_cast<unsigned>(c));
      }
    }
    out_.append(s.data() + run, s.size() - run);
    out_.push_back('"');
  }

  std::string& out_;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace kofu::population
