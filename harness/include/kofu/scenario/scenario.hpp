#pragma once
// A scenario (DESIGN §5): what one `kofu run` drives, as loaded from JSON and validated against
// scenarios/schema.json. Every field holds a value: defaults come from the schema's `default`
// keywords (the schema is the one place they are written), filled in by the loader.
// Plain values: copyable, immutable once loaded, safe to read from every worker thread.

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kofu::scenario {

enum class certificate_type : std::uint8_t {
  juminhyo,
  juminhyo_kisai,
  inkan,
  koseki_zenbu,
  koseki_kojin,
  koseki_fuhyo,
  kazei
};
inline constexpr std::size_t certificate_type_count = 7;
enum class channel : std::uint8_t { konbini, window, kiosk };
inline constexpr std::size_t channel_count = 3;
enum class update_kind : std::uint8_t { move, name, seal, household, tax };
inline constexpr std::size_t update_kind_count = 5;
enum class load_model : std::uint8_t { open, closed };
enum class event_kind : std::uint8_t { maintenance, reflection_batch, exec };

std::string_view to_string(certificate_type value);
std::string_view to_string(channel value);
std::string_view to_string(update_kind value);
std::string_view to_string(load_model value);
std::string_view to_string(event_kind value);

struct tls_settings {
  std::string ca_file;      // empty: the system's trust store
  std::string server_name;  // empty: the URL's host
  std::string client_cert;  // mutual TLS when set (with client_key)
  std::string client_key;
  bool verify = true;
};

// Each issue request's remaining budget in a header (target.deadline_header).
struct deadline_header {
  enum class format : std::uint8_t { ms, grpc };
  std::string name;  // e.g. "X-Request-Timeout-Ms", "grpc-timeout"
  format unit = format::ms;
};

// How an issue answer counts (target.answer_classes): the first rule whose status (and body code,
// when given) matches decides, before the protocol's own classes.
struct answer_class {
  unsigned status = 0;
  std::optional<std::string> error;    // the code at error_field must be this; nullopt: any body
  std::string error_field = "/error";  // JSON pointer into the answer's body
  std::string outcome;                 // retry, refused or error
};

struct target_settings {
  bool embedded = true;           // start kofu-mock on loopback; otherwise drive `urls`
  std::vector<std::string> urls;  // base URLs, round-robin
  std::vector<std::string> defects;
  std::vector<std::string> mock_args;
  std::string admin_token;
  std::string profile;  // "reference" or a path (resolved against the scenario's folder)
  tls_settings tls;
  std::optional<deadline_header> deadline;
  std::vector<answer_class> answer_classes;
  // How issued certificates come: "json", or "pdf" print data (target.print, issue 12).
  std::string print_format = "json";
  std::uint64_t keep_pdf_bytes = 64ull << 20;  // PDFs kept as evidence in the run folder
};

struct population_settings {
  std::uint64_t residents = 0;
  std::uint64_t seed = 0;
  double confusable_share = 0;
  std::string file;  // empty: generate; otherwise resolved against the scenario's folder
};

struct load_settings {
  unsigned workers = 0;  // 0: one per core
  unsigned connections = 0;
  std::uint32_t timeout_ms = 0;
  std::uint64_t max_backlog = 0;
  std::uint64_t max_body_bytes = std::uint64_t{4} << 20;  // an answer's body kept at most
};

struct spike {
  double at_s = 0;  // from the phase's start
  double duration_s = 0;
  double rate = 0;  // requests per second during the spike
};

struct phase {
  std::string name;
  double duration_s = 0;
  load_model model = load_model::open;
  double rate = 0;                // open: requests/s at the start
  std::optional<double> ramp_to;  // open: requests/s at the end (linear)
  unsigned users = 0;             // closed
  double think_time_ms = 0;       // closed
  bool warmup = false;
  std::vector<spike> spikes;
  // The phase ends after this many issue requests (or its duration, whichever comes first).
  std::optional<std::uint64_t> requests;
};

struct request_mix {
  std::array<double, certificate_type_count> certificate_types{};  // weights by enum order
  std::array<double, channel_count> channels{};
  double household_scope_share = 0;
  double honseki_share = 0;
  double zokugara_share = 0;
  double mynumber_share = 0;
};

struct concentration_settings {
  std::uint64_t hot_residents = 0;
  double hot_share = 0;
  double group_share = 0;
  unsigned group_size = 0;
  // Last-byte synchronisation per group kind (concentration.last_byte_sync).
  bool last_byte_sync_household = true;
  bool last_byte_sync_koseki = true;
};

struct update_settings {
  double rate = 0;  // single updates per second; 0: none
  unsigned concurrency = 0;
  std::array<double, update_kind_count> kinds{};
  double seal_cancel_share = 0;
  double hot_share = 0;
};

struct event {
  double at_s = 0;
  event_kind kind = event_kind::maintenance;
  std::optional<double> every_s;
  std::uint32_t duration_ms = 0;     // maintenance
  std::uint32_t size = 0;            // reflection_batch
  std::vector<std::string> command;  // exec
  double timeout_s = 0;              // exec
};

struct verification_settings {
  std::uint64_t staleness_ms = 0;
  bool require_application_number_echo = true;
  bool check_digest = true;
};

struct thresholds {
  std::uint64_t max_findings = 0;
  std::uint64_t min_answered = 0;
  double max_error_rate = 0;
  std::optional<double> max_p99_ms;
  std::uint64_t min_overlapping_requests = 0;
};

struct history_settings {
  bool compress = false;
  std::uint32_t flush_ms = 0;
  bool keep_body = true;
};

struct scenario {
  std::string name;
  std::string description;     // English, or the only text
  std::string description_ja;  // Japanese, when `description` is {ja, en}
  std::uint64_t seed = 0;
  target_settings target;
  population_settings population;
  load_settings load;
  std::vector<phase> phases;
  request_mix mix;
  concentration_settings concentration;
  update_settings updates;
  std::vector<event> events;
  verification_settings verification;
  thresholds limits;  // "thresholds" in JSON
  history_settings history;

  // Where it came from, for resolving relative paths and for the history header.
  std::filesystem::path source_path;  // empty when parsed from text
  std::string source_sha256;          // of the file's bytes
  nlohmann::json document;            // the document as loaded, every default filled in

  // Sum of the phases' durations, seconds.
  double total_duration_s() const;
  // Resolves a path named in the scenario against the scenario file's folder.
  std::filesystem::path resolve(const std::string& path) const;
};

}  // namespace kofu::scenario
