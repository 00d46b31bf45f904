#pragma once
// A forward cursor over JSON text that accepts only a strict subset of JSON: no whitespace,
// strings without escapes, integers that fit in 63 bits and print back the same, and (where the
// caller asks) object keys in strictly ascending byte order. That subset is exactly what the
// history writer and a canonical (RFC 8785, docs/protocol.md) answer consist of, so the verifier
// can read the common line with string views into the text, no allocation and no DOM, and hash
// a certificate's bytes as they stand instead of re-serialising it.
//
// Anything outside the subset makes the cursor fail (ok() turns false and stays false); the
// caller then reads the same text with nlohmann::json, whose result and error messages stay the
// reference. The subset is chosen so that whenever the cursor succeeds, nlohmann reads the same
// values: every accepted byte sequence is valid JSON with the same meaning.
// UTF-8 is not checked here: callers check the whole text once with valid_utf8().

#include <cstdint>
#include <cstring>
#include <string_view>

#include "kofu/verify/certificate.hpp"

namespace kofu::verify::detail {

// RFC 3629 well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF): the same
// rule nlohmann's lexer applies to string contents.
inline bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* const end = p + s.size();
  while (p != end) {
    // ASCII runs eight bytes at a time.
    while (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      if ((w & 0x8080808080808080ULL) != 0) break;
      p += 8;
    }
    if (p == end) break;
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    auto cont = [&](std::ptrdiff_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
      return end - p > i && p[i] >= lo && p[i] <= hi;
    };
    if (c >= 0xC2 && c <= 0xDF) {
      if (!cont(1)) return false;
      p += 2;
    } else if (c == 0xE0) {
      if (!cont(1, 0xA0) || !cont(2)) return false;
      p += 3;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      if (!cont(1) || !cont(2)) return false;
      p += 3;
    } else if (c == 0xED) {
      if (!cont(1, 0x80, 0x9F) || !cont(2)) return false;
      p += 3;
    } else if (c == 0xF0) {
      if (!cont(1, 0x90) || !cont(2) || !cont(3)) return false;
      p += 4;
    } else if (c >= 0xF1 && c <= 0xF3) {
      if (!cont(1) || !cont(2) || !cont(3)) return false;
      p += 4;
    } else if (c == 0xF4) {
      if (!cont(1, 0x80, 0x8F) || !cont(2) || !cont(3)) return false;
      p += 4;
    } else {
      return false;
    }
  }
  return true;
}

class strict_json_cursor {
 public:
  explicit strict_json_cursor(std::string_view text)
      : p_(text.data()), end_(text.data() + text.size()) {}

  bool ok() const { return ok_; }
  bool at_end() const { return ok_ && p_ == end_; }
  const char* position() const { return p_; }
  bool fail() { return ok_ = false; }

  bool peek(char c) const { return ok_ && p_ != end_ && *p_ == c; }
  // Consumes `c` if it is next; never fails the cursor.
  bool accept(char c) {
    if (!peek(c)) return false;
    ++p_;
    return true;
  }
  bool expect(char c) { return accept(c) || fail(); }

  // A string without escapes or control characters; `out` views its contents in the text.
  bool string(std::string_view& out) {
    if (!expect('"')) return false;
    const char* const start = p_;
    for (;;) {
      const void* q = std::memchr(p_, '"', static_cast<std::size_t>(end_ - p_));
      if (q == nullptr) return fail();
      const char* const close = static_cast<const char*>(q);
      for (const char* s = p_; s != close; ++s) {
        const auto c = static_cast<unsigned char>(*s);
        if (c < 0x20 || c == '\\') return fail();
      }
      p_ = close + 1;
      out = std::string_view(start, static_cast<std::size_t>(close - start));
      return true;
    }
  }

  // An integer in its shortest form (no "-0", no leading zeros), at most 18 digits, not followed
  // by a fraction or exponent: nlohmann reads it as an integer and prints it back unchanged.
  bool integer(std::int64_t& out) {
    if (!ok_) return false;
    const bool negative = accept('-');
    const char* const start = p_;
    std::int64_t v = 0;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
      v = v * 10 + (*p_ - '0');
      ++p_;
    }
    const auto digits = p_ - start;
    if (digits == 0 || digits > 18) return fail();
    if (*start == '0' && (digits > 1 || negative)) return fail();
    if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return fail();
    out = negative ? -v : v;
    return true;
  }

  bool boolean(bool& out) {
    if (literal("true")) return out = true, true;
    if (literal("false")) return out = false, true;
    return fail();
  }
  bool null() { return literal("null") || fail(); }
  bool literal(std::string_view word) {
    if (!ok_ || static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  // Any value of the subset; with `sorted`, every object inside must have ascending keys.
  bool skip_value(bool sorted, int depth = 0) {
    if (!ok_ || p_ == end_ || depth > 64) return fail();
    switch (*p_) {
      case '"': {
        std::string_view s;
        return string(s);
      }
      case '{': {
        ++p_;
        if (accept('}')) return true;
        std::string_view previous;
        bool first = true;
        do {
          std::string_view key;
          if (!string(key) || !expect(':')) return false;
          if (sorted && !first && !(previous < key)) return fail();
          previous = key;
          first = false;
          if (!skip_value(sorted, depth + 1)) return false;
        } while (accept(','));
        return expect('}');
      }
      case '[': {
        ++p_;
        if (accept(']')) return true;
        do {
          if (!skip_value(sorted, depth + 1)) return false;
        } while (accept(','));
        return expect(']');
      }
      case 't':
      case 'f': {
        bool b = false;
        return boolean(b);
      }
      case 'n':
        return null();
      default: {
        std::int64_t v = 0;
        return integer(v);
      }
    }
  }

 private:
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

// Iterates the members of an object: `on_member(key)` must consume the value (or fail the
// cursor). With `sorted`, keys must be strictly ascending (canonical form; no duplicates).
template <class F>
bool for_each_member(strict_json_cursor& c, bool sorted, F&& on_member) {
  if (!c.expect('{')) return false;
  if (c.accept('}')) return true;
  std::string_view previous;
  bool first = true;
  do {
    std::string_view key;
    if (!c.string(key) || !c.expect(':')) return false;
    if (sorted && !first && !(previous < key)) return c.fail();
    previous = key;
    first = false;
    if (!on_member(key) || !c.ok()) return c.fail();
  } while (c.accept(','));
  return c.expect('}');
}

// Reads an answer object at the cursor in the strict subset (certificate.cpp), as decode_answer
// would read it; false when the text is outside the subset (the cursor is then failed or left
// anywhere, and `out` is partly filled: discard both and read the text with nlohmann).
// The caller has checked the text's UTF-8. `out.body`/`out.body_json` are left to the caller.
bool decode_answer_strict(strict_json_cursor& c, bool compute_digest, decoded_answer& out);

}  // namespace kofu::verify::detail
