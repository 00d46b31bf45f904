#include "kofu/driver/update_generator.hpp"

#include <chrono>

#include <fmt/format.h>

#include "kofu/common/sha256.hpp"
// The population's seal image maker (a private header of the population concern): a new seal
// registration gets a new impression made the same way as the generator's. See the report to the
// lead: this could become a public population API.
#include "kofu/population/seal_image.hpp"

namespace kofu::driver {
namespace {

constexpr char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ULL;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x;
}

std::string base64(const std::string& bytes) {
  static constexpr char table[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto v = (static_cast<unsigned>(static_cast<unsigned char>(bytes[i])) << 16) |
                   (static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                   static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 2]));
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += table[v & 63];
  }
  if (i < bytes.size()) {
    auto v = static_cast<unsigned>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size())
      v |= static_cast<unsigned>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? table[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Names after a change (改姓・改名): synthetic, and unique in the run — the run-wide counter is
// spelled in a 32-character alphabet, so a printed name points at exactly one version.
constexpr const char* kanji_digits[32] = {
    "桜", "梅", "松", "竹", "菊", "藤", "萩", "桐", "楓", "椿", "柳", "杉", "桂", "榊", "楠", "柏",
    "葵", "蓮", "菫", "蘭", "橘", "柚", "棗", "桃", "杏", "梨", "栗", "柿", "椎", "樫", "槙", "樺"};
constexpr const char* kana_digits[32] = {
    "サ", "ウ", "マ", "タ", "キ", "フ", "ハ", "リ", "カ", "ツ", "ヤ", "ス", "ケ", "ミ", "ク", "シ",
    "ア", "レ", "ス", "ラ", "ト", "ユ", "ナ", "モ", "ン", "ノ", "ル", "ヨ", "イ", "オ", "ホ", "ヒ"};

std::string spell(std::uint64_t value, const char* const* digits, int count) {
  std::string out;
  for (int i = count - 1; i >= 0; --i) out += digits[(value >> (5 * i)) & 31];
  return out;
}

constexpr const char* towns[] = {"新町",   "旭町", "若葉台", "緑ヶ丘",
                                 "青葉町", "港町", "栄町",   "本町"};
constexpr const char* chome[] = {"一", "二", "三", "四", "五"};
constexpr const char* given_kanji[] = {"翔", "陽菜", "蓮", "結衣", "湊", "葵", "樹", "凛"};
constexpr const char* given_kana[] = {"ショウ", "ヒナ",   "レン",   "ユイ",
                                      "ミナト", "アオイ", "イツキ", "リン"};

std::string today_utc() {
  const auto now = std::chrono::system_clock::now();
  const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(now)};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

}  // namespace

std::string update_generator::move_token(std::uint64_t counter, std::uint64_t seed) {
  // 'M' + 9 characters of a 45-bit bijection of the counter: distinct counters, distinct tokens;
  // never 'A', so never a token the population generator made.
  constexpr std::uint64_t mask = (std::uint64_t{1} << 45) - 1;
  const std::uint64_t value = ((counter & mask) * 0x2545F491ULL + (mix64(seed) & mask)) & mask;
  std::string token(10, 'M');
  for (int i = 0; i < 9; ++i) {
    token[static_cast<std::size_t>(9 - i)] = crockford[(value >> (5 * i)) & 31];
  }
  return token;
}

update_generator::update_generator(const scenario::scenario& sc, const population_index& population)
    : scenario_(sc),
      population_(population),
      state_(population.size()),
      rng_(sc.seed * 0xD1B54A32D192ED03ULL + 0x75706461ULL),
      kinds_(sc.updates.kinds.begin(), sc.updates.kinds.end()),
      today_(today_utc()) {
  for (std::uint32_t i = 0; i < population.size(); ++i) {
    state_[i].version = population.at(i).version;
    state_[i].seal = population.at(i).seal;
  }
}

std::optional<std::uint32_t> update_generator::pick_free(bool hot) {
  auto usable = [&](std::uint32_t i) {
    const auto& s = state_[i];
    return !s.in_flight && !s.retired &&
           population_.at(i).status == population::resident_status::active;
  };
  if (hot) {
    const auto& set = population_.hot();
    std::uniform_int_distribution<std::size_t> pick(0, set.size() - 1);
    for (int tries = 0; tries < 8; ++tries) {
      const auto i = set[pick(rng_)];
      if (usable(i)) return i;
    }
  }
  std::uniform_int_distribution<std::uint32_t> pick(0, population_.size() - 1);
  for (int tries = 0; tries < 64; ++tries) {
    const auto i = pick(rng_);
    if (usable(i)) return i;
  }
  return std::nullopt;
}

nlohmann::json update_generator::move_fields() {
  const auto n = counter_++;
  const std::string token = move_token(n, scenario_.seed);
  const auto h = mix64(n ^ scenario_.seed);
  return {{"address",
           {{"postal_code", fmt::format("{:03}-{:04}", 100 + h % 900, (h >> 10) % 10000)},
            {"prefecture", "東京都"},
            {"city", "架空市"},
            {"town", fmt::format("{}{}丁目", towns[(h >> 24) % 8], chome[(h >> 28) % 5])},
            {"banchi", fmt::format("{}番地{}", 1 + (h >> 32) % 40, 1 + (h >> 40) % 20)},
            {"building", fmt::format("転居荘 {}", token)},
            {"token", token}}},
          {"moved_in_date", today_}};
}

nlohmann::json update_generator::name_fields() {
  const auto n = counter_++;
  const auto h = mix64(n + 7);
  return {{"name",
           {{"family_kanji", spell(n, kanji_digits, 4)},
            {"given_kanji", given_kanji[h % 8]},
            {"family_kana", spell(n, kana_digits, 4)},
            {"given_kana", given_kana[h % 8]}}}};
}

nlohmann::json update_generator::seal_fields(resident_state& state) {
  const bool registered = state.seal && state.seal->status == population::seal_status::registered;
  population::seal_registration next;
  if (registered && unit_(rng_) < scenario_.updates.seal_cancel_share) {
    next = *state.seal;
    next.status = population::seal_status::cancelled;  // 廃止: must never be certified again
  } else {
    const auto n = counter_++;
    const std::string png = population::seal_png(mix64(n ^ scenario_.seed), (1ULL << 40) + n);
    next.registration_number = fmt::format("IU{:08}", n % 100000000);
    next.status = population::seal_status::registered;
    next.image_png_base64 = base64(png);
    next.image_sha256 = sha256_hex(png);
  }
  return {{"seal",
           {{"registration_number", next.registration_number},
            {"status", std::string(population::to_string(next.status))},
            {"image_png_base64", next.image_png_base64},
            {"image_sha256", next.image_sha256}}}};
}

nlohmann::json update_generator::household_fields() {
  const auto n = counter_++;
  // 'H9' + 8 digits: a new household of one (世帯分離); the generator's ids never reach 9xxxxxxxx.
  return {{"household_id", fmt::format("H9{:08}", n % 100000000)}, {"relationship", "世帯主"}};
}

nlohmann::json update_generator::tax_fields(const population::resident& r) {
  const auto n = counter_++;
  // Above 1億 yen, which generated incomes never reach; the counter makes it unique in the run and
  // the last three digits stay the resident's own (docs/population.md).
  const std::int64_t income =
      100'000'000 + static_cast<std::int64_t>(n) * 1000 + r.tax.income % 1000;
  const std::int64_t taxable = income * 7 / 10;
  return {{"tax",
           {{"fiscal_year", r.tax.fiscal_year},
            {"income", income},
            {"taxable_income", taxable},
            {"municipal_tax", taxable * 6 / 100},
            {"prefectural_tax", taxable * 4 / 100}}}};
}

change update_generator::make(std::uint32_t resident) {
  auto& s = state_[resident];
  change c;
  c.resident = resident;
  c.kind = static_cast<scenario::update_kind>(kinds_(rng_));
  c.change_id = ++s.last_change_id;
  c.version = s.version + 1;
  switch (c.kind) {
    case scenario::update_kind::move:
      c.fields = move_fields();
      break;
    case scenario::update_kind::name:
      c.fields = name_fields();
      break;
    case scenario::update_kind::seal:
      c.fields = seal_fields(s);
      break;
    case scenario::update_kind::household:
      c.fields = household_fields();
      break;
    case scenario::update_kind::tax:
      c.fields = tax_fields(population_.at(resident));
      break;
  }
  s.in_flight = true;
  return c;
}

std::optional<change> update_generator::next() {
  const bool hot = unit_(rng_) < scenario_.updates.hot_share;
  const auto resident = pick_free(hot);
  if (!resident) return std::nullopt;
  return make(*resident);
}

std::vector<change> update_generator::next_batch(std::uint32_t size) {
  std::vector<change> out;
  for (std::uint32_t k = 0; k < size; ++k) {
    const auto resident = pick_free(unit_(rng_) < scenario_.updates.hot_share);
    if (!resident) break;
    out.push_back(make(*resident));
  }
  return out;
}

void update_generator::finish(const change& c, change_outcome outcome,
                              std::optional<std::uint32_t> new_version) {
  auto& s = state_[c.resident];
  s.in_flight = false;
  switch (outcome) {
    case change_outcome::ok:
      s.version = new_version.value_or(c.version);
      if (c.kind == scenario::update_kind::seal) {
        const auto& f = c.fields.at("seal");
        population::seal_registration seal;
        seal.registration_number = f.at("registration_number").get<std::string>();
        seal.status = f.at("status") == "cancelled" ? population::seal_status::cancelled
                                                    : population::seal_status::registered;
        seal.image_png_base64 = f.at("image_png_base64").get<std::string>();
        seal.image_sha256 = f.at("image_sha256").get<std::string>();
        s.seal = std::move(seal);
      }
      break;
    case change_outcome::failed:
      break;  // aborted: the version stays; the change_id is spent
    case change_outcome::unknown:
      s.retired = true;  // its version may surface at any later time (DESIGN §7)
      ++retired_count_;
      break;
  }
}

}  // namespace kofu::driver
