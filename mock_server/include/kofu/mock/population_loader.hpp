#pragma once
// kofu-mock's own reader of the population file (docs/population.md). It shares no code with the
// harness's reader on purpose: the system under test and the oracle stay independent.

#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "kofu/mock/resident_record.hpp"

namespace kofu::mock {

struct load_error {
  std::string message;  // "FILE:LINE: field 'address.token': …"
};

// Reads and validates every line. On failure returns the first error; nothing is half-loaded.
std::variant<std::vector<resident_record>, load_error> load_population(
    const std::filesystem::path& file);

// Validates one parsed record (used by the loader and by tests). Returns an empty string when
// valid, else "field 'x.y': reason".
std::string validate_record_json(const nlohmann::json& j);

// Builds a record from JSON that passed validate_record_json.
resident_record record_from_json(const nlohmann::json& j);

}  // namespace kofu::mock
