#pragma once
// The terminal's summary of a report (`kofu run`, `kofu verify`, `kofu report`): a report like
// summary.md, for a person at the terminal, so it lives with the other report writers. It reads
// only the report object (report.json's keys), never the checker.

#include <nlohmann/json.hpp>

#include <string>

#include "kofu/common/language.hpp"

namespace kofu::reports {

// A few lines for the terminal, in `lang` (summary_text.cpp): verdict, counts, exposure, the
// upper bound, the history's integrity, then one `threshold NAME failed: DETAIL` line (判定基準
// NAME を満たしていません) per failed threshold. Finding kinds and threshold names stay as they
// are.
std::string summary_text(const nlohmann::json& report, language lang = language::en);

// A threshold's `detail` (English, from the verifier) in `lang`: in Japanese rebuilt from the
// threshold's name and the numbers of the English text (and `report`'s run_end); a detail of a
// shape it does not know is returned in English.
std::string threshold_detail(const nlohmann::json& threshold, const nlohmann::json& report,
                             language lang);

}  // namespace kofu::reports
