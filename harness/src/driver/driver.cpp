#include "kofu/driver/driver.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include "kofu/common/json_depth.hpp"
#include "kofu/common/sha256.hpp"
#include "kofu/driver/answer_classes.hpp"
#include "kofu/driver/arrival_schedule.hpp"
#include "kofu/driver/group_sync.hpp"
#include "kofu/driver/pdf_answer.hpp"
#include "kofu/driver/profile_fit.hpp"
#include "kofu/driver/reference_wire.hpp"
#include "kofu/driver/request_budget.hpp"
#include "kofu/driver/request_generator.hpp"
#include "kofu/driver/update_generator.hpp"
#include "kofu/history/encoder.hpp"

extern char** environ;

namespace kofu::driver {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using json = nlohmann::json;

namespace {

constexpr auto as_values = asio::as_tuple(asio::use_awaitable);

std::int64_t ns_since(clock_type::time_point anchor, clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t - anchor).count();
}

std::uint64_t micros(clock_type::duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return us < 0 ? 0 : static_cast<std::uint64_t>(us);
}

// Splits `total` over `parts` with the remainder spread over the first ones (as h2load does).
unsigned share_of(unsigned total, unsigned parts, unsigned index) {
  return total / parts + (index < total % parts ? 1u : 0u);
}

// A counter a coroutine can wait on until it reaches zero (all spawned tasks of a phase done).
// Single-threaded: used only inside one io_context.
class task_latch {
 public:
  explicit task_latch(asio::io_context& io) : timer_(io, clock_type::time_point::max()) {}
  void add() { ++remaining_; }
  void done() {
    if (--remaining_ == 0) timer_.cancel();
  }
  asio::awaitable<void> wait() {
    while (remaining_ > 0) co_await timer_.async_wait(as_values);
  }

 private:
  asio::steady_timer timer_;
  int remaining_ = 0;
};

// The first bytes of `text`, at most `limit`, cut at a UTF-8 character boundary.
std::string_view utf8_prefix(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t n = limit;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0u) == 0x80u) --n;
  return text.substr(0, n);
}

// An answer kofu neither keeps nor parses (issue 15 item 2): larger than the scenario's
// load.max_body_bytes (the client kept only its first bytes), or nested deeper than
// max_answer_depth. Its body is cleared, so nothing downstream parses it; the history records,
// in its place, why, its size, its SHA-256 and its first kilobyte (docs/history.md).
std::optional<json> withhold_hostile_body(exchange_result& r) {
  if (r.outcome != exchange_result::kind::answered) return std::nullopt;
  std::string reason;
  if (r.body_truncated) {
    reason =
        fmt::format("the answer's body is {} bytes, above the limit of {} (load.max_body_bytes)",
                    r.body_size, r.body.size());
  } else if (!is_pdf_content_type(r.content_type) && !json_depth_within(r.body, max_answer_depth)) {
    // A PDF is not JSON: its brackets say nothing about nesting (print_wire reads it).
    reason = fmt::format("the answer nests deeper than {} levels", max_answer_depth);
  } else {
    return std::nullopt;
  }
  json withheld{{"reason", std::move(reason)},
                {"size", r.body_size},
                {"sha256", r.body_truncated ? r.body_sha256 : sha256_hex(r.body)},
                {"prefix", utf8_prefix(r.body, 1024)},
                {"content_type", r.content_type}};
  r.body.clear();
  return withheld;
}

std::string outcome_of_issue(const exchange_result& r) {
  switch (r.outcome) {
    case exchange_result::kind::timeout:
      return "timeout";
    case exchange_result::kind::error:
      return "error";
    case exchange_result::kind::answered:
      break;
  }
  return reference_issue_outcome(r.status);
}

// Waits until `when`, in slices of at most 100 ms so that a stop request (or a wind-down) is
// noticed promptly.
asio::awaitable<void> sleep_until(asio::steady_timer& timer, clock_type::time_point when,
                                  const std::atomic<bool>* stop,
                                  const std::atomic<bool>* wound_down = nullptr) {
  constexpr auto slice = std::chrono::milliseconds(100);
  for (;;) {
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) co_return;
    if (wound_down != nullptr && wound_down->load(std::memory_order_relaxed)) co_return;
    const auto now = clock_type::now();
    if (now >= when) co_return;
    timer.expires_at(std::min(when, now + slice));
    co_await timer.async_wait(as_values);
  }
}

// Arrivals still due when the schedule is abandoned at the phase's end (the sender fell behind):
// counted as dropped, up to this many, so that a rate far beyond what can be sent ends on time
// and still shows as not sent.
constexpr std::uint64_t max_counted_unsent = 10'000'000;

// A loop that did not have to wait for its next arrival yields after this many, so that the
// connections of its io_context get to send.
constexpr unsigned arrivals_between_yields = 64;

// An open-model request sent later than this after its intended time counts as very late: the
// driver could not keep the schedule (DESIGN §7 measures latency from the intended time anyway).
constexpr auto very_late_bound = std::chrono::seconds(1);

// How long the first member of a synchronised group waits at the gate for the others (one still
// waiting for a free connection, say) before those present go: short against any timeout, long
// against the microseconds the members of one io_context normally take to arrive.
constexpr auto max_group_hold = std::chrono::milliseconds(50);

}  // namespace

std::string application_number(std::uint32_t run_number, std::uint64_t id) {
  return fmt::format("KOFU-{:06}-{:010}", run_number % 1000000, id);
}

// ---- What workers and the updater share: a thread, its io_context, history lines, stats ------

class driver_thread {
 public:
  driver_thread(const driver_thread&) = delete;
  driver_thread& operator=(const driver_thread&) = delete;

  void join() {
    if (thread_.joinable()) thread_.join();
  }

  // Ends what is still running as a stop would, but as the run's normal end: the issue load ended
  // before its planned time (a request bound was reached), and the update stream and events end
  // with it.
  void wind_down() { wound_down_.store(true, std::memory_order_relaxed); }

  // Statistics published since the last call (see hand_off_loop, and at the thread's end).
  worker_stats take_published() {
    std::lock_guard lock(published_mutex_);
    worker_stats out = std::move(published_);
    published_ = worker_stats{};
    return out;
  }

 protected:
  // Ids of this thread: index, index + id_stride, … (unique in the run).
  driver_thread(const run_settings& s, unsigned index, unsigned id_stride)
      : settings_(s), wire_(*s.wire), index_(index), id_stride_(id_stride), lines_(s.history) {}
  ~driver_thread() = default;

  // Runs the io_context on the thread (spawn the work first).
  void start_thread() {
    thread_ = std::thread([this] { io_.run(); });
  }

  std::uint64_t next_id() { return (id_counter_++) * id_stride_ + index_; }

  bool stopped() const {
    return (settings_.stop != nullptr && settings_.stop->load(std::memory_order_relaxed)) ||
           wound_down_.load(std::memory_order_relaxed);
  }
  // Whether the run was stopped (SIGINT, profile misfit), not merely wound down.
  bool stop_requested() const {
    return settings_.stop != nullptr && settings_.stop->load(std::memory_order_relaxed);
  }

  // Moves this thread's statistics into the published ones.
  void publish() {
    std::lock_guard lock(published_mutex_);
    published_.merge(stats_);
    stats_ = worker_stats{};
  }

  // Hands the history lines to the writer every flush_ms / 2 until hand_off_done_, and publishes
  // the statistics when `publish_every` has passed since the last time (zero: at every hand-off).
  asio::awaitable<void> hand_off_loop(clock_type::duration publish_every) {
    asio::steady_timer timer(io_);
    const auto every = std::chrono::milliseconds(
        std::max<std::uint32_t>(settings_.scenario->history.flush_ms / 2, 5));
    auto last_publish = clock_type::now();
    while (!hand_off_done_) {
      timer.expires_after(every);
      co_await timer.async_wait(as_values);
      lines_.hand_off();
      if (clock_type::now() - last_publish >= publish_every) {
        publish();
        last_publish = clock_type::now();
      }
    }
  }

  const run_settings& settings_;
  const wire_protocol& wire_;  // every request written, every answer read, through it
  const unsigned index_;
  const unsigned id_stride_;
  asio::io_context io_{1};
  history::line_buffer lines_;
  worker_stats stats_;                   // this thread only; published by publish()
  bool hand_off_done_ = false;           // this thread only: ends hand_off_loop
  std::atomic<bool> wound_down_{false};  // set by wind_down() from the coordinator's thread

 private:
  std::uint64_t id_counter_ = 0;  // this thread only
  std::mutex published_mutex_;
  worker_stats published_;  // guarded by published_mutex_
  std::thread thread_;
};

// ---- One worker: a thread, an io_context, its connections -------------------------------------

class worker : public driver_thread {
 public:
  // `fit`: where the first answers are judged against the wire protocol (shared, lock-free).
  // `budget`: the tickets of request-bounded phases and runs (shared, lock-free).
  worker(const run_settings& s, unsigned index, unsigned id_stride, unsigned slots,
         profile_fit& fit, request_budget& budget)
      : driver_thread(s, index, id_stride),
        generator_(*s.scenario, *s.population, index),
        fit_(fit),
        budget_(budget),
        classes_(s.scenario->target.answer_classes) {
    for (unsigned slot = 0; slot < slots; ++slot) {
      const auto& target = s.targets[(index + slot * id_stride) % s.targets.size()];
      conns_.push_back(std::make_unique<connection>(io_.get_executor(), target, s.tls.get(),
                                                    s.scenario->target.tls.server_name));
      conns_.back()->set_deadline_header(s.scenario->target.deadline);
      wake_.push_back(std::make_unique<asio::steady_timer>(io_));
    }
  }

  // Publishes its statistics every half second and at its end.
  void start(clock_type::time_point run_start, unsigned workers) {
    asio::co_spawn(io_, run_phases(run_start, workers), asio::detached);
    asio::co_spawn(io_, hand_off_loop(std::chrono::milliseconds(500)), asio::detached);
    start_thread();
  }

  std::int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  bool finished() const { return finished_.load(std::memory_order_acquire); }

 private:
  struct pending_issue {
    issue_request request;
    clock_type::time_point intended;
    std::shared_ptr<group_sync> group;  // a member of a group: its gate; null otherwise
  };

  asio::awaitable<void> run_phases(clock_type::time_point, unsigned workers) {
    const auto& sc = *settings_.scenario;
    for (std::size_t k = 0; k < sc.phases.size(); ++k) {
      const auto& ph = sc.phases[k];
      if (stopped()) break;
      // Boundaries from the budget: as planned, or earlier when a request bound ended a phase.
      const auto phase_start = budget_.phase_start(k);
      asio::steady_timer timer(io_);
      co_await sleep_until(timer, phase_start, settings_.stop);
      warmup_ = ph.warmup;
      phase_ = k;
      if (ph.model == scenario::load_model::open) {
        const unsigned conns = share_of(sc.load.connections, workers, index_);
        if (conns > 0) {
          co_await run_open(ph, phase_start, 1.0 / workers, static_cast<double>(index_) / workers,
                            conns);
        }
      } else {
        const unsigned users = share_of(ph.users, workers, index_);
        co_await run_closed(ph, budget_.phase_end(k), users);
      }
    }
    hand_off_done_ = true;
    for (const auto& c : conns_) stats_.connects += c->connects();
    lines_.hand_off();
    publish();
    finished_.store(true, std::memory_order_release);
  }

  // Open model: arrivals at their intended times whatever the answers; a request waits in the
  // backlog when every connection is busy, and its latency still counts from the intended time.
  asio::awaitable<void> run_open(const scenario::phase& ph, clock_type::time_point start,
                                 double share, double offset, unsigned conns) {
    arrival_schedule schedule(ph, share, offset);
    open_phase_done_ = false;
    task_latch latch(io_);
    for (unsigned slot = 0; slot < conns; ++slot) {
      latch.add();
      asio::co_spawn(io_, connection_loop(slot), [&latch](std::exception_ptr) { latch.done(); });
    }
    asio::steady_timer timer(io_);
    std::vector<issue_request> group;
    const auto max_backlog = settings_.scenario->load.max_backlog;
    phase_end_ = budget_.phase_end(phase_);
    unsigned without_wait = 0;
    while (auto t = schedule.next()) {
      if (stopped() || budget_.exhausted(phase_)) break;
      const auto intended = start + std::chrono::nanoseconds(*t);
      if (clock_type::now() >= phase_end_) {
        // Behind schedule at the phase's end: what is still due is never sent.
        std::uint64_t unsent = 1;
        while (unsent < max_counted_unsent && schedule.next()) ++unsent;
        stats_.scheduled += unsent;
        stats_.dropped += unsent;
        break;
      }
      if (intended > clock_type::now()) {
        without_wait = 0;
        co_await sleep_until(timer, intended, settings_.stop);
      } else if (++without_wait % arrivals_between_yields == 0) {
        co_await asio::post(io_, asio::use_awaitable);
      }
      if (stopped()) break;
      const auto kind = generator_.next_arrival(group);
      // The members that get a ticket and a place in the backlog: a group cut short by the
      // request bound or a full backlog is announced with the members that will be sent.
      const std::size_t first_new = backlog_.size();
      for (const auto& r : group) {
        // A request-bounded phase: an arrival without a ticket is not due (and not counted).
        if (!budget_.take(phase_)) continue;
        ++stats_.scheduled;
        if (backlog_.size() >= max_backlog) {
          ++stats_.dropped;
          continue;
        }
        backlog_.push_back({r, intended, nullptr});
      }
      if (kind && backlog_.size() > first_new) {
        const auto gate = make_group(*kind, backlog_.size() - first_new);
        for (std::size_t k = first_new; k < backlog_.size(); ++k) backlog_[k].group = gate;
      }
      stats_.max_backlog = std::max<std::uint64_t>(stats_.max_backlog, backlog_.size());
      // A group takes the places of the arrivals it stands for, so the rate stays as asked.
      for (std::size_t k = 1; k < group.size(); ++k) {
        if (!schedule.next()) break;
      }
      for (std::size_t k = 0; k < group.size() && !idle_.empty(); ++k) {
        const auto slot = idle_.back();
        idle_.pop_back();
        wake_[slot]->cancel();
      }
    }
    open_phase_done_ = true;
    while (!idle_.empty()) {
      wake_[idle_.back()]->cancel();
      idle_.pop_back();
    }
    co_await latch.wait();
  }

  asio::awaitable<void> connection_loop(unsigned slot) {
    for (;;) {
      // The backlog ends with its phase: a request not sent by then is dropped, not sent late
      // into the next phase (or past the run's end).
      if (clock_type::now() >= phase_end_ && !backlog_.empty()) drop_backlog();
      while (!backlog_.empty() && !stopped() && clock_type::now() < phase_end_) {
        pending_issue job = std::move(backlog_.front());
        backlog_.pop_front();
        // Named, not a temporary of the co_await expression (see user_loop).
        auto op = issue(*conns_[slot], slot, std::move(job));
        co_await std::move(op);
      }
      if (open_phase_done_ || stopped()) {
        if (stopped()) drop_backlog();
        co_return;
      }
      idle_.push_back(slot);
      wake_[slot]->expires_at(clock_type::time_point::max());
      co_await wake_[slot]->async_wait(as_values);
    }
  }

  // Requests still waiting for a connection are never sent: counted as dropped, and the groups
  // they belong to stop waiting for them.
  void drop_backlog() {
    stats_.dropped += backlog_.size();
    for (const auto& job : backlog_) {
      if (job.group) job.group->leave();
    }
    backlog_.clear();
  }

  // The gate of a new group of `members` requests: it names the group (X-Kofu-Group) and, when the
  // scenario synchronises groups of this kind, holds each member's last byte until all are ready.
  std::shared_ptr<group_sync> make_group(group_kind kind, std::size_t members) {
    const auto& conc = settings_.scenario->concentration;
    const bool last_byte =
        kind == group_kind::koseki ? conc.last_byte_sync_koseki : conc.last_byte_sync_household;
    return std::make_shared<group_sync>(
        io_.get_executor(), fmt::format("{}-{}-{}", settings_.run_number, index_, groups_++),
        members, last_byte, max_group_hold);
  }

  // Closed model: each user sends, waits for the answer, thinks, and sends again. With
  // concentration.group_share, a user may instead open a group (members of one household or 戸籍,
  // through different channels, as in the open model): the next users to come free each take one
  // member and wait at the group's gate, and all of them send at the instant the last one joins.
  // The gate never holds a user longer than one answer's timeout plus a think time (the longest
  // another user can take to come free), nor past the phase's end; then those present send.
  // Groups form among this worker's users (one io_context, so the gate needs no lock).
  asio::awaitable<void> run_closed(const scenario::phase& ph, clock_type::time_point end,
                                   unsigned users) {
    const auto& conc = settings_.scenario->concentration;
    closed_group_size_ = conc.group_share > 0 ? std::min(conc.group_size, users) : 0;
    gathering_.reset();
    task_latch latch(io_);
    for (unsigned u = 0; u < users && u < conns_.size(); ++u) {
      latch.add();
      asio::co_spawn(io_, user_loop(u, end, ph.think_time_ms),
                     [&latch](std::exception_ptr) { latch.done(); });
    }
    co_await latch.wait();
  }

  // A closed-model group being gathered: members[0] is the opener's.
  struct group_gate {
    explicit group_gate(asio::io_context& io) : release(io) {}
    std::vector<issue_request> members;
    group_kind kind = group_kind::household;
    std::size_t joined = 1;
    bool released = false;             // full, or given up: the members send
    asio::steady_timer release;        // every member waits on it: cancelled when the group is full
    std::shared_ptr<group_sync> sync;  // made at release, for the members that joined
  };

  // Lets a closed-model group go, with a gate for the members that joined it.
  void release_gate(group_gate& gate) {
    gate.sync = make_group(gate.kind, gate.joined);
    gate.released = true;
    gate.release.cancel();
  }

  asio::awaitable<void> user_loop(unsigned slot, clock_type::time_point end, double think_ms) {
    asio::steady_timer timer(io_);
    const auto think = std::chrono::duration_cast<clock_type::duration>(
        std::chrono::duration<double, std::milli>(think_ms));
    std::vector<issue_request> group;
    while (clock_type::now() < end && !stopped() && !budget_.exhausted(phase_)) {
      issue_request request;
      std::shared_ptr<group_sync> sync;
      if (gathering_ && gathering_->joined < gathering_->members.size()) {
        auto gate = gathering_;
        request = gate->members[gate->joined++];
        if (gate->joined == gate->members.size()) {
          gathering_.reset();
          release_gate(*gate);
        } else {
          // The opener re-arms the timer in slices; each wakes the members, who wait again.
          while (!gate->released) co_await gate->release.async_wait(as_values);
        }
        sync = gate->sync;
      } else if (closed_group_size_ >= 2 && generator_.next_is_group()) {
        auto gate = std::make_shared<group_gate>(io_);
        gate->kind = generator_.next_group(group, closed_group_size_);
        gate->members = group;
        request = gate->members[0];
        gathering_ = gate;
        const auto limit = std::min(
            clock_type::now() + std::chrono::milliseconds(settings_.scenario->load.timeout_ms) +
                think + std::chrono::milliseconds(50),
            end);
        // In slices, so that a stop request is noticed promptly.
        while (!gate->released && !stopped() && clock_type::now() < limit &&
               !budget_.exhausted(phase_)) {
          gate->release.expires_at(
              std::min(limit, clock_type::now() + std::chrono::milliseconds(100)));
          co_await gate->release.async_wait(as_values);
        }
        // Not full in time: those present go; the members no one took are not sent.
        if (!gate->released) {
          if (gathering_ == gate) gathering_.reset();
          release_gate(*gate);
        }
        sync = gate->sync;
      } else {
        request = generator_.next_single();
      }
      // A gate may release its group at the phase's end: nothing is sent after it, nor past a
      // request bound.
      if (stopped() || clock_type::now() >= end || !budget_.take(phase_)) {
        if (sync) sync->leave();
        break;
      }
      ++stats_.scheduled;
      // A named job and a named operation: GCC 12 destroys a temporary holding a shared_ptr
      // inside a co_await expression twice (seen as a crash when the gate was released).
      pending_issue job{request, clock_type::now(), std::move(sync)};
      auto op = issue(*conns_[slot], slot, std::move(job));
      co_await std::move(op);
      // Thinking ends with the phase (and on stop), however long the scenario says it lasts.
      if (think_ms > 0)
        co_await sleep_until(timer, std::min(clock_type::now() + think, end), settings_.stop);
    }
  }

  asio::awaitable<void> issue(connection& conn, unsigned slot, pending_issue job) {
    const auto& sc = *settings_.scenario;
    const auto& r = settings_.population->at(job.request.resident);
    const std::uint64_t id = next_id();
    const std::string app_no = application_number(settings_.run_number, id);
    const auto type = scenario::to_string(job.request.type);
    const auto ch = scenario::to_string(job.request.channel);
    const auto& o = job.request.options;
    const issue_fields fields{app_no,        std::string(ch), std::string(type),
                              r.card_serial, r.resident_id,   o.household_scope,
                              o.honseki,     o.zokugara,      o.mynumber};
    http::request<http::string_body> req = wire_.issue_request(fields);
    std::function<asio::awaitable<void>()> hold;
    if (job.group) {
      req.set(group_header, job.group->header_value());
      if (job.group->last_byte()) hold = [gate = job.group] { return gate->arrive(); };
    }
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    auto result = co_await conn.exchange(
        req, std::chrono::milliseconds(sc.load.timeout_ms),
        [&](clock_type::time_point sent_at, std::uint64_t serial) {
          // The TCP connection's number, unique in the run: worker, slot, and reconnect serial.
          const std::uint64_t conn_id =
              (std::uint64_t{index_} << 40) | (std::uint64_t{slot} << 24) | (serial & 0xFFFFFF);
          history::issue_invoke invoke;
          invoke.id = id;
          invoke.t = ns_since(settings_.anchor, sent_at);
          invoke.application_number = app_no;
          invoke.resident_id = r.resident_id;
          invoke.card_serial = r.card_serial;
          invoke.certificate_type = type;
          invoke.channel = ch;
          invoke.options = {o.household_scope ? "household" : "individual", o.honseki, o.zokugara,
                            o.mynumber};
          invoke.worker = index_;
          invoke.conn = conn_id;
          lines_.append_raw(
              history::issue_invoke_line(invoke, ns_since(settings_.anchor, job.intended)));
        },
        hold);
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    record_issue(id, job, result);
  }

  // The `complete` of an issue request and its statistics. Kept out of the coroutine: the answer
  // is read through the wire protocol here, on the worker's thread, without a suspension point.
  void record_issue(std::uint64_t id, const pending_issue& job, exchange_result& result) {
    const auto& sc = *settings_.scenario;
    const auto withheld = withhold_hostile_body(result);
    std::string outcome = outcome_of_issue(result);
    history::issue_complete complete;
    complete.id = id;
    complete.t = ns_since(settings_.anchor, result.received_at);
    history::issue_record kept;
    std::optional<issue_answer> answer;
    if (result.outcome == exchange_result::kind::answered)
      complete.status = static_cast<int>(result.status);
    if (withheld) {
      // Decided by the status alone: the verifier reads a withheld 200 as MALFORMED.
      kept.body_withheld = &*withheld;
    } else if (result.outcome == exchange_result::kind::answered) {
      // The protocol decides the outcome (a vendor's: status and result code); the answer is
      // kept as the server wrote it, and the verifier decodes it through the same protocol.
      answer = wire_.classify_issue(result.status, result.body, result.content_type);
      // The target's classes first: a safe refusal (503 busy, say) is a retry, not an error.
      outcome = classes_.classify(result.status, result.body).value_or(answer->outcome);
      if (!answer->error.empty()) kept.error = answer->error;
      if (fit_.sampling()) judge_fit(*answer, result);
      if (sc.history.keep_body || outcome != "ok") {
        kept.body = answer->recorded_body ? *answer->recorded_body : result.body;
        kept.content_type = result.content_type;
      }
    } else {
      kept.error = result.error;
    }
    // The wire protocols classify into the words of docs/history.md only.
    complete.outcome = history::issue_outcome_of(outcome).value_or(history::issue_outcome::error);
    lines_.append_raw(history::issue_complete_line(complete, kept));

    auto& st = stats_;
    ++st.sent;
    if (outcome == "ok")
      ++st.ok;
    else if (outcome == "retry")
      ++st.retry;
    else if (outcome == "refused")
      ++st.refused;
    else if (outcome == "timeout")
      ++st.timeouts;
    else if (result.outcome == exchange_result::kind::answered)
      ++st.server_error;
    else
      ++st.errors;
    if (result.sent_at - job.intended > std::chrono::milliseconds(1)) ++st.late;
    if (result.sent_at - job.intended > very_late_bound) ++st.very_late;
    if (!warmup_) {
      st.latency.record(micros(result.received_at - job.intended));
      st.service_time.record(micros(result.received_at - result.sent_at));
    }
  }

  // One of the first answers of the run, offered to the fit check (profile_fit.hpp) when the
  // protocol judges it; on the verdict "does not fit", the run stops.
  void judge_fit(const issue_answer& answer, const exchange_result& r) {
    const auto sample = wire_.judge_fit(answer, r.status, r.body);
    if (sample && fit_.record(sample->mapped, sample->reason)) {
      settings_.stop->store(true, std::memory_order_relaxed);
    }
  }

  std::vector<std::unique_ptr<connection>> conns_;
  std::vector<std::unique_ptr<asio::steady_timer>> wake_;
  request_generator generator_;
  profile_fit& fit_;
  request_budget& budget_;
  const answer_classes classes_;
  std::size_t phase_ = 0;     // index of the phase running
  std::uint64_t groups_ = 0;  // groups made so far (their ids)
  std::deque<pending_issue> backlog_;
  std::vector<unsigned> idle_;
  bool open_phase_done_ = false;
  clock_type::time_point phase_end_ = clock_type::time_point::max();  // open model
  bool warmup_ = false;
  unsigned closed_group_size_ = 0;         // closed model: 0 or < 2 means no groups
  std::shared_ptr<group_gate> gathering_;  // closed model: the group still taking members

  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<bool> finished_{false};
};

// ---- The updater: update stream and timed events, on one thread -------------------------------

class updater : public driver_thread {
 public:
  updater(const run_settings& s, unsigned index, unsigned id_stride, const request_budget& budget)
      : driver_thread(s, index, id_stride),
        generator_(*s.scenario, *s.population),
        budget_(budget) {
    const unsigned slots = s.scenario->updates.concurrency;
    for (unsigned slot = 0; slot < slots; ++slot) {
      conns_.push_back(make_connection(slot));
      free_.push_back(slot);
    }
  }

  // Publishes its statistics at every hand-off of history lines and at its end.
  void start(clock_type::time_point run_start) {
    run_start_ = run_start;
    asio::co_spawn(io_, run_all(), asio::detached);
    start_thread();
  }
  std::uint64_t retired() const { return retired_.load(); }
  std::uint64_t skipped() const { return skipped_.load(); }

 private:
  std::unique_ptr<connection> make_connection(unsigned n) {
    const auto& target = settings_.targets[n % settings_.targets.size()];
    auto conn = std::make_unique<connection>(io_.get_executor(), target, settings_.tls.get(),
                                             settings_.scenario->target.tls.server_name);
    conn->set_body_limit(settings_.scenario->load.max_body_bytes);
    conn->set_deadline_header(settings_.scenario->target.deadline);
    return conn;
  }
  std::int64_t now_ns() const { return ns_since(settings_.anchor, clock_type::now()); }
  std::chrono::milliseconds timeout() const {
    return std::chrono::milliseconds(settings_.scenario->load.timeout_ms);
  }

  void event_line(std::string_view name, std::string_view phase, std::int64_t t,
                  const json& detail) {
    lines_.append_raw(history::marker_line({t, std::string(name), std::string(phase), detail, {}}));
  }

  asio::awaitable<void> run_all() {
    const auto& sc = *settings_.scenario;
    const auto total = std::chrono::duration_cast<clock_type::duration>(
        std::chrono::duration<double>(sc.total_duration_s()));
    end_ = run_start_ + total;
    task_latch latch(io_);
    auto spawn = [&](asio::awaitable<void> task) {
      latch.add();
      ++running_;
      asio::co_spawn(io_, std::move(task), [this, &latch](std::exception_ptr) {
        --running_;
        latch.done();
      });
    };
    spawn(phase_markers());
    if (sc.updates.rate > 0) spawn(update_stream());
    for (const auto& e : sc.events) spawn(timed_event(e));
    // The update stream and the events end by themselves (at the run's end or on stop); the
    // hand-off loop is told to stop once they have.
    latch.add();
    asio::co_spawn(io_, hand_off_loop(clock_type::duration::zero()),
                   [&latch](std::exception_ptr) { latch.done(); });
    asio::steady_timer poll(io_);
    while (running_ > 0) {
      poll.expires_after(std::chrono::milliseconds(20));
      co_await poll.async_wait(as_values);
    }
    hand_off_done_ = true;
    co_await latch.wait();
    lines_.hand_off();
    retired_.store(generator_.retired());
    for (const auto& c : conns_) stats_.connects += c->connects();
    publish();
  }

  // One `phase` event at the start of each phase, so the verifier can state exposure per phase.
  // A request bound may start a phase early: the boundary is read again every slice, and the
  // event carries the boundary's time, not the (up to one slice later) time it was written.
  asio::awaitable<void> phase_markers() {
    asio::steady_timer timer(io_);
    const auto& phases = settings_.scenario->phases;
    for (std::size_t k = 0; k < phases.size(); ++k) {
      for (;;) {
        const auto start = budget_.phase_start(k);
        if (stopped() || clock_type::now() >= start) break;
        co_await sleep_until(timer, std::min(start, clock_type::now() + marker_slice), nullptr);
      }
      if (stopped()) co_return;
      // A phase a request bound left no time at all (the run's tickets ran out before it) never
      // ran: no marker.
      if (k > 0 && budget_.phase_end(k) <= budget_.phase_start(k)) continue;
      json detail{{"duration_s", phases[k].duration_s}, {"warmup", phases[k].warmup}};
      if (phases[k].requests) detail["requests"] = *phases[k].requests;
      event_line("phase", phases[k].name, ns_since(settings_.anchor, budget_.phase_start(k)),
                 detail);
    }
  }

  // Single updates at updates.rate over the whole run, at most `concurrency` in flight.
  asio::awaitable<void> update_stream() {
    const auto& sc = *settings_.scenario;
    scenario::phase whole;
    whole.duration_s = sc.total_duration_s();
    whole.rate = sc.updates.rate;
    arrival_schedule schedule(whole, 1.0, 0.5);
    asio::steady_timer timer(io_);
    task_latch inner(io_);
    unsigned without_wait = 0;
    while (auto t = schedule.next()) {
      if (stopped() || clock_type::now() >= end_) break;
      const auto when = run_start_ + std::chrono::nanoseconds(*t);
      if (when > clock_type::now()) {
        without_wait = 0;
        co_await sleep_until(timer, when, settings_.stop, &wound_down_);
      } else if (++without_wait % arrivals_between_yields == 0) {
        co_await asio::post(io_, asio::use_awaitable);
      }
      if (stopped()) break;
      if (free_.empty()) {
        ++skipped_;
        continue;
      }
      auto c = generator_.next();
      if (!c) {
        ++skipped_;
        continue;
      }
      const unsigned slot = free_.back();
      free_.pop_back();
      inner.add();
      asio::co_spawn(io_, send_update(slot, std::move(*c)),
                     [this, slot, &inner](std::exception_ptr) {
                       free_.push_back(slot);
                       inner.done();
                     });
    }
    co_await inner.wait();
  }

  // A change as the history's invoke lists it (with the version it produces if it succeeds).
  static history::resident_change change_event(const population_index& pop, const change& c) {
    return {pop.at(c.resident).resident_id, c.change_id, c.version,
            std::string(scenario::to_string(c.kind)), c.fields};
  }

  // What an update's or batch's `complete` keeps of an answer the protocol read: `body`, the
  // batch's `versions`, and `error`.
  static void record_change_answer(json& complete, change_answer answer) {
    if (answer.body) complete["body"] = std::move(*answer.body);
    if (answer.listed_versions) complete["versions"] = std::move(*answer.listed_versions);
    if (!answer.error.empty()) complete["error"] = std::move(answer.error);
  }

  change_fields reference_change(const change& c) const {
    return {settings_.population->at(c.resident).resident_id, c.change_id, c.version,
            std::string(scenario::to_string(c.kind)), c.fields};
  }

  void count_outcome(change_outcome outcome) {
    if (outcome == change_outcome::ok)
      ++stats_.updates_ok;
    else if (outcome == change_outcome::failed)
      ++stats_.updates_failed;
    else
      ++stats_.updates_unknown;
  }

  static history::update_outcome update_outcome(change_outcome outcome) {
    return outcome == change_outcome::ok       ? history::update_outcome::ok
           : outcome == change_outcome::failed ? history::update_outcome::failed
                                               : history::update_outcome::unknown;
  }

  static change_outcome outcome_named(const std::string& name) {
    return name == "ok"       ? change_outcome::ok
           : name == "failed" ? change_outcome::failed
                              : change_outcome::unknown;
  }

  asio::awaitable<void> send_update(unsigned slot, change c) {
    const auto& pop = *settings_.population;
    const std::uint64_t id = next_id();
    auto req = wire_.update_request(reference_change(c));
    ++stats_.updates_sent;
    auto r = co_await conns_[slot]->exchange(
        req, timeout(), [&](clock_type::time_point sent, std::uint64_t) {
          history::update_invoke invoke;
          invoke.id = id;
          invoke.t = ns_since(settings_.anchor, sent);
          invoke.changes.push_back(change_event(pop, c));
          lines_.append_raw(history::update_invoke_line(invoke));
        });
    json complete = json::object();  // what the line keeps of the answer
    change_outcome outcome = change_outcome::unknown;
    std::optional<std::uint32_t> version;
    if (auto withheld = withhold_hostile_body(r)) complete["body_withheld"] = std::move(*withheld);
    if (r.outcome == exchange_result::kind::answered) {
      // The protocol decides (a vendor's status classes and result codes); an answer it cannot
      // classify is unknown (the resident retires).
      complete["status"] = r.status;
      auto answer = wire_.classify_update(r.status, r.body);
      outcome = outcome_named(answer.outcome);
      if (outcome == change_outcome::ok) {
        // What the server said, never kofu's guess: a global change counter is placed by it.
        version = answer.versions.empty() ? std::nullopt : answer.versions.front();
      }
      record_change_answer(complete, std::move(answer));
    } else {
      complete["error"] = r.error;
      // Never written: the server cannot have seen it, so the version is simply aborted.
      if (!r.sent) outcome = change_outcome::failed;
    }
    history::update_complete done;
    done.id = id;
    done.t = ns_since(settings_.anchor, r.received_at);
    done.outcome = update_outcome(outcome);
    if (outcome == change_outcome::ok) done.versions.push_back(version);
    lines_.append_raw(history::update_complete_line(done, false, std::move(complete)));
    count_outcome(outcome);
    generator_.finish(c, outcome, version);
  }

  asio::awaitable<void> timed_event(const scenario::event& e) {
    asio::steady_timer timer(io_);
    auto at = run_start_ + std::chrono::duration_cast<clock_type::duration>(
                               std::chrono::duration<double>(e.at_s));
    unsigned n = 0;
    while (at < end_ && !stopped()) {
      co_await sleep_until(timer, at, settings_.stop, &wound_down_);
      if (stopped()) break;
      switch (e.kind) {
        case scenario::event_kind::maintenance:
          co_await maintenance(e);
          break;
        case scenario::event_kind::reflection_batch:
          co_await reflection_batch(e);
          break;
        case scenario::event_kind::exec:
          co_await exec(e);
          break;
      }
      if (!e.every_s) break;
      ++n;
      at = run_start_ + std::chrono::duration_cast<clock_type::duration>(
                            std::chrono::duration<double>(e.at_s + n * *e.every_s));
    }
  }

  asio::awaitable<void> maintenance(const scenario::event& e) {
    auto conn = make_connection(event_counter_++);
    auto req = wire_.maintenance_request(e.duration_ms, settings_.scenario->target.admin_token);
    std::int64_t sent_ns = 0;
    auto r =
        co_await conn->exchange(req, timeout(), [&](clock_type::time_point sent, std::uint64_t) {
          sent_ns = ns_since(settings_.anchor, sent);
        });
    json detail{{"duration_ms", e.duration_ms}};
    if (auto withheld = withhold_hostile_body(r)) detail["body_withheld"] = std::move(*withheld);
    if (r.outcome == exchange_result::kind::answered) {
      detail["status"] = r.status;
      const auto answer = wire_.classify_maintenance(r.status, r.body);
      if (answer.outcome) detail["outcome"] = *answer.outcome;
      if (answer.keep_body) detail["body"] = r.body;
    } else {
      detail["error"] = r.error;
    }
    event_line("maintenance", "start", sent_ns, detail);
    // The end marker at the window's planned end (the server's clock decides the real one), or at
    // the run's end (or stop) when that comes first: no wait outlasts the run.
    asio::steady_timer until(io_);
    const auto planned_end = clock_type::now() + std::chrono::milliseconds(e.duration_ms);
    co_await sleep_until(until, std::min(planned_end, end_), settings_.stop, &wound_down_);
    json end_detail{{"duration_ms", e.duration_ms}};
    if (clock_type::now() < planned_end) end_detail["cut"] = stop_requested() ? "stop" : "run_end";
    event_line("maintenance", "end", now_ns(), end_detail);
  }

  asio::awaitable<void> reflection_batch(const scenario::event& e) {
    const auto& pop = *settings_.population;
    auto changes = generator_.next_batch(e.size);
    if (changes.empty()) {
      event_line("reflection_batch", "skipped", now_ns(), json{{"reason", "no free resident"}});
      co_return;
    }
    const std::uint64_t id = next_id();
    const std::string batch_id = fmt::format("B-{}", id);
    history::update_invoke logged;
    logged.id = id;
    logged.batch = true;
    logged.batch_id = batch_id;
    std::vector<change_fields> reference;
    for (const auto& c : changes) {
      logged.changes.push_back(change_event(pop, c));
      reference.push_back(reference_change(c));
    }
    auto conn = make_connection(event_counter_++);
    auto req = wire_.batch_request(batch_id, reference);
    stats_.updates_sent += changes.size();
    event_line("reflection_batch", "start", now_ns(),
               json{{"batch_id", batch_id}, {"size", changes.size()}});
    auto r =
        co_await conn->exchange(req, timeout(), [&](clock_type::time_point sent, std::uint64_t) {
          logged.t = ns_since(settings_.anchor, sent);
          lines_.append_raw(history::update_invoke_line(logged));
        });
    json complete = json::object();  // what the line keeps of the answer
    change_outcome outcome = change_outcome::unknown;
    std::vector<std::optional<std::uint32_t>> versions(changes.size());
    if (auto withheld = withhold_hostile_body(r)) complete["body_withheld"] = std::move(*withheld);
    if (r.outcome == exchange_result::kind::answered) {
      complete["status"] = r.status;
      auto answer = wire_.classify_batch(r.status, r.body, reference);
      outcome = outcome_named(answer.outcome);
      for (std::size_t i = 0; i < changes.size() && i < answer.versions.size(); ++i) {
        versions[i] = answer.versions[i];
      }
      record_change_answer(complete, std::move(answer));
    } else {
      complete["error"] = r.error;
      if (!r.sent) outcome = change_outcome::failed;
    }
    history::update_complete done;
    done.id = id;
    done.t = ns_since(settings_.anchor, r.received_at);
    done.outcome = update_outcome(outcome);
    // The changes' versions are in the line as the server listed them (`complete`'s `versions`).
    lines_.append_raw(history::update_complete_line(done, true, std::move(complete)));
    for (std::size_t i = 0; i < changes.size(); ++i) {
      generator_.finish(changes[i], outcome, versions[i]);
      count_outcome(outcome);
    }
    event_line("reflection_batch", "end", now_ns(),
               json{{"batch_id", batch_id}, {"outcome", history::to_string(done.outcome)}});
  }

  // Runs the user's command (no shell) in its own thread so the updater keeps going; kills it by
  // its PID after timeout_s.
  asio::awaitable<void> exec(const scenario::event& e) {
    event_line("exec", "start", now_ns(), json{{"command", e.command}});
    asio::steady_timer finished(io_, clock_type::time_point::max());
    json detail{{"command", e.command}};
    std::thread runner([&] {
      std::vector<char*> argv;
      for (const auto& a : e.command) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      posix_spawn_file_actions_t actions;
      posix_spawn_file_actions_init(&actions);
      if (!settings_.exec_dir.empty()) {
        posix_spawn_file_actions_addchdir_np(&actions, settings_.exec_dir.c_str());
      }
      pid_t pid = -1;
      const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
      posix_spawn_file_actions_destroy(&actions);
      json result;
      if (rc != 0) {
        result["error"] = std::string("cannot start: ") + std::strerror(rc);
      } else {
        // The command's timeout, but never past the run's end or a stop.
        const auto deadline =
            std::min(end_, clock_type::now() + std::chrono::duration_cast<clock_type::duration>(
                                                   std::chrono::duration<double>(e.timeout_s)));
        int status = 0;
        bool timed_out = false;
        for (;;) {
          const pid_t w = ::waitpid(pid, &status, WNOHANG);
          if (w == pid) break;
          if (w < 0 && errno != EINTR) break;
          if ((clock_type::now() > deadline || stopped()) && !timed_out) {
            ::kill(pid, SIGKILL);
            timed_out = true;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (WIFEXITED(status)) result["exit_code"] = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) result["signal"] = WTERMSIG(status);
        result["timed_out"] = timed_out;
      }
      asio::post(io_, [&finished, &detail, result] {
        detail.update(result);
        finished.cancel();
      });
    });
    co_await finished.async_wait(as_values);
    runner.join();
    event_line("exec", "end", now_ns(), detail);
  }

  // How often phase_markers looks whether a request bound moved the next phase's start.
  static constexpr auto marker_slice = std::chrono::milliseconds(10);

  update_generator generator_;
  const request_budget& budget_;
  std::vector<std::unique_ptr<connection>> conns_;
  std::vector<unsigned> free_;
  unsigned event_counter_ = 0;
  int running_ = 0;  // update stream and events still running
  clock_type::time_point run_start_{};
  clock_type::time_point end_{};
  std::atomic<std::uint64_t> retired_{0};
  std::atomic<std::uint64_t> skipped_{0};
};

// ---- The coordinator ---------------------------------------------------------------------------

run_result run(const run_settings& settings) {
  // The stop flag is the caller's, or the driver's own: a run whose profile does not fit the
  // server is stopped through it like an interrupted one.
  std::atomic<bool> own_stop{false};
  run_settings s = settings;
  if (s.stop == nullptr) s.stop = &own_stop;
  profile_fit fit;
  const auto& sc = *s.scenario;
  unsigned workers = sc.load.workers;
  if (workers == 0) workers = std::max(1u, std::thread::hardware_concurrency());
  const unsigned stride =
      workers + 1;  // ids: worker w uses w, w + stride, …; the updater `workers`
  unsigned slots = 0;
  for (const auto& ph : sc.phases) {
    const unsigned per_worker = ph.model == scenario::load_model::open
                                    ? (sc.load.connections + workers - 1) / workers
                                    : (ph.users + workers - 1) / workers;
    slots = std::max(slots, per_worker);
  }
  // Everyone starts at one instant, a little ahead so that every thread is running by then.
  const auto run_start = clock_type::now() + std::chrono::milliseconds(100);
  request_budget budget(sc.phases, s.request_limit, run_start);
  std::vector<std::unique_ptr<worker>> pool;
  for (unsigned w = 0; w < workers; ++w) {
    pool.push_back(std::make_unique<worker>(s, w, stride, slots, fit, budget));
  }
  updater updates(s, workers, stride, budget);

  for (auto& w : pool) w->start(run_start, workers);
  updates.start(run_start);

  run_result result;
  result.workers = workers;
  worker_stats total;
  const double total_s = sc.total_duration_s();
  auto last = clock_type::now();
  for (;;) {
    const bool all_done =
        std::all_of(pool.begin(), pool.end(), [](const auto& w) { return w->finished(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(all_done ? 0 : 1000));
    worker_stats interval;
    for (auto& w : pool) interval.merge(w->take_published());
    interval.merge(updates.take_published());
    const auto now = clock_type::now();
    const double seconds = std::chrono::duration<double>(now - last).count();
    last = now;
    total.merge(interval);
    if (s.on_progress) {
      progress p;
      p.elapsed_s = std::chrono::duration<double>(now - run_start).count();
      p.total_s = total_s;
      double phase_end = 0;
      for (const auto& ph : sc.phases) {
        phase_end += ph.duration_s;
        if (p.elapsed_s < phase_end) {
          p.phase = ph.name;
          if (ph.model == scenario::load_model::open) {
            arrival_schedule probe(ph, 1.0);
            p.target_rate = probe.rate_at(
                static_cast<std::int64_t>((p.elapsed_s - (phase_end - ph.duration_s)) * 1e9));
          }
          break;
        }
      }
      p.rate = seconds > 0 ? static_cast<double>(interval.done()) / seconds : 0;
      for (const auto& w : pool) p.in_flight += w->in_flight();
      p.p50_us = interval.latency.value_at_percentile(50);
      p.p99_us = interval.latency.value_at_percentile(99);
      p.total = total;
      s.on_progress(p);
    }
    if (all_done) break;
  }
  // A request bound ended the issue load early: the update stream and events end with it.
  if (budget.bounded()) updates.wind_down();
  for (auto& w : pool) w->join();
  updates.join();
  for (auto& w : pool) total.merge(w->take_published());
  total.merge(updates.take_published());
  result.issue = std::move(total);
  result.elapsed_s = std::chrono::duration<double>(clock_type::now() - run_start).count();
  result.end_reason = fit.misfit()     ? "profile_misfit"
                      : s.stop->load() ? "interrupted"
                                       : "completed";
  result.misfit_reason = fit.first_reason();
  result.fit_sampled = fit.seen();
  result.fit_unmapped = fit.unmapped();
  result.retired_residents = updates.retired();
  result.updates_skipped = updates.skipped();
  return result;
}

}  // namespace kofu::driver
