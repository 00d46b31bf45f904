// Where the verifier's time goes on a real history, against the least any verifier must spend
// (issue 5: 1,000,000 answered requests per second per core, i.e. 1 µs of CPU per answered
// request, from a history in memory). Not a test, not a Google Benchmark: it reads one real run
// folder and times, one after the other on one thread, each round:
//
//   scan      finding the lines (memchr over every byte)
//   digests   SHA-256 of every answered certificate's bytes and of every seal image (base64
//             decoded first): the cryptographic part no verifier can skip (DIGEST_INVALID, seals
//             compared by digest)
//   simdjson  simdjson's on-demand parser visiting every value of every line (strings unescaped,
//             numbers read), keeping nothing: a parse with no decode, no check of the canonical
//             form and no check at all (only when simdjson was found at configure time)
//   parse     kofu's own history reader (parse_history_line with the options `kofu verify` uses:
//             strict one-pass reader, certificate decoded, its digest computed)
//   verify    `kofu verify` without writing the report (verify_directory, one thread): read,
//             parse and check; the check's share is verify − parse
//
// and prints CPU seconds, µs per answered request and answered requests per CPU second, the
// lowest of the rounds. Run it on a history in memory (tests/bench/verify_rate.sh does this with
// KOFU_FLOOR=1):
//
//   build/release/tests/bench/verify_floor RUN_DIR [ROUNDS=3] [STAGE]
//
// With STAGE (a row's first word: scan, digests, simdjson, kofu) only the rows starting with it
// run, e.g. under `perf record`.

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <time.h>

#ifdef KOFU_FLOOR_SIMDJSON
#include <simdjson.h>
#endif

#include "kofu/common/sha256.hpp"
#include "kofu/history/decoder.hpp"
#include "kofu/reports/report_json.hpp"
#include "kofu/verify/checker.hpp"
#include "kofu/verify/replay.hpp"

namespace {

using namespace kofu::verify;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Calls f(line) for every line of `text` (without its newline).
template <class F>
void for_each_line(std::string_view text, F&& f) {
  std::size_t at = 0;
  while (at < text.size()) {
    const void* nl = std::memchr(text.data() + at, '\n', text.size() - at);
    const std::size_t end =
        nl == nullptr ? text.size()
                      : static_cast<std::size_t>(static_cast<const char*>(nl) - text.data());
    f(text.substr(at, end - at));
    at = end + 1;
  }
}

std::size_t find(std::string_view hay, std::string_view needle) {
  const void* p = memmem(hay.data(), hay.size(), needle.data(), needle.size());
  return p == nullptr ? std::string_view::npos
                      : static_cast<std::size_t>(static_cast<const char*>(p) - hay.data());
}

// The digest floor of one line: the certificate object of an answer (canonical, as kofu-mock and
// a conforming server send it: `"certificate":{…},"digest":"<64 hex>"}}` at the line's end) and a
// seal image if any. Located with memmem and a fixed offset from the end, the cheapest way.
unsigned digest_floor(std::string_view line, std::string& png, std::uint64_t& bytes) {
  static constexpr std::string_view cert_key = "\"certificate\":{";
  static constexpr std::string_view digest_key = ",\"digest\":\"";
  static constexpr std::string_view image_key = "\"image_png_base64\":\"";
  static constexpr std::size_t digest_tail = digest_key.size() + 64 + 3;  // …"}}
  if (line.size() < digest_tail ||
      line.substr(line.size() - digest_tail, digest_key.size()) != digest_key) {
    return 0;
  }
  const auto c = find(line, cert_key);
  if (c == std::string_view::npos) return 0;
  const auto from_cert = c + cert_key.size() - 1;
  const auto cert = line.substr(from_cert, line.size() - digest_tail - from_cert);
  unsigned acc = kofu::sha256(cert)[0];
  bytes += cert.size();
  if (const auto i = find(cert, image_key); i != std::string_view::npos) {
    const auto from = i + image_key.size();
    const auto to = cert.find('"', from);
    const auto b64 = cert.substr(from, to - from);
    png.resize(b64.size() / 4 * 3 + 3);
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(png.data()),
                                  reinterpret_cast<const unsigned char*>(b64.data()),
                                  static_cast<int>(b64.size()));
    if (n > 0) {
      acc += kofu::sha256(std::string_view(png.data(), static_cast<std::size_t>(n)))[0];
      bytes += static_cast<std::size_t>(n);
    }
  }
  return acc;
}

#ifdef KOFU_FLOOR_SIMDJSON
std::uint64_t visit(simdjson::ondemand::value v);

std::uint64_t visit_object(simdjson::ondemand::object o) {
  std::uint64_t acc = 0;
  for (auto field : o) {
    std::string_view key = field.unescaped_key();
    acc += key.size() + visit(field.value());
  }
  return acc;
}

std::uint64_t visit(simdjson::ondemand::value v) {
  switch (v.type()) {
    case simdjson::ondemand::json_type::object:
      return visit_object(v.get_object());
    case simdjson::ondemand::json_type::array: {
      std::uint64_t acc = 0;
      for (auto item : v.get_array()) acc += visit(item.value());
      return acc;
    }
    case simdjson::ondemand::json_type::string:
      return std::string_view(v.get_string()).size();
    case simdjson::ondemand::json_type::number:
      return simdjson::ondemand::number(v.get_number()).is_int64() ? 1 : 2;
    case simdjson::ondemand::json_type::boolean:
      return bool(v.get_bool()) ? 1 : 0;
    case simdjson::ondemand::json_type::null:
      return v.is_null() ? 0 : 1;
  }
  return 0;
}
#endif

struct stage {
  std::string name;
  std::function<std::uint64_t()> run;  // returns something derived from the work (kept alive)
  double best = 0;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: verify_floor RUN_DIR [ROUNDS=3] [STAGE]\n";
    return 2;
  }
  const std::string dir = argv[1];
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  std::string text = read_file(dir + "/history.jsonl");
  if (text.empty()) {
    std::cerr << dir << "/history.jsonl: missing or empty (a plain history is needed)\n";
    return 2;
  }
  const auto header_end = text.find('\n');
  const std::string header_line = text.substr(0, header_end);
  const auto header = nlohmann::json::parse(header_line);
  const auto copts = options_from_header(header);
  const parse_options popts{copts.keep_answers, copts.check_digest};
  const std::size_t body_size = text.size();
  // simdjson reads up to SIMDJSON_PADDING bytes past a document: the next lines, and at the end
  // this padding.
  text.append(64, ' ');
  const std::string_view lines =
      std::string_view(text).substr(header_end + 1, body_size - header_end - 1);

  kofu::verify::replay_options one;
  one.threads = 1;
  auto first = kofu::reports::report_directory(dir, one);
  if (!first) {
    std::cerr << first.error().message << "\n";
    return 2;
  }
  const auto answered = first->report.at("answered").get<std::uint64_t>();
  std::uint64_t certificate_bytes = 0;

  std::vector<stage> stages;
  stages.push_back({"scan (find the lines)", [&] {
                      std::uint64_t n = 0;
                      for_each_line(lines, [&](std::string_view l) { n += l.size(); });
                      return n;
                    }});
  stages.push_back({"digests (SHA-256 of certificates and seals)", [&] {
                      std::string png;
                      std::uint64_t acc = 0;
                      certificate_bytes = 0;
                      for_each_line(lines, [&](std::string_view l) {
                        acc += digest_floor(l, png, certificate_bytes);
                      });
                      return acc;
                    }});
#ifdef KOFU_FLOOR_SIMDJSON
  stages.push_back({"simdjson on-demand, every value", [&] {
                      simdjson::ondemand::parser parser;
                      std::uint64_t acc = 0;
                      for_each_line(lines, [&](std::string_view l) {
                        if (l.empty()) return;
                        auto doc = parser.iterate(l.data(), l.size(), l.size() + 64);
                        acc += visit(doc.get_value());
                      });
                      return acc;
                    }});
#endif
  stages.push_back({"kofu parse (reader, decode, digest)", [&] {
                      std::uint64_t ok = 0;
                      for_each_line(lines, [&](std::string_view l) {
                        if (l.empty()) return;
                        auto e = parse_history_line(l, "history.jsonl", popts);
                        ok += e ? 1u : 0u;
                      });
                      return ok;
                    }});
  stages.push_back({"kofu verify (read, parse, check)", [&] {
                      auto r = kofu::reports::report_directory(dir, one);
                      return r ? r->report.at("answered").get<std::uint64_t>() : 0;
                    }});

  if (argc > 3) {
    const std::string only = argv[3];
    std::erase_if(stages, [&](const stage& s) { return !s.name.starts_with(only); });
  }
  std::uint64_t sink = 0;
  for (int r = 0; r < rounds; ++r) {
    for (auto& s : stages) {
      const double t0 = thread_cpu_seconds();
      sink += s.run();
      const double t = thread_cpu_seconds() - t0;
      if (r == 0 || t < s.best) s.best = t;
    }
  }
  fmt::print(
      "history {}: {:.0f} MB, {} answered requests, {:.0f} certificate and seal bytes "
      "hashed per answered request; lowest of {} rounds, CPU time of one thread\n",
      dir, static_cast<double>(body_size) / 1e6, answered,
      static_cast<double>(certificate_bytes) / static_cast<double>(answered), rounds);
  const double a = static_cast<double>(answered);
  for (const auto& s : stages) {
    fmt::print("  {:<46} {:7.2f} s {:7.2f} µs/answered {:>12.0f} answered/s/core\n", s.name, s.best,
               s.best * 1e6 / a, a / s.best);
  }
  if (argc <= 3) {
    const double parse = stages[stages.size() - 2].best;
    const double verify = stages.back().best;
    fmt::print("  {:<46} {:7.2f} s {:7.2f} µs/answered\n", "check (verify - parse)", verify - parse,
               (verify - parse) * 1e6 / a);
  }
  return sink == 42 ? 1 : 0;  // never: keeps the work from being optimised away
}
