// The `kofu population` command line, run as a user would.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace kofu {
namespace {

TEST(PopulationCommandTest, GenerateThenStats) {
  test::temp_dir dir;
  const auto out = (dir / "pop.jsonl").string();
  auto gen = test::run_command({test::kofu_binary(), "population", "generate", "--residents",
                                "2000", "--seed", "7", "--out", out});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  EXPECT_NE(gen.out.find("wrote 2000 residents"), std::string::npos) << gen.out;
  EXPECT_EQ(test::split_lines(test::read_file(out)).size(), 2000U);

  auto stats = test::run_command({test::kofu_binary(), "population", "stats", "--json", out});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  const auto j = nlohmann::json::parse(stats.out);
  EXPECT_EQ(j.at("residents"), 2000);
  EXPECT_GT(j.at("households").get<int>(), 400);
  EXPECT_GT(j.at("koseki_spanning_households").get<int>(), 0);
  EXPECT_GT(j.at("confusable_names").get<int>(), 20);
  EXPECT_EQ(j.at("sha256").get<std::string>().size(), 64U);

  auto table = test::run_command({test::kofu_binary(), "population", "stats", out});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("households (世帯)"), std::string::npos) << table.out;
}

TEST(PopulationCommandTest, BadInputExitsWithTwoAndSaysWhere) {
  test::temp_dir dir;
  test::write_file(dir / "bad.jsonl", "{\"resident_id\": 5}\n");
  auto stats =
      test::run_command({test::kofu_binary(), "population", "stats", (dir / "bad.jsonl").string()});
  EXPECT_EQ(stats.exit_code, 2);
  EXPECT_NE(stats.err.find("bad.jsonl:1: field 'resident_id': expected a string"),
            std::string::npos)
      << stats.err;

  auto usage = test::run_command({test::kofu_binary(), "population", "generate", "--seed", "1"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_NE(usage.err.find("--residents"), std::string::npos) << usage.err;

  auto unwritable = test::run_command({test::kofu_binary(), "population", "generate", "--residents",
                                       "5", "--seed", "1", "--out", "/nonexistent/dir/pop.jsonl"});
  EXPECT_EQ(unwritable.exit_code, 2);
  EXPECT_NE(unwritable.err.find("/nonexistent/dir/pop.jsonl: cannot open"), std::string::npos)
      << unwritable.err;
}

}  // namespace
}  // namespace kofu
