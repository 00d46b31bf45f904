#pragma once
// The system-update window (POST /v1/admin/maintenance). Issuance goes on during it.
//
// Correct: the card index is rebuilt from the records at the start, in one step, and keeps
// mapping card → resident id, so address changes during the window cannot disturb it.
// DEFECT stale-index-after-update (⑤): the rebuilt index maps card → row of the address-ordered
// table, frozen at the start of the window and used until it ends; an address change during the
// window re-sorts the table, so rows point at the wrong resident.
//
// Thread-safe: every member may be called from any thread.

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace kofu::mock {

class maintenance_window {
 public:
  using clock = std::chrono::steady_clock;

  // Opens (or extends) a window until `until`, with the positional index built at its start.
  void open(clock::time_point until, std::unordered_map<std::string, std::size_t> positions);
  // The row a card maps to while a window is open, else nullopt.
  std::optional<std::size_t> row_for_card(const std::string& card_serial) const;
  bool active() const;

 private:
  mutable std::mutex mutex_;
  // State below is protected by mutex_.
  clock::time_point until_{};
  std::unordered_map<std::string, std::size_t> positions_;
};

}  // namespace kofu::mock
