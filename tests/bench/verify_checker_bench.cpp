// Re-check rate of the verifier (issue 5: ≥ 1,000,000 answered requests per second per core from
// a history already in memory) and where the time goes when starting from history text.
//
//   BM_CheckDecoded      events with answers already decoded (the in-memory history the driver
//                        hands over online, or a replay after decoding): model + checks only
//   BM_ReplayText        history lines in memory: parse + decode + digest + check, as `kofu verify`
//                        does (strict reader, nlohmann only for other lines); /1 with the
//                        digest check (the default), /0 without (no SHA-256 of the certificate)
//   BM_ReplayTextDom     the same lines through nlohmann's DOM (the reference reader)
//   BM_StrictLine        parse_history_line on one complete line (strict reader, decode, digest),
//                        keys sorted as nlohmann dumps them ("body" first, like every line here)
//   BM_StrictLineDriverOrder  the same line with its members in the order the driver writes
//                        them (type, op, id, t, status, outcome, body)
//   BM_StrictInvokeLine  parse_history_line on one issue invoke line; /0 keys sorted, /1 in the
//                        driver's order
//   BM_ParseLine         nlohmann DOM parse of one complete line
//   BM_DigestOnly        SHA-256 of one certificate's canonical text (the digest check's floor)
//   BM_DecodeAnswerText  decode_answer_text on one canonical body (strict reader); /1 with the
//                        digest, /0 without
//   BM_DecodeAnswer      decode_answer on a parsed body (includes the canonical JSON + SHA-256)
//   BM_SaxSkimLine       nlohmann SAX pass over one line without building a DOM (lower bound
//                        for any nlohmann-based parse)

#include <benchmark/benchmark.h>

#include <cstdio>
#include <deque>
#include <map>
#include <random>

#include "bench_history.hpp"
#include "kofu/common/sha256.hpp"
#include "kofu/population/generator.hpp"
#include "kofu/verify/canonical_json.hpp"
#include "kofu/verify/checker.hpp"

namespace {

using json = nlohmann::json;
using kofu::population::resident;
using namespace kofu::verify;
using kofu::bench::history;

void BM_CheckDecoded(benchmark::State& state) {
  const auto& h = history(static_cast<std::size_t>(state.range(0)));
  std::vector<history_event> events;
  for (const auto& e : h.events) {
    auto ev = parse_history_event(e, "bench");
    if (auto* c = std::get_if<issue_complete>(&*ev)) {
      // Evidence bodies are only needed for findings; the in-memory history keeps none.
      c->answer = std::make_shared<const decoded_answer>(decode_answer(e["body"], false));
    }
    events.push_back(std::move(*ev));
  }
  std::uint64_t findings = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto c = std::make_unique<checker>(resident_model(h.pop), checker_options{});
    state.ResumeTiming();
    for (const auto& e : events) c->on_event(e);
    c->finish();
    findings += c->findings().size();
    if (!c->findings().empty()) {
      std::fprintf(stderr, "%s\n", c->findings().front().explanation_en.c_str());
      state.SkipWithError("the benchmark history has findings");
      break;
    }
    state.PauseTiming();
    c.reset();
    state.ResumeTiming();
  }
  benchmark::DoNotOptimize(findings);
  state.counters["answered_per_s"] = benchmark::Counter(
      static_cast<double>(h.answered), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_CheckDecoded)->Arg(200000)->Unit(benchmark::kMillisecond);

void replay_text(benchmark::State& state, bool dom) {
  const auto& h = history(static_cast<std::size_t>(state.range(0)));
  std::vector<std::string> lines;
  for (const auto& e : h.events) lines.push_back(e.dump());
  checker_options o;
  o.check_digest = state.range(1) != 0;
  const parse_options po{o.keep_answers, o.check_digest};
  for (auto _ : state) {
    state.PauseTiming();
    auto c = std::make_unique<checker>(resident_model(h.pop), o);
    state.ResumeTiming();
    for (const auto& l : lines) {
      auto ev = dom ? parse_history_event(json::parse(l), "bench", po)
                    : parse_history_line(l, "bench", po);
      if (!ev) {
        state.SkipWithError("bad line");
        break;
      }
      c->on_event(std::move(*ev));
    }
    c->finish();
    if (!c->findings().empty()) {
      state.SkipWithError("the benchmark history has findings");
      break;
    }
    state.PauseTiming();
    c.reset();
    state.ResumeTiming();
  }
  state.counters["answered_per_s"] = benchmark::Counter(
      static_cast<double>(h.answered), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_ReplayText(benchmark::State& state) { replay_text(state, false); }
BENCHMARK(BM_ReplayText)->Args({50000, 1})->Args({50000, 0})->Unit(benchmark::kMillisecond);

void BM_ReplayTextDom(benchmark::State& state) { replay_text(state, true); }
BENCHMARK(BM_ReplayTextDom)->Args({50000, 1})->Unit(benchmark::kMillisecond);

const std::string& sample_line() {
  static const std::string line = [] {
    const auto& h = history(2000);
    for (const auto& e : h.events) {
      if (e["type"] == "complete" && e["op"] == "issue") return e.dump();
    }
    return std::string();
  }();
  return line;
}

void BM_ParseLine(benchmark::State& state) {
  const std::string& line = sample_line();
  for (auto _ : state) benchmark::DoNotOptimize(json::parse(line));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(line.size()));
}
BENCHMARK(BM_ParseLine);

void BM_StrictLine(benchmark::State& state) {
  const std::string& line = sample_line();
  for (auto _ : state) benchmark::DoNotOptimize(parse_history_line(line, "bench"));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(line.size()));
}
BENCHMARK(BM_StrictLine);

// A member of `e` as the driver prints it (compact JSON).
std::string member_text(const json& e, const char* key) {
  return "\"" + std::string(key) + "\":" + e[key].dump();
}

// `e` printed with the members in `order` first, as harness/src/driver/driver.cpp writes them.
std::string in_driver_order(const json& e, const std::vector<const char*>& order) {
  std::string line = "{";
  for (const char* key : order) {
    if (!e.contains(key)) continue;
    if (line.size() > 1) line += ',';
    line += member_text(e, key);
  }
  return line + "}";
}

void BM_StrictLineDriverOrder(benchmark::State& state) {
  const std::string line = in_driver_order(json::parse(sample_line()),
                                           {"type", "op", "id", "t", "status", "outcome", "body"});
  if (!parse_history_line(line, "bench")) state.SkipWithError("bad line");
  for (auto _ : state) benchmark::DoNotOptimize(parse_history_line(line, "bench"));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(line.size()));
}
BENCHMARK(BM_StrictLineDriverOrder);

void BM_StrictInvokeLine(benchmark::State& state) {
  json invoke;
  for (const auto& e : history(2000).events) {
    if (e["type"] == "invoke" && e["op"] == "issue") {
      invoke = e;
      break;
    }
  }
  invoke["intended"] = invoke["t"].get<std::int64_t>() - 1000;
  invoke["options"] = {
      {"scope", "individual"}, {"honseki", false}, {"zokugara", false}, {"mynumber", false}};
  std::string line = invoke.dump();
  if (state.range(0) != 0) {
    // The driver prints the options with scope first (driver.cpp), not in key order.
    line = in_driver_order(
        invoke, {"type", "op", "id", "t", "intended", "worker", "conn", "application_number",
                 "resident_id", "card_serial", "certificate_type", "channel"});
    line.pop_back();
    line +=
        ",\"options\":{\"scope\":\"individual\",\"honseki\":false,\"zokugara\":false,"
        "\"mynumber\":false}}";
  }
  if (!parse_history_line(line, "bench")) state.SkipWithError("bad line");
  for (auto _ : state) benchmark::DoNotOptimize(parse_history_line(line, "bench"));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(line.size()));
}
BENCHMARK(BM_StrictInvokeLine)->Arg(0)->Arg(1);

// The floor of the digest check: SHA-256 of one certificate's canonical text (kofu::sha256_hex).
void BM_DigestOnly(benchmark::State& state) {
  const json body = json::parse(sample_line())["body"];
  const std::string text =
      body["application_number"].get<std::string>() + "\n" + canonical_json(body["certificate"]);
  for (auto _ : state) benchmark::DoNotOptimize(kofu::sha256_hex(text));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(BM_DigestOnly);

void BM_DecodeAnswerText(benchmark::State& state) {
  const std::string body = json::parse(sample_line())["body"].dump();
  for (auto _ : state)
    benchmark::DoNotOptimize(decode_answer_text(body, false, state.range(0) != 0));
}
BENCHMARK(BM_DecodeAnswerText)->Arg(1)->Arg(0);

void BM_DecodeAnswer(benchmark::State& state) {
  const json body = json::parse(sample_line())["body"];
  for (auto _ : state) benchmark::DoNotOptimize(decode_answer(body, false));
}
BENCHMARK(BM_DecodeAnswer);

void BM_SaxSkimLine(benchmark::State& state) {
  const std::string& line = sample_line();
  struct counter : json::json_sax_t {
    std::size_t n = 0;
    bool null() override { return ++n, true; }
    bool boolean(bool) override { return ++n, true; }
    bool number_integer(number_integer_t) override { return ++n, true; }
    bool number_unsigned(number_unsigned_t) override { return ++n, true; }
    bool number_float(number_float_t, const string_t&) override { return ++n, true; }
    bool string(string_t&) override { return ++n, true; }
    bool binary(binary_t&) override { return ++n, true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
      return false;
    }
  };
  for (auto _ : state) {
    counter c;
    json::sax_parse(line, &c);
    benchmark::DoNotOptimize(c.n);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(line.size()));
}
BENCHMARK(BM_SaxSkimLine);

}  // namespace
