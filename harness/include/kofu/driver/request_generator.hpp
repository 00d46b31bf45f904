#pragma once
// Chooses what to ask for: the certificate mix, channels and options, and the concentration that
// makes swaps possible — a share of requests on a small hot set, and groups of requests at the
// same instant for members of one household or 戸籍 through different channels (conditions ①③④).
// Deterministic for (scenario seed, worker). Not thread-safe: one per worker.

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "kofu/driver/population_index.hpp"
#include "kofu/scenario/scenario.hpp"

namespace kofu::driver {

struct issue_options {
  bool household_scope = false;  // scope: "household" (住民票 only)
  bool honseki = false;
  bool zokugara = false;
  bool mynumber = false;
};

struct issue_request {
  std::uint32_t resident = 0;  // index into the population
  scenario::certificate_type type = scenario::certificate_type::juminhyo;
  scenario::channel channel = scenario::channel::konbini;
  issue_options options;
};

// What a group's members have in common: one household (住民票 of a family) or one 戸籍.
enum class group_kind : std::uint8_t { household, koseki };

class request_generator {
 public:
  request_generator(const scenario::scenario& sc, const population_index& population,
                    std::uint64_t worker);

  // One request (closed model, or an open-model arrival that is not a group).
  issue_request next_single();
  // An arrival: one request, or (with probability group_share) a group of group_size requests
  // meant to be sent at the same instant. Replaces the contents of `out`; returns the group's
  // kind, nullopt for a single request.
  std::optional<group_kind> next_arrival(std::vector<issue_request>& out);
  // Whether the next arrival is a group (true with probability group_share).
  bool next_is_group();
  // A group of `size` requests for members of one household or 戸籍 through different channels,
  // meant to be sent at the same instant (the closed model sizes it to its users). Replaces `out`;
  // returns the group's kind.
  group_kind next_group(std::vector<issue_request>& out, unsigned size);

 private:
  std::uint32_t pick_resident();
  issue_request make(std::uint32_t resident, scenario::channel ch);

  const scenario::scenario& scenario_;
  const population_index& population_;
  std::mt19937_64 rng_;
  std::discrete_distribution<std::size_t> types_;
  std::discrete_distribution<std::size_t> channels_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
  std::vector<scenario::channel> enabled_channels_;  // weight > 0, for groups
  // The 戸籍 types of the mix (weight > 0), which a 戸籍 group asks for in turn.
  std::vector<scenario::certificate_type> koseki_types_;
};

}  // namespace kofu::driver
