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
// UTF-8 is checked inside strings (string() fails on ill-formed UTF-8). Outside strings the
// subset has only ASCII structure, digits and literals, so any non-ASCII byte there fails the
// cursor anyway: text the cursor accepts to the end is well-formed UTF-8 as a whole.

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "kofu/verify/certificate.hpp"

namespace kofu::verify::detail {

inline constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
inline constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

// RFC 3629 well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF): the same
// rule nlohmann's lexer applies to string contents.
inline bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* const end = p + s.size();
  while (p != end) {
    // ASCII runs sixteen, then eight bytes at a time.
    while (end - p >= 16) {
      std::uint64_t w[2];
      std::memcpy(w, p, 16);
      if (((w[0] | w[1]) & kHighBits) != 0) break;
      p += 16;
    }
    while (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      if ((w & kHighBits) != 0) break;
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

// The bytes of `w` (eight bytes of text, first byte lowest) that end a string in the subset:
// '"', '\\' or a control character. Only the lowest set bit is exact (a borrow can mark bytes
// after a true match), which is all string() uses: it names the first such byte.
inline std::uint64_t string_stop_bytes(std::uint64_t w) {
  auto zero_bytes = [](std::uint64_t x) { return (x - kOnes) & ~x & kHighBits; };
  return zero_bytes(w ^ (kOnes * '"')) | zero_bytes(w ^ (kOnes * '\\')) |
         ((w - kOnes * 0x20) & ~w & kHighBits);
}

// Object keys compare as unsigned bytes (as std::string_view does), inline: keys are short and
// usually differ in their first byte, where a call to memcmp costs more than the comparison.
inline bool key_less(std::string_view a, std::string_view b) {
  const std::size_t n = a.size() < b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
  }
  return a.size() < b.size();
}

// `key` equals the literal; the length is a constant, so the comparison compiles to a few loads.
template <std::size_t N>
inline bool is_key(std::string_view key, const char (&literal)[N]) {
  return key.size() == N - 1 && std::memcmp(key.data(), literal, N - 1) == 0;
}

class strict_json_cursor {
 public:
  explicit strict_json_cursor(std::string_view text)
      : p_(text.data()), end_(text.data() + text.size()) {}

  bool ok() const { return ok_; }
  bool at_end() const { return ok_ && p_ == end_; }
  const char* position() const { return p_; }
  bool fail() { return ok_ = false; }
  // Back to `position` (an earlier position in this cursor's text), the failure cleared: for a
  // caller that tries one reading of a value and, when it does not fit, another.
  void rewind(const char* position) {
    p_ = position;
    ok_ = true;
  }

  bool peek(char c) const { return ok_ && p_ != end_ && *p_ == c; }
  // Consumes `c` if it is next; never fails the cursor.
  bool accept(char c) {
    if (!peek(c)) return false;
    ++p_;
    return true;
  }
  bool expect(char c) { return accept(c) || fail(); }

  // A string without escapes or control characters, in well-formed UTF-8; `out` views its
  // contents in the text.
  bool string(std::string_view& out) {
    if (!expect('"')) return false;
    const char* const start = p_;
    const char* s = p_;
    std::uint64_t non_ascii = 0;  // nonzero: a byte before the stop is not ASCII
#if defined(__SSE2__)
    // Sixteen bytes at a time: most keys and values end within the first sixteen.
    while (end_ - s >= 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
      const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x);
      const __m128i quote = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
      const __m128i backslash = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
      const auto stop = static_cast<std::uint32_t>(
          _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)));
      const auto high = static_cast<std::uint32_t>(_mm_movemask_epi8(x));
      if (stop != 0) {
        non_ascii |= high & ((stop & (~stop + 1)) - 1);  // the bytes before the first stop
        return close_string(start, s + std::countr_zero(stop), non_ascii, out);
      }
      non_ascii |= high;
      s += 16;
    }
#endif
    if constexpr (std::endian::native == std::endian::little) {
      while (end_ - s >= 8) {
        std::uint64_t w;
        std::memcpy(&w, s, 8);
        if (const std::uint64_t stop = string_stop_bytes(w); stop != 0) {
          non_ascii |= w & ((stop & (~stop + 1)) - 1) & kHighBits;
          return close_string(start, s + std::countr_zero(stop) / 8, non_ascii, out);
        }
        non_ascii |= w & kHighBits;
        s += 8;
      }
    }
    for (; s != end_; ++s) {
      const auto c = static_cast<unsigned char>(*s);
      if (c == '"' || c == '\\' || c < 0x20) return close_string(start, s, non_ascii, out);
      non_ascii |= c & 0x80u;
    }
    return fail();
  }

  // An integer in its shortest form (no "-0", no leading zeros), at most 18 digits, not followed
  // by a fraction or exponent: nlohmann reads it as an integer and prints it back unchanged.
  bool integer(std::int64_t& out) {
    if (!ok_) return false;
    const bool negative = accept('-');
    const char* const start = p_;
    std::int64_t v = 0;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
      // Digits past the 18th are only counted (the number is refused below): 19 would overflow.
      if (p_ - start < 18) v = v * 10 + (*p_ - '0');
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
          if (sorted && !first && !key_less(previous, key)) return fail();
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
  // `stop` is the first byte of the string that is '"', '\\' or a control character.
  bool close_string(const char* start, const char* stop, std::uint64_t non_ascii,
                    std::string_view& out) {
    if (*stop != '"') return fail();
    out = std::string_view(start, static_cast<std::size_t>(stop - start));
    if (non_ascii != 0 && !valid_utf8(out)) return fail();
    p_ = stop + 1;
    return true;
  }

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
    if (sorted && !first && !key_less(previous, key)) return c.fail();
    previous = key;
    first = false;
    if (!on_member(key) || !c.ok()) return c.fail();
  } while (c.accept(','));
  return c.expect('}');
}

// The parts of an answer's text the digest covers, as views into that text.
struct answer_text {
  std::string_view application_number;
  std::string_view certificate;  // the certificate object's canonical text as it stands
};

// Reads an answer object at the cursor in the strict subset (certificate.cpp), as decode_answer
// would read it, except for the digest (check_digest_strict); false when the text is outside the
// subset (the cursor is then failed or left anywhere, and `out` is partly filled: discard both
// and read the text with nlohmann). `out.body`/`out.body_json` are left to the caller.
bool decode_answer_strict(strict_json_cursor& c, decoded_answer& out, answer_text& text);

// Sets `digest_valid` and `digest_computed` of an answer read by decode_answer_strict exactly as
// decode_answer does: SHA-256 of the application number, "\n" and the certificate's text.
void check_digest_strict(const answer_text& text, decoded_answer& out);

}  // namespace kofu::verify::detail
