#pragma once
// The parts of a vendor profile that turn answers into the certificate model and render expected
// values (`issue.answer`, `render`; vendor_profile.hpp): parsed here, used by vendor_profile.

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
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

// `answer`: /issue/answer; `render`: /render (may be null); `tables`: /issue/values.
vendor_adapter parse_vendor_adapter(const nlohmann::json& answer, const nlohmann::json* render,
                                    const value_tables& tables, std::vector<std::string>& problems);

}  // namespace kofu::driver::detail
