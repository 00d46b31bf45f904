#include "kofu/common/language.hpp"

#include <gtest/gtest.h>

namespace kofu {
namespace {

TEST(LanguageTest, ParsesOnlyJaAndEn) {
  EXPECT_EQ(parse_language("ja"), language::ja);
  EXPECT_EQ(parse_language("en"), language::en);
  EXPECT_FALSE(parse_language("xx").has_value());
  EXPECT_FALSE(parse_language("").has_value());
  EXPECT_FALSE(parse_language("JA").has_value());
  EXPECT_EQ(to_string(language::ja), "ja");
  EXPECT_EQ(to_string(language::en), "en");
}

// POSIX precedence: the first of LC_ALL, LC_MESSAGES, LANG that is set and not empty decides.
TEST(LanguageTest, LocaleDecidesTheDefault) {
  struct locale_case {
    const char* lc_all;
    const char* lc_messages;
    const char* lang;
    language expected;
  };
  const locale_case cases[] = {
      {nullptr, nullptr, nullptr, language::en},
      {nullptr, nullptr, "ja_JP.UTF-8", language::ja},
      {nullptr, nullptr, "ja", language::ja},
      {nullptr, nullptr, "C", language::en},
      {nullptr, nullptr, "C.UTF-8", language::en},
      {nullptr, nullptr, "en_US.UTF-8", language::en},
      {"", "", "ja_JP.eucJP", language::ja},
      {"C", nullptr, "ja_JP.UTF-8", language::en},
      {nullptr, "ja_JP.UTF-8", "C", language::ja},
      {"ja_JP.UTF-8", "C", "C", language::ja},
      {nullptr, "en_GB.UTF-8", "ja_JP.UTF-8", language::en},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(language_from_locale(c.lc_all, c.lc_messages, c.lang), c.expected)
        << (c.lc_all ? c.lc_all : "-") << " " << (c.lc_messages ? c.lc_messages : "-") << " "
        << (c.lang ? c.lang : "-");
  }
}

TEST(LanguageTest, SayFormatsTheChosenText) {
  constexpr message m{"{} findings (limit {})", "不備 {0} 件（上限 {1} 件）"};
  EXPECT_EQ(say(language::en, m, 3, 0), "3 findings (limit 0)");
  EXPECT_EQ(say(language::ja, m, 3, 0), "不備 3 件（上限 0 件）");
}

}  // namespace
}  // namespace kofu
