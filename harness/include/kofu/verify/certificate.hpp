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

// One page of print data (a PDF answer, issue 12) as its header and footer print it: each page
// must carry the certificate's application number and serial, and its place "k/N".
struct page_footer {
  std::int64_t page = 0;  // 1-based place in the document
  std::string application_number;
  std::string serial;
  std::string page_label;           // as printed ("2/3"); "" when the page prints none
  std::int64_t printed_number = 0;  // k of "k/N" (0 when unreadable)
  std::int64_t printed_total = 0;   // N of "k/N"
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
  // Print data only (empty for answers that have no pages): each page's header and footer.
  std::vector<page_footer> pages;
};

struct decoded_answer {
  // Set when the body cannot be read as a certificate; then `certificate` is meaningless.
  std::optional<std::string> malformed;
  // Parts of the model that a vendor adapter expected but could not read (partial decoding):
  // reported as MALFORMED with these reasons while everything that was read is still checked.
  std::vector<std::string> missing;
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

// Which version a certificate carries (DESIGN §5a): one per person (the reference protocol),
// one per certificate (the highest version of the records it was built from), a global change
// counter (the registry's counter when the certificate was built: every record printed is the
// latest one at or below it; each change's number is read from its update's answer), or none.
enum class version_semantics : std::uint8_t { per_person, per_certificate, global_counter, none };

// What the answers of one protocol carry at all. A check whose input the protocol never prints
// is not applicable (and said so in the report), never a finding.
struct answer_capabilities {
  bool digest = true;               // DIGEST_INVALID
  bool card_serial = true;          // subject.card_serial echoed
  bool subject_resident_id = true;  // the certificate names its subject apart from the persons
  bool koseki_id = true;            // the 戸籍 part names its id
  version_semantics versions = version_semantics::per_person;
  // Person fields the protocol prints (by the names of docs/protocol.md); empty: all of them.
  std::vector<std::string> person_fields;
  bool prints_person_field(std::string_view name) const;
};

// An adapter from one protocol's answers into the certificate model (DESIGN §5a). The reference
// protocol is decoded by decode_answer / decode_answer_text; a vendor profile implements this.
// Implementations are immutable and thread-safe.
class answer_decoder {
 public:
  virtual ~answer_decoder() = default;
  // The model of a body the protocol classified as an issued certificate.
  virtual decoded_answer decode(const nlohmann::json& body, bool keep_body) const = 0;
  virtual const answer_capabilities& capabilities() const = 0;
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

// Standard base64 (RFC 4648 with padding) decoded; nullopt when not valid base64.
std::optional<std::string> decode_base64(std::string_view text);

// Compact one-line forms used in diffs and in the attribution index.
std::string to_text(const population::person_name& n);
std::string to_text(const population::address& a);
std::string to_text(const population::tax_record& t);

}  // namespace kofu::verify
