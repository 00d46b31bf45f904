#pragma once
// Counts that describe a population file (`kofu population stats FILE`), computed while reading
// it with full validation (load_file rules: uniqueness, households, tokens).

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "kofu/common/error.hpp"
#include "kofu/population/resident.hpp"

namespace kofu::population {

struct population_stats {
  std::uint64_t residents = 0;
  std::uint64_t households = 0;
  std::uint64_t koseki = 0;
  std::uint64_t koseki_spanning_households = 0;  // 戸籍 whose members live in 2+ households
  std::map<std::uint64_t, std::uint64_t> household_sizes;  // size -> households
  std::uint64_t male = 0;
  std::uint64_t female = 0;
  std::array<std::uint64_t, 11> age_decades{};  // 0–9, 10–19, …, 100+ (ages at 2026-04-01)
  std::uint64_t seals_registered = 0;
  std::uint64_t seals_cancelled = 0;
  std::uint64_t without_seal = 0;
  std::uint64_t removed = 0;
  std::uint64_t confusable_names = 0;  // names with a character of confusable_characters()
  std::string sha256;                  // of the file's bytes
};

// True when the name contains a character that is easy to confuse or normalise wrongly
// (髙 﨑 邊 邉 𠮷, or any variation selector).
bool has_confusable_character(const person_name& name);

// Reads and validates the whole file (load_file); the first problem is returned as an error.
result<population_stats> compute_stats(const std::filesystem::path& path);

// Human-readable table and JSON forms.
std::string format_stats(const population_stats& s);
std::string stats_to_json(const population_stats& s);

}  // namespace kofu::population
