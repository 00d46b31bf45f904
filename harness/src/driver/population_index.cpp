#include "kofu/driver/population_index.hpp"

#include <algorithm>
#include <unordered_map>

namespace kofu::driver {

population_index::population_index(std::vector<population::resident> residents,
                                   std::uint64_t hot_count, std::uint64_t seed)
    : residents_(std::move(residents)) {
  std::unordered_map<std::string, std::uint32_t> household_ids;
  std::unordered_map<std::string, std::uint32_t> koseki_ids;
  household_slot_.resize(residents_.size());
  koseki_slot_.resize(residents_.size());
  for (std::uint32_t i = 0; i < residents_.size(); ++i) {
    const auto& r = residents_[i];
    auto [h, h_new] =
        household_ids.try_emplace(r.household_id, static_cast<std::uint32_t>(households_.size()));
    if (h_new) households_.emplace_back();
    households_[h->second].push_back(i);
    household_slot_[i] = h->second;
    auto [k, k_new] =
        koseki_ids.try_emplace(r.koseki_id, static_cast<std::uint32_t>(koseki_.size()));
    if (k_new) koseki_.emplace_back();
    koseki_[k->second].push_back(i);
    koseki_slot_[i] = k->second;
  }
  // The hot set: active residents, drawn without replacement (deterministic for the seed), so
  // every worker aims at the same few residents.
  std::vector<std::uint32_t> active;
  for (std::uint32_t i = 0; i < residents_.size(); ++i) {
    if (residents_[i].status == population::resident_status::active) active.push_back(i);
  }
  std::mt19937_64 rng(seed ^ 0x686f74ULL);
  const auto n = std::min<std::uint64_t>(hot_count, active.size());
  for (std::uint64_t k = 0; k < n; ++k) {
    std::uniform_int_distribution<std::size_t> pick(k, active.size() - 1);
    std::swap(active[k], active[pick(rng)]);
    hot_.push_back(active[k]);
  }
  if (hot_.empty() && !residents_.empty()) hot_.push_back(0);
}

const std::vector<std::uint32_t>& population_index::household_of(std::uint32_t index) const {
  return households_[household_slot_[index]];
}

const std::vector<std::uint32_t>& population_index::koseki_of(std::uint32_t index) const {
  return koseki_[koseki_slot_[index]];
}

}  // namespace kofu::driver
