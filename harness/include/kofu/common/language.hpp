#pragma once
// The language kofu speaks on the terminal (issue 13 item 6): Japanese or English. Every text the
// terminal shows is a `message`, a pair of fmt format strings with the same arguments in both;
// the files that print keep their messages in one table at their top. Machine-readable parts
// (finding kinds such as WRONG_PERSON, threshold names, paths) are arguments, never translated.
// Error messages for bad input stay English (docs/decisions.md).

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace kofu {

enum class language { en, ja };

// "en" or "ja".
std::string_view to_string(language lang);

// "ja" or "en"; anything else is nullopt.
std::optional<language> parse_language(std::string_view text);

// The language the locale asks for: the first set and non-empty of LC_ALL, LC_MESSAGES, LANG
// (POSIX precedence) starting with "ja" is Japanese; anything else, or none, English.
language language_from_locale();
// The same from explicit values (null or empty: not set), for tests.
language language_from_locale(const char* lc_all, const char* lc_messages, const char* lang);

// One text in both languages: fmt format strings taking the same arguments.
struct message {
  std::string_view en;
  std::string_view ja;

  constexpr std::string_view in(language lang) const { return lang == language::ja ? ja : en; }
};

// The message in `lang`, formatted. A format string that does not fit its arguments throws
// fmt::format_error (a bug of kofu's: every message is exercised by the tests).
template <class... Args>
std::string say(language lang, const message& m, Args&&... args) {
  return fmt::format(fmt::runtime(m.in(lang)), std::forward<Args>(args)...);
}

}  // namespace kofu
