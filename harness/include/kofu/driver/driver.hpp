#pragma once
// The load driver (DESIGN §5, issue 4): runs a scenario's phases against the target and writes
// every request, update and event to the history.
//
// Threads: one worker thread per core (scenario load.workers), each with its own io_context,
// connections, request generator, statistics and history line buffer — nothing shared on the hot
// path. One more thread (the updater) owns the update stream and the timed events, so per-resident
// serialisation of updates needs no lock. The caller's thread coordinates: it starts everyone at
// one instant, reports progress once a second, and joins.
//
// Times in the history are nanoseconds on the steady clock from `anchor`. Stop early by setting
// `*stop` (SIGINT): no new request is started, requests in flight finish (bounded by the timeout),
// and run() returns with end_reason "interrupted".
//
// Every request is built, and every answer read, through one wire_protocol (wire_protocol.hpp):
// the reference protocol or a vendor profile, never asked which. The first answers of the run are
// judged through it too (profile_fit.hpp; the reference protocol never samples): when most of them
// do not map, the driver sets `*stop` itself and run() returns with end_reason "profile_misfit"
// and the first reason: the profile does not fit the server, and the history would only hold
// false findings.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "kofu/driver/http_client.hpp"
#include "kofu/driver/population_index.hpp"
#include "kofu/driver/reference_wire.hpp"
#include "kofu/driver/worker_stats.hpp"
#include "kofu/history/writer.hpp"
#include "kofu/scenario/scenario.hpp"

namespace kofu::driver {

struct progress {
  double elapsed_s = 0;
  double total_s = 0;
  std::string phase;
  double rate = 0;         // issue answers (any outcome) per second over the last interval
  double target_rate = 0;  // open model: the schedule's rate now; closed: 0
  std::int64_t in_flight = 0;
  std::uint64_t p50_us = 0;  // latency over the last interval
  std::uint64_t p99_us = 0;
  worker_stats total;  // everything so far (histograms included)
};

struct run_settings {
  const scenario::scenario* scenario = nullptr;
  const population_index* population = nullptr;
  std::vector<endpoint> targets;                   // round-robin, at least one
  std::shared_ptr<boost::asio::ssl::context> tls;  // required for https targets
  history::writer* history = nullptr;              // null: no history (benchmarks)
  clock_type::time_point anchor;                   // t = 0 of the history
  std::uint32_t run_number = 1;                    // in application numbers KOFU-RRRRRR-…
  std::atomic<bool>* stop = nullptr;  // optional: set to stop early (the driver may set it too)
  std::function<void(const progress&)> on_progress;  // caller's thread, about once a second
  std::filesystem::path exec_dir;                    // working folder of `exec` events
  // Issue requests of the whole run at most (`kofu run --requests`); nullopt: the phases decide.
  std::optional<std::uint64_t> request_limit;
  // How requests are written and answers read: the reference protocol unless set; never null.
  std::shared_ptr<const wire_protocol> wire = std::make_shared<reference_wire>();
};

struct run_result {
  worker_stats issue;  // all workers merged (update counters included)
  double elapsed_s = 0;
  std::string end_reason;  // "completed", "interrupted" or "profile_misfit"
  // profile_misfit: why the first unmapped answer did not map, and the sample's counts.
  std::string misfit_reason;
  std::uint32_t fit_sampled = 0;   // answers mapped through the profile to judge the fit
  std::uint32_t fit_unmapped = 0;  // of those, the ones that did not map
  std::uint64_t retired_residents = 0;
  std::uint64_t updates_skipped = 0;  // update arrivals with no free slot or resident
  unsigned workers = 0;
};

run_result run(const run_settings& settings);

// Application number of the request with run-wide id `id` ("KOFU-000001-0000000042").
std::string application_number(std::uint32_t run_number, std::uint64_t id);

}  // namespace kofu::driver
