#include "kofu/history/json_check.hpp"

#include <cstdint>

namespace kofu::history {
namespace {

class checker {
 public:
  checker(std::string_view text, int max_depth)
      : p_(text.data()), end_(text.data() + text.size()), max_depth_(max_depth) {}

  bool run() {
    skip_ws();
    if (!value(0)) return false;
    skip_ws();
    return p_ == end_;
  }

 private:
  bool at_end() const { return p_ >= end_; }
  unsigned char peek() const { return static_cast<unsigned char>(*p_); }

  void skip_ws() {
    while (!at_end() && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::string_view(p_, word.size()) != word)
      return false;
    p_ += word.size();
    return true;
  }

  bool digits() {
    const char* start = p_;
    while (!at_end() && *p_ >= '0' && *p_ <= '9') ++p_;
    return p_ > start;
  }

  bool number() {
    if (!at_end() && *p_ == '-') ++p_;
    if (at_end()) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (!digits()) {
      return false;
    }
    if (!at_end() && *p_ == '.') {
      ++p_;
      if (!digits()) return false;
    }
    if (!at_end() && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (!at_end() && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits()) return false;
    }
    return true;
  }

  static bool hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  // One UTF-8 sequence starting at a byte >= 0x80 (RFC 3629: no overlongs, no surrogates).
  bool utf8() {
    const unsigned char c = peek();
    int extra = 0;
    std::uint32_t min = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      cp = c & 0x1Fu;
      min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      cp = c & 0x0Fu;
      min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      cp = c & 0x07u;
      min = 0x10000;
    } else {
      return false;
    }
    ++p_;
    for (int i = 0; i < extra; ++i) {
      if (at_end() || (peek() & 0xC0u) != 0x80u) return false;
      cp = (cp << 6) | (peek() & 0x3Fu);
      ++p_;
    }
    return cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
  }

  bool string() {
    ++p_;  // opening quote
    while (!at_end()) {
      const unsigned char c = peek();
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        ++p_;
        if (at_end()) return false;
        const char e = *p_;
        if (e == 'u') {
          for (int i = 0; i < 4; ++i) {
            ++p_;
            if (at_end() || !hex(*p_)) return false;
          }
          ++p_;
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                   e == 'r' || e == 't') {
          ++p_;
        } else {
          return false;
        }
      } else if (c < 0x80) {
        ++p_;
      } else if (!utf8()) {
        return false;
      }
    }
    return false;
  }

  bool value(int depth) {
    if (at_end()) return false;
    switch (*p_) {
      case '{':
        return object(depth + 1);
      case '[':
        return array(depth + 1);
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }

  bool object(int depth) {
    if (depth > max_depth_) return false;
    ++p_;
    skip_ws();
    if (!at_end() && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      skip_ws();
      if (at_end() || *p_ != '"' || !string()) return false;
      skip_ws();
      if (at_end() || *p_ != ':') return false;
      ++p_;
      skip_ws();
      if (!value(depth)) return false;
      skip_ws();
      if (at_end()) return false;
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
    }
  }

  bool array(int depth) {
    if (depth > max_depth_) return false;
    ++p_;
    skip_ws();
    if (!at_end() && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      skip_ws();
      if (!value(depth)) return false;
      skip_ws();
      if (at_end()) return false;
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
    }
  }

  const char* p_;
  const char* end_;
  int max_depth_;
};

}  // namespace

bool is_valid_json(std::string_view text, int max_depth) { return checker(text, max_depth).run(); }

}  // namespace kofu::history
