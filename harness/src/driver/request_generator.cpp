#include "kofu/driver/request_generator.hpp"

namespace kofu::driver {

request_generator::request_generator(const scenario::scenario& sc,
                                     const population_index& population, std::uint64_t worker)
    : scenario_(sc),
      population_(population),
      rng_(sc.seed * 0x9E3779B97F4A7C15ULL + worker * 0xBF58476D1CE4E5B9ULL + 1),
      types_(sc.mix.certificate_types.begin(), sc.mix.certificate_types.end()),
      channels_(sc.mix.channels.begin(), sc.mix.channels.end()) {
  for (std::size_t i = 0; i < scenario::channel_count; ++i) {
    if (sc.mix.channels[i] > 0) enabled_channels_.push_back(static_cast<scenario::channel>(i));
  }
  for (const auto type :
       {scenario::certificate_type::koseki_zenbu, scenario::certificate_type::koseki_kojin,
        scenario::certificate_type::koseki_fuhyo}) {
    if (sc.mix.certificate_types[static_cast<std::size_t>(type)] > 0) koseki_types_.push_back(type);
  }
}

std::uint32_t request_generator::pick_resident() {
  const auto& hot = population_.hot();
  if (!hot.empty() && unit_(rng_) < scenario_.concentration.hot_share) {
    std::uniform_int_distribution<std::size_t> pick(0, hot.size() - 1);
    return hot[pick(rng_)];
  }
  std::uniform_int_distribution<std::uint32_t> pick(0, population_.size() - 1);
  return pick(rng_);
}

issue_request request_generator::make(std::uint32_t resident, scenario::channel ch) {
  issue_request r;
  r.resident = resident;
  r.type = static_cast<scenario::certificate_type>(types_(rng_));
  r.channel = ch;
  if (r.type == scenario::certificate_type::juminhyo) {
    r.options.household_scope = unit_(rng_) < scenario_.mix.household_scope_share;
    r.options.honseki = unit_(rng_) < scenario_.mix.honseki_share;
    r.options.zokugara = unit_(rng_) < scenario_.mix.zokugara_share;
    r.options.mynumber = unit_(rng_) < scenario_.mix.mynumber_share;
  }
  return r;
}

issue_request request_generator::next_single() {
  const auto resident = pick_resident();
  return make(resident, static_cast<scenario::channel>(channels_(rng_)));
}

std::optional<group_kind> request_generator::next_arrival(std::vector<issue_request>& out) {
  out.clear();
  if (!next_is_group()) {
    out.push_back(next_single());
    return std::nullopt;
  }
  return next_group(out, scenario_.concentration.group_size);
}

bool request_generator::next_is_group() {
  return unit_(rng_) < scenario_.concentration.group_share;
}

group_kind request_generator::next_group(std::vector<issue_request>& out, unsigned size) {
  out.clear();
  // A group: members of the anchor's household or 戸籍, each through the next channel in turn,
  // so that window and store requests meet (④) and 戸籍 requests collide in the linkage (③).
  // A group larger than the family asks again for the same members on other channels.
  const auto anchor = pick_resident();
  const bool by_koseki = unit_(rng_) < 0.5;
  const auto& members =
      by_koseki ? population_.koseki_of(anchor) : population_.household_of(anchor);
  std::uniform_int_distribution<std::size_t> pick_channel(0, enabled_channels_.size() - 1);
  const auto first_channel = pick_channel(rng_);
  for (unsigned k = 0; k < size; ++k) {
    const auto ch = enabled_channels_[(first_channel + k) % enabled_channels_.size()];
    auto r = make(members[k % members.size()], ch);
    // Only types of the mix: a vendor that does not offer a type is never asked for it.
    if (by_koseki && !koseki_types_.empty() && unit_(rng_) < 0.7) {
      r.type = koseki_types_[k % koseki_types_.size()];
      r.options = {};
    }
    out.push_back(r);
  }
  return by_koseki ? group_kind::koseki : group_kind::household;
}

}  // namespace kofu::driver
