#include "kofu/mock/registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "record_fields.hpp"

namespace kofu::mock {
namespace {

// The fields each kind replaces (docs/protocol.md); all are required.
const std::vector<std::string>* fields_of_kind(const std::string& kind) {
  static const std::vector<std::string> kMove = {"address", "moved_in_date"};
  static const std::vector<std::string> kName = {"name"};
  static const std::vector<std::string> kSeal = {"seal"};
  static const std::vector<std::string> kHousehold = {"household_id", "relationship"};
  static const std::vector<std::string> kTax = {"tax"};
  if (kind == "move") return &kMove;
  if (kind == "name") return &kName;
  if (kind == "seal") return &kSeal;
  if (kind == "household") return &kHousehold;
  if (kind == "tax") return &kTax;
  return nullptr;
}

std::string check_field_value(const std::string& key, const nlohmann::json& v,
                              const std::string& path) {
  if (key == "address") return fields::check_address(v, path);
  if (key == "name") return fields::check_name(v, path);
  if (key == "seal") return fields::check_seal(v, path);
  if (key == "tax") return fields::check_tax(v, path);
  auto err = fields::check_string(v, path);
  if (err.empty() && v.get_ref<const std::string&>().empty()) {
    err = fmt::format("field '{}': must not be empty", path);
  }
  return err;
}

}  // namespace

std::variant<resident_change, std::string> parse_change(const nlohmann::json& j,
                                                        bool with_resident_id,
                                                        const std::string& path) {
  const auto at = [&](std::string_view key) {
    return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
  };
  if (!j.is_object()) {
    return fmt::format("field '{}': must be an object", path.empty() ? "(body)" : path);
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const auto& k = it.key();
    if (k != "change_id" && k != "kind" && k != "fields" &&
        !(with_resident_id && k == "resident_id")) {
      return fmt::format("field '{}': unknown field", at(k));
    }
  }
  resident_change c;
  if (with_resident_id) {
    auto it = j.find("resident_id");
    if (it == j.end()) return fmt::format("field '{}': missing", at("resident_id"));
    if (!it->is_string()) return fmt::format("field '{}': must be a string", at("resident_id"));
    c.resident_id = it->get<std::string>();
  }
  auto id = j.find("change_id");
  if (id == j.end()) return fmt::format("field '{}': missing", at("change_id"));
  if (!id->is_number_integer() || id->get<std::int64_t>() < 1) {
    return fmt::format("field '{}': must be a positive integer", at("change_id"));
  }
  c.change_id = id->get<std::int64_t>();
  auto kind = j.find("kind");
  if (kind == j.end()) return fmt::format("field '{}': missing", at("kind"));
  if (!kind->is_string()) return fmt::format("field '{}': must be a string", at("kind"));
  c.kind = kind->get<std::string>();
  const auto* keys = fields_of_kind(c.kind);
  if (keys == nullptr) {
    return fmt::format("field '{}': unknown kind '{}' (move, name, seal, household, tax)",
                       at("kind"), c.kind);
  }
  auto f = j.find("fields");
  if (f == j.end()) return fmt::format("field '{}': missing", at("fields"));
  if (!f->is_object()) return fmt::format("field '{}': must be an object", at("fields"));
  for (auto it = f->begin(); it != f->end(); ++it) {
    if (std::find(keys->begin(), keys->end(), it.key()) == keys->end()) {
      return fmt::format("field '{}.{}': unknown field for kind '{}'", at("fields"), it.key(),
                         c.kind);
    }
  }
  for (const auto& key : *keys) {
    const auto field_path = fmt::format("{}.{}", at("fields"), key);
    auto v = f->find(key);
    if (v == f->end()) return fmt::format("field '{}': missing", field_path);
    if (auto err = check_field_value(key, *v, field_path); !err.empty()) return err;
  }
  c.fields = *f;
  return c;
}

registry::registry(std::vector<resident_record> records) {
  std::sort(records.begin(), records.end(),
            [](const auto& a, const auto& b) { return a.file_index < b.file_index; });
  for (auto& r : records) {
    households_[r.household_id].push_back(r.resident_id);
    koseki_[r.koseki_id].push_back(r.resident_id);
    card_index_[r.card_serial] = r.resident_id;
    rows_by_address_.emplace_back(r.address.at("token").get<std::string>(), r.resident_id);
    r.refresh_printed_forms();
    auto id = r.resident_id;
    records_.emplace(std::move(id), std::make_shared<const resident_record>(std::move(r)));
  }
  std::sort(rows_by_address_.begin(), rows_by_address_.end());
}

std::size_t registry::size() const {
  std::shared_lock lock(mutex_);
  return records_.size();
}

std::vector<resident_snapshot> registry::all() const {
  std::shared_lock lock(mutex_);
  std::vector<resident_snapshot> out;
  out.reserve(records_.size());
  for (const auto& [id, r] : records_) out.push_back(r);
  return out;
}

resident_snapshot registry::find(const std::string& resident_id) const {
  std::shared_lock lock(mutex_);
  auto it = records_.find(resident_id);
  return it == records_.end() ? nullptr : it->second;
}

std::int64_t registry::current_version(const std::string& resident_id) const {
  std::shared_lock lock(mutex_);
  auto it = records_.find(resident_id);
  return it == records_.end() ? 0 : it->second->version;
}

std::optional<std::string> registry::resident_for_card(std::string_view card_serial) const {
  std::shared_lock lock(mutex_);
  auto it = card_index_.find(card_serial);
  if (it == card_index_.end()) return std::nullopt;
  return it->second;
}

std::vector<resident_snapshot> registry::household_members(const std::string& household_id) const {
  std::vector<resident_snapshot> out;
  {
    std::shared_lock lock(mutex_);
    auto it = households_.find(household_id);
    if (it == households_.end()) return out;
    for (const auto& id : it->second) {
      const auto& r = records_.at(id);
      if (r->active()) out.push_back(r);
    }
  }
  std::stable_partition(out.begin(), out.end(),
                        [](const auto& r) { return r->relationship == "世帯主"; });
  return out;
}

resident_snapshot registry::household_head(const std::string& household_id) const {
  std::shared_lock lock(mutex_);
  auto it = households_.find(household_id);
  if (it == households_.end()) return nullptr;
  for (const auto& id : it->second) {
    const auto& r = records_.at(id);
    if (r->active() && r->relationship == "世帯主") return r;
  }
  return nullptr;
}

std::vector<resident_snapshot> registry::koseki_members(const std::string& koseki_id) const {
  std::vector<resident_snapshot> out;
  std::shared_lock lock(mutex_);
  auto it = koseki_.find(koseki_id);
  if (it == koseki_.end()) return out;
  for (const auto& id : it->second) out.push_back(records_.at(id));
  return out;
}

change_status registry::check_change(const resident_change& c,
                                     std::int64_t pending_last_change_id) const {
  std::shared_lock lock(mutex_);
  auto it = records_.find(c.resident_id);
  if (it == records_.end()) return change_status::unknown_resident;
  if (c.change_id <= std::max(it->second->last_change_id, pending_last_change_id)) {
    return change_status::non_monotonic_change_id;
  }
  return change_status::applied;
}

void registry::set_field(resident_record& r, const std::string& key, const nlohmann::json& value) {
  if (key == "address")
    r.address = value;
  else if (key == "moved_in_date")
    r.moved_in_date = value.get<std::string>();
  else if (key == "name")
    r.name = value;
  else if (key == "seal")
    r.seal = value;
  else if (key == "household_id")
    r.household_id = value.get<std::string>();
  else if (key == "relationship")
    r.relationship = value.get<std::string>();
  else if (key == "tax")
    r.tax = value;
  if (key == "name" || key == "address") r.refresh_printed_forms();
}

void registry::publish_locked(resident_snapshot next) {
  auto& slot = records_.at(next->resident_id);
  const auto& prev = slot;
  if (prev->household_id != next->household_id) {
    auto& old_members = households_[prev->household_id];
    std::erase(old_members, next->resident_id);
    auto& members = households_[next->household_id];
    members.push_back(next->resident_id);
    // Keep record order: sort by the position in the population file.
    std::sort(members.begin(), members.end(), [&](const auto& a, const auto& b) {
      const auto ia = a == next->resident_id ? next->file_index : records_.at(a)->file_index;
      const auto ib = b == next->resident_id ? next->file_index : records_.at(b)->file_index;
      return ia < ib;
    });
  }
  const auto& old_token = prev->address.at("token").get_ref<const std::string&>();
  const auto& new_token = next->address.at("token").get_ref<const std::string&>();
  if (old_token != new_token) {
    // The address-ordered table is re-sorted by a move: rows after the old place shift.
    const row_key old_key{old_token, next->resident_id};
    auto pos = std::lower_bound(rows_by_address_.begin(), rows_by_address_.end(), old_key);
    if (pos != rows_by_address_.end() && *pos == old_key) rows_by_address_.erase(pos);
    row_key new_key{new_token, next->resident_id};
    rows_by_address_.insert(
        std::lower_bound(rows_by_address_.begin(), rows_by_address_.end(), new_key),
        std::move(new_key));
  }
  slot = std::move(next);
}

change_outcome registry::apply_change(const resident_change& c) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(c.resident_id);
  if (it == records_.end()) return {change_status::unknown_resident, 0};
  if (c.change_id <= it->second->last_change_id) return {change_status::non_monotonic_change_id, 0};
  auto next = std::make_shared<resident_record>(*it->second);
  for (auto f = c.fields.begin(); f != c.fields.end(); ++f) set_field(*next, f.key(), f.value());
  next->version += 1;
  next->last_change_id = c.change_id;
  const auto version = next->version;
  publish_locked(std::move(next));
  return {change_status::applied, version};
}

void registry::write_field_unversioned(const std::string& resident_id, const std::string& key,
                                       const nlohmann::json& value) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(resident_id);
  if (it == records_.end()) return;
  auto next = std::make_shared<resident_record>(*it->second);
  set_field(*next, key, value);
  publish_locked(std::move(next));
}

std::int64_t registry::publish_version(const std::string& resident_id, std::int64_t change_id) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(resident_id);
  if (it == records_.end()) return 0;
  auto next = std::make_shared<resident_record>(*it->second);
  next->version += 1;
  next->last_change_id = change_id;
  const auto version = next->version;
  publish_locked(std::move(next));
  return version;
}

void registry::rebuild_card_index() {
  std::lock_guard lock(mutex_);
  decltype(card_index_) fresh;
  fresh.reserve(records_.size());
  for (const auto& [id, r] : records_) fresh.emplace(r->card_serial, id);
  card_index_ = std::move(fresh);
}

std::unordered_map<std::string, std::size_t> registry::positional_card_index() const {
  std::shared_lock lock(mutex_);
  std::unordered_map<std::string, std::size_t> out;
  out.reserve(rows_by_address_.size());
  for (std::size_t row = 0; row < rows_by_address_.size(); ++row) {
    out.emplace(records_.at(rows_by_address_[row].second)->card_serial, row);
  }
  return out;
}

std::optional<std::string> registry::resident_at_row(std::size_t row) const {
  std::shared_lock lock(mutex_);
  if (row >= rows_by_address_.size()) return std::nullopt;
  return rows_by_address_[row].second;
}

}  // namespace kofu::mock
