#pragma once
// Loads a scenario: JSON syntax, then the JSON Schema (scenarios/schema.json, compiled into the
// harness), then the few rules a schema cannot say. Every problem is reported at once, one a
// line, each naming the file and the JSON path:
//   "demo.json: /phases/0/rate: value -3 is below the minimum 0"
//   "demo.json: /load/conection: unknown key (not allowed by the schema)"
// Thread-safe (no shared state).

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kofu/common/error.hpp"
#include "kofu/scenario/scenario.hpp"

namespace kofu::scenario {

// Reads and validates a scenario file. The error's code is errc::io, errc::parse or errc::schema.
result<scenario> load_file(const std::filesystem::path& path);

// Validates text; `source` names it in messages (a file name or "<inline>").
result<scenario> parse_text(std::string_view text, std::string_view source);

// Validates a parsed document (defaults are filled into a copy).
result<scenario> parse_json(const nlohmann::json& document, std::string_view source);

// The schema (scenarios/schema.json as built into this binary).
const nlohmann::json& schema();

// Fills every absent key that has a `default` in the schema, recursively (through $ref), into
// `document`. Exposed for tests and for `kofu run --print-scenario`.
void fill_defaults(nlohmann::json& document);

// The schema's defaults (scenarios/schema.json is the one place a default is written), for the
// readers of a history whose header lacks a key: the verifier's thresholds and the number of
// findings per kind a report keeps in full. Thread-safe (computed once).
const thresholds& default_thresholds();
std::uint64_t default_findings_per_kind();

}  // namespace kofu::scenario
