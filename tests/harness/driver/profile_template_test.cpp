#include "kofu/driver/profile_template.hpp"

#include <gtest/gtest.h>

#include <set>

namespace {

using kofu::driver::text_template;
using kofu::driver::to_wareki;
using kofu::driver::value_tables;

TEST(WarekiTest, EraBoundariesAndTheFirstYear) {
  const std::pair<const char*, const char*> cases[] = {
      {"1868-01-25", "明治元年1月25日"},  {"1912-07-29", "明治45年7月29日"},
      {"1912-07-30", "大正元年7月30日"},  {"1926-12-24", "大正15年12月24日"},
      {"1926-12-25", "昭和元年12月25日"}, {"1978-03-14", "昭和53年3月14日"},
      {"1989-01-07", "昭和64年1月7日"},   {"1989-01-08", "平成元年1月8日"},
      {"2019-04-30", "平成31年4月30日"},  {"2019-05-01", "令和元年5月1日"},
      {"2026-12-07", "令和8年12月7日"}};
  for (const auto& [iso, wareki] : cases) {
    EXPECT_EQ(to_wareki(iso), std::optional<std::string>(wareki)) << iso;
  }
}

TEST(WarekiTest, RefusesWhatIsNoDateOfAnEra) {
  for (const char* bad : {"1868-01-24", "2026-13-01", "2026-1-1", "令和8年", "", "2026-02-00"}) {
    EXPECT_FALSE(to_wareki(bad)) << bad;
  }
}

text_template parse(const std::string& text, std::vector<std::string>& problems,
                    const value_tables& tables = {}) {
  static const std::set<std::string, std::less<>> known = {"name.family", "name.given", "date",
                                                           "sex", "head"};
  return text_template::parse(
      text, "/render/x", [](std::string_view p) { return known.count(p) != 0; }, tables, problems);
}

TEST(TextTemplateTest, RendersValuesCodePointForCodePoint) {
  std::vector<std::string> problems;
  const auto t = parse("{{name.family}}\u3000{{name.given}}", problems);
  ASSERT_TRUE(problems.empty());
  // 𠮷 (U+20BB7, outside the BMP) and 葛󠄀 (an IVS sequence) pass through unchanged.
  const auto out = t.render(
      [](std::string_view p) -> std::optional<std::string> {
        if (p == "name.family") return "\xF0\xA0\xAE\xB7野";   // 𠮷野
        if (p == "name.given") return "葛\xF3\xA0\x84\x80子";  // 葛 U+E0100 子
        return std::nullopt;
      },
      {});
  EXPECT_EQ(out, "\xF0\xA0\xAE\xB7野\u3000葛\xF3\xA0\x84\x80子");
}

TEST(TextTemplateTest, FiltersApplyInOrder) {
  std::vector<std::string> problems;
  const value_tables tables = {{"sex", {{"male", "男"}, {"female", "女"}}}};
  const auto t =
      parse("{{date|wareki}} {{sex|table:sex}} {{head|fullwidth_space}}", problems, tables);
  ASSERT_TRUE(problems.empty()) << problems.front();
  const auto out = t.render(
      [](std::string_view p) -> std::optional<std::string> {
        if (p == "date") return "2019-05-01";
        if (p == "sex") return "female";
        if (p == "head") return "髙橋 健一";
        return std::nullopt;
      },
      tables);
  EXPECT_EQ(out, "令和元年5月1日 女 髙橋\u3000健一");
}

TEST(TextTemplateTest, MissingValuesAreNamed) {
  std::vector<std::string> problems;
  const auto t = parse("<{{name.family}}|{{sex}}>", problems);
  std::vector<std::string> missing;
  const auto out = t.render(
      [](std::string_view) -> std::optional<std::string> { return std::nullopt; }, {}, &missing);
  EXPECT_EQ(out, "<|>");
  EXPECT_EQ(missing, (std::vector<std::string>{"name.family", "sex"}));
}

TEST(TextTemplateTest, BadTemplatesFailAtLoadWithTheirPath) {
  std::vector<std::string> problems;
  (void)parse("{{nmae.family}}", problems);
  (void)parse("{{date|reiwa}}", problems);
  (void)parse("{{sex|table:gender}}", problems);
  (void)parse("{{date", problems);
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_EQ(problems[0], "/render/x: unknown field '{{nmae.family}}'");
  EXPECT_NE(problems[1].find("unknown filter 'reiwa'"), std::string::npos);
  EXPECT_NE(problems[2].find("no value table 'gender'"), std::string::npos);
  EXPECT_EQ(problems[3], "/render/x: unclosed '{{'");
}

TEST(TextTemplateTest, SolePathIsTyped) {
  std::vector<std::string> problems;
  EXPECT_EQ(parse("{{sex}}", problems).sole_path(), std::optional<std::string>("sex"));
  EXPECT_FALSE(parse("{{sex|table:x}}", problems).sole_path());
  EXPECT_FALSE(parse("a{{sex}}", problems).sole_path());
}

}  // namespace
