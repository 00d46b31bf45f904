#include "kofu/common/language.hpp"

#include <cstdlib>

namespace kofu {

std::string_view to_string(language lang) { return lang == language::ja ? "ja" : "en"; }

std::optional<language> parse_language(std::string_view text) {
  if (text == "ja") return language::ja;
  if (text == "en") return language::en;
  return std::nullopt;
}

language language_from_locale(const char* lc_all, const char* lc_messages, const char* lang) {
  for (const char* value : {lc_all, lc_messages, lang}) {
    if (value == nullptr || *value == '\0') continue;
    // The first one set decides, as for setlocale(LC_MESSAGES, ""): LC_ALL=C with LANG=ja_JP is C.
    return std::string_view(value).starts_with("ja") ? language::ja : language::en;
  }
  return language::en;
}

language language_from_locale() {
  return language_from_locale(std::getenv("LC_ALL"), std::getenv("LC_MESSAGES"),
                              std::getenv("LANG"));
}

}  // namespace kofu
