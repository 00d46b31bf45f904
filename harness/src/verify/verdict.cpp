// The summary of a run (checker::summary): outcomes, exposure, latency, the upper bound on the
// rate of requests with a finding, the thresholds and the verdict.

#include "checker_internal.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace kofu::verify {

verification_summary checker::summary() const {
  verification_summary s;
  s.outcomes = outcomes_;
  s.outcomes.unanswered =
      finished_ ? outcomes_.unanswered : outcomes_.unanswered + total_in_flight_;
  s.exposure_counts = exposure_;
  for (std::size_t i = 0; i < phase_names_.size(); ++i) {
    if (i == 0 && phase_names_[0].empty() && exposure_by_phase_[0].requests == 0 &&
        phase_names_.size() > 1) {
      continue;
    }
    s.exposure_by_phase.emplace_back(phase_names_[i], exposure_by_phase_[i]);
  }
  s.latency = latency_;
  for (const auto& f : findings_) ++s.findings_by_kind[static_cast<std::size_t>(f.kind)];
  s.requests_with_findings = requests_with_findings_;
  s.upper_bound_95 = binomial_upper_bound_95(outcomes_.answered, requests_with_findings_);

  s.leaks = detail::build_leak_graph(edges_);

  // Thresholds and verdict.
  const std::uint64_t nfind = findings_.size();
  s.thresholds.push_back({"max_findings", nfind <= options_.max_findings, false,
                          fmt::format("{} findings (limit {})", nfind, options_.max_findings)});
  if (options_.min_answered > 0) {
    s.thresholds.push_back({"min_answered", outcomes_.answered >= options_.min_answered, true,
                            fmt::format("{} certificates answered (needed {})", outcomes_.answered,
                                        options_.min_answered)});
  }
  {
    const std::uint64_t bad = outcomes_.errors + outcomes_.timeouts;
    const double rate = exposure_.requests == 0
                            ? 0.0
                            : static_cast<double>(bad) / static_cast<double>(exposure_.requests);
    s.thresholds.push_back({"max_error_rate", rate <= options_.max_error_rate, false,
                            fmt::format("{} errors and timeouts in {} requests ({:.4f}, limit {})",
                                        bad, exposure_.requests, rate, options_.max_error_rate)});
  }
  if (options_.max_p99_ms) {
    const double p99 = latency_.percentile_ms(99);
    s.thresholds.push_back({"max_p99_ms", p99 <= *options_.max_p99_ms, false,
                            fmt::format("p99 {:.3f} ms (limit {} ms)", p99, *options_.max_p99_ms)});
  }
  if (options_.min_overlaps) {
    s.thresholds.push_back(
        {"min_overlapping_requests", exposure_.overlapped_other_resident >= *options_.min_overlaps,
         true,
         fmt::format("{} requests overlapped another resident's (needed {})",
                     exposure_.overlapped_other_resident, *options_.min_overlaps)});
  }
  if (options_.min_update_overlaps) {
    s.thresholds.push_back(
        {"min_update_overlaps", exposure_.overlapped_own_update >= *options_.min_update_overlaps,
         true,
         fmt::format("{} requests overlapped an update of their resident (needed {})",
                     exposure_.overlapped_own_update, *options_.min_update_overlaps)});
  }
  bool failed = false;
  bool exposure_missed = false;
  for (const auto& t : s.thresholds) {
    if (t.passed) continue;
    if (t.exposure)
      exposure_missed = true;
    else
      failed = true;
  }
  if (failed || nfind > 0)
    s.final_verdict = verdict::fail;
  else if (outcomes_.answered == 0 || exposure_missed)
    s.final_verdict = verdict::unknown;
  else
    s.final_verdict = verdict::pass;
  return s;
}

std::string_view to_string(verdict v) {
  switch (v) {
    case verdict::pass:
      return "pass";
    case verdict::fail:
      return "fail";
    case verdict::unknown:
      return "unknown";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------

std::size_t latency_histogram::bucket_of(std::uint64_t us) {
  if (us < 64) return static_cast<std::size_t>(us);
  const int msb = 63 - __builtin_clzll(us);  // ≥ 6
  const int shift = msb - 6;
  const std::uint64_t mantissa = us >> shift;  // 64..127
  const std::size_t b =
      64 + static_cast<std::size_t>(shift) * 64 + static_cast<std::size_t>(mantissa - 64);
  return std::min(b, buckets - 1);
}

double latency_histogram::bucket_mid_us(std::size_t b) {
  if (b < 64) return static_cast<double>(b);
  const std::size_t shift = (b - 64) / 64;
  const std::size_t mantissa = 64 + (b - 64) % 64;
  const double lo = std::ldexp(static_cast<double>(mantissa), static_cast<int>(shift));
  const double width = std::ldexp(1.0, static_cast<int>(shift));
  return lo + width / 2;
}

void latency_histogram::add(std::int64_t ns) {
  const std::uint64_t us = ns <= 0 ? 0 : static_cast<std::uint64_t>(ns) / 1000;
  ++counts_[bucket_of(us)];
  ++count_;
  max_ns_ = std::max(max_ns_, ns);
}

void latency_histogram::merge(const latency_histogram& other) {
  for (std::size_t i = 0; i < buckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ns_ = std::max(max_ns_, other.max_ns_);
}

double latency_histogram::percentile_ms(double p) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets; ++i) {
    seen += counts_[i];
    if (seen >= std::max<std::uint64_t>(rank, 1)) {
      return std::min(bucket_mid_us(i) / 1000.0, max_ms());
    }
  }
  return max_ms();
}

// ---------------------------------------------------------------------------------------------

double binomial_upper_bound_95(std::uint64_t n, std::uint64_t k) {
  if (n == 0) return 1.0;
  if (k >= n) return 1.0;
  const double nd = static_cast<double>(n);
  if (k == 0) return 1.0 - std::pow(0.05, 1.0 / nd);
  // Clopper–Pearson: the p at which P(X ≤ k; n, p) = 0.05, by bisection on the CDF (log space).
  auto cdf = [&](double p) {
    const double lp = std::log(p);
    const double lq = std::log1p(-p);
    double sum = 0;
    for (std::uint64_t i = 0; i <= k; ++i) {
      const double id = static_cast<double>(i);
      const double lterm = std::lgamma(nd + 1) - std::lgamma(id + 1) - std::lgamma(nd - id + 1) +
                           id * lp + (nd - id) * lq;
      sum += std::exp(lterm);
    }
    return sum;
  };
  double lo = static_cast<double>(k) / nd;
  double hi = 1.0;
  for (int it = 0; it < 100; ++it) {
    const double mid = (lo + hi) / 2;
    if (cdf(mid) > 0.05)
      lo = mid;
    else
      hi = mid;
  }
  return hi;
}

}  // namespace kofu::verify
