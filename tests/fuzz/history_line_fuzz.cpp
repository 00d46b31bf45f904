// libFuzzer target: history text (docs/history.md) through the chain verifier and the history
// decoder (line → event), both with and without evidence and digests, as `kofu verify` and the
// online verifier read it. Every line must end as an event or an error value.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kofu/history/chain.hpp"
#include "kofu/history/decoder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  kofu::history::chain_verifier chain;
  std::uint64_t number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    ++number;
    if (chain.on_line(line, number) == kofu::history::chain_verifier::line_kind::data) {
      const std::string where = "fuzz.jsonl:" + std::to_string(number);
      (void)kofu::history::parse_history_line(line, where);
      (void)kofu::history::parse_history_line(line, where, {false, false});
    }
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  chain.finish();
  return 0;
}
