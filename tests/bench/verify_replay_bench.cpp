// What `kofu verify` gains from parsing history lines on worker threads (report.hpp,
// replay_options): a history in memory (std::istringstream) replayed into a checker, as
// verify_directory does after the header, with 1 thread (the plain loop: read, parse, check) and
// with more (N - 1 workers read and parse batches, the calling thread checks in file order).
//
//   BM_ParseOnly/R/D        only parse_history_line on every line, one thread
//   BM_CheckOnly/R/D        only the checker, on events parsed beforehand, one thread
//   BM_ReplayThreads/R/N/D  R juminhyo requests (≈ 2 R lines), N threads in all, D = 1 checks
//                           digests (the default), 0 does not; `answered_per_s` is the answered
//                           requests re-checked per second of wall time; the CPU column is the
//                           calling thread's (the checker's share), `cpu_ms_all_threads` the whole
//                           process's per replay (workers included): on an idle machine with
//                           enough cores, wall ≈ max(CPU, (cpu_ms_all_threads - CPU) / (N - 1))
//
// The history is bench_history.hpp's, shared with verify_checker_bench.cpp: about 8 requests in
// flight and a move every 20 requests, no findings.

#include <benchmark/benchmark.h>

#include <deque>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include <time.h>

#include "bench_history.hpp"
#include "kofu/population/generator.hpp"
#include "kofu/verify/canonical_json.hpp"
#include "kofu/verify/checker.hpp"
#include "kofu/verify/replay.hpp"

namespace {

using json = nlohmann::json;
using kofu::population::resident;
using namespace kofu::verify;

// The lines of kofu::bench::history(requests) (bench_history.hpp) as one text, as the driver
// writes them after the header.
struct text_history {
  std::vector<resident> pop;
  std::string text;
  std::uint64_t answered = 0;
  std::uint64_t lines = 0;
};

const text_history& history(std::size_t requests) {
  static std::map<std::size_t, text_history> cache;
  auto& t = cache[requests];
  if (!t.text.empty()) return t;
  const auto& h = kofu::bench::history(requests);
  t.pop = h.pop;
  t.answered = h.answered;
  for (const auto& e : h.events) {
    t.text += e.dump();
    t.text += '\n';
    ++t.lines;
  }
  return t;
}

// CPU time of the whole process (every thread), in seconds.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void BM_ReplayThreads(benchmark::State& state) {
  const auto& h = history(static_cast<std::size_t>(state.range(0)));
  replay_options how;
  how.threads = static_cast<unsigned>(state.range(1));
  checker_options o;
  o.check_digest = state.range(2) != 0;
  double process_cpu_s = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto c = std::make_unique<checker>(resident_model(h.pop), o);
    std::istringstream in(h.text);
    const double cpu_before = process_cpu_seconds();
    state.ResumeTiming();
    auto info = replay_history(in, "bench", *c, 2, how);
    process_cpu_s += process_cpu_seconds() - cpu_before;
    if (!info || info->lines != h.lines) {
      state.SkipWithError(info ? "lines missing" : info.error().message.c_str());
      break;
    }
    c->finish();
    if (!c->findings().empty()) {
      state.SkipWithError("the benchmark history has findings");
      break;
    }
    state.PauseTiming();
    c.reset();
    in = std::istringstream();
    state.ResumeTiming();
  }
  state.counters["answered_per_s"] = benchmark::Counter(
      static_cast<double>(h.answered), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = static_cast<double>(how.threads);
  state.counters["cpu_ms_all_threads"] =
      1e3 * process_cpu_s /
      static_cast<double>(std::max<benchmark::IterationCount>(1, state.iterations()));
}

// The two halves on their own, one thread each, for the same history: parsing every line
// (parse_history_line, as the workers do) and checking events already parsed (the calling
// thread's share). With k threads the replay tends to max(parse / (k - 1), check).
void BM_ParseOnly(benchmark::State& state) {
  const auto& h = history(static_cast<std::size_t>(state.range(0)));
  const parse_options po{checker_options{}.keep_answers, state.range(1) != 0};
  for (auto _ : state) {
    std::istringstream in(h.text);
    std::string line;
    std::uint64_t events = 0;
    while (std::getline(in, line)) events += parse_history_line(line, "bench", po).has_value();
    if (events != h.lines) {
      state.SkipWithError("bad line");
      break;
    }
  }
  state.counters["answered_per_s"] = benchmark::Counter(
      static_cast<double>(h.answered), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_ParseOnly)->Args({50000, 1})->Args({50000, 0})->Unit(benchmark::kMillisecond);

void BM_CheckOnly(benchmark::State& state) {
  const auto& h = history(static_cast<std::size_t>(state.range(0)));
  checker_options o;
  o.check_digest = state.range(1) != 0;
  const parse_options po{o.keep_answers, o.check_digest};
  std::vector<history_event> parsed;
  std::istringstream in(h.text);
  for (std::string line; std::getline(in, line);)
    parsed.push_back(*parse_history_line(line, "bench", po));
  for (auto _ : state) {
    state.PauseTiming();
    auto c = std::make_unique<checker>(resident_model(h.pop), o);
    std::vector<history_event> events = parsed;
    state.ResumeTiming();
    for (auto& e : events) c->on_event(std::move(e));
    c->finish();
    state.PauseTiming();
    c.reset();
    events.clear();
    state.ResumeTiming();
  }
  state.counters["answered_per_s"] = benchmark::Counter(
      static_cast<double>(h.answered), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_CheckOnly)->Args({50000, 1})->Args({50000, 0})->Unit(benchmark::kMillisecond);

// 1 thread, 2, and every core (when more than 2), with and without the digest check.
void replay_args(benchmark::internal::Benchmark* b) {
  const auto cores = static_cast<std::int64_t>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::int64_t> threads = {1, 2};
  if (cores > 2) threads.push_back(cores);
  for (const std::int64_t digest : {1, 0}) {
    for (const std::int64_t n : threads) b->Args({50000, n, digest});
  }
}
BENCHMARK(BM_ReplayThreads)->Apply(replay_args)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
