#pragma once
// Reads history lines back into events (event.hpp; docs/history.md is the format): the decoder
// the verifier's replay uses. The inverse of encoder.hpp. Thread-safe.

#include <nlohmann/json.hpp>

#include <string_view>

#include "kofu/common/error.hpp"
#include "kofu/history/event.hpp"
#include "kofu/verify/certificate.hpp"

namespace kofu::history {

// How answers are decoded while parsing.
struct parse_options {
  bool keep_body = true;       // keep the answer's text (or DOM) as evidence for findings
  bool compute_digest = true;  // false: skip the SHA-256 (digest_valid stays true)
  // The adapter of the target's protocol when it is not the reference protocol (a vendor
  // profile): an ok issue's body is the vendor's answer, decoded by it. Not owned.
  const verify::answer_decoder* decoder = nullptr;
};

// Parses one history line. Errors name `where` ("history.jsonl:17") and the field.
// Issue lines in the form the driver writes (compact JSON, canonical answers) are read without a
// DOM (verify/strict_json.hpp); every other line through nlohmann::json, with the same result.
result<history_event> parse_history_line(std::string_view line, std::string_view where);
result<history_event> parse_history_line(std::string_view line, std::string_view where,
                                         const parse_options& options);
result<history_event> parse_history_event(const nlohmann::json& event, std::string_view where);
result<history_event> parse_history_event(const nlohmann::json& event, std::string_view where,
                                          const parse_options& options);

}  // namespace kofu::history
