#pragma once
// The channel gateway: each issuance request holds a work slot of its channel group from
// authentication until the registry stage picks up the resident it authenticated. Two groups:
// the store (konbini, via the national hub) and the office (庁内: window and kiosk). Each group
// allocates the lowest free slot of its own in-use map.
//
// DEFECT channel-slot (④): the office group was added later with its own in-use map but indexes
// the store group's slot array, so a window request and a store request in flight at the same
// moment get the same slot and one overwrites the other's resident.
//
// Thread-safe: every member may be called from any thread.

#include <array>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace kofu::mock {

class channel_gateway {
 public:
  static constexpr std::size_t kSlots = 1024;  // per group; more in flight is refused (503)

  explicit channel_gateway(bool shared_slot_defect);

  // A free slot of the channel's group, or nullopt when all are taken.
  std::optional<std::size_t> acquire(const std::string& channel);
  void store(const std::string& channel, std::size_t slot, const std::string& resident_id);
  std::string load(const std::string& channel, std::size_t slot) const;
  void release(const std::string& channel, std::size_t slot);

 private:
  static std::size_t group_of(const std::string& channel) { return channel == "konbini" ? 0 : 1; }
  std::size_t storage_of(std::size_t group) const { return shared_slot_defect_ ? 0 : group; }

  const bool shared_slot_defect_;
  mutable std::mutex mutex_;
  // State below is protected by mutex_.
  std::array<std::vector<bool>, 2> in_use_;           // per group
  std::array<std::vector<std::string>, 2> resident_;  // per storage array
};

}  // namespace kofu::mock
