#include "kofu/verify/timeline.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace kofu::verify {

using json = nlohmann::json;

std::size_t coarse_latency_histogram::step_of(std::uint64_t us) {
  if (us < steps_per_octave) return static_cast<std::size_t>(us);
  const int msb = 63 - __builtin_clzll(us);  // ≥ 4
  const int shift = msb - 4;
  const std::uint64_t mantissa = us >> shift;  // 16..31
  const std::size_t s = steps_per_octave + static_cast<std::size_t>(shift) * steps_per_octave +
                        static_cast<std::size_t>(mantissa - steps_per_octave);
  return std::min(s, steps - 1);
}

double coarse_latency_histogram::step_mid_us(std::size_t step) {
  if (step < steps_per_octave) return static_cast<double>(step);
  const std::size_t shift = (step - steps_per_octave) / steps_per_octave;
  const std::size_t mantissa = steps_per_octave + (step - steps_per_octave) % steps_per_octave;
  const double lo = std::ldexp(static_cast<double>(mantissa), static_cast<int>(shift));
  return lo + std::ldexp(1.0, static_cast<int>(shift)) / 2;
}

void coarse_latency_histogram::add(std::int64_t ns) {
  const std::uint64_t us = ns <= 0 ? 0 : static_cast<std::uint64_t>(ns) / 1000;
  auto& c = counts_[step_of(us)];
  if (c < UINT32_MAX) ++c;  // a bucket never holds 2^32 answers; saturate rather than wrap
  ++count_;
  max_ns_ = std::max(max_ns_, ns);
}

void coarse_latency_histogram::merge(const coarse_latency_histogram& other) {
  for (std::size_t i = 0; i < steps; ++i) {
    const std::uint64_t sum = std::uint64_t{counts_[i]} + other.counts_[i];
    counts_[i] = static_cast<std::uint32_t>(std::min<std::uint64_t>(sum, UINT32_MAX));
  }
  count_ += other.count_;
  max_ns_ = std::max(max_ns_, other.max_ns_);
}

double coarse_latency_histogram::percentile_ms(double p) const {
  if (count_ == 0) return 0;
  const double max_ms = static_cast<double>(max_ns_) / 1e6;
  const auto rank = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < steps; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(step_mid_us(i) / 1000.0, max_ms);
  }
  return max_ms;
}

void timeline::bucket::merge(const bucket& other) {
  sent += other.sent;
  answered += other.answered;
  retry += other.retry;
  refused += other.refused;
  errors += other.errors;
  timeouts += other.timeouts;
  peak_in_flight = std::max(peak_in_flight, other.peak_in_flight);
  updates_sent += other.updates_sent;
  updates_applied += other.updates_applied;
  updates_failed += other.updates_failed;
  findings += other.findings;
  latency.merge(other.latency);
}

timeline::bucket& timeline::at(std::int64_t t_ns) {
  // Times before the clock anchor (none in a history kofu wrote) count in the first bucket.
  const std::uint64_t t = t_ns < 0 ? 0 : static_cast<std::uint64_t>(t_ns);
  std::uint64_t index = t / static_cast<std::uint64_t>(bucket_ns_);
  // Each pass halves the bucket count: at most 64 passes for any 64-bit time.
  while (index >= max_buckets) {
    std::vector<bucket> wider((buckets_.size() + 1) / 2);
    for (std::size_t i = 0; i < buckets_.size(); ++i) wider[i / 2].merge(buckets_[i]);
    buckets_ = std::move(wider);
    bucket_ns_ *= 2;
    index = t / static_cast<std::uint64_t>(bucket_ns_);
  }
  if (index >= buckets_.size()) buckets_.resize(static_cast<std::size_t>(index) + 1);
  return buckets_[static_cast<std::size_t>(index)];
}

void timeline::note_in_flight(std::int64_t t_ns) {
  auto& b = at(t_ns);
  b.peak_in_flight = std::max<std::uint64_t>(b.peak_in_flight, issue_sent_.size());
}

void timeline::on_finding(std::int64_t received_ns) { ++at(received_ns).findings; }

void timeline::on_event(const history_event& event) {
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (!std::is_same_v<T, history_header>) last_ns_ = std::max(last_ns_, e.t);
        if constexpr (std::is_same_v<T, issue_invoke>) {
          ++at(e.t).sent;
          // Before any phase event a request belongs to the first phase, whose event the driver
          // may hand off after the first requests of the run (history order is not time order).
          issue_sent_[e.id] = {e.t, std::max<std::size_t>(phases_.size(), 1)};
          ++(phases_.empty() ? first_phase_ : phases_.back()).sent;
          note_in_flight(e.t);
        } else if constexpr (std::is_same_v<T, issue_complete>) {
          auto& b = at(e.t);
          const auto sent = issue_sent_.find(e.id);
          phase* p = sent == issue_sent_.end()              ? nullptr
                     : sent->second.phase <= phases_.size() ? &phases_[sent->second.phase - 1]
                                                            : &first_phase_;
          switch (e.outcome) {
            case issue_outcome::ok:
              ++b.answered;
              if (p != nullptr) ++p->answered;
              // A complete without its invoke is the checker's history error; no latency then.
              if (sent != issue_sent_.end()) {
                b.latency.add(e.t - sent->second.sent_ns);
                if (p != nullptr) p->latency.add(e.t - sent->second.sent_ns);
              }
              break;
            case issue_outcome::retry:
              ++b.retry;
              if (p != nullptr) ++p->retry;
              break;
            case issue_outcome::refused:
              ++b.refused;
              if (p != nullptr) ++p->refused;
              break;
            case issue_outcome::error:
              ++b.errors;
              if (p != nullptr) ++p->errors;
              break;
            case issue_outcome::timeout:
              ++b.timeouts;
              if (p != nullptr) ++p->timeouts;
              break;
          }
          // In flight until now: this event's bucket saw it, then it is gone.
          note_in_flight(e.t);
          if (sent != issue_sent_.end()) issue_sent_.erase(sent);
        } else if constexpr (std::is_same_v<T, update_invoke>) {
          ++at(e.t).updates_sent;
        } else if constexpr (std::is_same_v<T, update_complete>) {
          auto& b = at(e.t);
          if (e.outcome == update_outcome::ok) {
            ++b.updates_applied;
          } else {
            ++b.updates_failed;
          }
        } else if constexpr (std::is_same_v<T, marker_event>) {
          (void)at(e.t);  // the run reached this time even if nothing else happened in it
          if (e.name == "maintenance" || e.name == "reflection_batch") {
            if (e.phase == "start") {
              if (windows_.size() < max_windows) {
                windows_.push_back({e.name, e.t, -1, e.detail});
              } else {
                ++windows_left_out_;
              }
            } else if (e.phase == "end") {
              // The latest open window of that kind (windows of one kind do not nest).
              const auto open =
                  std::find_if(windows_.rbegin(), windows_.rend(),
                               [&](const auto& w) { return w.kind == e.name && w.end_ns < 0; });
              if (open != windows_.rend()) {
                open->end_ns = e.t;
                if (e.detail.is_object() && open->detail.is_object()) {
                  open->detail.update(e.detail);
                } else if (e.detail.is_object()) {
                  open->detail = e.detail;
                }
              }
            }
          } else if (e.name == "phase") {
            if (phases_.size() < max_windows) {
              on_phase_start(e.phase, e.t);
            } else {
              ++phases_left_out_;
            }
          }
        }
      },
      event);
}

namespace {

double seconds(std::int64_t ns) { return static_cast<double>(ns) / 1e9; }

// Milliseconds rounded to the microsecond: the histogram is not more precise than that.
double rounded_ms(double ms) { return std::round(ms * 1000.0) / 1000.0; }

}  // namespace

// A phase's event carries its boundary's time but can be handed off a little after requests of
// the new phase: those still in flight move to it (the first phase takes every request sent
// before any phase event).
void timeline::on_phase_start(const std::string& name, std::int64_t t_ns) {
  const std::size_t previous = phases_.size();  // index + 1 of the phase that ends here
  phase next = previous == 0 ? std::move(first_phase_) : phase{};
  next.name = name;
  next.start_ns = t_ns;
  phases_.push_back(std::move(next));
  if (previous == 0) return;
  for (auto& [id, r] : issue_sent_) {
    if (r.phase != previous || r.sent_ns < t_ns) continue;
    r.phase = previous + 1;
    --phases_[previous - 1].sent;
    ++phases_.back().sent;
  }
}

json timeline::to_json() const {
  json buckets = json::array();
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    const auto& b = buckets_[i];
    buckets.push_back({{"t_s", seconds(static_cast<std::int64_t>(i) * bucket_ns_)},
                       {"sent", b.sent},
                       {"answered", b.answered},
                       {"retry", b.retry},
                       {"refused", b.refused},
                       {"errors", b.errors},
                       {"timeouts", b.timeouts},
                       {"p50_ms", rounded_ms(b.latency.percentile_ms(50))},
                       {"p90_ms", rounded_ms(b.latency.percentile_ms(90))},
                       {"p99_ms", rounded_ms(b.latency.percentile_ms(99))},
                       {"in_flight", b.peak_in_flight},
                       {"updates_sent", b.updates_sent},
                       {"updates_applied", b.updates_applied},
                       {"updates_failed", b.updates_failed},
                       {"findings", b.findings}});
  }
  json windows = json::array();
  for (const auto& w : windows_) {
    windows.push_back({{"kind", w.kind},
                       {"start_s", seconds(w.start_ns)},
                       {"end_s", w.end_ns < 0 ? json() : json(seconds(w.end_ns))},
                       {"detail", w.detail}});
  }
  json phases = json::array();
  for (std::size_t i = 0; i < phases_.size(); ++i) {
    const auto& p = phases_[i];
    const std::int64_t end = i + 1 < phases_.size() ? phases_[i + 1].start_ns : last_ns_;
    const double duration = seconds(std::max<std::int64_t>(0, end - p.start_ns));
    const auto per_s = [&](std::uint64_t n) {
      return duration > 0 ? std::round(static_cast<double>(n) / duration * 10.0) / 10.0 : 0.0;
    };
    phases.push_back({{"name", p.name},
                      {"start_s", seconds(p.start_ns)},
                      {"end_s", seconds(end)},
                      {"duration_s", duration},
                      {"sent", p.sent},
                      {"answered", p.answered},
                      {"retry", p.retry},
                      {"refused", p.refused},
                      {"errors", p.errors},
                      {"timeouts", p.timeouts},
                      {"rate_per_s", per_s(p.sent)},
                      {"answered_per_s", per_s(p.answered)},
                      {"latency_ms",
                       {{"p50", rounded_ms(p.latency.percentile_ms(50))},
                        {"p90", rounded_ms(p.latency.percentile_ms(90))},
                        {"p99", rounded_ms(p.latency.percentile_ms(99))},
                        {"max", rounded_ms(p.latency.max_ms())}}}});
  }
  return {{"bucket_s", seconds(bucket_ns_)}, {"buckets", std::move(buckets)},
          {"windows", std::move(windows)},   {"windows_left_out", windows_left_out_},
          {"phases", std::move(phases)},     {"phases_left_out", phases_left_out_}};
}

}  // namespace kofu::verify
