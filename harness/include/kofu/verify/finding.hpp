#pragma once
// A finding: one way an answered certificate request went wrong (DESIGN §7), with its evidence.
// Findings are data, never errors. Plain values; copyable.

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kofu::verify {

// Most severe first (DESIGN §7's table order); the numeric order is the severity order.
enum class finding_kind : std::uint8_t {
  wrong_person,    // the certificate is another resident's
  foreign_data,    // right person, but a field, person or page is another resident's
  torn,            // fields from two or more versions of one record
  aborted,         // content from an update that failed
  stale,           // a version superseded before the request was sent, beyond the bound
  phantom,         // a version no update could have produced by then, or a value found nowhere
  wrong_document,  // type or options differ from the request
  not_issuable,    // issued although the record forbade it (seal cancelled, resident removed)
  tag_mismatch,    // the echoed application number (申請番号) is not the request's
  duplicate,       // one certificate serial or application number answered twice
  digest_invalid,  // the digest does not match the content
  malformed,       // the answer cannot be read as a certificate
};
inline constexpr std::size_t finding_kind_count = 12;
inline constexpr std::array<finding_kind, finding_kind_count> all_finding_kinds = {
    finding_kind::wrong_person,   finding_kind::foreign_data,   finding_kind::torn,
    finding_kind::aborted,        finding_kind::stale,          finding_kind::phantom,
    finding_kind::wrong_document, finding_kind::not_issuable,   finding_kind::tag_mismatch,
    finding_kind::duplicate,      finding_kind::digest_invalid, finding_kind::malformed};

std::string_view to_string(finding_kind kind);  // "WRONG_PERSON", …
std::optional<finding_kind> parse_finding_kind(std::string_view name);

// One printed field that differs from what the allowed versions hold.
struct field_diff {
  std::string path;      // "persons[1].address", "seal", "certificate.type"
  std::string printed;   // as printed (compact text)
  std::string expected;  // what an allowed version holds ("" when nothing was expected)
  std::string
      source;  // where the printed value comes from: "R 48213906575 v3", "aborted update 18", …
  friend bool operator==(const field_diff&, const field_diff&) = default;
};

// One version of a resident's record and when it may have been current.
struct version_evidence {
  std::string resident_id;
  std::uint32_t version = 0;
  std::int64_t visible_from_ns =
      0;  // send time of the update that produced it (INT64_MIN: population)
  std::int64_t superseded_ns = 0;  // ack time of the next update (INT64_MAX: never)
  bool allowed = false;            // inside the request's window
  friend bool operator==(const version_evidence&, const version_evidence&) = default;
};

struct finding {
  finding_kind kind = finding_kind::malformed;
  // The request that received the answer.
  std::uint64_t request_id = 0;
  std::string application_number;
  std::string requested_resident;
  std::string certificate_type;
  std::string channel;
  std::uint32_t worker = 0;
  std::uint64_t conn = 0;
  std::int64_t sent_ns = 0;      // a: before the first byte was written
  std::int64_t received_ns = 0;  // b: after the last byte was read
  // Whose data it is (WRONG_PERSON, FOREIGN_DATA) and the request it belonged to, when the
  // timing names exactly one (checker.hpp's leak_edge); for TAG_MISMATCH and DUPLICATE the
  // request that owns the tag or serial.
  std::string victim_resident;
  std::optional<std::uint64_t> victim_request_id;
  std::string victim_application_number;
  std::uint64_t victim_request_candidates = 0;  // requests that can have been the source
  bool victim_request_preceded = false;  // the source was answered before this request was sent
  bool victim_data_current = false;      // WRONG_PERSON: the victim's data was current, not stale
  std::int64_t lag_ns = 0;         // STALE: how long before `sent_ns` the version was superseded
  std::uint32_t lag_versions = 0;  // STALE: versions behind the oldest allowed one
  std::vector<field_diff> diffs;
  std::vector<version_evidence> expected_versions;
  std::string detail;          // short technical summary
  std::string explanation_en;  // plain words for a municipal officer
  std::string explanation_ja;
  nlohmann::json answer;  // the answer body as received (null when not kept)

  friend bool operator==(const finding&, const finding&) = default;
};

// Fills explanation_en / explanation_ja from the other fields.
void explain(finding& f);

nlohmann::json to_json(const finding& f);

}  // namespace kofu::verify
