// glyph_substitution: each JIS X 0208 look-alike a font fallback prints, a dropped variation
// selector (both ranges), non-BMP characters, several at once, and what is not a substitution: a
// genuinely different name, the reverse direction, another variation selector, a character
// missing or added, equal texts and invalid UTF-8.

#include "kofu/verify/glyph_substitution.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace kofu::verify {
namespace {

struct substitution_case {
  const char* name;
  std::string printed;
  std::string expected;
  // The substitutions the answer must name, in order; none: not a substitution (nullopt).
  std::vector<std::string> named;
};

TEST(GlyphSubstitutionTest, NamesEachSubstitutionAndNothingElse) {
  const std::vector<substitution_case> cases = {
      {"髙 printed as 高", "高橋\u3000花子", "髙橋\u3000花子", {"U+9AD9 髙 printed as U+9AD8 高"}},
      {"﨑 printed as 崎", "山崎\u3000智也", "山﨑\u3000智也", {"U+FA11 﨑 printed as U+5D0E 崎"}},
      {"non-BMP 𠮷 printed as 吉",
       "吉川\u3000誠",
       "\U00020BB7川\u3000誠",
       {"U+20BB7 𠮷 printed as U+5409 吉"}},
      {"an ideographic variation selector dropped",
       "葛西\u3000清",
       "葛\U000E0100西\u3000清",
       {"U+E0100 dropped"}},
      {"a standardized variation selector dropped", "辻本", "辻\uFE00本", {"U+FE00 dropped"}},
      {"several in one value",
       "高崎 吉田",
       "髙﨑 \U00020BB7田\U000E0101",
       {"U+9AD9 髙 printed as U+9AD8 高", "U+FA11 﨑 printed as U+5D0E 崎",
        "U+20BB7 𠮷 printed as U+5409 吉", "U+E0101 dropped"}},
      {"an address",
       "〒100-0001\u3000東京都架空市高田町",
       "〒100-0001\u3000東京都架空市髙田町",
       {"U+9AD9 髙 printed as U+9AD8 高"}},
      {"equal texts", "髙橋\u3000花子", "髙橋\u3000花子", {}},
      {"a genuinely different name", "高田\u3000花子", "髙橋\u3000花子", {}},
      {"a namesake's different given name", "高橋\u3000太郎", "髙橋\u3000花子", {}},
      {"the reverse direction", "髙橋", "高橋", {}},
      {"another variation selector", "葛\U000E0101西", "葛\U000E0100西", {}},
      {"a variation selector added", "葛\U000E0100西", "葛西", {}},
      {"a character missing", "高", "髙橋", {}},
      {"a character added", "高橋様", "髙橋", {}},
      {"a look-alike not in the table", "辺見", "邊見", {}},
      {"invalid UTF-8 printed", "\xff\xfe", "髙橋", {}},
      {"truncated UTF-8 printed", "\xe9\xab", "髙", {}},
      {"a bad continuation byte printed", "\xe9\x41\x41", "髙", {}},
      {"invalid UTF-8 expected", "高", "\xe9\xab", {}},
  };
  for (const auto& c : cases) {
    const std::optional<std::string> found = glyph_substitution(c.printed, c.expected);
    if (c.named.empty()) {
      EXPECT_FALSE(found) << c.name << ": " << *found;
      continue;
    }
    ASSERT_TRUE(found) << c.name;
    std::string want = "the expected value with glyphs substituted: ";
    for (std::size_t i = 0; i < c.named.size(); ++i) want += (i ? ", " : "") + c.named[i];
    EXPECT_EQ(*found, want) << c.name;
  }
}

}  // namespace
}  // namespace kofu::verify
