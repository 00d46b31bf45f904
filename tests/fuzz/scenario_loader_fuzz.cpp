// libFuzzer target: a scenario file's text through the loader (JSON, schema, defaults, model).
// Any input must end as a scenario or an error value: no crash, no exception, no sanitizer report.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kofu/scenario/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)kofu::scenario::parse_text(text, "fuzz.json");
  return 0;
}
