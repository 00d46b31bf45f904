#pragma once
// The verifier's model of the registry: for each resident, the timeline of versions the harness
// itself produced (population version, then one version per update), each with the interval in
// which it may have been current; the versions of failed updates (aborted); and an attribution
// index from printed values to the (resident, version) pairs that carried them.
//
// Memory grows with residents and updates, never with issue requests.
// Not thread-safe: one owner (the checker) mutates and reads it.

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kofu/population/resident.hpp"

namespace kofu::verify {

inline constexpr std::int64_t time_min = std::numeric_limits<std::int64_t>::min();
inline constexpr std::int64_t time_max = std::numeric_limits<std::int64_t>::max();

enum class update_state : std::uint8_t {
  population,    // version 1 from the population file: current since before the run
  pending,       // sent, no answer yet
  acknowledged,  // the server answered 200
  unknown,       // timeout or connection lost: may become visible at any time after `sent_ns`
};

// How the answers print a record: a vendor profile's renderings (DESIGN §5a). With one, the
// model holds every version as printed, so that the checker compares the rendered expected value
// with the printed one code point for code point and attributes foreign values through the same
// renderings; it never parses a printed string back into parts. Immutable and thread-safe.
class record_rendering {
 public:
  virtual ~record_rendering() = default;
  // The record with its printed values rendered. A value printed as one string is held in the
  // first member of its struct with the others empty: a name's printed text in family_kanji and
  // its printed kana in family_kana ("" when the answers print none); an address's in `building`
  // and in `token` too (the attribution key: it contains the address token, unique per move).
  // Identifiers, versions, statuses and the seal and tax values stay as they are.
  virtual population::resident render(const population::resident& raw) const = 0;
  // The record's name as the answers print it as someone's 世帯主.
  virtual std::string household_head(const population::resident& raw) const = 0;
  // The printed word for a sex.
  virtual std::string sex(population::sex s) const = 0;
};

// One version of a record that may become (or became) visible.
struct resident_state {
  population::resident record;       // the whole record as of this version (as printed)
  std::int64_t sent_ns = time_min;   // the producing update's send time (time_min: population)
  std::int64_t acked_ns = time_min;  // its acknowledgement (time_max: pending or unknown)
  std::uint64_t update_id = 0;       // history id of the update or batch (0: population)
  std::string change_kind;           // "move", "name", … ("" for the population version)
  update_state state = update_state::population;
  std::uint32_t household_group = 0;  // record.household_id as an index (household_head_hint)
  bool head = false;                  // 世帯主 in this version
  // A global change counter's number for this version (version_semantics::global_counter):
  // 0 for the population's (before any change), -1 while the server has not said.
  std::int64_t counter = 0;
  // With a rendering only: the name as printed as 世帯主, and the record before rendering (what
  // the next change applies to).
  std::string head_name;
  std::shared_ptr<const population::resident> raw;
};

// The content a failed update would have produced: never allowed to be printed.
struct aborted_version {
  population::resident record;
  std::int64_t sent_ns = 0;
  std::int64_t failed_ns = 0;
  std::uint64_t update_id = 0;
  std::string change_kind;
};

// Indices [lo, hi] into a resident's timeline: the versions that may have been current at some
// instant of a request's window. Never empty.
struct version_window {
  std::uint32_t lo = 0;
  std::uint32_t hi = 0;
  bool contains(std::uint32_t i) const { return lo <= i && i <= hi; }
};

// What a printed value can be traced to.
enum class value_kind : std::uint8_t { resident_id, name, address_token, mynumber, seal, tax };

struct attribution {
  std::uint32_t resident = 0;
  std::uint32_t state = 0;  // index into timeline() or, when `aborted`, into aborted()
  bool aborted = false;
};

// A map from strings to 32-bit values (open addressing, one probe sequence of 64-bit slots each
// holding a hash tag and an entry number), looked up by string_view without allocating.
class string_index {
 public:
  // Adds key → value; false (and no change) when the key is already there.
  bool insert(std::string_view key, std::uint32_t value);
  std::optional<std::uint32_t> find(std::string_view key) const;
  std::size_t size() const { return entries_.size(); }

 private:
  static std::uint64_t hash(std::string_view key);
  void place(std::uint64_t h, std::uint32_t entry);
  std::vector<std::pair<std::string, std::uint32_t>> entries_;
  std::vector<std::uint64_t> slots_;  // (hash >> 32) << 32 | entry + 1; 0: empty
};

class resident_model {
 public:
  // `rendering`: how the answers print records; null for the reference protocol (records as
  // they are, compared structurally).
  explicit resident_model(std::vector<population::resident> population,
                          std::shared_ptr<const record_rendering> rendering = nullptr);

  const record_rendering* rendering() const { return rendering_.get(); }
  // The printed word for a sex ("male"/"female" in the reference protocol).
  std::string_view sex_text(population::sex s) const {
    return sex_words_[s == population::sex::male ? 0 : 1];
  }

  std::size_t size() const { return timelines_.size(); }
  std::optional<std::uint32_t> find_resident(std::string_view resident_id) const;
  std::optional<std::uint32_t> find_card(std::string_view card_serial) const;

  const std::vector<resident_state>& timeline(std::uint32_t r) const { return timelines_[r]; }
  const std::vector<aborted_version>& aborted(std::uint32_t r) const { return aborted_[r]; }
  const population::resident& initial(std::uint32_t r) const {
    return timelines_[r].front().record;
  }

  // An update of resident r was sent at `sent_ns` (one change; a batch calls this once a change).
  // `fields` replace the named fields whole (docs/protocol.md). Returns an error message when
  // the change cannot be applied (unknown kind, malformed fields); the model is then unchanged.
  std::optional<std::string> begin_update(std::uint32_t r, std::uint64_t update_id,
                                          std::int64_t sent_ns, std::uint32_t version,
                                          std::string_view kind, const nlohmann::json& fields);
  // The outcome of every pending change of update `update_id` on resident r.
  void acknowledge(std::uint32_t r, std::uint64_t update_id, std::int64_t t);
  void fail(std::uint32_t r, std::uint64_t update_id, std::int64_t t);
  void mark_unknown(std::uint32_t r, std::uint64_t update_id);
  // The global change counter's number the server gave update `update_id`'s change of r.
  void set_counter(std::uint32_t r, std::uint64_t update_id, std::uint32_t number);

  // Whether an update of r sent before `t` has no outcome yet.
  bool has_pending_before(std::uint32_t r, std::int64_t t) const;

  // The allowed versions of resident r for a request sent at `a` and answered at `b`: those that
  // may have been current at some instant in (a, b), widened by `staleness_ns` into the past.
  version_window window(std::uint32_t r, std::int64_t a, std::int64_t b,
                        std::int64_t staleness_ns) const;

  // Every (resident, version) that carried `value` (exact bytes).
  std::vector<attribution> attribute(value_kind kind, std::string_view value) const;

  // Residents that were ever members of a household (any version) or of a 戸籍.
  const std::vector<std::uint32_t>& household_members(std::string_view household_id) const;
  const std::vector<std::uint32_t>& koseki_members(std::string_view koseki_id) const;
  // The same by index: the members of the household with that household_group (a
  // resident_state's), and of resident r's 戸籍 (r's koseki_id never changes: no change kind
  // sets it). Equal groups mean equal ids.
  const std::vector<std::uint32_t>& household_group_members(std::uint32_t household_group) const {
    return households_[household_group];
  }
  std::uint32_t koseki_group(std::uint32_t r) const { return koseki_group_[r]; }
  const std::vector<std::uint32_t>& koseki_members_of(std::uint32_t r) const {
    return koseki_[koseki_group_[r]];
  }
  // A resident that was 世帯主 of the household in some version (the latest seen), or
  // no_resident: where the check of a printed household head looks first.
  static constexpr std::uint32_t no_resident = 0xFFFFFFFFu;
  std::uint32_t household_head_hint(std::uint32_t household_group) const {
    return household_head_hint_[household_group];
  }

  // The text the index uses for a name and a tax record.
  static std::string name_key(const population::person_name& n);
  static std::string tax_key(const population::tax_record& t);

 private:
  void index_state(std::uint32_t r, std::uint32_t state, bool is_aborted,
                   const population::resident* previous);
  void unindex(std::uint32_t r, const population::resident& rec, std::uint32_t state);
  void add_key(value_kind kind, std::string_view value, attribution where);
  static std::uint64_t key_hash(value_kind kind, std::string_view value);
  bool value_matches(value_kind kind, std::string_view value, const attribution& a) const;

  // A state of `raw` (the record before rendering), rendered when there is a rendering.
  resident_state make_state(population::resident raw) const;

  std::shared_ptr<const record_rendering> rendering_;
  std::array<std::string, 2> sex_words_{"male", "female"};
  std::vector<std::vector<resident_state>> timelines_;
  std::vector<std::vector<aborted_version>> aborted_;
  string_index by_resident_id_;
  string_index by_card_;
  string_index household_ids_;  // household id → index into households_
  std::vector<std::vector<std::uint32_t>> households_;
  std::vector<std::uint32_t> household_head_hint_;  // by household group
  std::uint32_t household_group_of(std::uint32_t r, const population::resident& rec, bool head);
  string_index koseki_ids_;  // koseki id → index into koseki_
  std::vector<std::vector<std::uint32_t>> koseki_;
  std::vector<std::uint32_t> koseki_group_;  // by resident: index into koseki_
  // The index of the group with that id in `groups`, a new empty one if there is none yet.
  static std::uint32_t group_of(string_index& ids, std::vector<std::vector<std::uint32_t>>& groups,
                                std::string_view id);
  // Key: hash of (kind, value); candidates are confirmed against the stored value on lookup.
  std::unordered_map<std::uint64_t, std::vector<attribution>> index_;
};

}  // namespace kofu::verify
