// libFuzzer target: population file lines (JSON Lines, docs/population.md) through the reader's
// line parser. Each line must end as a resident or an error value.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kofu/population/reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  while (!text.empty()) {
    const auto end = text.find('\n');
    (void)kofu::population::parse_resident(text.substr(0, end), "fuzz.jsonl:1");
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return 0;
}
