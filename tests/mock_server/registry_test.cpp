#include "kofu/mock/registry.hpp"

#include <gtest/gtest.h>

#include <variant>

#include "kofu/mock/population_loader.hpp"
#include "mock_fixture.hpp"
#include "test_support.hpp"

namespace kofu::mock {
namespace {

using nlohmann::json;

std::vector<resident_record> load(const std::filesystem::path& file) {
  return std::get<std::vector<resident_record>>(load_population(file));
}

resident_change move_change(const std::string& id, std::int64_t change_id, const json& address,
                            const std::string& token) {
  json a = address;
  a["token"] = token;
  a["building"] = "新館 " + token;
  auto parsed = parse_change({{"change_id", change_id},
                              {"kind", "move"},
                              {"fields", {{"address", a}, {"moved_in_date", "2026-11-22"}}}},
                             false, "");
  auto c = std::get<resident_change>(parsed);
  c.resident_id = id;
  return c;
}

TEST(RegistryTest, ChangeBumpsVersionAndKeepsOldSnapshot) {
  kofu::test::temp_dir dir;
  test::make_population(dir / "pop.jsonl", 20);
  registry reg(load(dir / "pop.jsonl"));
  const auto all = reg.all();
  const auto before = reg.find(all.front()->resident_id);
  ASSERT_TRUE(before);
  const auto outcome =
      reg.apply_change(move_change(before->resident_id, 1, before->address, "M000000001"));
  EXPECT_EQ(outcome.status, change_status::applied);
  EXPECT_EQ(outcome.version, before->version + 1);
  EXPECT_EQ(before->address["token"], all.front()->address["token"]);  // snapshot unchanged
  EXPECT_EQ(reg.find(before->resident_id)->address["token"], "M000000001");
  EXPECT_EQ(reg.current_version(before->resident_id), 2);
}

TEST(RegistryTest, RefusesNonMonotonicChangeIdWithoutChanging) {
  kofu::test::temp_dir dir;
  test::make_population(dir / "pop.jsonl", 5);
  registry reg(load(dir / "pop.jsonl"));
  const auto r = reg.all().front();
  EXPECT_EQ(reg.apply_change(move_change(r->resident_id, 5, r->address, "M1")).status,
            change_status::applied);
  EXPECT_EQ(reg.apply_change(move_change(r->resident_id, 5, r->address, "M2")).status,
            change_status::non_monotonic_change_id);
  EXPECT_EQ(reg.apply_change(move_change(r->resident_id, 4, r->address, "M3")).status,
            change_status::non_monotonic_change_id);
  EXPECT_EQ(reg.find(r->resident_id)->address["token"], "M1");
  EXPECT_EQ(reg.apply_change(move_change("00000000000", 1, r->address, "M4")).status,
            change_status::unknown_resident);
}

TEST(RegistryTest, HouseholdListsHeadFirstAndOnlyActiveMembers) {
  kofu::test::temp_dir dir;
  const auto records = test::make_population(dir / "pop.jsonl", 60);
  registry reg(load(dir / "pop.jsonl"));
  for (const auto& r : records) {
    const auto members = reg.household_members(r["household_id"]);
    ASSERT_FALSE(members.empty());
    EXPECT_EQ(members.front()->relationship, "世帯主");
    for (const auto& m : members) {
      EXPECT_TRUE(m->active());
      EXPECT_EQ(m->household_id, r["household_id"]);
    }
  }
}

TEST(RegistryTest, PositionalIndexShiftsAfterMove) {
  // The data structure behind the stale-index defect: rows move when a move re-sorts the table.
  kofu::test::temp_dir dir;
  test::make_population(dir / "pop.jsonl", 30);
  registry reg(load(dir / "pop.jsonl"));
  const auto positions = reg.positional_card_index();
  ASSERT_EQ(positions.size(), reg.size());
  const auto first_row_id = *reg.resident_at_row(0);
  const auto first = reg.find(first_row_id);
  ASSERT_EQ(reg.apply_change(move_change(first_row_id, 1, first->address, "ZZZZZZZZZZ")).status,
            change_status::applied);
  EXPECT_NE(*reg.resident_at_row(0), first_row_id);
  EXPECT_EQ(*reg.resident_at_row(reg.size() - 1), first_row_id);
  // The correct card index is unaffected.
  EXPECT_EQ(*reg.resident_for_card(first->card_serial), first_row_id);
}

TEST(RegistryTest, ParseChangeNamesTheBadField) {
  struct bad_case {
    json change;
    std::string expected;
  };
  const std::vector<bad_case> cases = {
      {{{"change_id", 1}, {"kind", "teleport"}, {"fields", json::object()}}, "unknown kind"},
      {{{"change_id", 0}, {"kind", "tax"}, {"fields", {{"tax", {{"income", 1}}}}}}, "change_id"},
      {{{"change_id", 1}, {"kind", "tax"}, {"fields", {{"tax", {{"income", "x"}}}}}},
       "changes[2].fields.tax.income"},
      {{{"change_id", 1}, {"kind", "name"}, {"fields", {{"address", json::object()}}}},
       "unknown field"},
      {{{"change_id", 1}, {"kind", "move"}, {"fields", {{"moved_in_date", "2026-01-01"}}}},
       "changes[2].fields.address': missing"},
  };
  for (const auto& c : cases) {
    json with_id = c.change;
    with_id["resident_id"] = "12345678901";
    auto parsed = parse_change(with_id, true, "changes[2]");
    ASSERT_TRUE(std::holds_alternative<std::string>(parsed)) << c.change.dump();
    EXPECT_NE(std::get<std::string>(parsed).find(c.expected), std::string::npos)
        << std::get<std::string>(parsed);
  }
}

}  // namespace
}  // namespace kofu::mock
