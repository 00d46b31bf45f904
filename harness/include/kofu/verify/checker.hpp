#pragma once
// The checker of DESIGN §7: feed it the events of a run in history order, online (the driver
// calls it from the thread that writes the history) or offline (`kofu verify` replays the file);
// the same calls in the same order give the same findings.
//
// A request answered at b is checked once every event up to b + reorder_slack has been seen
// (the history is written by one thread but events of different workers can reach it slightly
// out of time order), or at finish(). By then every update that could matter is known: one sent
// before b has been logged, and one still unanswered was not acknowledged before a.
//
// Memory: the model (residents + updates), a few recent requests per resident, requests in
// flight or awaiting their check (rate × slack), and one 64-bit fingerprint per answered serial
// and application number for DUPLICATE.
// Not thread-safe: one thread calls everything.

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <queue>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "kofu/verify/finding.hpp"
#include "kofu/verify/history_event.hpp"
#include "kofu/verify/resident_model.hpp"

namespace kofu::verify {

struct checker_options {
  std::int64_t staleness_ns = 0;                  // scenario: allowed staleness
  std::int64_t reorder_slack_ns = 1'000'000'000;  // how far history order may lag time order
  std::int64_t tag_horizon_ns = 30'000'000'000;   // how long an application number is remembered
                                                  // to name the owner of a mis-echoed tag
  bool require_echo = true;                       // TAG_MISMATCH when the echo differs
  bool check_digest = true;                       // DIGEST_INVALID
  bool keep_answers = true;                       // copy answer bodies into findings
  // Thresholds (scenario). Unset minimums are not checked.
  std::optional<std::uint64_t> min_overlaps;         // requests overlapping another resident's
  std::optional<std::uint64_t> min_update_overlaps;  // requests overlapping an own update
  std::uint64_t max_findings = 0;
  std::uint64_t min_answered = 1;    // fewer answered certificates: verdict unknown
  double max_error_rate = 0.01;      // (errors + timeouts) / requests
  std::optional<double> max_p99_ms;  // latency of answered requests
};

// Reads the options from a history header (`scenario.verification`, `scenario.thresholds`, with
// the key names of scenarios/schema.json); fields that are absent keep their defaults.
checker_options options_from_header(const nlohmann::json& header);

// Exposure (DESIGN §7): whether the dangerous overlap happened at all.
struct exposure {
  std::uint64_t requests = 0;  // issue requests invoked
  std::uint64_t overlapped_other_resident =
      0;  // in flight together with a request for another resident
  std::uint64_t overlapped_own_update = 0;  // in flight together with an update of their resident
  std::uint64_t overlapped_own_update_retry = 0;  // … of those, answered 409
  std::uint64_t peak_in_flight = 0;               // issue requests in flight at once
  std::uint64_t updates = 0;                      // changes sent (batch changes counted one by one)
  std::uint64_t updates_failed = 0;
  std::uint64_t updates_unknown = 0;  // including those never answered
};

struct outcome_counts {
  std::uint64_t answered = 0;  // 200 with a body (checked)
  std::uint64_t retry = 0;     // 409 data_changed_retry
  std::uint64_t refused = 0;   // other 4xx
  std::uint64_t errors = 0;    // 5xx, protocol errors
  std::uint64_t timeouts = 0;
  std::uint64_t unanswered = 0;        // invoke without complete (run killed)
  std::uint64_t unknown_resident = 0;  // requests for a resident not in the population
  std::uint64_t history_errors = 0;    // events that did not fit (complete without invoke, …)
};

// Latency of answered requests (b − a), log-bucketed (≤ 1.6 % relative error), constant memory.
class latency_histogram {
 public:
  void add(std::int64_t ns);
  void merge(const latency_histogram& other);
  std::uint64_t count() const { return count_; }
  double percentile_ms(double p) const;  // p in [0, 100]
  double max_ms() const { return static_cast<double>(max_ns_) / 1e6; }

 private:
  static constexpr std::size_t buckets = 64 * 40;
  static std::size_t bucket_of(std::uint64_t us);
  static double bucket_mid_us(std::size_t b);
  std::array<std::uint64_t, buckets> counts_{};
  std::uint64_t count_ = 0;
  std::int64_t max_ns_ = 0;
};

// One arrow of the leak graph: the victim's data reached the recipient's request.
struct leak_edge {
  std::string victim_resident;
  std::string recipient_resident;
  std::uint64_t recipient_request = 0;
  std::optional<std::uint64_t> victim_request;  // the overlapping request the data belonged to
  finding_kind kind = finding_kind::wrong_person;
  bool same_worker = false;  // victim request on the recipient's worker, sent before it
  bool same_conn = false;    // … on the same connection
  friend bool operator==(const leak_edge&, const leak_edge&) = default;
};

struct leak_graph {
  std::vector<leak_edge> edges;
  std::uint64_t swaps = 0;   // pairs of residents who received each other's data
  std::uint64_t shifts = 0;  // edges whose source request preceded the recipient on its conn/worker
  std::uint64_t shift_chains = 0;    // maximal chains of such edges
  std::uint64_t duplicates = 0;      // victims whose data reached two or more requests
  std::vector<std::string> victims;  // distinct victims, sorted
};

struct threshold_result {
  std::string name;
  bool passed = true;
  bool exposure = false;  // an exposure minimum: failing it makes the verdict unknown
  std::string detail;
};

enum class verdict : std::uint8_t { pass, fail, unknown };
std::string_view to_string(verdict v);

struct verification_summary {
  outcome_counts outcomes;
  exposure exposure_counts;
  // The same counts per load phase (issue requests by the phase current at their invoke;
  // update counts stay run-wide), in the order the phases began.
  std::vector<std::pair<std::string, exposure>> exposure_by_phase;
  latency_histogram latency;
  std::array<std::uint64_t, finding_kind_count> findings_by_kind{};
  std::uint64_t requests_with_findings = 0;
  double upper_bound_95 = 1.0;  // on the rate of requests with a finding (Clopper–Pearson)
  leak_graph leaks;
  std::vector<threshold_result> thresholds;
  verdict final_verdict = verdict::unknown;
};

// Exact one-sided 95 % upper bound on a binomial rate after k events in n trials
// (Clopper–Pearson; 1 − 0.05^(1/n) when k = 0). 1 when n = 0.
double binomial_upper_bound_95(std::uint64_t n, std::uint64_t k);

class checker {
 public:
  checker(resident_model model, checker_options options);

  // Events in history order. Events that do not fit (a complete without its invoke, an update of
  // an unknown resident) are counted in outcomes().history_errors and otherwise ignored.
  void on_event(const history_event& event);
  void on_issue_invoke(const issue_invoke& e);
  void on_issue_complete(const issue_complete& e);
  void on_update_invoke(const update_invoke& e);
  void on_update_complete(const update_complete& e);
  void on_marker(const marker_event& e);

  // The run is over (footer, end of a killed run's file): checks everything still waiting.
  // Requests without a complete count as unanswered. Further events are ignored.
  void finish();

  // Findings in check order (answer time, then request id). Online callers keep a cursor:
  // findings().subspan(cursor) are the new ones.
  std::span<const finding> findings() const { return findings_; }
  verification_summary summary() const;
  const resident_model& model() const { return model_; }
  const checker_options& options() const { return options_; }

 private:
  struct request_record {
    issue_invoke invoke;
    std::optional<std::uint32_t> resident;
    std::uint64_t others_invoked_at_start = 0;  // global invokes − this resident's at invoke
    std::uint64_t own_updates_at_start = 0;
    bool overlapped_other = false;
    bool overlapped_update = false;
    std::uint32_t phase = 0;  // index into phase_names_ at invoke
  };
  struct pending_check {
    request_record request;
    issue_complete complete;
    bool answered = false;  // complete seen; awaiting its check
  };
  struct pending_order {
    std::int64_t b;
    std::uint64_t id;
    bool operator>(const pending_order& o) const { return b != o.b ? b > o.b : id > o.id; }
  };
  struct recent_request {
    std::uint64_t id = 0;   // 0: empty slot
    std::uint64_t tag = 0;  // fingerprint of its application number
    std::int64_t a = 0;
    std::int64_t b = time_max;  // time_max while in flight
    std::uint32_t worker = 0;
    std::uint32_t conn = 0;
  };
  // An application number issued within the tag horizon.
  struct tag_owner {
    std::uint64_t id = 0;
    std::string resident_id;
    std::string application_number;
    std::uint64_t echoed_by = 0;  // the first checked answer that carried it
  };
  // A compact set of 64-bit fingerprints (open addressing): 16 bytes an answered request,
  // the one structure that grows with requests (DUPLICATE serials over the whole run).
  class fingerprint_set {
   public:
    // Inserts; returns false if it was already there.
    bool insert(std::uint64_t fp);

   private:
    std::vector<std::uint64_t> slots_;
    std::size_t size_ = 0;
  };

  void advance(std::int64_t t);
  void drain(std::int64_t up_to_b);
  void check(const pending_check& p);
  void record_finding(finding f);
  const recent_request* find_overlapping(std::uint32_t victim, std::int64_t a,
                                         std::int64_t b) const;

  friend class request_checker;

  resident_model model_;
  checker_options options_;
  bool finished_ = false;
  std::int64_t max_t_ = time_min;

  // Requests from invoke to check: in flight until their complete, then awaiting the check.
  std::unordered_map<std::uint64_t, pending_check> requests_;
  std::priority_queue<pending_order, std::vector<pending_order>, std::greater<>> check_order_;
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>>
      updates_in_flight_;  // id → residents
  // Answered requests waiting for the outcome of an update of their resident (by resident).
  std::unordered_map<std::uint32_t, std::vector<std::uint64_t>> parked_;

  // Per resident (index): counters for exposure and a ring of recent requests.
  static constexpr std::size_t recent_per_resident = 4;
  std::vector<std::uint64_t> issue_invokes_;
  std::vector<std::uint32_t> issues_in_flight_;
  std::vector<std::uint64_t> update_invokes_;
  std::vector<std::uint32_t> updates_in_flight_count_;
  std::vector<std::array<recent_request, recent_per_resident>> recent_;
  std::vector<std::uint8_t> recent_next_;
  std::uint64_t total_invokes_ = 0;
  std::uint64_t total_in_flight_ = 0;

  // Application numbers issued within the tag horizon, by fingerprint.
  std::unordered_map<std::uint64_t, tag_owner> tags_;
  struct tag_expiry {
    std::int64_t t;
    std::uint64_t tag;
    std::uint64_t id;
  };
  std::deque<tag_expiry> tag_expiry_;
  fingerprint_set serials_seen_;

  outcome_counts outcomes_;
  exposure exposure_;
  // Phases named by `phase` markers (the run's load phases); "" before the first marker.
  std::vector<std::string> phase_names_{""};
  std::vector<exposure> exposure_by_phase_{exposure{}};
  std::uint32_t phase_ = 0;
  latency_histogram latency_;
  std::vector<finding> findings_;
  std::vector<leak_edge> edges_;
  std::uint64_t requests_with_findings_ = 0;
};

// Online use with history lines (what the driver writes): parses one line and feeds it.
// Identical to what `kofu verify` does with the same line. Errors name `where` and the field.
result<void> feed_history_line(checker& c, std::string_view line, std::string_view where);

}  // namespace kofu::verify
