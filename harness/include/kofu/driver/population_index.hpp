#pragma once
// The population as the driver needs it: residents by index, households and 戸籍 as index lists,
// and the hot set. Built once before the run; read-only afterwards, so every worker reads it
// without synchronisation.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kofu/population/resident.hpp"

namespace kofu::driver {

class population_index {
 public:
  // `hot_count` residents (at most all active ones) are drawn with `seed` for the hot set.
  population_index(std::vector<population::resident> residents, std::uint64_t hot_count,
                   std::uint64_t seed);

  const std::vector<population::resident>& residents() const { return residents_; }
  const population::resident& at(std::uint32_t index) const { return residents_[index]; }
  std::uint32_t size() const { return static_cast<std::uint32_t>(residents_.size()); }
  // Members (indices) of the household / 戸籍 of resident `index`, in file order.
  const std::vector<std::uint32_t>& household_of(std::uint32_t index) const;
  const std::vector<std::uint32_t>& koseki_of(std::uint32_t index) const;
  const std::vector<std::uint32_t>& hot() const { return hot_; }

 private:
  std::vector<population::resident> residents_;
  std::vector<std::vector<std::uint32_t>> households_;
  std::vector<std::vector<std::uint32_t>> koseki_;
  std::vector<std::uint32_t> household_slot_;  // resident -> households_ index
  std::vector<std::uint32_t> koseki_slot_;     // resident -> koseki_ index
  std::vector<std::uint32_t> hot_;
};

}  // namespace kofu::driver
