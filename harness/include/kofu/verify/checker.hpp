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
// Memory: the model (residents + updates), the requests that can still be named as the source
// of a leak (rate × the longest request lifetime + slack, or × source_horizon_ns while answers
// are being lost: leak_sources.hpp), requests in flight or awaiting their check (rate × slack), the
// application numbers of the tag horizon (rate × tag_horizon_ns, about 100 bytes each), and the
// answered serials for DUPLICATE, as runs of consecutive counters (about as many as the answers in
// flight) or, for serials without a counter, as 64-bit fingerprints (10–12.5 bytes an answer;
// serial_registry.hpp). Not thread-safe: one thread calls everything.

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "kofu/scenario/loader.hpp"
#include "kofu/verify/events.hpp"
#include "kofu/verify/finding.hpp"
#include "kofu/verify/leak_sources.hpp"
#include "kofu/verify/resident_model.hpp"
#include "kofu/verify/serial_registry.hpp"
#include "kofu/verify/u64_map.hpp"

namespace kofu::verify {

namespace detail {

// A request awaiting its check: answered at b, held in the checker's slot `slot`.
struct check_entry {
  std::int64_t b = 0;
  std::uint64_t id = 0;
  std::uint32_t slot = 0;
  bool operator<(const check_entry& o) const { return b != o.b ? b < o.b : id < o.id; }
};

// The entries awaiting their check, taken smallest (b, id) first: a priority queue for input
// that is a merge of a few nearly sorted streams. The history interleaves the workers' events in
// blocks (≈ 100 ms apart on 2 workers), so answers arrive far from b order overall but in order
// within a worker: each stream is a deque sorted by (b, id) that almost always grows at the back,
// and the next entry is the smallest of the streams' fronts. A heap paid a cache-missing sift
// per check instead. Any input is accepted (an entry out of order in its stream is inserted in
// place); only the cost depends on the order.
class check_queue {
 public:
  void push(std::uint64_t stream, const check_entry& e);
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  // The smallest entry; requires !empty().
  const check_entry& top();
  void pop();
  // The entry `ahead` places behind top() in top's stream, if any: likely checked soon.
  const check_entry* behind_top(std::size_t ahead);

 private:
  std::size_t top_stream();
  std::vector<std::deque<check_entry>> streams_;
  u64_map<std::uint32_t> stream_index_;  // stream key → index into streams_
  std::size_t size_ = 0;
  std::size_t top_ = 0;  // index of the stream holding the smallest front, when top_valid_
  bool top_valid_ = false;
};

}  // namespace detail

struct checker_options {
  std::int64_t staleness_ns = 0;                  // scenario: allowed staleness
  std::int64_t reorder_slack_ns = 1'000'000'000;  // how far history order may lag time order
  std::int64_t tag_horizon_ns = 30'000'000'000;   // how long an application number is remembered
                                                  // to name the owner of a mis-echoed tag
  // How long after a request lost its answer it can still be named as the source of its
  // resident's data found on a later request (leak_sources.hpp).
  std::int64_t source_horizon_ns = 30'000'000'000;
  bool require_echo = true;  // TAG_MISMATCH when the echo differs
  bool check_digest = true;  // DIGEST_INVALID
  bool keep_answers = true;  // copy answer bodies into findings
  // What the answers of the target's protocol carry (its adapter's): checks they cannot feed
  // are not applicable rather than findings.
  answer_capabilities answers;
  // The adapter of the target's answers when they are not the reference protocol's (a vendor
  // profile's): history answers are decoded by it. Its capabilities are `answers`.
  std::shared_ptr<const answer_decoder> decoder;
  // Thresholds (scenario). Unset minimums are not checked.
  std::optional<std::uint64_t> min_overlaps;         // requests overlapping another resident's
  std::optional<std::uint64_t> min_update_overlaps;  // requests overlapping an own update
  // Defaults: scenarios/schema.json's (scenario::default_thresholds), never a copy.
  std::uint64_t max_findings = kofu::scenario::default_thresholds().max_findings;
  // Fewer answered certificates: verdict unknown.
  std::uint64_t min_answered = kofu::scenario::default_thresholds().min_answered;
  // (errors + timeouts) / requests.
  double max_error_rate = kofu::scenario::default_thresholds().max_error_rate;
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

// One arrow of the leak graph: the victim's data reached the recipient's request. Its source is
// found from the timing and the victim alone (leak_sources.hpp): exactly one candidate request
// names it (a shift); several leave it ambiguous; none, unsourced.
struct leak_edge {
  std::string victim_resident;
  std::string recipient_resident;
  std::uint64_t recipient_request = 0;
  std::optional<std::uint64_t> victim_request;  // the source, when exactly one candidate
  finding_kind kind = finding_kind::wrong_person;
  std::uint64_t source_candidates = 0;            // requests for the victim that can be the source
  std::vector<std::uint64_t> candidate_requests;  // the first few of them, in the order sent
  bool source_preceded = false;        // the source was answered before the recipient was sent
  bool same_worker = false;            // the source was sent by the recipient's kofu worker
  bool same_conn = false;              // … on the same connection
  std::optional<std::uint64_t> chain;  // the chain of shifts it is part of (leak_graph::chains)
  friend bool operator==(const leak_edge&, const leak_edge&) = default;
};

// Consecutive shifts A → B → C (B received A's data, C received B's): a connected run of two or
// more shifts through three or more requests (a swap's two shifts make none).
struct shift_chain {
  std::uint64_t shifts = 0;         // edges in it
  std::uint64_t first_request = 0;  // the earliest source
  std::uint64_t last_request = 0;   // the latest recipient
  friend bool operator==(const shift_chain&, const shift_chain&) = default;
};

struct leak_graph {
  std::vector<leak_edge> edges;
  std::uint64_t swaps = 0;           // pairs of residents who received each other's data
  std::uint64_t shifts = 0;          // edges whose source is named: exactly one candidate
  std::uint64_t shift_chains = 0;    // chains of shifts (chains.size())
  std::uint64_t ambiguous = 0;       // edges with two or more candidate sources
  std::uint64_t unsourced = 0;       // edges with none
  std::uint64_t duplicates = 0;      // victims whose data reached two or more requests
  std::vector<shift_chain> chains;   // in the order of their first source
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
  // The same, taking the event's strings and answer instead of copying them.
  void on_event(history_event&& event);
  void on_issue_invoke(issue_invoke&& e);
  void on_issue_complete(issue_complete&& e);
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
    std::uint32_t phase = 0;          // index into phase_names_ at invoke
    std::uint64_t tag_seq = 0;        // sequence number of its application number's tag_owner
    std::uint64_t source_handle = 0;  // its entry in sources_ (when resident is known)
  };
  struct pending_check {
    request_record request;
    issue_complete complete;
    bool answered = false;  // complete seen; awaiting its check
    // Taken at the complete while the answer is still in the caches (its check runs about
    // reorder_slack later): fingerprint() of the echoed application number, and whether it
    // equals the request's application number.
    std::uint64_t echoed_tag = 0;
    bool echo_matches = false;
  };
  using pending_order = detail::check_entry;  // slot: index into request_slots_
  // An application number issued within the tag horizon (80 bytes; numbers longer than the
  // inline buffer, and ids of residents not in the population, are kept beside it by `seq`).
  struct tag_owner {
    std::int64_t t = 0;  // invoke time, for expiry
    std::uint64_t seq = 0;
    std::uint64_t id = 0;
    std::uint64_t echoed_by = 0;  // the first checked answer that carried it
    std::uint32_t resident = no_resident;
    std::uint8_t length = 0;  // of the inline number; 255: in long_numbers_
    std::array<char, 32> inline_number{};
    // A later number with the same fingerprint took its entry in tags_. Invariant: while an
    // owner is remembered and not superseded, tags_ maps its fingerprint to its seq (an entry
    // is only overwritten by a later owner, which marks this one, or erased at this one's
    // expiry), so the common lookup (an answer echoing its own request's number) needs no
    // probe of that large table.
    bool superseded = false;
    std::uint64_t tag = 0;  // fingerprint of the number
  };
  static constexpr std::uint32_t no_resident = 0xFFFFFFFFu;
  static constexpr std::size_t inline_number_size = 32;
  std::string_view application_number(const tag_owner& t) const;
  std::string resident_id(const tag_owner& t) const;
  // The owner of an application number by its fingerprint, if still remembered.
  tag_owner* find_tag(std::uint64_t fingerprint);
  // find_tag(p.echoed_tag), found without a probe of tags_ when the answer echoes its own
  // request's number (see tag_owner::superseded).
  tag_owner* find_echoed_tag(const pending_check& p);
  template <class E>
  void invoke_impl(E&& e);
  template <class E>
  void complete_impl(E&& e);
  void advance(std::int64_t t);
  void drain(std::int64_t up_to_b);
  void check(const pending_check& p);
  // Adds the leak-graph edge of a finding that names its victim (leak_graph.cpp).
  void record_edge(const finding& f);
  void record_finding(finding f);

  friend class request_checker;

  resident_model model_;
  checker_options options_;
  bool finished_ = false;
  std::int64_t max_t_ = time_min;

  // Requests from invoke to check: in flight until their complete, then awaiting the check.
  // id → index into request_slots_ (a slab: freed slots are reused, their strings' capacity too).
  detail::u64_map<std::uint32_t> requests_;
  std::vector<pending_check> request_slots_;
  std::vector<std::uint32_t> free_slots_;
  void erase_request(std::uint64_t id, std::uint32_t slot);
  void schedule_check(const pending_order& o);
  void prefetch_check(std::size_t ahead);
  // Answered requests awaiting their check, by worker; taken in (b, id) order. Every entry names
  // a live, answered slot: a slot is freed only by its check or by a complete never scheduled.
  detail::check_queue check_order_;
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>>
      updates_in_flight_;  // id → residents
  // With a global change counter: id → (change index, resident) of each change, to number the
  // versions from the update's answer.
  std::unordered_map<std::uint64_t, std::vector<std::pair<std::uint32_t, std::uint32_t>>>
      counter_changes_;
  // Answered requests waiting for the outcome of an update of their resident (by resident).
  std::unordered_map<std::uint32_t, std::vector<pending_order>> parked_;

  // Per resident (index): counters for exposure.
  std::vector<std::uint64_t> issue_invokes_;
  std::vector<std::uint32_t> issues_in_flight_;
  std::vector<std::uint64_t> update_invokes_;
  std::vector<std::uint32_t> updates_in_flight_count_;
  // The requests that can still be named as the source of a leak (leak_sources.hpp).
  detail::leak_sources sources_;
  std::uint64_t total_invokes_ = 0;
  std::uint64_t total_in_flight_ = 0;

  // Application numbers issued within the tag horizon, in invoke order, and by fingerprint
  // (→ sequence number: index into tag_owners_ + tags_expired_).
  std::deque<tag_owner> tag_owners_;
  std::uint64_t tags_expired_ = 0;
  static constexpr std::size_t tag_prefetch_ahead = 8;
  detail::u64_map<std::uint64_t> tags_;
  detail::u64_map<std::string> long_numbers_;       // seq → application number, when long
  detail::u64_map<std::string> unknown_residents_;  // seq → resident id not in the model
  serial_registry serials_seen_;

  outcome_counts outcomes_;
  exposure exposure_;
  // Phases named by `phase` markers (the run's load phases); the first one also holds the
  // requests written before its marker ("" until it comes, and in a history without markers).
  std::vector<std::string> phase_names_{""};
  std::vector<exposure> exposure_by_phase_{exposure{}};
  std::uint32_t phase_ = 0;
  bool phase_seen_ = false;
  latency_histogram latency_;
  std::vector<finding> findings_;
  std::vector<leak_edge> edges_;
  std::uint64_t requests_with_findings_ = 0;
};

// Online use with history lines (what the driver writes): parses one line and feeds it.
// Identical to what `kofu verify` does with the same line. Errors name `where` and the field.
result<void> feed_history_line(checker& c, std::string_view line, std::string_view where);

}  // namespace kofu::verify
