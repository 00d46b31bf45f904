#pragma once
// Sub-commands of `kofu` register themselves here (one file a command family: population,
// run, verify, report…), so that main.cpp stays a thin dispatcher.
//
// A command's setup function adds its CLI11 sub-command to the app and sets a callback that
// stores the exit code in `exit_code` (DESIGN §8: 0 pass, 1 failed threshold or finding,
// 2 bad usage or input).

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kofu/common/language.hpp"

namespace kofu::app {

using command_setup = std::function<void(CLI::App& app, int& exit_code)>;

// Returns the registry; commands are added by static `command_registration` objects.
std::vector<std::pair<int, command_setup>>& command_registry();

struct command_registration {
  // `order` fixes where the command appears in --help (lower first).
  command_registration(int order, command_setup setup);
};

// `--lang ja|en` on a command that prints for people (run, verify, report); anything else is a
// usage error (exit 2) naming the allowed values. Unset, the locale decides (language.hpp).
inline void add_language_option(CLI::App& cmd, std::string& value) {
  cmd.add_option("--lang", value,
                 "Language of the terminal's lines: ja or en (default from LC_ALL, LC_MESSAGES, "
                 "LANG: ja… is Japanese, anything else English)")
      ->check(CLI::IsMember({"ja", "en"}));
}

// The language `--lang` gave ("" when not given: the locale's).
inline language chosen_language(const std::string& value) {
  return parse_language(value).value_or(language_from_locale());
}

}  // namespace kofu::app
