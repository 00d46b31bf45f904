// Population generation speed and memory (issue 2: 1,000,000 residents in under 10 s on a
// 2-core machine, memory independent of N). Run:
//   build/release/tests/bench/population_bench --benchmark_counters_tabular=true
// The peak-RSS counter shows memory: it must not grow with the residents argument.

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <filesystem>

#include "kofu/population/generator.hpp"

namespace {

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// In memory: the generator and serialiser alone.
void BM_GenerateAndSerialise(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  std::size_t bytes = 0;
  for (auto _ : state) {
    kofu::population::generator gen({n, 1, 0.05});
    std::vector<kofu::population::resident> group;
    std::string line;
    while (gen.next_group(group)) {
      for (const auto& r : group) {
        line.clear();
        kofu::population::append_json_line(line, r);
        bytes += line.size() + 1;
      }
      group.clear();
    }
    benchmark::DoNotOptimize(line);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_GenerateAndSerialise)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);

// To a file, as `kofu population generate` does (including SHA-256 of the output).
void BM_GenerateFile(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  const auto path = std::filesystem::temp_directory_path() / "kofu-population-bench.jsonl";
  for (auto _ : state) {
    auto summary = kofu::population::generate_file({n, 1, 0.05}, path);
    if (!summary) state.SkipWithError(summary.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
  state.counters["file_MiB"] = static_cast<double>(std::filesystem::file_size(path)) / (1 << 20);
  state.counters["peak_rss_MiB"] = peak_rss_mib();
  std::filesystem::remove(path);
}
BENCHMARK(BM_GenerateFile)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace
