#pragma once
// Reads and validates a population file (docs/population.md), streaming, line by line.
// Any defect in the file is an error naming the file, the line and the field:
//   "pop.jsonl:17: field 'address.token': expected a string"
// Not thread-safe; one reader per thread.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kofu/common/error.hpp"
#include "kofu/population/resident.hpp"

namespace kofu::population {

class reader {
 public:
  static result<reader> open(const std::filesystem::path& path);

  // The next resident; nullopt at the end of the file; an error for a malformed line (the reader
  // stays usable: the next call reads the following line).
  result<std::optional<resident>> next();

  std::uint64_t line_number() const { return line_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  reader() = default;
  std::filesystem::path path_;
  std::unique_ptr<std::ifstream> in_;
  std::uint64_t line_ = 0;
  std::string buffer_;
};

// Parses one line (exposed for tests and for other readers of the format). `where` prefixes
// every message, e.g. "pop.jsonl:17".
result<resident> parse_resident(std::string_view line, std::string_view where);

// Loads a whole file and checks cross-record rules: unique resident_id, card_serial, mynumber;
// exactly one 世帯主 per household; households share one address token; no token in two
// households. The first problem found is returned.
result<std::vector<resident>> load_file(const std::filesystem::path& path);

}  // namespace kofu::population
