#include "seal_register.hpp"

namespace kofu::mock {

void seal_register::set(const std::string& resident_id, std::string status) {
  std::lock_guard lock(mutex_);
  status_[resident_id] = std::move(status);
}

std::string seal_register::status(const std::string& resident_id) const {
  std::lock_guard lock(mutex_);
  auto it = status_.find(resident_id);
  return it == status_.end() ? "none" : it->second;
}

}  // namespace kofu::mock
