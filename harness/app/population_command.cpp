// `kofu population generate|stats|export`: the synthetic population (DESIGN §3,
// docs/population.md), and its hand-over in a vendor's import format (docs/profiles.md).

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "command_registry.hpp"
#include "kofu/driver/population_export.hpp"
#include "kofu/driver/vendor_profile.hpp"
#include "kofu/population/generator.hpp"
#include "kofu/population/reader.hpp"
#include "kofu/population/stats.hpp"

namespace {

struct generate_args {
  kofu::population::generator_options options;
  std::string out;
};

struct stats_args {
  std::string file;
  bool json = false;
};

struct export_args {
  std::string profile;
  std::string out;
  std::string population;
  std::optional<std::uint64_t> residents;
  std::optional<std::uint64_t> seed;
  double confusable_share = kofu::population::generator_options{}.confusable_share;
};

int run_export(const export_args& args) {
  namespace driver = kofu::driver;
  using kofu::population::resident;
  const auto fail = [](const std::string& message) {
    std::fprintf(stderr, "kofu population export: %s\n", message.c_str());
    return 2;
  };
  if (args.profile.empty()) {
    return fail(
        "--profile is required: the vendor's import format is declared by the `export` section "
        "of its profile (docs/profiles.md)");
  }
  const bool generated = args.residents.has_value() || args.seed.has_value();
  if (args.population.empty() == !generated) {
    return fail("give either --population FILE or --residents N --seed S");
  }
  if (generated && !(args.residents && args.seed)) {
    return fail("--residents and --seed go together");
  }
  auto profile = driver::vendor_profile::load(args.profile);
  if (!profile) return fail(profile.error().message);
  const driver::population_export* format = profile->export_format();
  if (format == nullptr) {
    return fail(fmt::format(
        "{}: the profile has no `export` section: it does not say the vendor's import format "
        "(docs/profiles.md)",
        args.profile));
  }

  driver::resident_source source;
  std::optional<kofu::population::reader> file;
  std::optional<kofu::population::generator> generator;
  std::vector<resident> group;
  std::size_t taken = 0;
  if (!args.population.empty()) {
    auto opened = kofu::population::reader::open(args.population);
    if (!opened) return fail(opened.error().message);
    file.emplace(std::move(*opened));
    source = [&file] { return file->next(); };
  } else {
    kofu::population::generator_options options;
    options.residents = *args.residents;
    options.seed = *args.seed;
    options.confusable_share = args.confusable_share;
    generator.emplace(options);
    source = [&]() -> kofu::result<std::optional<resident>> {
      if (taken == group.size()) {
        group.clear();
        taken = 0;
        if (!generator->next_group(group)) return std::optional<resident>{};
      }
      return std::optional<resident>(std::move(group[taken++]));
    };
  }
  auto summary = driver::write_population_export(*format, source, args.out);
  if (!summary) return fail(summary.error().message);
  const char* encoding =
      format->encoding() == driver::population_export::text_encoding::cp932 ? "CP932" : "UTF-8";
  if (!summary->refusals.empty()) {
    for (const auto& r : summary->refusals) fmt::print(stderr, "{}\n", driver::describe(r));
    return fail(fmt::format(
        "{} character(s) cannot be written in {} (listed above; never replaced); nothing "
        "written to {}",
        summary->refusals.size(), encoding, args.out));
  }
  fmt::print("wrote {} residents to {} ({}, {}, {} columns; profile '{}')\n", summary->residents,
             args.out,
             format->format() == driver::population_export::file_format::csv ? "CSV" : "JSON Lines",
             encoding, format->column_names().size(), profile->name());
  return 0;
}

int run_generate(const generate_args& args) {
  const auto start = std::chrono::steady_clock::now();
  auto summary = kofu::population::generate_file(args.options, args.out);
  if (!summary) {
    std::fprintf(stderr, "kofu population generate: %s\n", summary.error().message.c_str());
    return 2;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print(
      "wrote {} residents in {} households to {} in {:.2f} s (generator {}, seed {})\n"
      "sha256 {}\n",
      summary->residents, summary->households, args.out, seconds,
      kofu::population::generator_version, args.options.seed, summary->sha256);
  return 0;
}

int run_stats(const stats_args& args) {
  auto stats = kofu::population::compute_stats(args.file);
  if (!stats) {
    std::fprintf(stderr, "kofu population stats: %s\n", stats.error().message.c_str());
    return 2;
  }
  if (args.json) {
    fmt::print("{}\n", kofu::population::stats_to_json(*stats));
  } else {
    fmt::print("{}\n{}", args.file, kofu::population::format_stats(*stats));
  }
  return 0;
}

const kofu::app::command_registration registration(10, [](CLI::App& app, int& exit_code) {
  auto* population = app.add_subcommand("population", "Generate or inspect a synthetic population");
  population->require_subcommand(1);

  auto gen = std::make_shared<generate_args>();
  auto* generate = population->add_subcommand(
      "generate",
      "Write a synthetic population as JSON Lines (deterministic for residents, seed "
      "and generator version)");
  generate->add_option("--residents", gen->options.residents, "Number of residents")
      ->required()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}));
  generate->add_option("--seed", gen->options.seed, "Seed")->required();
  generate->add_option("--out", gen->out, "Output file (JSON Lines)")->required();
  generate
      ->add_option("--confusable-share", gen->options.confusable_share,
                   "Share of residents whose name has a confusable or variant character")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  generate->callback([gen, &exit_code] { exit_code = run_generate(*gen); });

  auto st = std::make_shared<stats_args>();
  auto* stats =
      population->add_subcommand("stats", "Validate a population file and print its counts");
  stats->add_option("file", st->file, "Population file")->required();
  stats->add_flag("--json", st->json, "Print JSON instead of a table");
  stats->callback([st, &exit_code] { exit_code = run_stats(*st); });

  auto ex = std::make_shared<export_args>();
  auto* exp = population->add_subcommand(
      "export",
      "Write the population in a vendor's import format (the `export` section of its profile)");
  exp->add_option("--profile", ex->profile, "Vendor profile with an `export` section");
  exp->add_option("--out", ex->out, "Output file (written whole or not at all)")->required();
  exp->add_option("--population", ex->population, "Population file (JSON Lines)");
  exp->add_option("--residents", ex->residents, "Generate this many residents instead")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}));
  exp->add_option("--seed", ex->seed, "Seed of the generated population");
  exp->add_option("--confusable-share", ex->confusable_share,
                  "Generated population: share of names with a confusable or variant character")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  exp->callback([ex, &exit_code] { exit_code = run_export(*ex); });
});

}  // namespace
