#pragma once
// A certificate answer (docs/protocol.md `POST /v1/issue` 200) decoded into compact values the
// checker compares, plus what can be decided from the answer alone: whether it parses
// (MALFORMED), whether its digest matches (DIGEST_INVALID), and which fields it printed.
// Decoding is the expensive part of a check (JSON, canonicalisation, SHA-256); it is separate so
// that the driver can decode on its worker threads and the checker stays cheap.
// Plain values; decode_answer is thread-safe.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kofu/population/resident.hpp"

namespace kofu::verify {

struct printed_person {
  std::string resident_id;
  std::int64_t source_version = -1;  // -1: missing
  std::int64_t page = 0;
  population::person_name name;
  std::string birth_date;
  std::string sex;
  std::optional<population::address> address;
  std::optional<std::string> moved_in_date;
  std::optional<std::string> household_head;
  std::optional<std::string> relationship;
  std::optional<std::string> honseki;
  std::optional<std::string> hittousha;
  std::optional<std::string> mynumber;
  std::optional<std::string> koseki_relationship;
  std::vector<std::string> unknown_keys;  // keys the protocol does not define for a person
};

struct printed_seal {
  std::string registration_number;
  std::string image_sha256;           // as printed
  std::string image_sha256_computed;  // SHA-256 of the decoded image bytes ("" if not base64)
};

struct printed_koseki {
  std::string koseki_id;
  std::string honseki;
  std::string hittousha;
};

struct printed_certificate {
  std::string application_number;  // as echoed
  std::string type;
  std::string serial;
  std::string subject_resident_id;
  std::string subject_card_serial;
  std::int64_t source_version = -1;
  std::vector<printed_person> persons;
  std::optional<printed_seal> seal;
  std::optional<population::tax_record> tax;
  std::optional<printed_koseki> koseki;
};

struct decoded_answer {
  // Set when the body cannot be read as a certificate; then `certificate` is meaningless.
  std::optional<std::string> malformed;
  printed_certificate certificate;
  bool digest_valid = true;
  std::string digest_printed;
  std::string digest_computed;
  nlohmann::json body;  // kept as evidence (null when the caller chose not to keep it)
  // The answer's JSON text, kept instead of `body` by decode_answer_text: evidence is parsed
  // from it only when a finding needs it.
  std::string body_json;
  // The evidence copy of the answer: `body`, or `body_json` parsed (null if neither was kept).
  nlohmann::json evidence() const;
};

// Decodes a parsed 200 body. `keep_body` keeps a copy of the body for evidence.
decoded_answer decode_answer(const nlohmann::json& body, bool keep_body = true);
// Decodes a 200 body from its JSON text with the same result as decode_answer on the parsed
// text. Fast when the text is in the canonical form the protocol defines (no whitespace, sorted
// keys, no escapes: what kofu-mock sends): then it reads string views into the text, builds no
// DOM and hashes the certificate's bytes in place; any other text goes through nlohmann::json.
// Text that is not JSON gives a MALFORMED answer. With `compute_digest` false the digest is not
// computed and `digest_valid` stays true (for callers that do not check digests).
decoded_answer decode_answer_text(std::string_view body_json, bool keep_body = true,
                                  bool compute_digest = true);
// A body that was not JSON at all (history's `body_text`).
decoded_answer malformed_answer(std::string reason, std::string body_text);

// Compact one-line forms used in diffs and in the attribution index.
std::string to_text(const population::person_name& n);
std::string to_text(const population::address& a);
std::string to_text(const population::tax_record& t);

}  // namespace kofu::verify
