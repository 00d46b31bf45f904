#pragma once
// The events of a run's history (docs/history.md is the file format): what the driver records
// (encoder.hpp writes them as lines) and what the verifier reads back (decoder.hpp). The driver
// can also hand them to the checker as they happen (online), and `kofu verify` builds them from
// history lines (offline); both paths go through the same checker calls, in history order, so
// they produce identical findings.
// An ok issue's answer is kept decoded into the certificate model the checker compares
// (kofu/verify/certificate.hpp, its own small library below the history: kofu_harness_answer).
// Plain values.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kofu/verify/certificate.hpp"

namespace kofu::history {

struct issue_options {
  std::string scope = "individual";  // "individual" | "household"
  bool honseki = false;
  bool zokugara = false;
  bool mynumber = false;
};

struct issue_invoke {
  std::uint64_t id = 0;
  std::int64_t t = 0;  // a: monotonic ns, before the first byte was written
  std::string application_number;
  std::string resident_id;
  std::string card_serial;
  std::string certificate_type;
  std::string channel;
  issue_options options;
  std::uint32_t worker = 0;
  std::uint64_t conn = 0;  // the driver's TCP connection number (worker, slot, reconnect serial)
};

enum class issue_outcome : std::uint8_t { ok, retry, refused, error, timeout };
// The words of docs/history.md; nullopt for any other word.
std::string_view to_string(issue_outcome outcome);
std::optional<issue_outcome> issue_outcome_of(std::string_view word);

struct issue_complete {
  std::uint64_t id = 0;
  std::int64_t t = 0;  // b: monotonic ns, after the last byte was read
  int status = 0;
  issue_outcome outcome = issue_outcome::ok;
  // For outcome ok: the decoded answer (decode_answer / malformed_answer). Shared so that the
  // driver can decode on a worker thread and benchmarks can replay without copying.
  std::shared_ptr<const verify::decoded_answer> answer;
};

struct resident_change {
  std::string resident_id;
  std::uint64_t change_id = 0;
  std::uint32_t version = 0;  // the version the change produces if it succeeds
  std::string kind;           // move | name | seal | household | tax
  nlohmann::json fields;
};

// A single update (one change) or a reflection batch (several).
struct update_invoke {
  std::uint64_t id = 0;
  std::int64_t t = 0;
  bool batch = false;
  std::string batch_id;
  std::vector<resident_change> changes;
};

enum class update_outcome : std::uint8_t { ok, failed, unknown };
std::string_view to_string(update_outcome outcome);
std::optional<update_outcome> update_outcome_of(std::string_view word);

struct update_complete {
  std::uint64_t id = 0;
  std::int64_t t = 0;
  update_outcome outcome = update_outcome::ok;
  // The numbers the server gave the changes, in the order of the invoke's changes (`version` of
  // an update, `versions` of a batch; unset where the answer gave none).
  std::vector<std::optional<std::uint32_t>> versions;
};

// Markers (maintenance, reflection batch, phase changes) and the footer.
struct marker_event {
  std::int64_t t = 0;
  std::string name;       // "maintenance", "phase", … ; "footer" for the footer
  std::string phase;      // "start" | "end" | … (may be empty)
  nlohmann::json detail;  // the footer's: its `stats`
  std::string ended_at;   // the footer's `ended_at` (UTC, ISO 8601), when it has one
};

struct history_header {
  nlohmann::json raw;
};

using history_event = std::variant<history_header, issue_invoke, issue_complete, update_invoke,
                                   update_complete, marker_event>;

}  // namespace kofu::history
