#pragma once
// The resident registry of kofu-mock (住民基本台帳 as the issuance server sees it): every
// resident's current record with its version, the card-serial index, households and 戸籍.
//
// Thread-safety: every member function may be called from any thread. Readers get immutable
// snapshots (a shared_ptr to a record that is never modified). Writers must be serialised by the
// caller (kofu-mock runs them all on one writer thread) so that validation and application of a
// change see the same state; the registry's own mutex only keeps readers and the writer apart.

#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "kofu/mock/resident_record.hpp"

namespace kofu::mock {

// One reflected change (docs/protocol.md): kind and the fields it replaces whole.
struct resident_change {
  std::string resident_id;
  std::int64_t change_id = 0;
  std::string kind;  // move | name | seal | household | tax
  nlohmann::json fields;
};

// Parses and validates a change object. `path` prefixes field names in errors ("changes[3]").
// With `with_resident_id` the object carries its own resident_id (batch form); otherwise the
// caller sets it from the URL. Returns the change or an error text naming the field.
std::variant<resident_change, std::string> parse_change(const nlohmann::json& j,
                                                        bool with_resident_id,
                                                        const std::string& path);

enum class change_status { applied, unknown_resident, non_monotonic_change_id };

struct change_outcome {
  change_status status = change_status::applied;
  std::int64_t version = 0;  // the new version when applied
};

class registry {
 public:
  explicit registry(std::vector<resident_record> records);
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  std::size_t size() const;
  // Every current record, in no particular order.
  std::vector<resident_snapshot> all() const;

  // The current record, or nullptr for an unknown id.
  resident_snapshot find(const std::string& resident_id) const;
  // Current version, or 0 for an unknown id.
  std::int64_t current_version(const std::string& resident_id) const;
  // card_serial → resident_id through the (correct) card index.
  std::optional<std::string> resident_for_card(std::string_view card_serial) const;
  // Active members of a household: the 世帯主 first, then in record order.
  std::vector<resident_snapshot> household_members(const std::string& household_id) const;
  // The household's first active member (record order) whose 続柄 is 世帯主, or nullptr: the one
  // household_members() puts first when there is one, without building the list.
  resident_snapshot household_head(const std::string& household_id) const;
  // Every member of a 戸籍, in record order.
  std::vector<resident_snapshot> koseki_members(const std::string& koseki_id) const;

  // --- writers (serialised by the caller) ---

  // Checks change_id monotonicity and the resident's existence without changing anything.
  // `pending_last_change_id` covers earlier changes of the same batch not yet applied.
  change_status check_change(const resident_change& c,
                             std::int64_t pending_last_change_id = 0) const;
  // Applies all fields and bumps the version in one step (what correct reflection does).
  change_outcome apply_change(const resident_change& c);

  // DEFECT reflection-race support: writes one field of the live record without touching the
  // version, so a reader can see new data under the old version until publish_version().
  void write_field_unversioned(const std::string& resident_id, const std::string& key,
                               const nlohmann::json& value);
  // Bumps the version (and records change_id) after write_field_unversioned calls.
  std::int64_t publish_version(const std::string& resident_id, std::int64_t change_id);

  // Maintenance (system update): rebuilds the card index from the records (correct).
  void rebuild_card_index();
  // DEFECT stale-index-after-update support: card → row position in the address-ordered table,
  // as of now. Rows move when an address change re-sorts the table.
  std::unordered_map<std::string, std::size_t> positional_card_index() const;
  // The resident standing at a row of the address-ordered table now, if any.
  std::optional<std::string> resident_at_row(std::size_t row) const;

 private:
  // Lets the card index be searched with a string_view (no key copy per request).
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using row_key = std::pair<std::string, std::string>;  // (address token, resident_id)

  // Publishes `next` in place of the current record; fixes households and rows. Caller holds
  // mutex_.
  void publish_locked(resident_snapshot next);
  static void set_field(resident_record& r, const std::string& key, const nlohmann::json& value);

  // Readers (every issuance request, several times) share it; the writer takes it alone.
  mutable std::shared_mutex mutex_;
  // State below is protected by mutex_.
  std::unordered_map<std::string, resident_snapshot> records_;
  std::unordered_map<std::string, std::string, string_hash, std::equal_to<>> card_index_;
  std::unordered_map<std::string, std::vector<std::string>> households_;  // ids, record order
  std::unordered_map<std::string, std::vector<std::string>> koseki_;      // ids, record order
  std::vector<row_key> rows_by_address_;  // sorted: the address-ordered table
};

}  // namespace kofu::mock
