#pragma once
// Every report of a run folder written in one place (DESIGN §8): `kofu run`, `kofu verify` and
// `kofu report` call write_all.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "kofu/common/error.hpp"

namespace kofu::reports {

// A report rendered from report.json into a file of the run folder.
struct report_artifact {
  std::string_view file_name;
  std::string (*render)(const nlohmann::json& report);
};
// junit.xml, summary.md, report.html.
std::span<const report_artifact> rendered_artifacts();

struct write_options {
  std::optional<std::filesystem::path> sign_key;  // PEM private key: the manifest is signed
};

// Writes DIR/report.json, then every rendered artifact, then DIR/manifest.json last (over all of
// them and the run's other files). The key is loaded first: a key that cannot be used writes
// nothing. Errors name the file.
result<void> write_all(const std::filesystem::path& dir, const nlohmann::json& report,
                       const write_options& options = {});

}  // namespace kofu::reports
