#include "kofu/driver/arrival_schedule.hpp"

#include <algorithm>
#include <cmath>

namespace kofu::driver {

arrival_schedule::arrival_schedule(const scenario::phase& phase, double share, double offset)
    : phase_(&phase),
      share_(share),
      duration_ns_(static_cast<std::int64_t>(phase.duration_s * 1e9)),
      t_ns_(0),
      offset_(offset) {}

double arrival_schedule::rate_at(std::int64_t t_ns) const {
  const double t_s = static_cast<double>(t_ns) / 1e9;
  for (const auto& s : phase_->spikes) {
    if (t_s >= s.at_s && t_s < s.at_s + s.duration_s) return s.rate * share_;
  }
  const double end_rate = phase_->ramp_to.value_or(phase_->rate);
  const double fraction = phase_->duration_s > 0 ? t_s / phase_->duration_s : 0;
  return (phase_->rate + (end_rate - phase_->rate) * fraction) * share_;
}

std::optional<std::int64_t> arrival_schedule::next() {
  // One arrival per unit of ∫rate dt. Between spike edges the rate is linear, r(t) = r0 + k t,
  // so the step dt solves r0 dt + k dt²/2 = 1 exactly (wrk2 keeps a constant rate; a ramp needs
  // this to stay on the integral). A spike starting inside a step restarts the step at its edge.
  double fraction = first_ ? offset_ : 1.0;
  first_ = false;
  const double duration_s = static_cast<double>(duration_ns_) / 1e9;
  double t = t_ns_ / 1e9;
  const double end_rate = phase_->ramp_to.value_or(phase_->rate);
  const double slope =
      phase_->duration_s > 0 ? (end_rate - phase_->rate) / phase_->duration_s * share_ : 0;
  for (int guard = 0; guard < 1000; ++guard) {
    if (t >= duration_s) return std::nullopt;
    if (fraction == 0) {
      // The first arrival of an unshifted worker is at the start, if anything is due there.
      if (rate_at(static_cast<std::int64_t>(t * 1e9)) > 0) break;
      fraction = 1.0;
    }
    const spike_span* inside = nullptr;
    double next_edge = duration_s;
    for (const auto& sp : phase_->spikes) {
      if (t >= sp.at_s && t < sp.at_s + sp.duration_s) {
        inside = &sp;
        next_edge = std::min(next_edge, sp.at_s + sp.duration_s);
      } else if (sp.at_s > t) {
        next_edge = std::min(next_edge, sp.at_s);
      }
    }
    double dt = -1;
    if (inside != nullptr) {
      const double r = inside->rate * share_;
      if (r > 0) dt = fraction / r;
    } else {
      const double r0 = rate_at(static_cast<std::int64_t>(t * 1e9));
      if (std::abs(slope) < 1e-12) {
        if (r0 > 0) dt = fraction / r0;
      } else {
        const double disc = r0 * r0 + 2 * slope * fraction;
        if (disc >= 0) dt = (std::sqrt(disc) - r0) / slope;
        if (dt < 0) dt = -1;
      }
    }
    if (dt < 0 || t + dt > next_edge) {
      // No arrival before the next edge (a spike starts or ends, or a ramp down reaches zero):
      // continue from the edge.
      if (next_edge >= duration_s) return std::nullopt;
      t = next_edge;
      continue;
    }
    t += dt;
    break;
  }
  if (t >= duration_s) return std::nullopt;
  t_ns_ = t * 1e9;
  return static_cast<std::int64_t>(std::llround(t_ns_));
}

}  // namespace kofu::driver
