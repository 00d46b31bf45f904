#include "kofu/verify/canonical_json.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

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

// The one-shot functions reuse a per-thread context: every call starts afresh, parts hash as
// their concatenation, and threads do not disturb each other.
TEST(CanonicalJsonTest, OneShotSha256MatchesIncrementalHashing) {
  const std::string text = "KOFU-1\n{\"serial\":\"C-1\",\"type\":\"juminhyo\"}";
  sha256_hasher h;
  h.update(text);
  const sha256_digest expected = h.finish();
  EXPECT_EQ(sha256(text), expected);
  EXPECT_EQ(sha256(text), expected);
  EXPECT_EQ(sha256({"KOFU-1", "\n", "{\"serial\":\"C-1\",\"type\":\"juminhyo\"}"}), expected);
  EXPECT_EQ(sha256({text}), expected);
  EXPECT_EQ(to_hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (sha256({"KOFU-1", "\n", text.substr(7)}) != expected) ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace kofu::verify
