// `kofu verify-report DIR [--pubkey PUB.pem]`: checks a run folder against its manifest.json —
// every artifact's size and SHA-256, and the signature (against the key the manifest names, or
// with --pubkey against that key, when an unsigned manifest fails). Prints what changed.
// Exit 0 unchanged and (when signed or asked for) validly signed, 1 changed or a bad or missing
// signature, 2 bad usage or input (no manifest, one that does not parse, an unreadable key).

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "command_registry.hpp"
#include "kofu/reports/manifest.hpp"

namespace {

int run_verify_report(const std::string& dir, const std::string& pubkey) {
  std::optional<std::filesystem::path> key;
  if (!pubkey.empty()) key = pubkey;
  auto checked = kofu::reports::check_manifest(dir, key);
  if (!checked) {
    fmt::print(stderr, "kofu verify-report: {}\n", checked.error().message);
    return 2;
  }
  for (const auto& change : checked->changes) fmt::print("{}\n", change);
  fmt::print("{}\n", checked->signature_note);
  const bool signature_ok = checked->signed_ ? checked->signature_valid : !key;
  if (checked->unchanged() && signature_ok) {
    fmt::print("{}: unchanged since its manifest was written\n", dir);
    return 0;
  }
  fmt::print("{}: {}\n", dir,
             checked->unchanged()
                 ? "the files are unchanged, but the signature does not hold"
                 : fmt::format("{} change{} since its manifest was written",
                               checked->changes.size(), checked->changes.size() == 1 ? "" : "s"));
  return 1;
}

kofu::app::command_registration reg(32, [](CLI::App& app, int& exit_code) {
  auto dir = std::make_shared<std::string>();
  auto pubkey = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "verify-report",
      "Check a run folder against its manifest.json: every file's SHA-256 and the signature");
  cmd->add_option("DIR", *dir, "the run's output folder")->required();
  cmd->add_option("--pubkey", *pubkey,
                  "PEM public key the manifest must be signed with (an unsigned manifest then "
                  "fails)");
  cmd->callback([dir, pubkey, &exit_code] { exit_code = run_verify_report(*dir, *pubkey); });
});

}  // namespace
