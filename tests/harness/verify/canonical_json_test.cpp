#include "kofu/verify/canonical_json.hpp"

#include <gtest/gtest.h>

#include "kofu/common/sha256.hpp"

namespace kofu::verify {
namespace {

struct canonical_case {
  const char* name;
  const char* input;
  const char* expected;
};

TEST(CanonicalJsonTest, MatchesTableOfCases) {
  const canonical_case cases[] = {
      {"sorted keys", R"({"b":1,"a":2,"aa":3})", R"({"a":2,"aa":3,"b":1})"},
      {"nested and arrays keep order", R"({"z":[3,1,{"y":true,"x":null}]})",
       R"({"z":[3,1,{"x":null,"y":true}]})"},
      {"no whitespace", "{ \"a\" : [ 1 , 2 ] }", R"({"a":[1,2]})"},
      {"escapes only where required", R"({"s":"a\"b\\c\nd\te\u0001/"})",
       "{\"s\":\"a\\\"b\\\\c\\nd\\te\\u0001/\"}"},
      {"raw UTF-8 and astral plane", R"({"n":"\u9ad9\u6a4b \ud842\udfb7"})", "{\"n\":\"髙橋 𠮷\"}"},
      {"negative and large integers", R"({"a":-5,"b":18446744073709551615})",
       R"({"a":-5,"b":18446744073709551615})"},
      {"control characters lower-case hex", R"(["\u001f\u000b"])", R"(["\u001f\u000b"])"},
      {"integral float prints as integer", R"([2.0])", R"([2])"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(canonical_json(nlohmann::json::parse(c.input)), c.expected) << c.name;
  }
}

TEST(CanonicalJsonTest, DigestIsApplicationNumberNewlineCanonicalCertificate) {
  const auto cert = nlohmann::json::parse(R"({"type":"juminhyo","serial":"C-1"})");
  EXPECT_EQ(certificate_digest("KOFU-1", cert),
            sha256_hex("KOFU-1\n{\"serial\":\"C-1\",\"type\":\"juminhyo\"}"));
  EXPECT_NE(certificate_digest("KOFU-2", cert), certificate_digest("KOFU-1", cert));
}

}  // namespace
}  // namespace kofu::verify
