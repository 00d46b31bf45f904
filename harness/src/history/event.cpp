#include "kofu/history/event.hpp"

namespace kofu::history {

std::string_view to_string(issue_outcome outcome) {
  switch (outcome) {
    case issue_outcome::ok:
      return "ok";
    case issue_outcome::retry:
      return "retry";
    case issue_outcome::refused:
      return "refused";
    case issue_outcome::error:
      return "error";
    case issue_outcome::timeout:
      return "timeout";
  }
  return "error";
}

std::optional<issue_outcome> issue_outcome_of(std::string_view word) {
  if (word == "ok") return issue_outcome::ok;
  if (word == "retry") return issue_outcome::retry;
  if (word == "refused") return issue_outcome::refused;
  if (word == "error") return issue_outcome::error;
  if (word == "timeout") return issue_outcome::timeout;
  return std::nullopt;
}

std::string_view to_string(update_outcome outcome) {
  switch (outcome) {
    case update_outcome::ok:
      return "ok";
    case update_outcome::failed:
      return "failed";
    case update_outcome::unknown:
      return "unknown";
  }
  return "unknown";
}

std::optional<update_outcome> update_outcome_of(std::string_view word) {
  if (word == "ok") return update_outcome::ok;
  if (word == "failed") return update_outcome::failed;
  if (word == "unknown") return update_outcome::unknown;
  return std::nullopt;
}

}  // namespace kofu::history
