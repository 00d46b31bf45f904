#pragma once
// The injectable defects of kofu-mock (DESIGN §4, mock_server/DEFECTS.md). None is on by default;
// each switches on one flawed step in one clearly marked place of the processing path.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kofu::mock {

enum class defect : std::uint8_t {
  timeout_partial_release,   // ① print timeout releases only the print slot
  reflection_race,           // ② reflection run writes fields before it publishes versions
  linkage_overwrite,         // ③ 戸籍 linkage keeps one shared work area
  channel_slot,              // ④ 庁内 and konbini channels index one work-slot array
  stale_index_after_update,  // ⑤ positional card index frozen during a system update
  init_omission,             // 初期化漏れ: shared layout template keeps previous options
  spool_collision,           // spool file names from a per-process counter
  cancelled_seal,            // seal cancellation reaches the seal register late
  no_version_check,          // the version comparison before answering is switched off
  page_interleave,           // PDF continuation pages spooled by page number only
  font_fallback,             // office print path unloads the store path's MJ font
};

inline constexpr std::size_t defect_count = 11;

// Kebab-case name as used on the command line (`--defect timeout-partial-release`).
std::string_view defect_name(defect d);
// Parses a name; nullopt when it names no defect.
std::optional<defect> parse_defect(std::string_view name);
// Every defect name, in enum order (for --help and errors).
std::vector<std::string> all_defect_names();

// A set of switched-on defects. Immutable once the server runs; safe to read from any thread.
class defect_set {
 public:
  void enable(defect d) { bits_ |= bit(d); }
  bool has(defect d) const { return (bits_ & bit(d)) != 0; }
  bool any() const { return bits_ != 0; }
  // Names of the defects switched on, in enum order.
  std::vector<std::string> names() const;

 private:
  static std::uint32_t bit(defect d) { return std::uint32_t{1} << static_cast<unsigned>(d); }
  std::uint32_t bits_ = 0;
};

}  // namespace kofu::mock
