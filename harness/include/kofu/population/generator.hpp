#pragma once
// The synthetic population generator (DESIGN §3, docs/population.md).
//
// Deterministic: the same options and generator_version give the same residents in the same order,
// byte for byte once written. Streaming: residents are produced one 戸籍 group (one to three
// households) at a time, so memory does not grow with the population's size.
// Not thread-safe; one generator per thread.

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

#include "kofu/common/error.hpp"
#include "kofu/population/resident.hpp"

namespace kofu::population {

// Bumped whenever the same options would produce different bytes.
inline constexpr std::string_view generator_version = "1";

struct generator_options {
  std::uint64_t residents = 1000;
  std::uint64_t seed = 1;
  double confusable_share = 0.05;  // share of residents whose name has a confusable character
};

class generator {
 public:
  explicit generator(const generator_options& options);

  // Appends the next group of residents (whole households, heads first) to `out`.
  // Returns false, appending nothing, once options.residents residents have been produced.
  bool next_group(std::vector<resident>& out);

  std::uint64_t produced() const { return produced_; }

 private:
  generator_options options_;
  std::uint64_t produced_ = 0;
  std::uint64_t group_index_ = 0;
  std::uint64_t household_count_ = 0;
  std::uint64_t koseki_count_ = 0;
};

struct generate_summary {
  std::uint64_t residents = 0;
  std::uint64_t households = 0;
  std::string sha256;  // of the file written
};

// Writes the population as JSON Lines to `path` (replacing it). Errors name the path.
result<generate_summary> generate_file(const generator_options& options,
                                       const std::filesystem::path& path);

// The record as one line of JSON (no trailing newline), fields in the documented order.
std::string to_json_line(const resident& r);
void append_json_line(std::string& out, const resident& r);

}  // namespace kofu::population
