// The canonical JSON writer must print exactly what nlohmann::json::dump(-1, ' ', false, replace)
// prints: the digest of every answer is computed over this text.
#include "canonical_json.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace kofu::mock {
namespace {

using nlohmann::json;

std::string reference(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string written(const json& value) {
  std::string out = "prefix:";  // appends, never overwrites
  canonical::append_value(out, value);
  EXPECT_TRUE(out.starts_with("prefix:"));
  return out.substr(7);
}

TEST(CanonicalJsonTest, StringsEscapeAsNlohmannDoes) {
  const std::vector<std::string> cases = {
      "",
      "plain ascii / slash",
      "quote \" backslash \\ end",
      "\b\f\n\r\t",
      std::string("nul \0 inside", 12),
      "\x01\x02\x1f and \x7f (DEL stays raw)",
      "髙橋 﨑 邊 邉 辺",
      "𠮷野家 (U+20BB7)",
      "葛\xf3\xa0\x84\x81 (IVS)",
      "ｶﾀｶﾅ and emoji 😀",
      "\xef\xbf\xbd (U+FFFD itself)",
  };
  for (const auto& s : cases) {
    std::string out;
    canonical::append_string(out, s);
    EXPECT_EQ(out, reference(json(s))) << s;
  }
}

TEST(CanonicalJsonTest, InvalidUtf8IsReplacedAsNlohmannDoes) {
  const std::vector<std::string> cases = {
      "\xff",
      "a\x80z",
      "\xc0\xaf (overlong)",
      "\xe0\x80\xaf",
      "\xed\xa0\x80 (surrogate)",
      "\xf4\x90\x80\x80 (above U+10FFFF)",
      "\xe6\x97 (cut)",
      "ok 日本 then \xe6",
      "\xf0\x9f\x98",
      "\xc3\x28",
      "\x22\xc3",
  };
  for (const auto& s : cases) {
    std::string out;
    canonical::append_string(out, s);
    EXPECT_EQ(out, reference(json(s))) << s;
  }
}

TEST(CanonicalJsonTest, ValuesPrintAsNlohmannDoes) {
  const std::vector<json> cases = {
      nullptr,
      true,
      false,
      0,
      -1,
      std::int64_t{9'007'199'254'740'993},
      std::numeric_limits<std::int64_t>::min(),
      std::numeric_limits<std::uint64_t>::max(),
      1.5,
      json::array(),
      json::object(),
      json::array({1, "two", nullptr, json::array({false})}),
      json::parse(R"({"z":1,"a":{"y":"\u00e9","b":[]},"é":2,"A":3,"aa":4,"a b":5})"),
      json::parse(R"({"postal_code":"100-0001","prefecture":"東京都","city":"千代田区",
                      "town":"千代田","banchi":"1番1号","building":"","token":"AB12"})"),
      json::object({{"key \"quoted\"", "v"}, {"\n", 1}}),
  };
  for (const auto& v : cases) EXPECT_EQ(written(v), reference(v)) << reference(v);
}

TEST(CanonicalJsonTest, IntegersAndObjectMembers) {
  std::string out;
  canonical::append_int(out, -42);
  EXPECT_EQ(out, "-42");
  out.clear();
  {
    canonical::object_writer object(out);
    canonical::append_int(object.key("a"), 1);
    canonical::append_string(object.key("b"), "x");
    object.close();
  }
  EXPECT_EQ(out, R"({"a":1,"b":"x"})");
  out.clear();
  canonical::object_writer empty(out);
  empty.close();
  EXPECT_EQ(out, "{}");
}

}  // namespace
}  // namespace kofu::mock
