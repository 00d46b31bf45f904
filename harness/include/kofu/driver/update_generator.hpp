#pragma once
// The update stream's values and bookkeeping (DESIGN §7): updates are serialised per resident
// (never two in flight for one resident, so version k+1 always follows k), every version's values
// are unique in the run and traceable (a move's address token starts with a letter other than 'A'
// — 'M' — and is never reused; new names, seal numbers, household ids and incomes carry a run-wide
// counter), and a resident whose update had an unknown outcome is retired from further updates.
// Deterministic for the seed. Not thread-safe: owned by the updater's thread.

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kofu/driver/population_index.hpp"
#include "kofu/scenario/scenario.hpp"

namespace kofu::driver {

struct change {
  std::uint32_t resident = 0;
  std::uint64_t change_id = 0;
  std::uint32_t version = 0;  // the version this change produces if it succeeds
  scenario::update_kind kind = scenario::update_kind::move;
  nlohmann::json fields;
};

enum class change_outcome { ok, failed, unknown };

class update_generator {
 public:
  update_generator(const scenario::scenario& sc, const population_index& population);

  // A change for a resident with no update in flight and not retired (hot set with
  // updates.hot_share); nullopt when none is free. Marks the resident in flight.
  std::optional<change> next();
  // Up to `size` changes for distinct free residents (a reflection batch).
  std::vector<change> next_batch(std::uint32_t size);
  // Records the outcome and frees the resident (`unknown` retires it for the rest of the run).
  void finish(const change& c, change_outcome outcome, std::optional<std::uint32_t> new_version);

  std::uint64_t retired() const { return retired_count_; }

  // Exposed for tests: the k-th move token of a run with `seed` ('M' + 9 Crockford base32).
  static std::string move_token(std::uint64_t counter, std::uint64_t seed);

 private:
  struct resident_state {
    std::uint32_t version = 1;
    std::uint64_t last_change_id = 0;
    bool in_flight = false;
    bool retired = false;
    std::optional<population::seal_registration> seal;
    nlohmann::json tax;
  };
  std::optional<std::uint32_t> pick_free(bool hot);
  change make(std::uint32_t resident);
  nlohmann::json move_fields();
  nlohmann::json name_fields();
  nlohmann::json seal_fields(resident_state& state);
  nlohmann::json household_fields();
  nlohmann::json tax_fields(const population::resident& r);

  const scenario::scenario& scenario_;
  const population_index& population_;
  std::vector<resident_state> state_;
  std::mt19937_64 rng_;
  std::discrete_distribution<std::size_t> kinds_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
  std::uint64_t counter_ = 0;  // run-wide: makes every new value unique
  std::uint64_t retired_count_ = 0;
  std::string today_;
};

}  // namespace kofu::driver
