// `kofu verify DIR` and `kofu report DIR`: re-verify a run (also a killed one) from
// DIR/history.jsonl and the population it names; write every report (report.json, junit.xml,
// summary.md, then manifest.json, signed with --sign-key) and print a short summary. Exit 0 pass, 1
// findings or a failed threshold, 2 bad usage or input (DESIGN §8). An `unknown` verdict (nothing
// checked, or the overlap the scenario asked for never happened) exits 1: a clean result that
// proves nothing must not pass a pipeline.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command_registry.hpp"
#include "kofu/driver/vendor_profile.hpp"
#include "kofu/print/print_evidence.hpp"
#include "kofu/reports/artifacts.hpp"
#include "kofu/reports/report_json.hpp"
#include "kofu/reports/summary_text.hpp"
#include "run_command.hpp"

namespace {

using json = nlohmann::json;

// The lines it prints besides the summary (summary_text); the arguments are the same in both.
constexpr kofu::message report_line{
    "report: {}/report.json (with junit.xml, summary.md, "
    "manifest.json{})\n",
    "レポート: {}/report.json（junit.xml、summary.md、"
    "manifest.json{} も出力）\n"};
constexpr kofu::message signed_note{", signed", "、署名付き"};

struct verify_args {
  std::string command = "kofu verify";  // who speaks in messages
  std::optional<std::filesystem::path> sign_key;
  // What `kofu run`'s online verifier counted during the run, to compare.
  std::optional<std::uint64_t> online_findings;
  kofu::language lang = kofu::language::en;  // of the summary (errors stay English)
};

int run_verify(const std::string& dir, const verify_args& args) {
  const std::optional<std::uint64_t>& online_findings = args.online_findings;
  // A run stopped because its profile did not fit the server holds only false findings: it is
  // refused like bad input, with the reason `kofu run` gave (docs/decisions.md).
  if (std::ifstream in(std::filesystem::path(dir) / "run.json"); in) {
    const json run = json::parse(in, nullptr, false);
    if (run.is_object() && run.value("end_reason", "") == "profile_misfit") {
      const json& m = run["profile_misfit"];
      fmt::print(stderr,
                 "{}: {}: not verified: the run was stopped because its profile does not "
                 "fit the server: {}\n",
                 args.command, dir, m.is_object() ? m.value("reason", "?") : std::string("?"));
      return 2;
    }
  }
  auto result = kofu::reports::report_directory(dir, {}, kofu::driver::answer_protocol_from_header);
  if (!result) {
    fmt::print(stderr, "{}: {}\n", args.command, result.error().message);
    return 2;
  }
  // Findings on PDF answers get the page they name as a PNG beside the kept PDF (issue 12).
  kofu::print::attach_print_evidence(dir, result->report);
  if (auto written = kofu::reports::write_all(dir, result->report, {args.sign_key}); !written) {
    fmt::print(stderr, "{}: {}\n", args.command, written.error().message);
    return 2;
  }
  const std::string text = kofu::reports::summary_text(result->report, args.lang);
  std::fputs(text.c_str(), stdout);
  fmt::print("{}", kofu::say(args.lang, report_line, dir,
                             args.sign_key ? signed_note.in(args.lang) : std::string_view()));
  if (online_findings) {
    std::uint64_t offline = 0;
    for (const auto& [kind, count] : result->report["findings_by_kind"].items()) {
      offline += count.get<std::uint64_t>();
    }
    if (offline != *online_findings) {
      std::fprintf(stderr,
                   "kofu run: internal error: the online verifier counted %llu findings, the "
                   "re-verification of the history %llu; report.json holds the latter. Please "
                   "report this to the kofu developers with the run folder.\n",
                   static_cast<unsigned long long>(*online_findings),
                   static_cast<unsigned long long>(offline));
      return 2;
    }
  }
  return result->report.value("verdict", "unknown") == "pass" ? 0 : 1;
}

// `kofu verify` and `kofu report` do the same (DESIGN §8a names both): verify says what it is
// for, report what it leaves.
void add_verify_command(CLI::App& app, int& exit_code, const char* name, const char* help) {
  auto dir = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  auto lang = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(name, help);
  cmd->add_option("DIR", *dir, "the run's output folder")->required();
  cmd->add_option("--sign-key", *key,
                  "PEM private key (Ed25519 or ECDSA P-256) that signs manifest.json");
  kofu::app::add_language_option(*cmd, *lang);
  cmd->callback([dir, key, lang, name, &exit_code] {
    verify_args args{fmt::format("kofu {}", name), {}, {}, kofu::app::chosen_language(*lang)};
    if (!key->empty()) args.sign_key = *key;
    exit_code = run_verify(*dir, args);
  });
}

}  // namespace

// `kofu run` verifies the run it just made, through the same code as `kofu verify`, so the two
// can never disagree.
int kofu::app::verify_after_run(const std::filesystem::path& run_dir,
                                std::optional<std::uint64_t> online_findings,
                                const std::optional<std::filesystem::path>& sign_key,
                                kofu::language lang) {
  return run_verify(run_dir.string(), {"kofu run", sign_key, online_findings, lang});
}

namespace {

kofu::app::command_registration reg(30, [](CLI::App& app, int& exit_code) {
  add_verify_command(app, exit_code, "verify",
                     "Re-verify a run from its history (DIR/history.jsonl); writes its reports "
                     "(report.json, junit.xml, summary.md, manifest.json)");
});

kofu::app::command_registration report_reg(31, [](CLI::App& app, int& exit_code) {
  add_verify_command(app, exit_code, "report",
                     "Rewrite every report of a run folder (re-verifies its history as kofu "
                     "verify does); --sign-key signs the new manifest.json");
});

}  // namespace
