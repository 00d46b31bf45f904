#include "kofu/population/generator.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "kofu/common/sha256.hpp"
#include "kofu/population/seal_image.hpp"
#include "name_tables.hpp"
#include "population/json_text.hpp"

namespace kofu::population {
namespace {

__extension__ typedef unsigned __int128 uint128;  // GCC/Clang; __extension__ keeps -Wpedantic quiet

// ---- Deterministic randomness -------------------------------------------------------------
// std::mt19937 is portable but its distributions are not; we use splitmix64 to seed and
// xoshiro256** to draw, with our own range reduction, so the bytes never depend on the library.

constexpr std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// The splitmix64 finaliser: a bijection on 64-bit values.
constexpr std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class rng {
 public:
  rng(std::uint64_t seed, std::uint64_t stream) {
    std::uint64_t s = seed ^ mix64(stream + 0x5DEECE66DULL);
    for (auto& word : state_) word = splitmix64(s);
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }
  // Uniform in [0, n) (n > 0), by Lemire's multiply-shift; the tiny bias is irrelevant here and
  // keeps exactly one draw per call, which keeps the stream easy to reason about.
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<uint128>(next()) * n) >> 64);
  }
  int between(int lo, int hi) {  // inclusive
    return lo + static_cast<int>(below(static_cast<std::uint64_t>(hi - lo + 1)));
  }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }
  template <class Array>
  const auto& pick(const Array& items) {
    return items[static_cast<std::size_t>(below(items.size()))];
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> state_{};
};

// ---- Identifiers: bijections of the resident's index, so unique without looking sequential --

constexpr std::uint64_t pow10(int n) {
  std::uint64_t r = 1;
  for (int i = 0; i < n; ++i) r *= 10;
  return r;
}

// x -> (x * multiplier + offset) mod 10^digits is a bijection when multiplier is coprime to 10.
std::uint64_t decimal_bijection(std::uint64_t index, std::uint64_t seed, int digits,
                                std::uint64_t multiplier) {
  const std::uint64_t modulus = pow10(digits);
  const std::uint64_t offset = mix64(seed ^ multiplier) % modulus;
  return static_cast<std::uint64_t>((static_cast<uint128>(index % modulus) * multiplier + offset) %
                                    modulus);
}

std::string digits_of(std::uint64_t value, int width) {
  return fmt::format("{:0{}}", value, width);
}

// 住民票コード-like check digit: weights 2..7 repeating from the right, modulus 11.
char resident_check_digit(const std::string& body) {
  int sum = 0, weight = 2;
  for (auto it = body.rbegin(); it != body.rend(); ++it) {
    sum += (*it - '0') * weight;
    weight = weight == 7 ? 2 : weight + 1;
  }
  const int r = sum % 11;
  return static_cast<char>('0' + (r <= 1 ? 0 : 11 - r));
}

// The My Number check digit (個人番号の検査用数字): Qn = n+1 (n ≤ 6), n−5 (n ≥ 7), from the right.
char mynumber_check_digit(const std::string& body) {
  int sum = 0, n = 1;
  for (auto it = body.rbegin(); it != body.rend(); ++it, ++n) {
    sum += (*it - '0') * (n <= 6 ? n + 1 : n - 5);
  }
  const int r = sum % 11;
  return static_cast<char>('0' + (r <= 1 ? 0 : 11 - r));
}

// 'A' + 9 Crockford base32 characters of a 45-bit bijection of the household's index.
std::string address_token(std::uint64_t household_index, std::uint64_t seed) {
  static constexpr char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  constexpr std::uint64_t mask = (1ULL << 45) - 1;
  const std::uint64_t value =
      ((household_index & mask) * 0x1D872B41ULL + (mix64(seed) & mask)) & mask;  // odd multiplier
  std::string token(10, 'A');
  for (int i = 0; i < 9; ++i) {
    token[static_cast<std::size_t>(9 - i)] = alphabet[(value >> (5 * i)) & 31];
  }
  return token;
}

// ---- Dates -----------------------------------------------------------------------------------

// Ages are counted at this fixed reference date, not today, so that the file never depends on
// when it was generated.
constexpr int reference_year = 2026;

struct date {
  int year, month, day;
};

int days_in_month(int year, int month) {
  static constexpr std::array<int, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[static_cast<std::size_t>(month - 1)];
}

date random_date_in_year(rng& r, int year) {
  const int month = r.between(1, 12);
  return {year, month, r.between(1, days_in_month(year, month))};
}

std::string format_date(const date& d) {
  return fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day);
}

bool before(const date& a, const date& b) {
  return std::tie(a.year, a.month, a.day) < std::tie(b.year, b.month, b.day);
}

// Adult ages with roughly the shape of Japan's pyramid (more people in their 40s–70s).
int adult_age(rng& r) {
  static constexpr std::array<std::pair<int, int>, 8> bands{
      {{20, 29}, {30, 39}, {40, 49}, {50, 59}, {60, 69}, {70, 79}, {80, 89}, {90, 99}}};
  static constexpr std::array<int, 8> weights{11, 13, 17, 16, 14, 15, 9, 2};
  int total = 0;
  for (int w : weights) total += w;
  int x = static_cast<int>(r.below(static_cast<std::uint64_t>(total)));
  for (std::size_t i = 0; i < bands.size(); ++i) {
    if (x < weights[i]) return r.between(bands[i].first, bands[i].second);
    x -= weights[i];
  }
  return 45;
}

// ---- One group: a 戸籍 and the one to three households its members live in -------------------

struct person_plan {
  population::sex sex = sex::male;
  int age = 0;
  std::string relationship;         // 続柄 in the household
  std::string koseki_relationship;  // 続柄 in the 戸籍
  int household = 0;                // 0: the main household; 1, 2, …: adult children living alone
  int koseki = 0;                   // 0: the group's 戸籍, 1: the grandparent's
};

std::string child_koseki_relationship(population::sex s, int order) {
  static constexpr std::array<std::string_view, 3> sons{"長男", "二男", "三男"};
  static constexpr std::array<std::string_view, 3> daughters{"長女", "二女", "三女"};
  if (order >= 3) return "子";
  return std::string(s == sex::male ? sons[static_cast<std::size_t>(order)]
                                    : daughters[static_cast<std::size_t>(order)]);
}

std::vector<person_plan> plan_group(rng& r) {
  std::vector<person_plan> plan;
  const std::uint64_t kind = r.below(100);
  if (kind < 32) {  // one adult living alone, head of a 戸籍 of their own (分籍)
    person_plan p;
    p.sex = r.chance(0.5) ? sex::male : sex::female;
    p.age = adult_age(r);
    p.relationship = "世帯主";
    p.koseki_relationship = child_koseki_relationship(p.sex, r.chance(0.6) ? 0 : 1);
    plan.push_back(p);
    return plan;
  }
  const bool single_parent = kind >= 88;
  person_plan head;
  head.sex = single_parent && r.chance(0.8) ? sex::female : sex::male;
  head.age = std::max(24, adult_age(r));
  head.relationship = "世帯主";
  head.koseki_relationship = single_parent ? child_koseki_relationship(head.sex, 0) : "夫";
  plan.push_back(head);
  if (!single_parent) {
    person_plan spouse;
    spouse.sex = sex::female;
    spouse.age = std::clamp(head.age + r.between(-6, 3), 20, 99);
    spouse.relationship = "妻";
    spouse.koseki_relationship = "妻";
    plan.push_back(spouse);
  }
  const int max_children = kind < 50 ? 0 : (kind < 96 ? 3 : 4);
  const int children = max_children == 0 ? 0 : r.between(1, max_children);
  int sons = 0, daughters = 0, living_alone = 0;
  for (int c = 0; c < children; ++c) {
    person_plan child;
    child.sex = r.chance(0.51) ? sex::male : sex::female;
    child.age = head.age - r.between(24, 40) - c;
    if (child.age < 0) break;
    child.relationship = "子";
    child.koseki_relationship =
        child_koseki_relationship(child.sex, child.sex == sex::male ? sons++ : daughters++);
    // An adult unmarried child may live alone yet stays in the parents' 戸籍: 戸籍 span households.
    if (child.age >= 20 && r.chance(0.35)) {
      child.household = ++living_alone;
      child.relationship = "世帯主";
    }
    plan.push_back(child);
  }
  // Three generations under one roof: the head's parent, in a 戸籍 of their own.
  if (!single_parent && kind % 7 == 0 && head.age <= 65) {
    person_plan elder;
    elder.sex = r.chance(0.7) ? sex::female : sex::male;
    elder.age = std::min(99, head.age + r.between(24, 34));
    elder.relationship = elder.sex == sex::female ? "母" : "父";
    elder.koseki_relationship = elder.sex == sex::female ? "妻" : "夫";
    elder.koseki = 1;
    plan.push_back(elder);
  }
  // A grandchild living with the grandparents (the child's 戸籍 is elsewhere; we keep it in the
  // group's for simplicity of the model): rare.
  return plan;
}

std::string make_address_town(rng& r) {
  return std::string(r.pick(tables::town_roots)) + std::string(r.pick(tables::chome));
}

address make_address(rng& r, std::uint64_t household_index, std::uint64_t seed) {
  address a;
  a.postal_code = fmt::format("{:03}-{:04}", r.between(0, 999), r.between(0, 9999));
  a.prefecture = r.pick(tables::prefectures);
  a.city = r.pick(tables::cities);
  a.town = make_address_town(r);
  a.banchi = r.chance(0.5) ? fmt::format("{}番地{}", r.between(1, 60), r.between(1, 30))
                           : fmt::format("{}番{}号", r.between(1, 40), r.between(1, 25));
  a.token = address_token(household_index, seed);
  const std::string_view building = r.pick(tables::building_names);
  a.building = building.empty()
                   ? a.token
                   : fmt::format("{}{} {}", building, r.pick(tables::town_roots), a.token);
  return a;
}

std::string make_honseki(rng& r) {
  return fmt::format("{}{}{}{}番地", r.pick(tables::prefectures), r.pick(tables::cities),
                     make_address_town(r), r.between(1, 999));
}

// Hashes and writes chunks on its own thread, in order. At most `max_queued` chunks wait, so
// memory stays bounded whatever the population's size.
class chunk_writer {
 public:
  static constexpr std::size_t chunk_size = 1 << 20;
  static constexpr std::size_t max_queued = 8;

  explicit chunk_writer(std::FILE* file) : file_(file), thread_([this] { run(); }) {}
  ~chunk_writer() { finish(); }

  void push(std::string chunk) {
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] { return queue_.size() < max_queued; });
    queue_.push_back(std::move(chunk));
    ready_.notify_one();
  }

  // Waits for every chunk to be written; the SHA-256 of all bytes, or nullopt if a write failed.
  std::optional<sha256_digest> finish() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
      ready_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
    if (failed_) return std::nullopt;
    if (!digest_) digest_ = hasher_.finish();
    return digest_;
  }

 private:
  void run() {
    for (;;) {
      std::string chunk;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return !queue_.empty() || done_; });
        if (queue_.empty()) return;
        chunk = std::move(queue_.front());
        queue_.pop_front();
        space_.notify_one();
      }
      hasher_.update(chunk);
      if (std::fwrite(chunk.data(), 1, chunk.size(), file_) != chunk.size()) failed_ = true;
    }
  }

  std::FILE* file_;
  sha256_hasher hasher_;                 // used by the writer thread only, then by finish()
  bool failed_ = false;                  // likewise
  std::optional<sha256_digest> digest_;  // set by finish()
  // State below is protected by mutex_.
  std::mutex mutex_;
  std::condition_variable ready_;
  std::condition_variable space_;
  std::deque<std::string> queue_;
  bool done_ = false;
  std::thread thread_;  // last: starts after everything it uses is constructed
};

std::string base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace

generator::generator(const generator_options& options) : options_(options) {}

bool generator::next_group(std::vector<resident>& out) {
  if (produced_ >= options_.residents) return false;
  rng r(options_.seed, group_index_++);
  std::vector<person_plan> plan = plan_group(r);
  const std::uint64_t remaining = options_.residents - produced_;
  if (plan.size() > remaining) plan.resize(static_cast<std::size_t>(remaining));

  // Households in the order they first appear; the main one first. Members of the grandparent
  // (koseki 1) live in the main household.
  const bool confusable = r.chance(options_.confusable_share);
  const auto& family =
      confusable ? r.pick(tables::confusable_family_names) : r.pick(tables::family_names);
  const auto& elder_family = r.pick(tables::family_names);

  std::size_t household_slots = 1;
  for (const auto& p : plan)
    household_slots = std::max(household_slots, static_cast<std::size_t>(p.household) + 1);
  std::vector<std::string> household_ids(household_slots);
  std::vector<address> addresses(household_slots);
  std::vector<std::string> moved_in(household_slots);
  std::vector<bool> household_used(household_slots, false);
  for (const auto& p : plan) household_used[static_cast<std::size_t>(p.household)] = true;
  for (std::size_t h = 0; h < household_slots; ++h) {
    if (!household_used[h]) continue;
    const std::uint64_t index = household_count_++;
    household_ids[h] = fmt::format("H{:09}", index + 1);
    addresses[h] = make_address(r, index, options_.seed);
  }
  std::array<std::string, 2> koseki_ids;
  std::array<std::string, 2> honseki{make_honseki(r), make_honseki(r)};
  for (std::size_t k = 0; k < 2; ++k) {
    const bool used = std::any_of(plan.begin(), plan.end(), [&](const person_plan& p) {
      return static_cast<std::size_t>(p.koseki) == k;
    });
    if (used) koseki_ids[k] = fmt::format("K{:09}", ++koseki_count_);
  }

  const std::size_t first_out = out.size();
  std::array<std::string, 2> hittousha;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const person_plan& p = plan[i];
    const std::uint64_t index = produced_ + i;
    resident res;
    const std::string body =
        digits_of(decimal_bijection(index, options_.seed, 10, 3141592653ULL), 10);
    res.resident_id = body + resident_check_digit(body);
    res.card_serial = fmt::format("{:016X}", mix64(index ^ mix64(options_.seed + 0xC0FFEEULL)));
    const std::string my_body =
        digits_of(decimal_bijection(index, options_.seed, 11, 2718281829ULL), 11);
    res.mynumber = my_body + mynumber_check_digit(my_body);
    res.household_id = household_ids[static_cast<std::size_t>(p.household)];
    res.relationship = p.relationship;
    res.sex = p.sex;

    const auto& fam = p.koseki == 1 ? elder_family : family;
    const auto& given =
        p.sex == sex::male ? r.pick(tables::male_given_names) : r.pick(tables::female_given_names);
    res.name = {std::string(fam.kanji), std::string(given.kanji), std::string(fam.kana),
                std::string(given.kana)};

    const date birth = random_date_in_year(r, reference_year - 1 - p.age);
    res.birth_date = format_date(birth);
    const std::size_t h = static_cast<std::size_t>(p.household);
    if (moved_in[h].empty()) {
      // The household moved in once; members born later became residents at birth.
      const int earliest = std::max(1990, birth.year + 18);
      moved_in[h] = format_date(random_date_in_year(r, r.between(std::min(earliest, 2025), 2025)));
    }
    res.moved_in_date = moved_in[h];
    if (date d{std::stoi(res.moved_in_date.substr(0, 4)), std::stoi(res.moved_in_date.substr(5, 2)),
               std::stoi(res.moved_in_date.substr(8, 2))};
        before(d, birth)) {
      res.moved_in_date = res.birth_date;
    }
    res.address = addresses[h];

    const std::size_t k = static_cast<std::size_t>(p.koseki);
    if (hittousha[k].empty()) hittousha[k] = res.name.full_kanji();
    res.koseki_id = koseki_ids[k];
    res.honseki = honseki[k];
    res.hittousha = hittousha[k];
    res.koseki_relationship = p.koseki_relationship;

    if (p.age >= 15 && r.chance(0.6)) {
      seal_registration seal;
      seal.registration_number =
          fmt::format("IN{}", digits_of(decimal_bijection(index, options_.seed, 8, 1618033ULL), 8));
      seal.status = r.chance(0.02) ? seal_status::cancelled : seal_status::registered;
      const std::string png = seal_png(mix64(index ^ mix64(options_.seed + 0x5EA1ULL)), index);
      seal.image_png_base64 = base64(png);
      seal.image_sha256 = sha256_hex(png);
      res.seal = std::move(seal);
    }

    // The last three digits of income come from the index, so amounts differ between residents.
    const bool earns = p.age >= 18 && p.age < 75 ? r.chance(0.85) : r.chance(0.3);
    const std::int64_t thousands = earns ? r.between(800, 12000) : 0;
    res.tax.fiscal_year = reference_year - 1;
    res.tax.income = thousands * 1000 + static_cast<std::int64_t>(index % 1000);
    res.tax.taxable_income = std::max<std::int64_t>(0, res.tax.income - 1430000);
    res.tax.municipal_tax = res.tax.taxable_income * 6 / 100;
    res.tax.prefectural_tax = res.tax.taxable_income * 4 / 100;

    res.status = r.chance(0.005) ? resident_status::removed : resident_status::active;
    res.version = 1;
    out.push_back(std::move(res));
  }
  // Written household by household: the main household (with the grandparent), then each adult
  // child's. Household ids grow with the slot, so a stable sort by id keeps the head first in each.
  std::stable_sort(
      out.begin() + static_cast<std::ptrdiff_t>(first_out), out.end(),
      [](const resident& a, const resident& b) { return a.household_id < b.household_id; });
  produced_ += plan.size();
  return true;
}

void append_json_line(std::string& out, const resident& r) {
  json_text j(out);
  j.begin_object();
  j.field("resident_id", r.resident_id);
  j.field("card_serial", r.card_serial);
  j.field("mynumber", r.mynumber);
  j.field("household_id", r.household_id);
  j.field("relationship", r.relationship);
  j.key("name");
  j.begin_object();
  j.field("family_kanji", r.name.family_kanji);
  j.field("given_kanji", r.name.given_kanji);
  j.field("family_kana", r.name.family_kana);
  j.field("given_kana", r.name.given_kana);
  j.end_object();
  j.field("birth_date", r.birth_date);
  j.field("sex", to_string(r.sex));
  j.key("address");
  j.begin_object();
  j.field("postal_code", r.address.postal_code);
  j.field("prefecture", r.address.prefecture);
  j.field("city", r.address.city);
  j.field("town", r.address.town);
  j.field("banchi", r.address.banchi);
  j.field("building", r.address.building);
  j.field("token", r.address.token);
  j.end_object();
  j.field("moved_in_date", r.moved_in_date);
  j.field("honseki", r.honseki);
  j.field("hittousha", r.hittousha);
  j.field("koseki_id", r.koseki_id);
  j.field("koseki_relationship", r.koseki_relationship);
  j.key("seal");
  if (r.seal) {
    j.begin_object();
    j.field("registration_number", r.seal->registration_number);
    j.field("status", to_string(r.seal->status));
    j.field("image_png_base64", r.seal->image_png_base64);
    j.field("image_sha256", r.seal->image_sha256);
    j.end_object();
  } else {
    j.null_value();
  }
  j.key("tax");
  j.begin_object();
  j.field("fiscal_year", r.tax.fiscal_year);
  j.field("income", r.tax.income);
  j.field("taxable_income", r.tax.taxable_income);
  j.field("municipal_tax", r.tax.municipal_tax);
  j.field("prefectural_tax", r.tax.prefectural_tax);
  j.end_object();
  j.field("status", to_string(r.status));
  j.field("version", static_cast<std::int64_t>(r.version));
  j.end_object();
}

std::string to_json_line(const resident& r) {
  std::string out;
  append_json_line(out, r);
  return out;
}

result<generate_summary> generate_file(const generator_options& options,
                                       const std::filesystem::path& path) {
  if (options.confusable_share < 0.0 || options.confusable_share > 1.0) {
    return make_error(errc::usage, fmt::format("--confusable-share must be between 0 and 1, not {}",
                                               options.confusable_share));
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "wb"),
                                                       &std::fclose);
  if (!file) {
    return make_error(errc::io, fmt::format("{}: cannot open for writing", path.string()));
  }
  // The generating thread fills 1 MiB buffers; a second thread hashes and writes them, so that
  // SHA-256 and the file system stay off the generator's path (two cores: both stay busy).
  chunk_writer writer(file.get());
  generator gen(options);
  std::vector<resident> group;
  std::string buffer;
  buffer.reserve(chunk_writer::chunk_size + 8192);
  generate_summary summary;
  std::string last_household;
  while (gen.next_group(group)) {
    for (const auto& res : group) {
      append_json_line(buffer, res);
      buffer.push_back('\n');
      if (res.household_id != last_household) {
        ++summary.households;
        last_household = res.household_id;
      }
    }
    summary.residents += group.size();
    group.clear();
    if (buffer.size() >= chunk_writer::chunk_size) {
      writer.push(std::move(buffer));
      buffer = std::string();
      buffer.reserve(chunk_writer::chunk_size + 8192);
    }
  }
  writer.push(std::move(buffer));
  const auto digest = writer.finish();
  if (!digest || std::fflush(file.get()) != 0) {
    return make_error(errc::io, fmt::format("{}: write failed", path.string()));
  }
  if (std::fclose(file.release()) != 0) {
    return make_error(errc::io, fmt::format("{}: close failed", path.string()));
  }
  summary.sha256 = to_hex(*digest);
  return summary;
}

}  // namespace kofu::population
