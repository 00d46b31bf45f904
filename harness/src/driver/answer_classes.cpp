#include "kofu/driver/answer_classes.hpp"

namespace kofu::driver {

using json = nlohmann::json;

answer_classes::answer_classes(const std::vector<scenario::answer_class>& rules) {
  for (const auto& r : rules) {
    // The loader checked the pointer's syntax (scenario loader, semantic_problems).
    rules_.push_back({r.status, r.error, json::json_pointer(r.error_field), r.outcome});
  }
}

std::optional<std::string> answer_classes::classify(unsigned status,
                                                    const std::string& body) const {
  std::optional<json> parsed;
  for (const auto& r : rules_) {
    if (r.status != status) continue;
    if (!r.error) return r.outcome;
    if (!parsed) parsed = json::parse(body, nullptr, false);
    if (parsed->is_discarded() || !parsed->contains(r.field)) continue;
    const json& code = parsed->at(r.field);
    if (code.is_string() && code.get_ref<const std::string&>() == *r.error) return r.outcome;
  }
  return std::nullopt;
}

}  // namespace kofu::driver
