#include "kofu/reports/artifacts.hpp"

#include <fmt/format.h>

#include <array>
#include <fstream>

#include "kofu/reports/html.hpp"
#include "kofu/reports/junit.hpp"
#include "kofu/reports/manifest.hpp"
#include "kofu/reports/report_json.hpp"
#include "kofu/reports/summary.hpp"

namespace kofu::reports {

namespace {

constexpr std::array<report_artifact, 3> artifacts = {{
    {"junit.xml", render_junit},
    {"summary.md", render_summary},
    {"report.html", render_html},
}};

result<void> write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error(errc::io, fmt::format("{}: cannot write", path.string()));
  out << text;
  if (!out) return make_error(errc::io, fmt::format("{}: write failed", path.string()));
  return {};
}

}  // namespace

std::span<const report_artifact> rendered_artifacts() { return artifacts; }

result<void> write_all(const std::filesystem::path& dir, const nlohmann::json& report,
                       const write_options& options) {
  std::optional<signing_key> key;
  if (options.sign_key) {
    auto loaded = signing_key::load(*options.sign_key);
    if (!loaded) return loaded.error();
    key.emplace(std::move(*loaded));
  }
  // A manifest left from an earlier writing would vouch for files about to change: it goes
  // first, and comes back last over what was written.
  std::error_code ec;
  std::filesystem::remove(dir / "manifest.json", ec);
  if (auto written = write_report(dir, report); !written) return written.error();
  for (const auto& artifact : artifacts) {
    if (auto written = write_text(dir / artifact.file_name, artifact.render(report)); !written) {
      return written.error();
    }
  }
  return write_manifest(dir, key ? &*key : nullptr);
}

}  // namespace kofu::reports
