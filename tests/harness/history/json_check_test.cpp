#include "kofu/history/json_check.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

namespace {

using kofu::history::is_valid_json;

struct json_case {
  const char* text;
  bool valid;
};

class JsonCheckTest : public ::testing::TestWithParam<json_case> {};

TEST_P(JsonCheckTest, AgreesWithTheGrammar) {
  EXPECT_EQ(is_valid_json(GetParam().text), GetParam().valid) << GetParam().text;
  // And with nlohmann's strict parser.
  EXPECT_EQ(nlohmann::json::accept(GetParam().text), GetParam().valid) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, JsonCheckTest,
    ::testing::Values(json_case{"{}", true}, json_case{" [ ] ", true}, json_case{"0", true},
                      json_case{"-0.5e+10", true}, json_case{"01", false}, json_case{"1.", false},
                      json_case{"\"a\\u00e9\\n\"", true}, json_case{"\"\\x\"", false},
                      json_case{"\"\\u12\"", false}, json_case{"\"tab\there\"", false},
                      json_case{"{\"a\":1,}", false}, json_case{"[1,]", false},
                      json_case{"{\"a\" 1}", false}, json_case{"{\"a\":1}{}", false},
                      json_case{"tru", false}, json_case{"nulls", false}, json_case{"", false},
                      json_case{"{\"髙橋\":\"𠮷\"}", true}, json_case{"\"\xC0\xAF\"", false},
                      json_case{"\"\xED\xA0\x80\"", false},
                      json_case{"\"\xF4\x90\x80\x80\"", false}, json_case{"\"\xE3\x81\"", false},
                      json_case{"{\"a\":[true,false,null,{\"b\":[]}]}", true},
                      json_case{"{\"a\":1", false}, json_case{"[\"x\"", false}));

TEST(JsonCheckFuzzTest, AgreesWithNlohmannOnMutatedDocuments) {
  const std::string base =
      R"({"application_number":"KOFU-1","certificate":{"persons":[{"name":"髙橋 美咲","page":1,"x":-1.5e3}],"ok":true,"n":null},"digest":"ab"})";
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string s = base;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const auto pos = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s.erase(pos, 1);
          break;
        case 1:
          s.insert(pos, 1, "{}[]\",:0-e.\\ tn\x80\xff"[rng() % 17]);
          break;
        default:
          s = s.substr(0, pos);
          break;
      }
    }
    EXPECT_EQ(is_valid_json(s), nlohmann::json::accept(s)) << s;
  }
}

}  // namespace
