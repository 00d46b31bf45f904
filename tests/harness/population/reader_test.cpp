#include "kofu/population/reader.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kofu/population/generator.hpp"
#include "test_support.hpp"

namespace kofu::population {
namespace {

std::string sample_line() {
  generator gen({3, 21, 0.0});
  std::vector<resident> out;
  gen.next_group(out);
  return to_json_line(out.front());
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(ReaderTest, RoundTripsEveryResidentExactly) {
  test::temp_dir dir;
  generator_options options{5000, 77, 0.3};
  ASSERT_TRUE(generate_file(options, dir / "pop.jsonl"));
  generator gen(options);
  std::vector<resident> expected;
  while (gen.next_group(expected)) {
  }
  auto loaded = load_file(dir / "pop.jsonl");
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    // operator== compares every field, names byte for byte (code points, no normalisation).
    ASSERT_EQ((*loaded)[i], expected[i]) << "resident " << i;
  }
}

TEST(ReaderTest, KeepsVariantCharactersWithoutNormalising) {
  resident r = [] {
    generator gen({1, 1, 0.0});
    std::vector<resident> out;
    gen.next_group(out);
    return out.front();
  }();
  for (const std::string name :
       {"髙橋", "山﨑", "渡邊", "渡邉", "\U00020BB7田", "葛\U000E0100西"}) {
    r.name.family_kanji = name;
    auto parsed = parse_resident(to_json_line(r), "t:1");
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->name.family_kanji, name);
    EXPECT_NE(parsed->name.family_kanji, "高橋");
  }
}

std::string without(const std::string& line, const std::string& field) {
  auto j = nlohmann::json::parse(line);
  j.erase(field);
  return j.dump();
}

TEST(ReaderTest, RoundTripsCharactersThatNeedEscaping) {
  generator gen({1, 1, 0.0});
  std::vector<resident> out;
  gen.next_group(out);
  resident r = out.front();
  r.name.given_kanji = std::string("a\"b\\c\nd\te\x01f/g") + "\U00020BB7";
  auto parsed = parse_resident(to_json_line(r), "t:1");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->name.given_kanji, r.name.given_kanji);
  EXPECT_EQ(to_json_line(r).find('\n'), std::string::npos) << "one record, one line";
}

struct broken_case {
  const char* label;
  std::string line;
  const char* expected_message_part;
};

TEST(ReaderTest, RejectsBrokenLinesNamingLineAndField) {
  const std::string good = sample_line();
  const std::vector<broken_case> cases = {
      {"truncated line", good.substr(0, good.size() / 2), "pop.jsonl:2: not valid JSON"},
      {"wrong type", replace(good, "\"version\":1", "\"version\":\"1\""),
       "field 'version': expected an integer"},
      {"nested wrong type", replace(good, "\"fiscal_year\":2025", "\"fiscal_year\":[2025]"),
       "field 'tax.fiscal_year': expected an integer"},
      {"unknown field", replace(good, "\"birth_date\"", "\"birthday\""),
       "field 'birthday': unknown field"},
      {"missing field", without(good, "honseki"), "field 'honseki': missing"},
      {"missing nested field", replace(good, "\"token\":", "\"tokn\":"),
       "field 'address.token': missing"},
      {"invalid UTF-8", replace(good, "世帯主", "\xff\xfe"), "pop.jsonl:2: not valid JSON"},
      {"bad enum", replace(good, "\"status\":\"active\"", "\"status\":\"alive\""),
       "field 'status': 'alive' is not one of 'active', 'removed'"},
      {"bad resident id", replace(good, "\"resident_id\":\"", "\"resident_id\":\"x"),
       "field 'resident_id'"},
      {"not an object", "[1,2,3]", "expected a JSON object"},
      {"empty line", "", "pop.jsonl:2: empty line"},
  };
  for (const auto& c : cases) {
    test::temp_dir dir;
    test::write_file(dir / "pop.jsonl", good + "\n" + c.line + "\n" + good + "\n");
    auto loaded = load_file(dir / "pop.jsonl");
    ASSERT_FALSE(loaded) << c.label;
    EXPECT_NE(loaded.error().message.find(c.expected_message_part), std::string::npos)
        << c.label << ": " << loaded.error().message;
    EXPECT_NE(loaded.error().message.find("pop.jsonl:2"), std::string::npos)
        << c.label << ": " << loaded.error().message;
  }
}

TEST(ReaderTest, RejectsDuplicateIdentifiers) {
  const std::string good = sample_line();
  test::temp_dir dir;
  test::write_file(dir / "pop.jsonl", good + "\n" + good + "\n");
  auto loaded = load_file(dir / "pop.jsonl");
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("pop.jsonl:2: field 'resident_id'"), std::string::npos)
      << loaded.error().message;
  EXPECT_NE(loaded.error().message.find("line 1"), std::string::npos);
}

// An empty file (or one of no lines at all) is refused: a run on it could request nothing.
TEST(ReaderTest, RefusesAnEmptyPopulation) {
  for (const char* text : {"", "\n"}) {
    test::temp_dir dir;
    test::write_file(dir / "pop.jsonl", text);
    auto loaded = load_file(dir / "pop.jsonl");
    ASSERT_FALSE(loaded) << "'" << text << "'";
    EXPECT_NE(loaded.error().message.find("pop.jsonl"), std::string::npos)
        << loaded.error().message;
  }
  test::temp_dir dir;
  test::write_file(dir / "pop.jsonl", "");
  auto loaded = load_file(dir / "pop.jsonl");
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("no residents"), std::string::npos)
      << loaded.error().message;
}

TEST(ReaderTest, ReportsAMissingFile) {
  auto loaded = load_file("/nonexistent/kofu/pop.jsonl");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, errc::io);
  EXPECT_NE(loaded.error().message.find("/nonexistent/kofu/pop.jsonl"), std::string::npos);
}

TEST(ReaderTest, ReaderContinuesAfterABadLine) {
  test::temp_dir dir;
  const std::string good = sample_line();
  test::write_file(dir / "pop.jsonl", "{\n" + good + "\n");
  auto r = reader::open(dir / "pop.jsonl");
  ASSERT_TRUE(r);
  auto first = r->next();
  EXPECT_FALSE(first);
  auto second = r->next();
  ASSERT_TRUE(second) << second.error().message;
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ(r->line_number(), 2U);
}

// Found by fuzz_population_reader: a number beyond double made nlohmann throw out_of_range,
// which escaped the reader; deep nesting is refused before parsing.
TEST(ReaderTest, HostileLinesAreErrorsNotExceptions) {
  for (const std::string& line : {std::string(R"({"resident_id":"1","version":13E523442214})"),
                                  std::string(100000, '[') + std::string(100000, ']')}) {
    const auto r = parse_resident(line, "p.jsonl:1");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message.rfind("p.jsonl:1: not valid JSON", 0), 0u) << r.error().message;
  }
}

}  // namespace
}  // namespace kofu::population
