#pragma once
// A fast yes/no check that a text is exactly one JSON value (RFC 8259) in valid UTF-8 — what the
// history encoder needs before splicing an answer body verbatim into a history line, without
// building a document (nlohmann's accept() tokenises into strings and was a tenth of the client's
// CPU). Pure function; thread-safe.

#include <string_view>

namespace kofu::history {

// True when `text` is one JSON value, optionally surrounded by JSON whitespace, with every string
// valid UTF-8 (no surrogates, no overlongs) and nesting at most `max_depth` deep.
bool is_valid_json(std::string_view text, int max_depth = 256);

}  // namespace kofu::history
