#pragma once
// How an issue answer counts, as the scenario's target says (target.answer_classes, issue 14
// item 4): docs/protocol.md calls 409 data_changed_retry, 503 print_timeout and 503 busy safe
// refusals — nothing was issued, the requester asks again — so they count as retries, not as
// server errors. A vendor's server may refuse safely under other statuses or codes: the target
// lists them. The first rule whose status matches, and whose code matches when it names one,
// decides; an answer no rule matches is classified by the protocol (wire_protocol.hpp).
// Immutable after construction; thread-safe.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kofu/scenario/scenario.hpp"

namespace kofu::driver {

class answer_classes {
 public:
  answer_classes() = default;
  explicit answer_classes(const std::vector<scenario::answer_class>& rules);

  // The outcome ("retry", "refused", "error") of the first matching rule, or nullopt. The body is
  // parsed only when a rule for this status names a code.
  std::optional<std::string> classify(unsigned status, const std::string& body) const;

 private:
  struct rule {
    unsigned status = 0;
    std::optional<std::string> error;
    nlohmann::json::json_pointer field;
    std::string outcome;
  };
  std::vector<rule> rules_;
};

}  // namespace kofu::driver
