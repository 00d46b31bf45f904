#pragma once
// Canonical JSON (RFC 8785 as docs/protocol.md uses it: sorted keys, no whitespace, UTF-8 written
// as is) appended to a caller's buffer, without building a document first. The output is byte for
// byte what nlohmann::json::dump(-1, ' ', false, error_handler_t::replace) prints for the same
// value: nlohmann keeps object keys in a std::map (sorted by byte), escapes `"`, `\` and the
// control characters (short forms \b \t \n \f \r, else \u00xx in lower-case hex), and copies every
// other code point as its UTF-8 bytes. The digest of an answer is computed over this text, so the
// two must never differ (tests/mock_server/canonical_json_test.cpp holds them together).
//
// Whoever writes an object with these functions writes its keys in sorted order themselves.
// Stateless; safe from any thread.

#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kofu::mock::canonical {

// `"text"` with JSON escapes. Text that is not valid UTF-8 is written as nlohmann writes it
// (each bad sequence replaced by U+FFFD).
void append_string(std::string& out, std::string_view text);
// A JSON integer.
void append_int(std::string& out, std::int64_t value);
// Any JSON value: objects with their keys in nlohmann's (sorted) order.
void append_value(std::string& out, const nlohmann::json& value);

// Writes one object member by member: `key()` puts the separator and `"key":`, the caller then
// appends the value. Keys are the protocol's own ASCII names (no escapes) and must come in sorted
// order, which debug builds assert.
class object_writer {
 public:
  explicit object_writer(std::string& out) : out_(out) { out_ += '{'; }
  object_writer(const object_writer&) = delete;
  object_writer& operator=(const object_writer&) = delete;

  std::string& key(std::string_view name) {
    assert(last_.empty() || last_ < name);
    if (!last_.empty()) out_ += ',';
    last_ = name;
    out_ += '"';
    out_ += name;
    out_ += "\":";
    return out_;
  }
  void close() { out_ += '}'; }

 private:
  std::string& out_;
  std::string_view last_;
};

}  // namespace kofu::mock::canonical
