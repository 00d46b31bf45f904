#include "kofu/verify/resident_model.hpp"

#include <gtest/gtest.h>

#include "verify_fixture.hpp"

namespace kofu::verify {
namespace {

using test::small_population;

nlohmann::json move_fields(const std::string& token) {
  return {{"address",
           {{"postal_code", "100-0001"},
            {"prefecture", "東京都"},
            {"city", "架空市"},
            {"town", "試験町"},
            {"banchi", "1番地"},
            {"building", "試験荘 " + token},
            {"token", token}}},
          {"moved_in_date", "2026-11-22"}};
}

struct update_spec {
  std::int64_t sent;
  std::int64_t done;  // ignored for pending
  enum { ok, failed, unknown, pending } outcome;
};

struct window_case {
  const char* name;
  std::vector<update_spec> updates;
  std::int64_t a;
  std::int64_t b;
  std::int64_t staleness;
  std::vector<std::uint32_t> allowed_versions;  // record versions in the window
};

TEST(VersionWindowTest, FollowsDesignSectionSeven) {
  using u = update_spec;
  const window_case cases[] = {
      {"no updates: population version", {}, 100, 200, 0, {1}},
      {"update acked before a supersedes", {{10, 50, u::ok}}, 100, 200, 0, {2}},
      {"update acked exactly at a supersedes", {{10, 100, u::ok}}, 100, 200, 0, {2}},
      {"update acked just after a: both", {{10, 101, u::ok}}, 100, 200, 0, {1, 2}},
      {"update sent exactly at b is invisible", {{200, 250, u::ok}}, 100, 200, 0, {1}},
      {"update sent just before b: both", {{199, 250, u::ok}}, 100, 200, 0, {1, 2}},
      {"update inside the window: both", {{120, 150, u::ok}}, 100, 200, 0, {1, 2}},
      {"failed update is never allowed", {{120, 150, u::failed}}, 100, 200, 0, {1}},
      {"failed then ok: version number reused",
       {{20, 30, u::failed}, {40, 50, u::ok}},
       100,
       200,
       0,
       {2}},
      {"unknown outcome: new may be visible any time after send",
       {{10, 0, u::unknown}},
       100,
       200,
       0,
       {1, 2}},
      {"unknown outcome sent after b: invisible", {{300, 0, u::unknown}}, 100, 200, 0, {1}},
      {"pending update counts as unknown", {{10, 0, u::pending}}, 100, 200, 0, {1, 2}},
      {"chain: two acked before a", {{10, 20, u::ok}, {30, 40, u::ok}}, 100, 200, 0, {3}},
      {"chain: middle version current at a",
       {{10, 20, u::ok}, {150, 160, u::ok}, {300, 310, u::ok}},
       100,
       200,
       0,
       {2, 3}},
      {"staleness bound widens into the past", {{10, 50, u::ok}}, 100, 200, 60, {1, 2}},
      {"staleness bound too small", {{10, 50, u::ok}}, 100, 200, 50, {2}},
  };
  const auto pop = small_population(5);
  for (const auto& c : cases) {
    resident_model m(pop);
    std::uint32_t version = 2;
    std::uint64_t id = 0;
    for (const auto& up : c.updates) {
      ++id;
      ASSERT_FALSE(m.begin_update(0, id, up.sent, version, "move",
                                  move_fields("B00000000" + std::to_string(id))))
          << c.name;
      switch (up.outcome) {
        case u::ok:
          m.acknowledge(0, id, up.done);
          ++version;
          break;
        case u::failed:
          m.fail(0, id, up.done);
          break;
        case u::unknown:
          m.mark_unknown(0, id);
          ++version;
          break;
        case u::pending:
          ++version;
          break;
      }
    }
    const version_window w = m.window(0, c.a, c.b, c.staleness);
    std::vector<std::uint32_t> got;
    for (std::uint32_t i = w.lo; i <= w.hi; ++i) got.push_back(m.timeline(0)[i].record.version);
    EXPECT_EQ(got, c.allowed_versions) << c.name;
  }
}

TEST(ResidentModelTest, AttributesValuesToResidentAndVersions) {
  const auto pop = small_population(10);
  resident_model m(pop);
  ASSERT_FALSE(m.begin_update(1, 7, 100, 2, "move", move_fields("B000000007")));
  m.acknowledge(1, 7, 200);
  ASSERT_FALSE(m.begin_update(1, 8, 300, 3, "tax",
                              {{"tax", test::tax_json(population::tax_record{2025, 1, 2, 3, 4})}}));
  m.fail(1, 8, 400);

  // The move's token: version 2 of resident 1, and the failed tax update built on it.
  const auto token = m.attribute(value_kind::address_token, "B000000007");
  ASSERT_EQ(token.size(), 2u);
  EXPECT_TRUE(token[1].aborted);
  EXPECT_EQ(token[0].resident, 1u);
  EXPECT_EQ(token[0].state, 1u);
  EXPECT_FALSE(token[0].aborted);

  const auto tax = m.attribute(value_kind::tax, resident_model::tax_key({2025, 1, 2, 3, 4}));
  ASSERT_EQ(tax.size(), 1u);
  EXPECT_TRUE(tax[0].aborted);
  EXPECT_EQ(m.aborted(1).size(), 1u);
  EXPECT_EQ(m.timeline(1).size(), 2u);

  // The population's name of resident 1 is carried by versions 1 and 2 (the move kept it).
  std::size_t own = 0;
  for (const auto& a : m.attribute(value_kind::name, resident_model::name_key(pop[1].name))) {
    if (a.resident == 1 && !a.aborted) ++own;
  }
  EXPECT_EQ(own, 2u);
  EXPECT_TRUE(m.attribute(value_kind::mynumber, "000000000000").empty());
  EXPECT_EQ(m.attribute(value_kind::resident_id, pop[3].resident_id).front().resident, 3u);
}

TEST(ResidentModelTest, RejectsMalformedChanges) {
  resident_model m(small_population(3));
  EXPECT_TRUE(m.begin_update(0, 1, 10, 2, "teleport", nlohmann::json::object()));
  EXPECT_TRUE(m.begin_update(0, 1, 10, 2, "move", {{"address", 5}}));
  EXPECT_EQ(m.timeline(0).size(), 1u);
}

}  // namespace
}  // namespace kofu::verify
