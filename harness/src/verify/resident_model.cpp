#include "kofu/verify/resident_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <utility>

#include "kofu/verify/certificate.hpp"

namespace kofu::verify {
namespace {

using json = nlohmann::json;

const std::vector<std::uint32_t> no_members;

bool read_string(const json& obj, const char* key, std::string& out) {
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

bool read_int(const json& obj, const char* key, std::int64_t& out) {
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer()) return false;
  out = it->get<std::int64_t>();
  return true;
}

// Applies one change's `fields` (docs/protocol.md: each replaces the named fields whole).
std::optional<std::string> apply_change(population::resident& r, std::string_view kind,
                                        const json& fields) {
  if (!fields.is_object()) return "fields is not an object";
  if (kind == "move") {
    const auto it = fields.find("address");
    if (it == fields.end() || !it->is_object()) return "move: fields.address is missing";
    population::address a;
    if (!read_string(*it, "postal_code", a.postal_code) ||
        !read_string(*it, "prefecture", a.prefecture) || !read_string(*it, "city", a.city) ||
        !read_string(*it, "town", a.town) || !read_string(*it, "banchi", a.banchi) ||
        !read_string(*it, "building", a.building) || !read_string(*it, "token", a.token)) {
      return "move: fields.address is incomplete";
    }
    r.address = std::move(a);
    if (!read_string(fields, "moved_in_date", r.moved_in_date)) {
      return "move: fields.moved_in_date is missing";
    }
  } else if (kind == "name") {
    const auto it = fields.find("name");
    if (it == fields.end() || !it->is_object()) return "name: fields.name is missing";
    population::person_name n;
    if (!read_string(*it, "family_kanji", n.family_kanji) ||
        !read_string(*it, "given_kanji", n.given_kanji) ||
        !read_string(*it, "family_kana", n.family_kana) ||
        !read_string(*it, "given_kana", n.given_kana)) {
      return "name: fields.name is incomplete";
    }
    r.name = std::move(n);
  } else if (kind == "seal") {
    const auto it = fields.find("seal");
    if (it == fields.end()) return "seal: fields.seal is missing";
    if (it->is_null()) {
      r.seal.reset();
    } else {
      if (!it->is_object()) return "seal: fields.seal is not an object";
      population::seal_registration s;
      std::string status = "registered";
      if (!read_string(*it, "registration_number", s.registration_number) ||
          !read_string(*it, "image_sha256", s.image_sha256)) {
        return "seal: fields.seal is incomplete";
      }
      read_string(*it, "image_png_base64", s.image_png_base64);
      read_string(*it, "status", status);
      if (status != "registered" && status != "cancelled") return "seal: bad status";
      s.status = status == "cancelled" ? population::seal_status::cancelled
                                       : population::seal_status::registered;
      r.seal = std::move(s);
    }
  } else if (kind == "household") {
    if (!read_string(fields, "household_id", r.household_id) ||
        !read_string(fields, "relationship", r.relationship)) {
      return "household: fields.household_id or relationship is missing";
    }
  } else if (kind == "tax") {
    const auto it = fields.find("tax");
    if (it == fields.end() || !it->is_object()) return "tax: fields.tax is missing";
    population::tax_record t;
    std::int64_t year = 0;
    if (!read_int(*it, "fiscal_year", year) || !read_int(*it, "income", t.income) ||
        !read_int(*it, "taxable_income", t.taxable_income) ||
        !read_int(*it, "municipal_tax", t.municipal_tax) ||
        !read_int(*it, "prefectural_tax", t.prefectural_tax)) {
      return "tax: fields.tax is incomplete";
    }
    t.fiscal_year = static_cast<std::int32_t>(year);
    r.tax = t;
  } else {
    return fmt::format("unknown change kind '{}'", kind);
  }
  return std::nullopt;
}

}  // namespace

std::uint64_t string_index::hash(std::string_view key) {
  return std::hash<std::string_view>{}(key)*0x9E3779B97F4A7C15ULL;
}

void string_index::place(std::uint64_t h, std::uint32_t entry) {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = static_cast<std::size_t>(h) & mask;
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = (h >> 32 << 32) | (std::uint64_t{entry} + 1);
}

bool string_index::insert(std::string_view key, std::uint32_t value) {
  if (find(key)) return false;
  if ((entries_.size() + 1) * 2 > slots_.size()) {
    slots_.assign(std::max<std::size_t>(64, slots_.size() * 2), 0);
    for (std::size_t e = 0; e < entries_.size(); ++e) {
      place(hash(entries_[e].first), static_cast<std::uint32_t>(e));
    }
  }
  entries_.emplace_back(std::string(key), value);
  place(hash(key), static_cast<std::uint32_t>(entries_.size() - 1));
  return true;
}

std::optional<std::uint32_t> string_index::find(std::string_view key) const {
  if (slots_.empty()) return std::nullopt;
  const std::uint64_t h = hash(key);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = static_cast<std::size_t>(h) & mask; slots_[i] != 0; i = (i + 1) & mask) {
    if ((slots_[i] >> 32) != (h >> 32)) continue;
    const auto& entry = entries_[(slots_[i] & 0xFFFFFFFFULL) - 1];
    if (entry.first == key) return entry.second;
  }
  return std::nullopt;
}

std::uint32_t resident_model::group_of(string_index& ids,
                                       std::vector<std::vector<std::uint32_t>>& groups,
                                       std::string_view id) {
  if (const auto g = ids.find(id)) return *g;
  const auto g = static_cast<std::uint32_t>(groups.size());
  ids.insert(id, g);
  groups.emplace_back();
  return g;
}

std::uint32_t resident_model::household_group_of(std::uint32_t r, const population::resident& rec,
                                                 bool head) {
  const auto group = group_of(household_ids_, households_, rec.household_id);
  auto& members = households_[group];
  if (std::find(members.begin(), members.end(), r) == members.end()) members.push_back(r);
  household_head_hint_.resize(households_.size(), no_resident);
  if (head) household_head_hint_[group] = r;
  return group;
}

resident_state resident_model::make_state(population::resident raw) const {
  resident_state s;
  s.head = raw.relationship == "世帯主";
  if (rendering_ == nullptr) {
    s.record = std::move(raw);
    return s;
  }
  s.record = rendering_->render(raw);
  s.head_name = rendering_->household_head(raw);
  s.raw = std::make_shared<const population::resident>(std::move(raw));
  return s;
}

resident_model::resident_model(std::vector<population::resident> population,
                               std::shared_ptr<const record_rendering> rendering)
    : rendering_(std::move(rendering)) {
  if (rendering_ != nullptr) {
    sex_words_ = {rendering_->sex(population::sex::male), rendering_->sex(population::sex::female)};
  }
  timelines_.resize(population.size());
  aborted_.resize(population.size());
  for (std::size_t i = 0; i < population.size(); ++i) {
    const auto r = static_cast<std::uint32_t>(i);
    by_resident_id_.insert(population[i].resident_id, r);
    by_card_.insert(population[i].card_serial, r);
    const auto koseki = group_of(koseki_ids_, koseki_, population[i].koseki_id);
    koseki_[koseki].push_back(r);
    koseki_group_.push_back(koseki);
    resident_state s = make_state(std::move(population[i]));
    s.household_group = household_group_of(r, s.record, s.head);
    timelines_[i].push_back(std::move(s));
    index_state(r, 0, false, nullptr);
  }
}

std::optional<std::uint32_t> resident_model::find_resident(std::string_view resident_id) const {
  return by_resident_id_.find(resident_id);
}

std::optional<std::uint32_t> resident_model::find_card(std::string_view card_serial) const {
  return by_card_.find(card_serial);
}

std::optional<std::string> resident_model::begin_update(std::uint32_t r, std::uint64_t update_id,
                                                        std::int64_t sent_ns, std::uint32_t version,
                                                        std::string_view kind,
                                                        const nlohmann::json& fields) {
  auto& tl = timelines_[r];
  population::resident raw = tl.back().raw ? *tl.back().raw : tl.back().record;
  if (auto err = apply_change(raw, kind, fields)) return err;
  raw.version = version;
  resident_state next = make_state(std::move(raw));
  next.sent_ns = sent_ns;
  next.acked_ns = time_max;
  next.update_id = update_id;
  next.change_kind = std::string(kind);
  next.state = update_state::pending;
  next.counter = -1;
  next.household_group = household_group_of(r, next.record, next.head);
  tl.push_back(std::move(next));
  index_state(r, static_cast<std::uint32_t>(tl.size() - 1), false, &tl[tl.size() - 2].record);
  return std::nullopt;
}

void resident_model::acknowledge(std::uint32_t r, std::uint64_t update_id, std::int64_t t) {
  for (auto& s : timelines_[r]) {
    if (s.update_id == update_id && s.state == update_state::pending) {
      s.acked_ns = t;
      s.state = update_state::acknowledged;
    }
  }
}

void resident_model::set_counter(std::uint32_t r, std::uint64_t update_id, std::uint32_t number) {
  for (auto& s : timelines_[r]) {
    if (s.update_id == update_id) s.counter = number;
  }
}

void resident_model::mark_unknown(std::uint32_t r, std::uint64_t update_id) {
  for (auto& s : timelines_[r]) {
    if (s.update_id == update_id && s.state == update_state::pending)
      s.state = update_state::unknown;
  }
}

void resident_model::fail(std::uint32_t r, std::uint64_t update_id, std::int64_t t) {
  auto& tl = timelines_[r];
  // The driver serialises updates per resident, so the failed change is the newest version.
  // Attribution entries point at timeline indices; moving a version to aborted_ re-indexes it.
  for (std::size_t i = tl.size(); i-- > 1;) {
    if (tl[i].update_id != update_id || tl[i].state != update_state::pending) continue;
    aborted_version a{std::move(tl[i].record), tl[i].sent_ns, t, update_id,
                      std::move(tl[i].change_kind)};
    tl.erase(tl.begin() + static_cast<std::ptrdiff_t>(i));
    // Only the keys of its own values can point at the erased version. Versions after it are
    // never produced by a serialised driver; if there are any, they move down one place.
    unindex(r, a.record, static_cast<std::uint32_t>(i));
    for (std::size_t later = i; later < tl.size(); ++later) {
      unindex(r, tl[later].record, static_cast<std::uint32_t>(later + 1));
      index_state(r, static_cast<std::uint32_t>(later), false, nullptr);
    }
    aborted_[r].push_back(std::move(a));
    const auto ai = static_cast<std::uint32_t>(aborted_[r].size() - 1);
    index_state(r, ai, true, nullptr);
  }
}

bool resident_model::has_pending_before(std::uint32_t r, std::int64_t t) const {
  const auto& tl = timelines_[r];
  for (std::size_t i = tl.size(); i-- > 1;) {
    if (tl[i].state == update_state::pending && tl[i].sent_ns < t) return true;
    if (tl[i].state != update_state::pending) break;  // serialised: older ones are settled
  }
  return false;
}

void resident_model::unindex(std::uint32_t r, const population::resident& rec,
                             std::uint32_t state) {
  const std::pair<value_kind, std::string> keys[] = {
      {value_kind::resident_id, rec.resident_id},
      {value_kind::name, name_key(rec.name)},
      {value_kind::address_token, rec.address.token},
      {value_kind::mynumber, rec.mynumber},
      {value_kind::seal, rec.seal ? rec.seal->image_sha256 : std::string()},
      {value_kind::tax, tax_key(rec.tax)}};
  for (const auto& [kind, value] : keys) {
    const auto it = index_.find(key_hash(kind, value));
    if (it == index_.end()) continue;
    std::erase_if(it->second, [&](const attribution& e) {
      return !e.aborted && e.resident == r && e.state == state;
    });
  }
}

version_window resident_model::window(std::uint32_t r, std::int64_t a, std::int64_t b,
                                      std::int64_t staleness_ns) const {
  // Version i may have been current at an instant t of the request iff it was applied before t
  // and its successor after t. The update producing i is applied after it was sent (s_i < t) and
  // i+1 is applied before it is acknowledged (t < c_{i+1}). Some t in (a, b) exists iff
  // s_i < b and c_{i+1} > a. Both times are taken outside the exchange (before the first byte,
  // after the last), so equal times order the events: an update acknowledged exactly at a was
  // applied before the request could be read, and one sent exactly at b arrived after the answer
  // was written. The staleness bound tolerates a replica that lags by up to that much: it moves a
  // back. Sends and acknowledgements increase along a timeline (updates are serialised per
  // resident), so both ends are found by binary search.
  const auto& tl = timelines_[r];
  const std::int64_t a_widened =
      (staleness_ns > 0 && a < time_min + staleness_ns) ? time_min : a - staleness_ns;
  // hi: last i with s_i < b (i = 0 always qualifies: the population version).
  const auto hi_it = std::partition_point(tl.begin() + 1, tl.end(),
                                          [&](const resident_state& s) { return s.sent_ns < b; });
  const auto hi = static_cast<std::uint32_t>(hi_it - tl.begin() - 1);
  // lo: first i whose successor was acknowledged after a (or has no successor).
  const auto succ_it = std::partition_point(
      tl.begin() + 1, tl.end(), [&](const resident_state& s) { return s.acked_ns <= a_widened; });
  auto lo = static_cast<std::uint32_t>(succ_it - tl.begin() - 1);
  if (lo > hi) lo = hi;  // only for a < b violated (clock error): keep the window non-empty
  return {lo, hi};
}

std::string resident_model::name_key(const population::person_name& n) {
  std::string k;
  k.reserve(n.family_kanji.size() + n.given_kanji.size() + n.family_kana.size() +
            n.given_kana.size() + 3);
  k += n.family_kanji;
  k += '\x1f';
  k += n.given_kanji;
  k += '\x1f';
  k += n.family_kana;
  k += '\x1f';
  k += n.given_kana;
  return k;
}

std::string resident_model::tax_key(const population::tax_record& t) {
  return fmt::format("{}|{}|{}|{}|{}", t.fiscal_year, t.income, t.taxable_income, t.municipal_tax,
                     t.prefectural_tax);
}

std::uint64_t resident_model::key_hash(value_kind kind, std::string_view value) {
  const std::uint64_t h = std::hash<std::string_view>{}(value);
  return h ^ (static_cast<std::uint64_t>(kind) * 0x9E3779B97F4A7C15ULL);
}

void resident_model::add_key(value_kind kind, std::string_view value, attribution where) {
  if (value.empty()) return;
  index_[key_hash(kind, value)].push_back(where);
}

void resident_model::index_state(std::uint32_t r, std::uint32_t state, bool is_aborted,
                                 const population::resident* previous) {
  const population::resident& rec =
      is_aborted ? aborted_[r][state].record : timelines_[r][state].record;
  const attribution where{r, state, is_aborted};
  // Only values that changed need a new entry for a timeline version; lookups walk the timeline
  // of each candidate resident anyway. Aborted versions are indexed whole.
  if (previous == nullptr || previous->resident_id != rec.resident_id) {
    add_key(value_kind::resident_id, rec.resident_id, where);
  }
  if (previous == nullptr || !(previous->name == rec.name)) {
    add_key(value_kind::name, name_key(rec.name), where);
  }
  if (previous == nullptr || previous->address.token != rec.address.token) {
    add_key(value_kind::address_token, rec.address.token, where);
  }
  if (previous == nullptr || previous->mynumber != rec.mynumber) {
    add_key(value_kind::mynumber, rec.mynumber, where);
  }
  if (rec.seal && (previous == nullptr || !previous->seal ||
                   previous->seal->image_sha256 != rec.seal->image_sha256)) {
    add_key(value_kind::seal, rec.seal->image_sha256, where);
  }
  if (previous == nullptr || !(previous->tax == rec.tax)) {
    add_key(value_kind::tax, tax_key(rec.tax), where);
  }
}

bool resident_model::value_matches(value_kind kind, std::string_view value,
                                   const attribution& a) const {
  const population::resident& rec =
      a.aborted ? aborted_[a.resident][a.state].record : timelines_[a.resident][a.state].record;
  switch (kind) {
    case value_kind::resident_id:
      return rec.resident_id == value;
    case value_kind::name:
      return name_key(rec.name) == value;
    case value_kind::address_token:
      return rec.address.token == value;
    case value_kind::mynumber:
      return rec.mynumber == value;
    case value_kind::seal:
      return rec.seal && rec.seal->image_sha256 == value;
    case value_kind::tax:
      return tax_key(rec.tax) == value;
  }
  return false;
}

std::vector<attribution> resident_model::attribute(value_kind kind, std::string_view value) const {
  std::vector<attribution> out;
  const auto it = index_.find(key_hash(kind, value));
  if (it == index_.end()) return out;
  for (const auto& first : it->second) {
    if (!value_matches(kind, value, first)) continue;
    if (first.aborted) {
      out.push_back(first);
      continue;
    }
    // The entry marks where the value appeared; it lasts until the value changes.
    const auto& tl = timelines_[first.resident];
    for (std::uint32_t s = first.state; s < tl.size(); ++s) {
      const attribution a{first.resident, s, false};
      if (!value_matches(kind, value, a)) break;
      out.push_back(a);
    }
  }
  std::sort(out.begin(), out.end(), [](const attribution& x, const attribution& y) {
    return std::tie(x.resident, x.aborted, x.state) < std::tie(y.resident, y.aborted, y.state);
  });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const attribution& x, const attribution& y) {
                          return x.resident == y.resident && x.aborted == y.aborted &&
                                 x.state == y.state;
                        }),
            out.end());
  return out;
}

const std::vector<std::uint32_t>& resident_model::household_members(
    std::string_view household_id) const {
  const auto g = household_ids_.find(household_id);
  return g ? households_[*g] : no_members;
}

const std::vector<std::uint32_t>& resident_model::koseki_members(std::string_view koseki_id) const {
  const auto g = koseki_ids_.find(koseki_id);
  return g ? koseki_[*g] : no_members;
}

}  // namespace kofu::verify
