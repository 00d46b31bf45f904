#include "kofu/mock/defects.hpp"

#include <array>

namespace kofu::mock {
namespace {

constexpr std::array<std::string_view, defect_count> kNames = {
    "timeout-partial-release",  "reflection-race", "linkage-overwrite", "channel-slot",
    "stale-index-after-update", "init-omission",   "spool-collision",   "cancelled-seal",
    "no-version-check",         "page-interleave", "font-fallback",
};

}  // namespace

std::string_view defect_name(defect d) { return kNames.at(static_cast<std::size_t>(d)); }

std::optional<defect> parse_defect(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<defect>(i);
  }
  return std::nullopt;
}

std::vector<std::string> all_defect_names() { return {kNames.begin(), kNames.end()}; }

std::vector<std::string> defect_set::names() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (has(static_cast<defect>(i))) out.emplace_back(kNames[i]);
  }
  return out;
}

}  // namespace kofu::mock
