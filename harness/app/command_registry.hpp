#pragma once
// Sub-commands of `kofu` register themselves here (one file a command family: population,
// run, verify, report…), so that main.cpp stays a thin dispatcher.
//
// A command's setup function adds its CLI11 sub-command to the app and sets a callback that
// stores the exit code in `exit_code` (DESIGN §8: 0 pass, 1 failed threshold or finding,
// 2 bad usage or input).

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace kofu::app {

using command_setup = std::function<void(CLI::App& app, int& exit_code)>;

// Returns the registry; commands are added by static `command_registration` objects.
std::vector<std::pair<int, command_setup>>& command_registry();

struct command_registration {
  // `order` fixes where the command appears in --help (lower first).
  command_registration(int order, command_setup setup);
};

}  // namespace kofu::app
