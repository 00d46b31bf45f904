#include "kofu/population/generator.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>

#include <map>
#include <set>
#include <unordered_set>

#include "kofu/common/sha256.hpp"
#include "kofu/population/reader.hpp"
#include "kofu/population/stats.hpp"
#include "test_support.hpp"

namespace kofu::population {
namespace {

std::vector<resident> generate(std::uint64_t n, std::uint64_t seed, double share = 0.05) {
  generator gen({n, seed, share});
  std::vector<resident> out;
  while (gen.next_group(out)) {
  }
  return out;
}

std::string file_of(const std::vector<resident>& residents) {
  std::string text;
  for (const auto& r : residents) {
    append_json_line(text, r);
    text.push_back('\n');
  }
  return text;
}

TEST(GeneratorTest, ProducesExactlyTheRequestedNumber) {
  for (std::uint64_t n : {1ULL, 2ULL, 3ULL, 7ULL, 100ULL, 1001ULL}) {
    EXPECT_EQ(generate(n, 9).size(), n) << "n=" << n;
  }
}

TEST(GeneratorTest, SameSeedGivesByteIdenticalFiles) {
  test::temp_dir dir;
  auto a = generate_file({3000, 42, 0.05}, dir / "a.jsonl");
  auto b = generate_file({3000, 42, 0.05}, dir / "b.jsonl");
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(test::read_file(dir / "a.jsonl"), test::read_file(dir / "b.jsonl"));
  EXPECT_EQ(a->sha256, b->sha256);
  EXPECT_EQ(a->sha256, sha256_hex(test::read_file(dir / "a.jsonl")));
}

TEST(GeneratorTest, DifferentSeedsGiveDifferentPopulations) {
  EXPECT_NE(file_of(generate(500, 1)), file_of(generate(500, 2)));
}

TEST(GeneratorTest, PrefixIsStableWhenThePopulationGrows) {
  // Groups are seeded by their index: a larger population starts with the smaller one's groups,
  // which lets a test engineer grow a run without re-basing every expectation.
  const auto small = generate(200, 5);
  const auto large = generate(2000, 5);
  ASSERT_GE(large.size(), small.size());
  for (std::size_t i = 0; i + 10 < small.size(); ++i) {
    EXPECT_EQ(small[i].resident_id, large[i].resident_id) << i;
  }
}

TEST(GeneratorTest, IdentifiersAreUniqueAndWellFormed) {
  const auto residents = generate(20000, 3);
  std::unordered_set<std::string> ids, serials, numbers, seal_numbers, seal_images;
  for (const auto& r : residents) {
    EXPECT_TRUE(ids.insert(r.resident_id).second) << r.resident_id;
    EXPECT_TRUE(serials.insert(r.card_serial).second) << r.card_serial;
    EXPECT_TRUE(numbers.insert(r.mynumber).second) << r.mynumber;
    EXPECT_EQ(r.resident_id.size(), 11U);
    EXPECT_EQ(r.card_serial.size(), 16U);
    EXPECT_EQ(r.mynumber.size(), 12U);
    if (r.seal) {
      EXPECT_TRUE(seal_numbers.insert(r.seal->registration_number).second);
      EXPECT_TRUE(seal_images.insert(r.seal->image_sha256).second) << "seal images must differ";
    }
  }
}

TEST(GeneratorTest, MyNumberCheckDigitFollowsTheOfficialFormula) {
  for (const auto& r : generate(500, 11)) {
    int sum = 0;
    for (int n = 1; n <= 11; ++n) {
      const int p = r.mynumber[static_cast<std::size_t>(11 - n)] - '0';
      sum += p * (n <= 6 ? n + 1 : n - 5);
    }
    const int expected = sum % 11 <= 1 ? 0 : 11 - sum % 11;
    EXPECT_EQ(r.mynumber.back() - '0', expected) << r.mynumber;
  }
}

TEST(GeneratorTest, HouseholdsShareOneAddressAndHaveOneHeadFirst) {
  const auto residents = generate(20000, 4);
  std::map<std::string, std::vector<const resident*>> households;
  std::string previous;
  std::set<std::string> closed;  // households are written contiguously
  for (const auto& r : residents) {
    if (r.household_id != previous) {
      EXPECT_TRUE(closed.insert(r.household_id).second) << "household split: " << r.household_id;
      EXPECT_EQ(r.relationship, "世帯主") << "the head comes first in " << r.household_id;
      previous = r.household_id;
    }
    households[r.household_id].push_back(&r);
  }
  std::set<std::string> tokens;
  for (const auto& [id, members] : households) {
    EXPECT_LE(members.size(), 7U);
    int heads = 0;
    for (const resident* m : members) {
      heads += m->relationship == "世帯主" ? 1 : 0;
      EXPECT_EQ(m->address, members.front()->address) << id;
    }
    EXPECT_EQ(heads, 1) << id;
    EXPECT_TRUE(tokens.insert(members.front()->address.token).second) << "token reused";
    EXPECT_TRUE(members.front()->address.building.ends_with(members.front()->address.token));
    EXPECT_EQ(members.front()->address.token.front(), 'A');
  }
  EXPECT_GT(households.size(), 20000U / 5);
}

TEST(GeneratorTest, KosekiShareHonsekiAndHittoushaAndSomeSpanHouseholds) {
  const auto residents = generate(20000, 6);
  std::map<std::string, std::vector<const resident*>> koseki;
  for (const auto& r : residents) koseki[r.koseki_id].push_back(&r);
  int spanning = 0, multi_member = 0;
  for (const auto& [id, members] : koseki) {
    std::set<std::string> households;
    bool hittousha_is_member = false;
    for (const resident* m : members) {
      EXPECT_EQ(m->honseki, members.front()->honseki);
      EXPECT_EQ(m->hittousha, members.front()->hittousha);
      households.insert(m->household_id);
      hittousha_is_member |= m->name.full_kanji() == m->hittousha;
    }
    EXPECT_TRUE(hittousha_is_member) << "筆頭者 of " << id << " is one of its members";
    spanning += households.size() > 1 ? 1 : 0;
    multi_member += members.size() > 1 ? 1 : 0;
  }
  EXPECT_GT(spanning, 100);
  EXPECT_GT(multi_member, 1000);
}

TEST(GeneratorTest, DatesAreConsistentAndAgesPlausible) {
  int children = 0, elderly = 0;
  const auto residents = generate(10000, 8);
  for (const auto& r : residents) {
    EXPECT_GE(r.moved_in_date, r.birth_date) << r.resident_id;
    EXPECT_LE(r.moved_in_date, "2026-04-01");
    const int year = std::stoi(r.birth_date.substr(0, 4));
    children += year >= 2011 ? 1 : 0;
    elderly += year <= 1960 ? 1 : 0;
    if (year >= 2012) {
      EXPECT_FALSE(r.seal.has_value()) << "no seal under 15";
    }
  }
  EXPECT_GT(children, 500);
  EXPECT_GT(elderly, 1000);
}

TEST(GeneratorTest, SomeRecordsForbidIssuance) {
  int cancelled = 0, removed = 0;
  for (const auto& r : generate(20000, 12)) {
    cancelled += r.seal && r.seal->status == seal_status::cancelled ? 1 : 0;
    removed += r.status == resident_status::removed ? 1 : 0;
  }
  EXPECT_GT(cancelled, 20);
  EXPECT_GT(removed, 20);
}

TEST(GeneratorTest, ConfusableShareFollowsTheOption) {
  for (double share : {0.0, 0.05, 0.3}) {
    const auto residents = generate(20000, 13, share);
    int confusable = 0;
    for (const auto& r : residents) confusable += has_confusable_character(r.name) ? 1 : 0;
    const double observed = static_cast<double>(confusable) / static_cast<double>(residents.size());
    EXPECT_NEAR(observed, share, 0.02) << "share " << share;
  }
}

TEST(GeneratorTest, ConfusableSetIncludesSupplementaryPlaneAndVariationSequences) {
  bool supplementary = false, ivs = false, taka = false;
  for (const auto& r : generate(20000, 14, 0.2)) {
    supplementary |= r.name.family_kanji.find("\U00020BB7") != std::string::npos;
    ivs |= r.name.family_kanji.find("\U000E0100") != std::string::npos;
    taka |= r.name.family_kanji.find("髙") != std::string::npos;
  }
  EXPECT_TRUE(supplementary);
  EXPECT_TRUE(ivs);
  EXPECT_TRUE(taka);
}

TEST(GeneratorTest, SealImageIsAValidPngWhoseDigestMatches) {
  int seals = 0;
  for (const auto& r : generate(300, 15)) {
    if (!r.seal) continue;
    ++seals;
    const std::string& b64 = r.seal->image_png_base64;
    std::string png(b64.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(png.data()),
                                  reinterpret_cast<const unsigned char*>(b64.data()),
                                  static_cast<int>(b64.size()));
    ASSERT_GT(n, 0);
    png.resize(static_cast<std::size_t>(n) -
               static_cast<std::size_t>(std::count(b64.end() - 2, b64.end(), '=')));
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    EXPECT_EQ(png.substr(png.size() - 8, 4), "IEND");
    EXPECT_EQ(sha256_hex(png), r.seal->image_sha256);
  }
  EXPECT_GT(seals, 50);
}

}  // namespace
}  // namespace kofu::population
