// The checker's lifetime and the events of a run: invokes and completes of issue requests and
// updates, markers, and the end of the run; each answered request is checked by request_checker
// (check_*.cpp) once its turn comes (request_queues.cpp).

#include "kofu/verify/checker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "checker_internal.hpp"

namespace kofu::verify {
namespace {

std::uint64_t fingerprint(std::string_view s) { return std::hash<std::string_view>{}(s); }

}  // namespace

// ---------------------------------------------------------------------------------------------

checker::checker(resident_model model, checker_options options)
    : model_(std::move(model)),
      options_(options),
      sources_(options.source_horizon_ns, options.reorder_slack_ns) {
  const std::size_t n = model_.size();
  issue_invokes_.assign(n, 0);
  issues_in_flight_.assign(n, 0);
  update_invokes_.assign(n, 0);
  updates_in_flight_count_.assign(n, 0);
}

void checker::on_event(history_event&& event) {
  if (auto* invoke = std::get_if<issue_invoke>(&event)) return on_issue_invoke(std::move(*invoke));
  if (auto* done = std::get_if<issue_complete>(&event)) return on_issue_complete(std::move(*done));
  on_event(static_cast<const history_event&>(event));
}

void checker::on_issue_invoke(const issue_invoke& e) { invoke_impl(e); }
void checker::on_issue_invoke(issue_invoke&& e) { invoke_impl(std::move(e)); }
void checker::on_issue_complete(const issue_complete& e) { complete_impl(e); }
void checker::on_issue_complete(issue_complete&& e) { complete_impl(std::move(e)); }

void checker::on_event(const history_event& event) {
  std::visit(
      [this](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, issue_invoke>)
          on_issue_invoke(e);
        else if constexpr (std::is_same_v<T, issue_complete>)
          on_issue_complete(e);
        else if constexpr (std::is_same_v<T, update_invoke>)
          on_update_invoke(e);
        else if constexpr (std::is_same_v<T, update_complete>)
          on_update_complete(e);
        else if constexpr (std::is_same_v<T, marker_event>)
          on_marker(e);
      },
      event);
}

template <class E>
void checker::invoke_impl(E&& e) {
  if (finished_) return;
  const std::uint64_t tag = fingerprint(e.application_number);
  // Both tables are far larger than the caches: start loading the slots before the checks that
  // advance() may run, and the model lookup.
  tags_.prefetch(tag);
  requests_.prefetch(e.id);
  advance(e.t);
  request_record r;
  r.resident = model_.find_resident(e.resident_id);
  ++exposure_.requests;
  ++total_invokes_;
  ++total_in_flight_;
  exposure_.peak_in_flight = std::max(exposure_.peak_in_flight, total_in_flight_);
  r.phase = phase_;
  exposure& in_phase = exposure_by_phase_[phase_];
  ++in_phase.requests;
  in_phase.peak_in_flight = std::max(in_phase.peak_in_flight, total_in_flight_);
  if (r.resident) {
    const std::uint32_t p = *r.resident;
    ++issue_invokes_[p];
    ++issues_in_flight_[p];
    r.overlapped_other = total_in_flight_ > issues_in_flight_[p];
    r.others_invoked_at_start = total_invokes_ - issue_invokes_[p];
    r.overlapped_update = updates_in_flight_count_[p] > 0;
    r.own_updates_at_start = update_invokes_[p];
  }
  const std::uint64_t tag_seq = tags_expired_ + tag_owners_.size();
  {
    tag_owner& owner = tag_owners_.emplace_back();
    owner.t = e.t;
    owner.seq = tag_seq;
    owner.id = e.id;
    owner.tag = tag;
    if (r.resident) {
      owner.resident = *r.resident;
    } else {
      unknown_residents_[owner.seq] = e.resident_id;
    }
    if (e.application_number.size() <= inline_number_size) {
      owner.length = static_cast<std::uint8_t>(e.application_number.size());
      std::copy(e.application_number.begin(), e.application_number.end(),
                owner.inline_number.begin());
    } else {
      owner.length = 255;
      long_numbers_[owner.seq] = e.application_number;
    }
    bool fresh_tag = false;
    std::uint64_t& entry = tags_.emplace(tag, fresh_tag);
    if (!fresh_tag && entry >= tags_expired_) {
      tag_owners_[static_cast<std::size_t>(entry - tags_expired_)].superseded = true;
    }
    entry = owner.seq;
  }
  bool fresh = false;
  std::uint32_t& slot = requests_.emplace(e.id, fresh);
  if (!fresh) {
    ++outcomes_.history_errors;
    return;
  }
  if (free_slots_.empty()) {
    slot = static_cast<std::uint32_t>(request_slots_.size());
    request_slots_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  if (r.resident) {
    r.source_handle = sources_.on_invoke(*r.resident, e.id, tag, e.t, e.worker, e.conn);
  }
  // Assigned member by member so that a reused slot's strings keep their capacity.
  pending_check& pc = request_slots_[slot];
  pc.request.invoke = std::forward<E>(e);
  pc.request.resident = r.resident;
  pc.request.others_invoked_at_start = r.others_invoked_at_start;
  pc.request.own_updates_at_start = r.own_updates_at_start;
  pc.request.overlapped_other = r.overlapped_other;
  pc.request.overlapped_update = r.overlapped_update;
  pc.request.phase = r.phase;
  pc.request.tag_seq = tag_seq;
  pc.request.source_handle = r.source_handle;
  pc.answered = false;
}

template <class E>
void checker::complete_impl(E&& e) {
  if (finished_) return;
  advance(e.t);
  const std::uint32_t* const slot = requests_.find(e.id);
  pending_check* const pc = slot == nullptr ? nullptr : &request_slots_[*slot];
  if (pc == nullptr || pc->answered) {
    ++outcomes_.history_errors;
    return;
  }
  request_record& r = pc->request;
  --total_in_flight_;
  if (r.resident) {
    const std::uint32_t p = *r.resident;
    --issues_in_flight_[p];
    if (total_invokes_ - issue_invokes_[p] > r.others_invoked_at_start) r.overlapped_other = true;
    if (update_invokes_[p] > r.own_updates_at_start) r.overlapped_update = true;
    sources_.on_complete(r.source_handle, e.t);
  }
  exposure& in_phase = exposure_by_phase_[r.phase];
  if (r.overlapped_other) {
    ++exposure_.overlapped_other_resident;
    ++in_phase.overlapped_other_resident;
  }
  if (r.overlapped_update) {
    ++exposure_.overlapped_own_update;
    ++in_phase.overlapped_own_update;
    if (e.outcome == issue_outcome::retry) {
      ++exposure_.overlapped_own_update_retry;
      ++in_phase.overlapped_own_update_retry;
    }
  }
  switch (e.outcome) {
    case issue_outcome::ok:
      break;
    case issue_outcome::retry:
      ++outcomes_.retry;
      break;
    case issue_outcome::refused:
      ++outcomes_.refused;
      break;
    case issue_outcome::error:
      ++outcomes_.errors;
      break;
    case issue_outcome::timeout:
      ++outcomes_.timeouts;
      break;
  }
  if (e.outcome != issue_outcome::ok || !r.resident || !e.answer) {
    // Never checked. A request that did not receive its own certificate may still have had its
    // data produced and handed to another: a refusal or a 409 is what the server said, not proof
    // that nothing was printed (a print that timed out and was released later is one of the
    // 2023 failures). So it stays a candidate source, like a timeout or an error.
    if (r.resident) sources_.on_settled(r.source_handle, true);
    if (e.outcome == issue_outcome::ok) {
      if (!r.resident)
        ++outcomes_.unknown_resident;
      else
        ++outcomes_.history_errors;
    }
    erase_request(e.id, *slot);
    return;
  }
  ++outcomes_.answered;
  latency_.add(e.t - r.invoke.t);
  pc->complete = std::forward<E>(e);
  pc->answered = true;
  const printed_certificate& c = pc->complete.answer->certificate;
  pc->echoed_tag = fingerprint(c.application_number);
  pc->echo_matches = c.application_number == r.invoke.application_number;
  schedule_check({e.t, e.id, *slot});
  drain(max_t_ - options_.reorder_slack_ns);
}

void checker::on_update_invoke(const update_invoke& e) {
  if (finished_) return;
  advance(e.t);
  std::vector<std::uint32_t> residents;
  const bool counted = options_.answers.versions == version_semantics::global_counter;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> numbered;
  for (std::size_t i = 0; i < e.changes.size(); ++i) {
    const auto& ch = e.changes[i];
    const auto r = model_.find_resident(ch.resident_id);
    if (!r) {
      ++outcomes_.history_errors;
      continue;
    }
    if (model_.begin_update(*r, e.id, e.t, ch.version, ch.kind, ch.fields)) {
      ++outcomes_.history_errors;
      continue;
    }
    ++exposure_.updates;
    ++update_invokes_[*r];
    ++updates_in_flight_count_[*r];
    residents.push_back(*r);
    if (counted) numbered.emplace_back(static_cast<std::uint32_t>(i), *r);
  }
  updates_in_flight_[e.id] = std::move(residents);
  if (counted) counter_changes_[e.id] = std::move(numbered);
}

void checker::on_update_complete(const update_complete& e) {
  if (finished_) return;
  advance(e.t);
  const auto it = updates_in_flight_.find(e.id);
  if (it == updates_in_flight_.end()) {
    ++outcomes_.history_errors;
    return;
  }
  std::vector<std::uint32_t> residents = std::move(it->second);
  updates_in_flight_.erase(it);
  if (const auto n = counter_changes_.find(e.id); n != counter_changes_.end()) {
    if (e.outcome == update_outcome::ok) {
      for (const auto& [index, r] : n->second) {
        if (index < e.versions.size() && e.versions[index]) {
          model_.set_counter(r, e.id, *e.versions[index]);
        }
      }
    }
    counter_changes_.erase(n);
  }
  std::sort(residents.begin(), residents.end());
  for (std::size_t i = 0; i < residents.size(); ++i) --updates_in_flight_count_[residents[i]];
  residents.erase(std::unique(residents.begin(), residents.end()), residents.end());
  for (std::uint32_t r : residents) {
    switch (e.outcome) {
      case update_outcome::ok:
        model_.acknowledge(r, e.id, e.t);
        break;
      case update_outcome::failed:
        model_.fail(r, e.id, e.t);
        break;
      case update_outcome::unknown:
        model_.mark_unknown(r, e.id);
        break;
    }
  }
  for (std::size_t i = 0; i < residents.size(); ++i) {
    if (e.outcome == update_outcome::failed) ++exposure_.updates_failed;
    if (e.outcome == update_outcome::unknown) ++exposure_.updates_unknown;
  }
  for (std::uint32_t r : residents) {
    const auto parked = parked_.find(r);
    if (parked == parked_.end()) continue;
    for (const pending_order& o : parked->second) schedule_check(o);
    parked_.erase(parked);
  }
  drain(max_t_ - options_.reorder_slack_ns);
}

void checker::on_marker(const marker_event& e) {
  if (finished_) return;
  advance(e.t);
  if (e.name == "phase") {
    // {"type":"event","name":"phase","phase":"<name>"} or detail.name.
    std::string name = e.phase;
    if (e.detail.is_object()) {
      if (const auto it = e.detail.find("name"); it != e.detail.end() && it->is_string()) {
        name = it->get<std::string>();
      }
    }
    const auto it = std::find(phase_names_.begin(), phase_names_.end(), name);
    if (!phase_seen_) {
      // Requests written before the first phase event were sent in the first phase (the driver
      // writes the event with the phase's start time, after its first requests): as the
      // timeline counts them (timeline.cpp).
      phase_seen_ = true;
      phase_names_[0] = std::move(name);
    } else if (it != phase_names_.end()) {
      phase_ = static_cast<std::uint32_t>(it - phase_names_.begin());
    } else {
      phase_names_.push_back(std::move(name));
      exposure_by_phase_.emplace_back();
      phase_ = static_cast<std::uint32_t>(phase_names_.size() - 1);
    }
  }
  if (e.name == "footer") finish();
}

void checker::finish() {
  if (finished_) return;
  // Updates never answered: their outcome is unknown.
  for (auto& [id, residents] : updates_in_flight_) {
    for (std::uint32_t r : residents) {
      model_.mark_unknown(r, id);
      ++exposure_.updates_unknown;
    }
  }
  for (auto& [r, ids] : parked_) {
    for (const pending_order& o : ids) schedule_check(o);
  }
  parked_.clear();
  drain(time_max);
  outcomes_.unanswered += total_in_flight_;
  finished_ = true;
}

void checker::check(const pending_check& p) {
  request_checker rc(*this, p);
  std::vector<finding> found = rc.run();
  // A request may be the source of its resident's data on a later request (leak_sources.hpp)
  // unless it provably kept its own answer: a certificate of its resident is not enough, since a
  // shift between two requests for the same resident looks right on the recipient, and only the
  // echo of its own application number proves the answer was written for it (without an echo,
  // a vendor's, nothing proves it: it stays a candidate).
  const bool lost =
      !p.echo_matches || std::any_of(found.begin(), found.end(), [](const finding& f) {
        return f.kind == finding_kind::wrong_person;
      });
  sources_.on_settled(p.request.source_handle, lost);
  if (found.empty()) return;
  ++requests_with_findings_;
  for (auto& f : found) {
    record_edge(f);
    explain(f);
    findings_.push_back(std::move(f));
  }
}

result<void> feed_history_line(checker& c, std::string_view line, std::string_view where) {
  auto ev = parse_history_line(
      line, where,
      parse_options{c.options().keep_answers, c.options().check_digest, c.options().decoder.get()});
  if (!ev) return ev.error();
  c.on_event(std::move(*ev));
  return {};
}

checker_options options_from_header(const nlohmann::json& header) {
  checker_options o;
  const auto sc = header.find("scenario");
  if (sc == header.end() || !sc->is_object()) return o;
  auto number = [](const nlohmann::json& obj,
                   std::initializer_list<const char*> keys) -> std::optional<double> {
    for (const char* k : keys) {
      const auto it = obj.find(k);
      if (it != obj.end() && it->is_number()) return it->get<double>();
    }
    return std::nullopt;
  };
  if (const auto v = sc->find("verification"); v != sc->end() && v->is_object()) {
    if (const auto ms = number(*v, {"staleness_ms"})) {
      o.staleness_ns = static_cast<std::int64_t>(*ms * 1e6);
    }
    o.require_echo = v->value("require_application_number_echo", true);
    o.check_digest = v->value("check_digest", true);
  }
  if (const auto t = sc->find("thresholds"); t != sc->end() && t->is_object()) {
    if (const auto n = number(*t, {"min_overlapping_requests"}); n && *n > 0) {
      o.min_overlaps = static_cast<std::uint64_t>(*n);
    }
    if (const auto n = number(*t, {"min_update_overlaps"}); n && *n > 0) {
      o.min_update_overlaps = static_cast<std::uint64_t>(*n);
    }
    if (const auto n = number(*t, {"max_findings"}))
      o.max_findings = static_cast<std::uint64_t>(*n);
    if (const auto n = number(*t, {"min_answered"}))
      o.min_answered = static_cast<std::uint64_t>(*n);
    if (const auto n = number(*t, {"max_error_rate"})) o.max_error_rate = *n;
    if (const auto n = number(*t, {"max_p99_ms"})) o.max_p99_ms = *n;
  }
  return o;
}

}  // namespace kofu::verify
