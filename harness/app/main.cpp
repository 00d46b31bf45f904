// kofu: the integrity test harness's command line. Each sub-command lives in its own file and
// registers itself (command_registry.hpp); this file only dispatches and owns the single `try`.

#include <algorithm>
#include <cstdio>
#include <exception>

#include "command_registry.hpp"

namespace kofu::app {

std::vector<std::pair<int, command_setup>>& command_registry() {
  static std::vector<std::pair<int, command_setup>> registry;
  return registry;
}

command_registration::command_registration(int order, command_setup setup) {
  command_registry().emplace_back(order, std::move(setup));
}

}  // namespace kofu::app

int main(int argc, char** argv) {
  CLI::App app{
      "kofu " KOFU_VERSION
      " — integrity test harness for certificate-issuance servers (証明書発行サーバ).\n"
      "Provokes the overlaps behind the 2023 コンビニ交付 mix-ups and proves, for every "
      "certificate,\n"
      "that it went to the right person with one consistent, current version of their record."};
  app.set_version_flag("--version", "kofu " KOFU_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  auto& registry = kofu::app::command_registry();
  std::stable_sort(registry.begin(), registry.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  try {
    for (auto& [order, setup] : registry) setup(app, exit_code);
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kofu: %s\n", e.what());
    return 2;
  }
  return exit_code;
}
