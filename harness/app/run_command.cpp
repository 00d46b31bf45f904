// `kofu run SCENARIO`: load the scenario, prepare the population and the target, drive the load,
// record the history, and hand the folder to the verifier (DESIGN §5, §6, §8a; issue 4).

#include "run_command.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command_registry.hpp"
#include "kofu/common/json_depth.hpp"
#include "kofu/common/sha256.hpp"
#include "kofu/driver/driver.hpp"
#include "kofu/driver/embedded_server.hpp"
#include "kofu/driver/pdf_answer.hpp"
#include "kofu/history/encoder.hpp"
#include "kofu/history/writer.hpp"
#include "kofu/population/reader.hpp"
#include "kofu/reports/manifest.hpp"
#include "kofu/scenario/loader.hpp"
#include "target_setup.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct run_args {
  std::string scenario;
  std::string out;
  std::vector<std::string> targets;
  std::vector<std::string> defects;
  bool defects_given = false;
  double duration = 0;         // 0: as the scenario says
  std::uint64_t requests = 0;  // 0: no bound by count (--requests)
  std::string print_format;    // "": the scenario's target.print.format
  bool quiet = false;
  bool verify_after_only = false;  // no online verifier during the load
  bool force = false;              // clear an existing run folder first
  std::string sign_key;            // PEM private key that signs manifest.json ("" : unsigned)
  std::string lang;                // --lang ("" : the locale's)
};

// What it prints for people while and after the load (errors about bad input stay English); the
// arguments are the same in both languages.
constexpr kofu::message status_line{
    "[{:6.1f}/{:.0f} s] {:<10} {:>7.0f}{:<6} req/s  in flight {:4}  p50 {}  p99 {}  ok {}  "
    "retry {}  refused {}  err {}  timeout {}  updates {}/{}{}",
    "[{:6.1f}/{:.0f} 秒] {:<10} {:>7.0f}{:<6} 件/秒  処理中 {:4}  p50 {}  p99 {}  交付 {}  "
    "再試行 {}  拒否 {}  エラー {}  タイムアウト {}  更新 {}/{}{}"};
constexpr kofu::message status_findings{"  findings {}{}", "  不備 {}{}"};
constexpr kofu::message interrupted_line{
    "kofu run: interrupted by {} after {:.1f} s: the load stopped; verifying what was recorded (a "
    "second {} exits at once)\n",
    "kofu run: {} により {:.1f} 秒で中断しました。負荷を止め、記録された分を検証します（もう一度 "
    "{} で即時終了）\n"};
constexpr kofu::message run_line{
    "run {}: {} requests in {:.1f} s ({:.0f}/s), {} certificates, {} retries (409), {} refused, "
    "{} errors, {} timeouts; latency p50 {} p99 {} p99.9 {}; {} updates ({} failed, {} "
    "unknown)\n",
    "実行{0}: {2:.1f} 秒で要求 {1} 件（毎秒 {3:.0f} 件）、交付 {4} 通、再試行 {5} 件（409）、拒否 "
    "{6} 件、エラー {7} 件、タイムアウト {8} 件。応答時間 p50 {9} p99 {10} p99.9 {11}。更新 {12} "
    "件（失敗 {13} 件、結果不明 {14} 件）\n"};
constexpr kofu::message history_line{"history: {}\n", "履歴: {}\n"};

// The driver's end reason as the run line shows it (Japanese: in words, the name kept beside).
std::string end_reason_text(const std::string& reason, kofu::language lang) {
  if (lang == kofu::language::en) return reason;
  if (reason == "completed") return "完了";
  if (reason == "interrupted") return "中断";
  return fmt::format("終了（{}）", reason);
}

// SIGINT / SIGTERM: the first stops the load (the driver polls stop_requested), the second exits
// at once. Only lock-free atomics and async-signal-safe calls in the handler.
std::atomic<bool> stop_requested{false};
std::atomic<int> stop_signal{0};
std::atomic<pid_t> embedded_pid{-1};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<pid_t>::is_always_lock_free);

extern "C" void on_stop_signal(int signo) {
  int expected = 0;
  if (stop_signal.compare_exchange_strong(expected, signo)) {
    stop_requested.store(true);
    return;
  }
  // The embedded server would die with us anyway (PR_SET_PDEATHSIG); this is sooner.
  if (const pid_t pid = embedded_pid.load(); pid > 0) ::kill(pid, SIGKILL);
  const char message[] =
      "\nkofu run: second interrupt: exiting now; the history keeps what was flushed "
      "(kofu verify DIR verifies it)\n";
  [[maybe_unused]] const auto ignored = ::write(STDERR_FILENO, message, sizeof message - 1);
  ::_exit(128 + signo);
}

// Installs the handler for SIGINT and SIGTERM; restores the previous ones on destruction.
class stop_signals {
 public:
  stop_signals() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &previous_int_);
    ::sigaction(SIGTERM, &action, &previous_term_);
  }
  ~stop_signals() {
    ::sigaction(SIGINT, &previous_int_, nullptr);
    ::sigaction(SIGTERM, &previous_term_, nullptr);
  }
  stop_signals(const stop_signals&) = delete;
  stop_signals& operator=(const stop_signals&) = delete;

 private:
  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
};

// The files only `kofu run` writes in a run folder: --force clears a folder only when it holds
// one of them, so that a mistyped --out can never wipe a folder that is not a run's.
bool looks_like_run_folder(const fs::path& dir) {
  std::error_code ec;
  for (const char* name : {"history.jsonl", "history.jsonl.zst", "run.json", "report.json",
                           "population.jsonl", "kofu-mock.log"}) {
    if (fs::exists(dir / name, ec)) return true;
  }
  return false;
}

// Makes `dir` an empty folder only its owner can read (0700). An existing non-empty folder is
// refused unless `force`, which clears it: two runs' files are never mixed (issue 15: a run that
// wrote history.jsonl.zst beside an older history.jsonl was verified on the older one).
// Returns an error message, empty on success.
std::string prepare_run_folder(const fs::path& dir, bool force) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec))
      return fmt::format("{}: exists and is not a folder", dir.string());
    if (!fs::is_empty(dir, ec)) {
      if (!force) {
        return fmt::format(
            "{}: the run folder exists and is not empty; name a new one with --out, or add "
            "--force to clear it first",
            dir.string());
      }
      if (!looks_like_run_folder(dir)) {
        return fmt::format(
            "{}: --force clears only a kofu run folder (one holding history.jsonl, run.json or "
            "population.jsonl); this one holds none: name a new folder with --out",
            dir.string());
      }
      std::vector<fs::path> entries;
      for (const auto& entry : fs::directory_iterator(dir, ec)) entries.push_back(entry.path());
      if (ec) return fmt::format("{}: cannot clear: {}", dir.string(), ec.message());
      for (const auto& entry : entries) {
        fs::remove_all(entry, ec);
        if (ec) return fmt::format("{}: cannot clear: {}", entry.string(), ec.message());
      }
    }
  }
  fs::create_directories(dir, ec);
  if (ec) return fmt::format("{}: {}", dir.string(), ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return fmt::format("{}: {}", dir.string(), ec.message());
  return {};
}

// What a run leaves may name the admin token only by this: the first 16 hex digits of its
// SHA-256, enough to tell two tokens apart, useless to call the server with.
std::string token_fingerprint(const std::string& token) {
  return "sha256:" + kofu::sha256_hex(token).substr(0, 16);
}

// This machine's name, as gethostname(2) gives it ("" when it cannot).
std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return {};
  return name;
}

std::string utc_stamp(const char* format) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, format, &tm);
  return buffer;
}

// --duration: cut the phases at the new total, or lengthen the last one; events and spikes past
// the new end are dropped. The document in the history header says what actually ran.
void apply_duration(kofu::scenario::scenario& s, double seconds) {
  double start = 0;
  std::vector<kofu::scenario::phase> kept;
  for (auto p : s.phases) {
    if (start >= seconds) break;
    p.duration_s = std::min(p.duration_s, seconds - start);
    std::erase_if(p.spikes, [&](const auto& sp) { return sp.at_s >= p.duration_s; });
    start += p.duration_s;
    kept.push_back(std::move(p));
  }
  if (start < seconds && !kept.empty()) kept.back().duration_s += seconds - start;
  s.phases = std::move(kept);
  std::erase_if(s.events, [&](const auto& e) { return e.at_s >= seconds; });
  auto& doc = s.document;
  doc["phases"] = json::array();
  json original_phases = json::array();
  for (const auto& p : s.phases) {
    json spikes = json::array();
    for (const auto& sp : p.spikes) {
      spikes.push_back({{"at_s", sp.at_s}, {"duration_s", sp.duration_s}, {"rate", sp.rate}});
    }
    doc["phases"].push_back({{"name", p.name},
                             {"duration_s", p.duration_s},
                             {"model", kofu::scenario::to_string(p.model)},
                             {"rate", p.rate},
                             {"ramp_to", p.ramp_to ? json(*p.ramp_to) : json(nullptr)},
                             {"users", p.users},
                             {"think_time_ms", p.think_time_ms},
                             {"warmup", p.warmup},
                             {"spikes", spikes},
                             {"requests", p.requests ? json(*p.requests) : json(nullptr)}});
  }
  json events = json::array();
  for (const auto& e : doc["events"]) {
    if (e.at("at_s").get<double>() < seconds) events.push_back(e);
  }
  doc["events"] = events;
}

// The embedded kofu-mock's /metrics at the run's end (request counts by status, the arrival spread
// of request groups, the deadlines requests carried), kept beside its log: the server stops with
// the run, and these are the server's side of what the run did. Best effort: a server that does
// not answer leaves no file and a note.
void save_mock_metrics(const std::string& url, boost::asio::ssl::context* tls,
                       const std::string& server_name, const fs::path& file) {
  auto answer = kofu::driver::http_get(url, "/metrics", std::chrono::seconds(5), tls, server_name);
  if (!answer || answer->status != 200) {
    fmt::print(stderr, "kofu run: kofu-mock's /metrics not saved: {}\n",
               answer ? fmt::format("status {}", answer->status) : answer.error().message);
    return;
  }
  std::ofstream out(file, std::ios::trunc);
  out << answer->body;
}

std::string format_ms(std::uint64_t us) {
  return fmt::format("{:.1f} ms", static_cast<double>(us) / 1000.0);
}

json latency_json(const kofu::driver::latency_histogram& h) {
  json j{{"count", h.count()},
         {"mean", h.mean() / 1000.0},
         {"max", static_cast<double>(h.max()) / 1000.0}};
  for (const auto& [name, p] : std::vector<std::pair<const char*, double>>{
           {"p50", 50}, {"p90", 90}, {"p99", 99}, {"p99_9", 99.9}, {"p99_99", 99.99}}) {
    j[name] = static_cast<double>(h.value_at_percentile(p)) / 1000.0;
  }
  return j;
}

json stats_json(const kofu::driver::run_result& r) {
  const auto& s = r.issue;
  return {{"workers", r.workers},
          {"elapsed_s", r.elapsed_s},
          {"scheduled", s.scheduled},
          {"sent", s.sent},
          {"ok", s.ok},
          {"retry", s.retry},
          {"refused", s.refused},
          {"server_error", s.server_error},
          {"errors", s.errors},
          {"timeouts", s.timeouts},
          {"late", s.late},
          {"very_late", s.very_late},
          {"dropped", s.dropped},
          {"connects", s.connects},
          {"max_backlog", s.max_backlog},
          {"updates_sent", s.updates_sent},
          {"updates_ok", s.updates_ok},
          {"updates_failed", s.updates_failed},
          {"updates_unknown", s.updates_unknown},
          {"updates_skipped", r.updates_skipped},
          {"retired_residents", r.retired_residents},
          {"latency_ms", latency_json(s.latency)},
          {"service_time_ms", latency_json(s.service_time)}};
}

// The footer's and run.json's record of a run stopped because its profile did not fit the
// server (null otherwise): `kofu verify` refuses such a run the same way.
json misfit_json(const kofu::driver::run_result& r) {
  if (r.end_reason != "profile_misfit") return nullptr;
  return {{"reason", r.misfit_reason}, {"sampled", r.fit_sampled}, {"unmapped", r.fit_unmapped}};
}

std::string misfit_message(const std::string& profile, const kofu::driver::run_result& r) {
  return fmt::format(
      "the profile '{}' does not fit this server: {} ({} of the first {} answers did not map; "
      "the run was stopped and not verified: `kofu profile check SCENARIO` shows the profile "
      "against the server field by field)",
      profile, r.misfit_reason, r.fit_unmapped, r.fit_sampled);
}

int run(run_args& args) {
  const kofu::language lang = kofu::app::chosen_language(args.lang);
  // Everything a run leaves is its owner's only: folders 0700, files 0600 (report writers and the
  // history writer included, whatever mode they ask for).
  ::umask(077);
  // 1. The scenario, with the command line's overrides.
  auto loaded = kofu::scenario::load_file(args.scenario);
  if (!loaded) {
    std::fprintf(stderr, "kofu run: scenario rejected:\n%s\n", loaded.error().message.c_str());
    return 2;
  }
  auto& sc = *loaded;
  // A signing key that cannot be used is bad input, found before the load rather than after it.
  std::optional<std::filesystem::path> sign_key;
  if (!args.sign_key.empty()) {
    if (auto key = kofu::reports::signing_key::load(args.sign_key); !key) {
      std::fprintf(stderr, "kofu run: --sign-key: %s\n", key.error().message.c_str());
      return 2;
    }
    sign_key = args.sign_key;
  }
  kofu::app::override_targets(sc, args.targets);
  if (args.defects_given) {
    if (!sc.target.embedded) {
      std::fprintf(stderr, "kofu run: --defect applies only to the embedded reference server\n");
      return 2;
    }
    sc.target.defects = args.defects;
    sc.document["target"]["defects"] = args.defects;
  }
  if (!args.print_format.empty()) {
    sc.target.print_format = args.print_format;
    sc.document["target"]["print"]["format"] = args.print_format;
  }
  if (args.duration > 0) apply_duration(sc, args.duration);
  auto parsed = kofu::app::parse_endpoints(sc);
  if (!parsed) {
    std::fprintf(stderr, "kofu run: %s\n", parsed.error().message.c_str());
    return 2;
  }
  std::vector<kofu::driver::endpoint> endpoints = std::move(*parsed);

  // 2. The TLS context whenever TLS may be spoken (an embedded server may be started with
  // --tls-cert among its mock_args; it then announces an https:// address), and the targets
  // checked before anything is written: one that refuses connections or fails TLS verification
  // would otherwise be driven for the whole run, every request an error.
  auto ctx = kofu::app::tls_context_for(sc, endpoints);
  if (!ctx) {
    std::fprintf(stderr, "kofu run: %s\n", ctx.error().message.c_str());
    return 2;
  }
  const std::shared_ptr<boost::asio::ssl::context> tls = *ctx;
  if (auto probed = kofu::app::probe_endpoints(sc, endpoints, tls.get()); !probed) {
    std::fprintf(stderr, "kofu run: %s\n", probed.error().message.c_str());
    return 2;
  }

  // The output folder.
  const fs::path dir =
      args.out.empty()
          ? fs::path("kofu-out") / fmt::format("{}-{}", sc.name, utc_stamp("%Y%m%dT%H%M%SZ"))
          : fs::path(args.out);
  if (const auto problem = prepare_run_folder(dir, args.force); !problem.empty()) {
    std::fprintf(stderr, "kofu run: %s\n", problem.c_str());
    return 2;
  }
  const stop_signals signals;

  // 3. The population: generated into the folder, or the scenario's file.
  std::string population_sha;
  auto prepared = kofu::app::prepare_population(sc, dir, &population_sha);
  if (!prepared) {
    std::fprintf(stderr, "kofu run: %s\n", prepared.error().message.c_str());
    return 2;
  }
  const fs::path population_path = *prepared;
  auto residents = kofu::population::load_file(population_path);
  if (!residents) {
    std::fprintf(stderr, "kofu run: %s\n", residents.error().message.c_str());
    return 2;
  }
  if (residents->empty()) {
    std::fprintf(stderr, "kofu run: %s: no residents\n", population_path.c_str());
    return 2;
  }
  const auto resident_count = residents->size();
  // The online verifier's copy of the records (the driver's index takes the loaded ones).
  std::vector<kofu::population::resident> residents_for_check;
  const bool online = !args.verify_after_only;
  if (online) residents_for_check = *residents;
  const kofu::driver::population_index index(std::move(*residents), sc.concentration.hot_residents,
                                             sc.seed);

  // 4. The target.
  std::unique_ptr<kofu::driver::embedded_server> server;
  if (sc.target.embedded) {
    auto started = kofu::app::start_embedded(sc, population_path, dir / "kofu-mock.log", tls.get());
    if (!started) {
      std::fprintf(stderr, "kofu run: %s\n", started.error().message.c_str());
      return 2;
    }
    server = std::move(*started);
    embedded_pid.store(server->pid());
    endpoints = {*kofu::driver::parse_endpoint(server->url())};
    sc.target.urls = {server->url()};
    if (!args.quiet) {
      fmt::print(stderr, "kofu run: started kofu-mock (pid {}) at {}{}\n", server->pid(),
                 server->url(),
                 sc.target.defects.empty()
                     ? std::string(" (no defects)")
                     : fmt::format(" with defects {}", fmt::join(sc.target.defects, ", ")));
    }
  }
  auto loaded_wire = kofu::app::load_wire(sc);
  if (loaded_wire) loaded_wire = kofu::app::with_print_data(*loaded_wire, sc, dir / "print");
  if (!loaded_wire) {
    std::fprintf(stderr, "kofu run: vendor profile rejected:\n%s\n",
                 loaded_wire.error().message.c_str());
    return 2;
  }
  const std::shared_ptr<const kofu::driver::wire_protocol> wire = std::move(*loaded_wire);
  {
    // What the target does not offer is never sent: the mix keeps only what the protocol maps
    // (the reference protocol offers everything).
    std::vector<std::string> left_out;
    for (std::size_t i = 0; i < sc.mix.certificate_types.size(); ++i) {
      const auto type = kofu::scenario::to_string(static_cast<kofu::scenario::certificate_type>(i));
      if (sc.mix.certificate_types[i] > 0 && !wire->offers_type(type)) {
        sc.mix.certificate_types[i] = 0;
        left_out.push_back(std::string(type));
      }
    }
    for (std::size_t i = 0; i < sc.updates.kinds.size(); ++i) {
      const auto kind = kofu::scenario::to_string(static_cast<kofu::scenario::update_kind>(i));
      if (sc.updates.kinds[i] > 0 && !wire->offers_update_kind(kind)) {
        sc.updates.kinds[i] = 0;
        left_out.push_back(fmt::format("{} updates", kind));
      }
    }
    if (!wire->offers_household_scope() && sc.mix.household_scope_share > 0) {
      sc.mix.household_scope_share = 0;
      left_out.push_back("household scope");
    }
    const bool no_type =
        std::all_of(sc.mix.certificate_types.begin(), sc.mix.certificate_types.end(),
                    [](double w) { return w <= 0; });
    if (no_type) {
      fmt::print(stderr,
                 "kofu run: the profile '{}' offers none of the scenario's certificate types\n",
                 wire->name());
      return 2;
    }
    if (!left_out.empty() && !args.quiet) {
      fmt::print(stderr, "kofu run: not offered by '{}', never sent: {}\n", wire->name(),
                 fmt::join(left_out, ", "));
    }
  }
  // GET /version of each target: the first one's answer is the server's version in the history,
  // and each https target's leaf certificate is fingerprinted on that connection.
  json server_version = nullptr;
  json tls_fingerprints = json::object();
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    auto v = kofu::driver::http_get(endpoints[i].base, "/version", std::chrono::seconds(5),
                                    tls.get(), sc.target.tls.server_name);
    if (v && !v->tls_certificate_sha256.empty()) {
      tls_fingerprints[endpoints[i].base] = v->tls_certificate_sha256;
    }
    if (i > 0 || !v || v->status != 200) continue;
    // The header is printed whole into the history and the report: a hostile answer stays out.
    if (v->body.size() <= 64 * 1024 && kofu::json_depth_within(v->body, kofu::max_answer_depth)) {
      server_version = json::parse(v->body, nullptr, false);
      if (server_version.is_discarded()) server_version = v->body;
    } else {
      server_version = fmt::format("(not kept: {} bytes, or nested deeper than {} levels)",
                                   v->body.size(), kofu::max_answer_depth);
    }
  }

  // 5. The history, its header first; the online verifier sees every block the writer writes.
  const fs::path history_path = dir / (sc.history.compress ? "history.jsonl.zst" : "history.jsonl");
  const auto anchor = std::chrono::steady_clock::now();
  const auto run_number = static_cast<std::uint32_t>(std::time(nullptr) % 1000000);
  json target{{"kind", sc.target.embedded ? "embedded" : "urls"},
              {"urls", sc.target.urls},
              {"admin_token_fingerprint", token_fingerprint(sc.target.admin_token)},
              {"profile", sc.target.profile},
              {"profile_name", wire->name()},
              // The profile itself, so that `kofu verify` reads the answers the same way.
              {"profile_document", wire->header_document()},
              {"tls_verify", sc.target.tls.verify},
              {"tls_certificate_sha256", tls_fingerprints},
              {"defects", sc.target.defects}};
  // PDF print data: the layout the answers are read with (pdf_answer.hpp), for `kofu verify`.
  if (const auto* print = dynamic_cast<const kofu::driver::print_wire*>(wire.get())) {
    target["print"] = print->print_header();
  }
  // The scenario as run, but never the token itself (issue 15 item 6).
  sc.document["target"]["admin_token"] =
      "<redacted " + token_fingerprint(sc.target.admin_token) + ">";
  const json header{{"type", "header"},
                    {"format", "kofu-history/1"},
                    {"kofu_version", KOFU_VERSION},
                    {"started_at", utc_stamp("%Y-%m-%dT%H:%M:%SZ")},
                    {"scenario", sc.document},
                    {"scenario_sha256", sc.source_sha256},
                    {"scenario_path", fs::absolute(sc.source_path).string()},
                    {"population",
                     {{"path", fs::absolute(population_path).string()},
                      {"sha256", population_sha},
                      {"residents", resident_count}}},
                    {"seed", sc.seed},
                    // --requests: the run's bound by count (null: none).
                    {"request_limit", args.requests > 0 ? json(args.requests) : json(nullptr)},
                    {"run_number", run_number},
                    {"host", host_name()},
                    {"target", target},
                    {"server_version", server_version}};
  std::unique_ptr<kofu::app::live_verification> live;
  if (online) {
    live = kofu::app::make_live_verification(std::move(residents_for_check), header, lang);
  }
  kofu::history::writer_options wo{history_path, sc.history.compress,
                                   std::chrono::milliseconds(sc.history.flush_ms)};
  if (live) wo.tap = [l = live.get()](std::string&& lines) { l->submit(std::move(lines)); };
  auto writer = kofu::history::writer::open(wo);
  if (!writer) {
    std::fprintf(stderr, "kofu run: %s\n", writer.error().message.c_str());
    return 2;
  }
  {
    kofu::history::line_buffer first_line((*writer).get());
    first_line.append_raw(kofu::history::header_line({header}));
  }

  // 6. The load.
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  auto last_plain = std::chrono::steady_clock::now() - std::chrono::seconds(10);
  kofu::driver::run_settings rs;
  rs.scenario = &sc;
  rs.population = &index;
  rs.targets = endpoints;
  rs.tls = tls;
  rs.history = writer->get();
  rs.anchor = anchor;
  rs.run_number = run_number;
  rs.stop = &stop_requested;
  rs.wire = wire;
  rs.exec_dir =
      sc.source_path.empty() ? fs::current_path() : fs::absolute(sc.source_path).parent_path();
  if (args.requests > 0) rs.request_limit = args.requests;
  rs.on_progress = [&](const kofu::driver::progress& p) {
    if (args.quiet) return;
    const auto& t = p.total;
    const std::string line = kofu::say(
        lang, status_line, p.elapsed_s, p.total_s, p.phase.empty() ? "-" : p.phase, p.rate,
        p.target_rate > 0 ? fmt::format("/{:.0f}", p.target_rate) : std::string(), p.in_flight,
        format_ms(p.p50_us), format_ms(p.p99_us), t.ok, t.retry, t.refused,
        t.errors + t.server_error, t.timeouts, t.updates_ok, t.updates_sent,
        live ? kofu::say(lang, status_findings, live->findings(), live->kept_up() ? "" : "+")
             : std::string());
    if (live) {
      for (const auto& message : live->take_messages()) {
        fmt::print(stderr, "{}{}\n", tty ? "\r\033[K" : "", message);
      }
    }
    if (tty) {
      fmt::print(stderr, "\r\033[K{}", line);
      std::fflush(stderr);
    } else if (std::chrono::steady_clock::now() - last_plain >= std::chrono::seconds(5)) {
      fmt::print(stderr, "{}\n", line);
      last_plain = std::chrono::steady_clock::now();
    }
  };
  const auto result = kofu::driver::run(rs);
  if (tty && !args.quiet) fmt::print(stderr, "\n");
  const int signo = stop_signal.load();
  const bool misfit = result.end_reason == "profile_misfit";
  if (result.end_reason == "interrupted") {
    fmt::print(stderr, "{}",
               kofu::say(lang, interrupted_line, signo == SIGTERM ? "SIGTERM" : "SIGINT",
                         result.elapsed_s, signo == SIGTERM ? "SIGTERM" : "Ctrl-C"));
  }

  // 7. Footer, close, stop the server.
  {
    kofu::history::line_buffer footer((*writer).get());
    kofu::history::marker_event end;
    end.t = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                                 anchor)
                .count();
    end.name = "footer";
    end.phase = result.end_reason;
    end.detail = stats_json(result);
    end.ended_at = utc_stamp("%Y-%m-%dT%H:%M:%SZ");
    footer.append_raw(
        kofu::history::footer_line(end, json{{"signal", signo == 0         ? json(nullptr)
                                                        : signo == SIGTERM ? json("SIGTERM")
                                                                           : json("SIGINT")},
                                             {"profile_misfit", misfit_json(result)}}));
  }
  auto closed = (*writer)->close();
  std::optional<std::uint64_t> online_findings;
  if (live) {
    live->finish();
    // A profile that does not fit makes every answer a false finding: none is shown.
    if (!args.quiet && !misfit) {
      for (const auto& message : live->take_messages()) fmt::print(stderr, "{}\n", message);
    }
    if (live->kept_up()) online_findings = live->findings();
    live.reset();  // its model is not needed while the history is re-verified
  }
  if (server) {
    save_mock_metrics(server->url(), tls.get(), sc.target.tls.server_name,
                      dir / "kofu-mock-metrics.txt");
    const int status = server->stop();
    embedded_pid.store(-1);
    if (status != 0 && !args.quiet) {
      fmt::print(stderr, "kofu run: kofu-mock exited with status {} (see {})\n", status,
                 (dir / "kofu-mock.log").string());
    }
  }
  {
    std::ofstream summary(dir / "run.json", std::ios::trunc);
    json summary_json = stats_json(result);
    summary_json["end_reason"] = result.end_reason;
    summary_json["request_limit"] = args.requests > 0 ? json(args.requests) : json(nullptr);
    summary_json["profile_misfit"] = misfit_json(result);
    summary << summary_json.dump(2) << '\n';
  }
  if (!closed) {
    std::fprintf(stderr, "kofu run: %s\n", closed.error().message.c_str());
    return 2;
  }

  const auto& s = result.issue;
  fmt::print(
      "{}",
      kofu::say(lang, run_line, end_reason_text(result.end_reason, lang), s.sent, result.elapsed_s,
                result.elapsed_s > 0 ? static_cast<double>(s.sent) / result.elapsed_s : 0.0, s.ok,
                s.retry, s.refused, s.errors + s.server_error, s.timeouts,
                format_ms(s.latency.value_at_percentile(50)),
                format_ms(s.latency.value_at_percentile(99)),
                format_ms(s.latency.value_at_percentile(99.9)), s.updates_sent, s.updates_failed,
                s.updates_unknown));
  fmt::print("{}", kofu::say(lang, history_line, history_path.string()));
  if (misfit) {
    // Not verified: every answer would be a false finding (docs/decisions.md).
    fmt::print(stderr, "kofu run: {}\n", misfit_message(wire->name(), result));
    return 2;
  }

  // 8. Verification (issue 5), through the same code as `kofu verify`.
  return kofu::app::verify_after_run(dir, online_findings, sign_key, lang);
}

const kofu::app::command_registration registration(20, [](CLI::App& app, int& exit_code) {
  auto args = std::make_shared<run_args>();
  auto* cmd = app.add_subcommand(
      "run",
      "Drive a scenario against the embedded reference server or a vendor's server and "
      "record the history");
  cmd->add_option("scenario", args->scenario, "Scenario file (JSON, scenarios/schema.json)")
      ->required();
  cmd->add_option("--out", args->out, "Output folder (default kofu-out/NAME-TIMESTAMP)");
  cmd->add_option("--target", args->targets,
                  "Base URL of a server to drive instead of the embedded one (repeatable: "
                  "round-robin)");
  cmd->add_option("--defect", args->defects,
                  "Defect of the embedded kofu-mock (repeatable; replaces the scenario's)");
  cmd->add_option("--duration", args->duration,
                  "Run this many seconds instead (phases cut or "
                  "the last one lengthened; above 0 up to 604800, one week)")
      ->check(CLI::Range(0.001, 604800.0));
  cmd->add_option("--requests", args->requests,
                  "Stop after this many issue requests (the phases' durations still bound the "
                  "run in time; a phase's own `requests` bounds that phase); 1 to 10^12")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000'000}));
  cmd->add_option("--print-format", args->print_format,
                  "How the server answers issued certificates: json, or pdf print data "
                  "(replaces the scenario's target.print.format; the embedded kofu-mock is "
                  "started with the same)")
      ->check(CLI::IsMember({"json", "pdf"}));
  cmd->add_flag("--quiet", args->quiet, "No progress lines");
  cmd->add_flag("--force", args->force,
                "Clear the --out folder first when it already holds a run (otherwise an existing, "
                "non-empty folder is refused)");
  cmd->add_flag("--verify-after-only", args->verify_after_only,
                "No online verifier during the load (findings only in the final report): kofu's "
                "memory then stays flat however long the run; the online verifier keeps 12 bytes "
                "per answered certificate (DUPLICATE serials) and one record per update");
  cmd->add_option("--sign-key", args->sign_key,
                  "PEM private key (Ed25519 or ECDSA P-256) that signs the run's manifest.json");
  kofu::app::add_language_option(*cmd, args->lang);
  cmd->callback([args, cmd, &exit_code] {
    args->defects_given = cmd->count("--defect") > 0;
    exit_code = run(*args);
  });
});

}  // namespace
