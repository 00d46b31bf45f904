#include "kofu/driver/update_generator.hpp"

#include <gtest/gtest.h>

#include <set>

#include "kofu/driver/request_generator.hpp"
#include "kofu/population/generator.hpp"
#include "kofu/scenario/loader.hpp"

namespace {

using namespace kofu::driver;

std::vector<kofu::population::resident> make_population(std::uint64_t n) {
  kofu::population::generator g({n, 5, 0.05});
  std::vector<kofu::population::resident> out;
  while (g.next_group(out)) {
  }
  return out;
}

kofu::scenario::scenario make_scenario(const std::string& extra = "") {
  auto s = kofu::scenario::parse_text(
      R"({"name": "t", "phases": [{"duration_s": 1}])" + extra + "}", "t.json");
  EXPECT_TRUE(s) << s.error().message;
  return *s;
}

TEST(UpdateGeneratorTest, MoveTokensAreUniqueAndNeverStartWithA) {
  std::set<std::string> seen;
  for (std::uint64_t k = 0; k < 20000; ++k) {
    const auto t = update_generator::move_token(k, 9);
    EXPECT_EQ(t.size(), 10u);
    EXPECT_EQ(t[0], 'M');
    EXPECT_TRUE(seen.insert(t).second) << t;
  }
}

TEST(UpdateGeneratorTest, SerialisesPerResidentAndMakesUniqueValues) {
  const auto sc = make_scenario(
      R"(, "updates": {"hot_share": 0.9, "kinds": {"move": 1, "name": 1, "seal": 1, "household": 1, "tax": 1}})");
  const population_index pop(make_population(60), 5, 1);
  update_generator gen(sc, pop);
  std::set<std::uint32_t> in_flight;
  std::map<std::uint32_t, std::uint32_t> version;
  std::map<std::uint32_t, std::uint64_t> change_id;
  std::set<std::string> values;
  std::vector<change> pending;
  for (int step = 0; step < 3000; ++step) {
    if (auto c = gen.next()) {
      EXPECT_TRUE(in_flight.insert(c->resident).second) << "two updates in flight for one resident";
      const auto expected_version = version.count(c->resident) ? version[c->resident] + 1 : 2u;
      EXPECT_EQ(c->version, expected_version);
      EXPECT_GT(c->change_id, change_id[c->resident]);
      change_id[c->resident] = c->change_id;
      // Every version's distinguishing value is new in the run.
      std::string value;
      switch (c->kind) {
        case kofu::scenario::update_kind::move:
          value = c->fields["address"]["token"];
          break;
        case kofu::scenario::update_kind::name:
          value = c->fields["name"]["family_kanji"];
          break;
        case kofu::scenario::update_kind::seal:
          value = c->fields["seal"]["registration_number"].get<std::string>() +
                  c->fields["seal"]["status"].get<std::string>();
          break;
        case kofu::scenario::update_kind::household:
          value = c->fields["household_id"];
          break;
        case kofu::scenario::update_kind::tax:
          value = std::to_string(c->fields["tax"]["income"].get<long>());
          break;
      }
      EXPECT_TRUE(values.insert(value).second) << value;
      pending.push_back(*c);
    }
    // Finish the oldest half of the time; one in 50 fails, none unknown here.
    if (!pending.empty() && step % 2 == 0) {
      const change c = pending.front();
      pending.erase(pending.begin());
      const bool fail = step % 100 == 0;
      gen.finish(c, fail ? change_outcome::failed : change_outcome::ok, std::nullopt);
      if (!fail) version[c.resident] = c.version;
      in_flight.erase(c.resident);
    }
  }
  EXPECT_GT(values.size(), 500u);
}

TEST(UpdateGeneratorTest, UnknownOutcomeRetiresTheResident) {
  const auto sc = make_scenario();
  const population_index pop(make_population(3), 1, 1);
  update_generator gen(sc, pop);
  std::set<std::uint32_t> retired;
  for (int i = 0; i < 50; ++i) {
    auto c = gen.next();
    if (!c) break;
    EXPECT_FALSE(retired.count(c->resident)) << "a retired resident was updated again";
    gen.finish(*c, change_outcome::unknown, std::nullopt);
    retired.insert(c->resident);
  }
  EXPECT_FALSE(gen.next().has_value());
  EXPECT_EQ(gen.retired(), retired.size());
}

TEST(RequestGeneratorTest, GroupsAimAtOneFamilyThroughSeveralChannels) {
  const auto sc = make_scenario(
      R"(, "concentration": {"group_share": 1.0, "group_size": 3, "hot_residents": 5})");
  const population_index pop(make_population(200), 5, 1);
  request_generator gen(sc, pop, 0);
  std::vector<issue_request> group;
  for (int i = 0; i < 200; ++i) {
    gen.next_arrival(group);
    ASSERT_EQ(group.size(), 3u);
    std::set<int> channels;
    for (const auto& r : group) channels.insert(static_cast<int>(r.channel));
    EXPECT_EQ(channels.size(), 3u);
    const auto& a = pop.at(group[0].resident);
    for (const auto& r : group) {
      const auto& b = pop.at(r.resident);
      EXPECT_TRUE(a.household_id == b.household_id || a.koseki_id == b.koseki_id);
    }
  }
}

TEST(RequestGeneratorTest, HotShareConcentratesOnTheHotSet) {
  const auto sc = make_scenario(
      R"(, "concentration": {"hot_share": 0.5, "hot_residents": 4, "group_share": 0})");
  const population_index pop(make_population(500), 4, 1);
  request_generator gen(sc, pop, 1);
  const std::set<std::uint32_t> hot(pop.hot().begin(), pop.hot().end());
  ASSERT_EQ(hot.size(), 4u);
  int on_hot = 0;
  for (int i = 0; i < 4000; ++i) on_hot += hot.count(gen.next_single().resident) ? 1 : 0;
  EXPECT_GT(on_hot, 1700);
  EXPECT_LT(on_hot, 2300);
}

}  // namespace
