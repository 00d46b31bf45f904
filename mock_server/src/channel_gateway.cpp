#include "channel_gateway.hpp"

namespace kofu::mock {

channel_gateway::channel_gateway(bool shared_slot_defect)
    : shared_slot_defect_(shared_slot_defect) {
  for (auto& v : in_use_) v.assign(kSlots, false);
  for (auto& v : resident_) v.assign(kSlots, std::string());
}

std::optional<std::size_t> channel_gateway::acquire(const std::string& channel) {
  std::lock_guard lock(mutex_);
  auto& used = in_use_[group_of(channel)];
  for (std::size_t i = 0; i < used.size(); ++i) {
    if (!used[i]) {
      used[i] = true;
      return i;
    }
  }
  return std::nullopt;
}

void channel_gateway::store(const std::string& channel, std::size_t slot,
                            const std::string& resident_id) {
  std::lock_guard lock(mutex_);
  // ---- DEFECT channel-slot: with the defect both groups write storage array 0. ----
  resident_[storage_of(group_of(channel))][slot] = resident_id;
}

std::string channel_gateway::load(const std::string& channel, std::size_t slot) const {
  std::lock_guard lock(mutex_);
  return resident_[storage_of(group_of(channel))][slot];
}

void channel_gateway::release(const std::string& channel, std::size_t slot) {
  std::lock_guard lock(mutex_);
  in_use_[group_of(channel)][slot] = false;
}

}  // namespace kofu::mock
