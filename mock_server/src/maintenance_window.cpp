#include "maintenance_window.hpp"

namespace kofu::mock {

void maintenance_window::open(clock::time_point until,
                              std::unordered_map<std::string, std::size_t> positions) {
  std::lock_guard lock(mutex_);
  until_ = std::max(until_, until);
  positions_ = std::move(positions);
}

std::optional<std::size_t> maintenance_window::row_for_card(const std::string& card_serial) const {
  std::lock_guard lock(mutex_);
  if (clock::now() >= until_) return std::nullopt;
  auto it = positions_.find(card_serial);
  if (it == positions_.end()) return std::nullopt;
  return it->second;
}

bool maintenance_window::active() const {
  std::lock_guard lock(mutex_);
  return clock::now() < until_;
}

}  // namespace kofu::mock
