#pragma once
// The parts of a vendor profile that turn answers into the certificate model and render expected
// values (`issue.answer`, `render`; vendor_profile.hpp): parsed here, used by vendor_profile.

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kofu/driver/vendor_profile.hpp"

namespace kofu::driver::detail {

// A locator from a profile value: a JSON pointer string, {"jq": "…"}, or null (not carried).
answer_locator parse_locator(const nlohmann::json& value, const std::string& where,
                             std::vector<std::string>& problems);

struct vendor_adapter {
  std::shared_ptr<const verify::answer_decoder> decoder;
  std::shared_ptr<const verify::record_rendering> rendering;
};

// The record paths that templates of renderings and of the export may name
// ("name.family_kanji", "seal.status", "tax.income", …; docs/profiles.md), and a record's value
// at one as text: nullopt for an unknown path or an absent value (a resident without a seal).
bool known_record_path(std::string_view path);
std::optional<std::string> record_value(const population::resident& r, std::string_view path);

// `answer`: /issue/answer; `render`: /render (may be null); `tables`: /issue/values.
vendor_adapter parse_vendor_adapter(const nlohmann::json& answer, const nlohmann::json* render,
                                    const value_tables& tables, std::vector<std::string>& problems);

}  // namespace kofu::driver::detail
