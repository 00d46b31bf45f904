#pragma once
// The requests that can still be named as the source of another resident's data found on a
// certificate (the leak graph's shifts, DESIGN §7), kept per resident and judged by their timing
// alone: which kofu worker or connection sent them plays no part, since a server-side pool or
// buffer mixes requests from every connection.
//
// A request X for resident R can be the source of R's data printed on request B (sent at a,
// answered at b) when X was sent before b and either
//   - overlapped B (X still in flight after a), whatever X's own outcome, or
//   - preceded B (answered at or before a, at most `horizon` earlier) and did not provably keep
//     its own answer: a timeout, an error, a refusal or a retry (what the server said is no proof
//     that nothing was printed), another resident's certificate (it received a shift itself), or
//     its resident's certificate without the echo of its own application number (a shift between
//     two requests for one resident looks right on the recipient; a vendor that echoes nothing
//     never proves it). A request whose answer echoed its own number kept its data; a later copy
//     of it is a stale buffer, not a shift.
// One candidate names the source; several make the edge ambiguous (all are reported, none is
// chosen); none leaves it unsourced.
//
// Memory: one entry (56 bytes) per request from the oldest one that can still be a candidate:
// a request is forgotten once it is checked, no request checked later can have overlapped it,
// and (when it lost its answer) it ended more than `horizon` before any such request was sent.
// So the entries are the requests sent over the longest lifetime of a request plus the reorder
// slack, or over `horizon` when answers are being lost: rate × that window (docs/decisions.md).
// A request sent more than 2 × horizon + slack ago is forgotten whatever its state, so that one
// never answered (a killed run's, or one whose complete a damaged history lost) cannot hold
// every later entry: the window never exceeds that.
// Not thread-safe (the checker's thread).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "kofu/verify/u64_map.hpp"

namespace kofu::verify::detail {

// What the timing says about the source of a resident's data found on one request.
struct leak_source_match {
  static constexpr std::size_t max_listed = 8;
  std::uint64_t candidates = 0;    // requests that can have been the source
  std::vector<std::uint64_t> ids;  // the first max_listed of them, in the order they were sent
  // The source, when there is exactly one candidate:
  std::uint64_t id = 0;
  std::uint64_t tag = 0;  // the fingerprint of its application number (the caller's)
  std::uint32_t worker = 0;
  std::uint64_t conn = 0;
  bool preceded = false;  // answered before the recipient was sent (else the two overlapped)
};

class leak_sources {
 public:
  // `reorder_slack_ns`: how far the order of events may lag their times (checker_options).
  leak_sources(std::int64_t horizon_ns, std::int64_t reorder_slack_ns)
      : horizon_ns_(horizon_ns), slack_ns_(reorder_slack_ns) {}

  // A request for `resident` (an index of the resident model) sent at `a`, `tag` the caller's
  // fingerprint of its application number. Returns its handle.
  std::uint64_t on_invoke(std::uint32_t resident, std::uint64_t id, std::uint64_t tag,
                          std::int64_t a, std::uint32_t worker, std::uint64_t conn);
  // Its answer (or failure) was received at `b`.
  void on_complete(std::uint64_t handle, std::int64_t b);
  // Its outcome is settled: checked, or never to be checked. `lost`: its own answer did not reach
  // it (timeout, error, or another resident's certificate).
  void on_settled(std::uint64_t handle, bool lost);
  // The candidates for the source of `resident`'s data on request `recipient` (sent at a,
  // answered at b); the recipient itself is never one.
  leak_source_match find(std::uint32_t resident, std::uint64_t recipient, std::int64_t a,
                         std::int64_t b) const;
  // Every event up to `now` has been seen: forgets what no later check can name (a request
  // still to be checked is unsettled, or sent after now − reorder slack).
  void expire(std::int64_t now);
  // Entries held (requests remembered).
  std::size_t size() const { return order_.size(); }

 private:
  struct entry {
    std::int64_t a = 0;
    std::int64_t b = time_max_ns;  // while in flight
    std::uint64_t id = 0;
    std::uint64_t tag = 0;
    std::uint64_t conn = 0;
    std::uint32_t resident = 0;
    std::uint32_t worker = 0;
    bool settled = false;
    bool lost = false;
  };
  // A resident's entries (handles, in the order sent) from `head` on.
  struct resident_list {
    std::vector<std::uint64_t> handles;
    std::size_t head = 0;
  };
  static constexpr std::int64_t time_max_ns = INT64_MAX;
  static constexpr std::int64_t time_min_ns = INT64_MIN;
  entry& at(std::uint64_t handle) { return order_[static_cast<std::size_t>(handle - forgotten_)]; }
  const entry& at(std::uint64_t handle) const {
    return order_[static_cast<std::size_t>(handle - forgotten_)];
  }
  void forget_front();

  std::int64_t horizon_ns_;
  std::int64_t slack_ns_;
  std::deque<entry> order_;            // every remembered request, in the order sent; handle =
  std::uint64_t forgotten_ = 0;        // forgotten_ + index
  std::uint64_t first_unsettled_ = 0;  // handle of the first entry not settled (or the end)
  u64_map<resident_list> by_resident_;
};

}  // namespace kofu::verify::detail
