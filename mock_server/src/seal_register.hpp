#pragma once
// The seal register (印鑑登録原票): seal status per resident, kept by the seal subsystem and fed
// from the registry by a linkage after each seal change. Correct issuance never trusts it on its
// own: the status on the record snapshot decides.
//
// DEFECT cancelled-seal: issuance of 印鑑登録証明書 asks this register instead of the record.
// The register is updated a moment after the record (the linkage call), so a certificate
// requested while a cancellation is being reflected is issued for a cancelled seal.
//
// Thread-safe: every member may be called from any thread.

#include <mutex>
#include <string>
#include <unordered_map>

namespace kofu::mock {

class seal_register {
 public:
  // Status "registered", "cancelled", or "none" (no seal).
  void set(const std::string& resident_id, std::string status);
  std::string status(const std::string& resident_id) const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::string> status_;  // protected by mutex_
};

}  // namespace kofu::mock
