// `kofu population generate|stats`: the synthetic population (DESIGN §3, docs/population.md).

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "command_registry.hpp"
#include "kofu/population/generator.hpp"
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
});

}  // namespace
