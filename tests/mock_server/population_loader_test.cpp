#include "kofu/mock/population_loader.hpp"

#include <gtest/gtest.h>

#include <variant>

#include "mock_fixture.hpp"
#include "test_support.hpp"

namespace kofu::mock {
namespace {

using nlohmann::json;

std::string load_error_text(const std::filesystem::path& file) {
  auto r = load_population(file);
  if (auto* e = std::get_if<load_error>(&r)) return e->message;
  return {};
}

TEST(PopulationLoaderTest, LoadsEveryRecord) {
  kofu::test::temp_dir dir;
  const auto records = test::make_population(dir / "pop.jsonl", 40);
  auto loaded = load_population(dir / "pop.jsonl");
  ASSERT_TRUE(std::holds_alternative<std::vector<resident_record>>(loaded))
      << std::get<load_error>(loaded).message;
  const auto& residents = std::get<std::vector<resident_record>>(loaded);
  ASSERT_EQ(residents.size(), records.size());
  for (std::size_t i = 0; i < residents.size(); ++i) {
    EXPECT_EQ(residents[i].resident_id, records[i]["resident_id"]);
    EXPECT_EQ(residents[i].address, records[i]["address"]);
    EXPECT_EQ(residents[i].file_index, i);
  }
}

TEST(PopulationLoaderTest, RejectsBadLinesNamingFileLineAndField) {
  kofu::test::temp_dir dir;
  const auto records = test::make_population(dir / "pop.jsonl", 3);
  const auto good = records[0].dump() + "\n";
  struct bad_case {
    std::string name;
    std::string second_line;
    std::string expected;  // substring of the message
  };
  json missing_token = records[1];
  missing_token["address"].erase("token");
  json wrong_type = records[1];
  wrong_type["version"] = "1";
  json unknown = records[1];
  unknown["extra"] = 1;
  const std::vector<bad_case> cases = {
      {"truncated", records[1].dump().substr(0, 40), ":2: not valid JSON"},
      {"invalid utf-8", "{\"resident_id\": \"\xff\xfe\"}", ":2: not valid JSON"},
      {"missing field", missing_token.dump(), ":2: field 'address.token': missing"},
      {"wrong type", wrong_type.dump(), ":2: field 'version'"},
      {"unknown field", unknown.dump(), ":2: field 'extra': unknown field"},
      {"duplicate id", records[0].dump(), ":2: field 'resident_id': duplicate"},
  };
  for (const auto& c : cases) {
    kofu::test::write_file(dir / "bad.jsonl", good + c.second_line + "\n");
    const auto message = load_error_text(dir / "bad.jsonl");
    EXPECT_NE(message.find("bad.jsonl"), std::string::npos) << c.name << ": " << message;
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.name << ": " << message;
  }
}

}  // namespace
}  // namespace kofu::mock
