#include "kofu/population/stats.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "kofu/common/sha256.hpp"
#include "kofu/population/reader.hpp"

namespace kofu::population {
namespace {

bool contains_confusable(std::string_view s) {
  static constexpr std::array<std::string_view, 5> characters{"髙", "﨑", "邊", "邉", "\U00020BB7"};
  for (auto c : characters) {
    if (s.find(c) != std::string_view::npos) return true;
  }
  // Variation selectors: VS1–16 (U+FE00–FE0F, UTF-8 EF B8 80–8F) and VS17–256
  // (U+E0100–E01EF, UTF-8 F3 A0 84 80 – F3 A0 87 AF).
  for (std::size_t i = 0; i + 2 < s.size(); ++i) {
    const auto b0 = static_cast<unsigned char>(s[i]), b1 = static_cast<unsigned char>(s[i + 1]),
               b2 = static_cast<unsigned char>(s[i + 2]);
    if (b0 == 0xEF && b1 == 0xB8 && b2 >= 0x80 && b2 <= 0x8F) return true;
    if (b0 == 0xF3 && b1 == 0xA0 && b2 >= 0x84 && b2 <= 0x87) return true;
  }
  return false;
}

}  // namespace

bool has_confusable_character(const person_name& name) {
  return contains_confusable(name.family_kanji) || contains_confusable(name.given_kanji);
}

result<population_stats> compute_stats(const std::filesystem::path& path) {
  // Validation first (uniqueness and household rules need the whole file), then the counts.
  auto residents = load_file(path);
  if (!residents) return residents.error();
  population_stats s;
  std::unordered_map<std::string, std::uint64_t> household_size;
  std::unordered_map<std::string, std::unordered_set<std::string>> koseki_households;
  for (const resident& r : *residents) {
    ++s.residents;
    ++household_size[r.household_id];
    koseki_households[r.koseki_id].insert(r.household_id);
    (r.sex == sex::male ? s.male : s.female)++;
    const int age =
        2026 - std::stoi(r.birth_date.substr(0, 4)) - (r.birth_date.substr(5) > "04-01" ? 1 : 0);
    s.age_decades[static_cast<std::size_t>(std::clamp(age / 10, 0, 10))]++;
    if (!r.seal) {
      ++s.without_seal;
    } else if (r.seal->status == seal_status::registered) {
      ++s.seals_registered;
    } else {
      ++s.seals_cancelled;
    }
    if (r.status == resident_status::removed) ++s.removed;
    if (has_confusable_character(r.name)) ++s.confusable_names;
  }
  s.households = household_size.size();
  for (const auto& [id, size] : household_size) s.household_sizes[size]++;
  s.koseki = koseki_households.size();
  for (const auto& [id, households] : koseki_households) {
    if (households.size() > 1) ++s.koseki_spanning_households;
  }
  // The digest of the bytes, for the history header and the report.
  std::ifstream in(path, std::ios::binary);
  sha256_hasher hasher;
  std::string chunk(1 << 16, '\0');
  while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0) {
    hasher.update(std::string_view(chunk.data(), static_cast<std::size_t>(in.gcount())));
  }
  s.sha256 = to_hex(hasher.finish());
  return s;
}

std::string format_stats(const population_stats& s) {
  auto pct = [&](std::uint64_t n) {
    return s.residents == 0 ? 0.0
                            : 100.0 * static_cast<double>(n) / static_cast<double>(s.residents);
  };
  std::string out;
  auto line = [&](std::string_view label, std::uint64_t n, bool share = true) {
    if (share) {
      fmt::format_to(std::back_inserter(out), "  {:<36}{:>10}  ({:.1f}%)\n", label, n, pct(n));
    } else {
      fmt::format_to(std::back_inserter(out), "  {:<36}{:>10}\n", label, n);
    }
  };
  out += "population\n";
  line("residents (住民)", s.residents, false);
  line("households (世帯)", s.households, false);
  line("koseki (戸籍)", s.koseki, false);
  line("koseki spanning households", s.koseki_spanning_households, false);
  line("male", s.male);
  line("female", s.female);
  line("seal registered (印鑑登録)", s.seals_registered);
  line("seal cancelled (廃止)", s.seals_cancelled);
  line("no seal registration", s.without_seal);
  line("removed (消除)", s.removed);
  line("confusable or variant names (異体字)", s.confusable_names);
  out += "household sizes\n";
  for (const auto& [size, count] : s.household_sizes) {
    line(fmt::format("{} person{}", size, size == 1 ? "" : "s"), count, false);
  }
  out += "ages\n";
  for (std::size_t d = 0; d < s.age_decades.size(); ++d) {
    line(d == 10 ? std::string("100+") : fmt::format("{}–{}", d * 10, d * 10 + 9),
         s.age_decades[d]);
  }
  fmt::format_to(std::back_inserter(out), "sha256 {}\n", s.sha256);
  return out;
}

std::string stats_to_json(const population_stats& s) {
  nlohmann::json j;
  j["residents"] = s.residents;
  j["households"] = s.households;
  j["koseki"] = s.koseki;
  j["koseki_spanning_households"] = s.koseki_spanning_households;
  j["male"] = s.male;
  j["female"] = s.female;
  j["seals_registered"] = s.seals_registered;
  j["seals_cancelled"] = s.seals_cancelled;
  j["without_seal"] = s.without_seal;
  j["removed"] = s.removed;
  j["confusable_names"] = s.confusable_names;
  nlohmann::json sizes = nlohmann::json::object();
  for (const auto& [size, count] : s.household_sizes) sizes[std::to_string(size)] = count;
  j["household_sizes"] = sizes;
  j["age_decades"] = s.age_decades;
  j["sha256"] = s.sha256;
  return j.dump(2);
}

}  // namespace kofu::population
