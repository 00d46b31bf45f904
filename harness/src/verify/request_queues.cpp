// The requests between invoke and check: the slots of requests in flight or awaiting their check,
// the check order (detail::check_queue) and its drain, the prefetching of the next checks, the
// expiry of the requests that can be named as a leak's source, and the application numbers of the
// tag horizon with their expiry.

#include "checker_internal.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

namespace kofu::verify {

std::string_view checker::application_number(const tag_owner& t) const {
  if (t.length != 255) return {t.inline_number.data(), t.length};
  const std::string* s = long_numbers_.find(t.seq);
  return s == nullptr ? std::string_view() : std::string_view(*s);
}

std::string checker::resident_id(const tag_owner& t) const {
  if (t.resident != no_resident) return model_.initial(t.resident).resident_id;
  const std::string* s = unknown_residents_.find(t.seq);
  return s == nullptr ? std::string() : *s;
}

checker::tag_owner* checker::find_tag(std::uint64_t fingerprint) {
  const std::uint64_t* seq = tags_.find(fingerprint);
  if (seq == nullptr) return nullptr;
  return &tag_owners_[static_cast<std::size_t>(*seq - tags_expired_)];
}

checker::tag_owner* checker::find_echoed_tag(const pending_check& p) {
  const std::uint64_t seq = p.request.tag_seq;
  if (p.echo_matches && seq >= tags_expired_) {
    tag_owner& own = tag_owners_[static_cast<std::size_t>(seq - tags_expired_)];
    if (!own.superseded) return &own;
  }
  return find_tag(p.echoed_tag);
}

void checker::erase_request(std::uint64_t id, std::uint32_t slot) {
  pending_check& pc = request_slots_[slot];
  pc.complete.answer.reset();  // the answer can go now; the strings keep their capacity
  pc.answered = false;
  free_slots_.push_back(slot);
  requests_.erase(id);
}

void checker::schedule_check(const pending_order& o) {
  check_order_.push(request_slots_[o.slot].request.invoke.worker, o);
}

void checker::advance(std::int64_t t) {
  if (t <= max_t_) return;
  max_t_ = t;
  drain(t - options_.reorder_slack_ns);
  sources_.expire(t);
  // Forget application numbers nobody can still echo by mistake.
  while (!tag_owners_.empty() && tag_owners_.front().t < t - options_.tag_horizon_ns) {
    const tag_owner& old = tag_owners_.front();
    if (!old.superseded) tags_.erase(old.tag);  // its entry is there (tag_owner::superseded)
    // The entry of the owner expiring a few invokes from now is cold: start loading it.
    if (tag_owners_.size() > tag_prefetch_ahead)
      tags_.prefetch(tag_owners_[tag_prefetch_ahead].tag);
    if (old.length == 255) long_numbers_.erase(old.seq);
    if (old.resident == no_resident) unknown_residents_.erase(old.seq);
    tag_owners_.pop_front();
    ++tags_expired_;
  }
}

void checker::drain(std::int64_t up_to_b) {
  while (!check_order_.empty() && check_order_.top().b <= up_to_b) {
    const pending_order next = check_order_.top();
    for (std::size_t ahead = 1; ahead <= 4; ++ahead) prefetch_check(ahead);
    check_order_.pop();
    pending_check& pc = request_slots_[next.slot];
    if (!pc.answered) continue;  // defensive: never true (see check_order_)
    // An update of this resident sent before the answer and still unanswered may yet fail, which
    // would make its content ABORTED rather than allowed: wait for its outcome (or finish()).
    const std::uint32_t r = *pc.request.resident;
    if (model_.has_pending_before(r, pc.complete.t)) {
      parked_[r].push_back(next);
      continue;
    }
    check(pc);
    erase_request(next.id, next.slot);
  }
}

namespace {

void prefetch_bytes(const void* p, std::size_t n) {
  const char* const c = static_cast<const char*>(p);
  for (std::size_t off = 0; off < n; off += 64) __builtin_prefetch(c + off);
}

void prefetch_string(const std::string& s) { __builtin_prefetch(s.data()); }

}  // namespace

// The check of a request runs about reorder_slack after its answer was decoded, when its slot
// and answer have long left the caches. Checks come in check_order_, so the next few are known:
// each pop starts loading, in stages, what the checks `ahead` places on will read (a stage
// follows pointers only into memory the stage before has loaded). Hints only: no effect on
// any result.
void checker::prefetch_check(std::size_t ahead) {
  const pending_order* const o = check_order_.behind_top(ahead);
  if (o == nullptr) return;
  const pending_check& pc = request_slots_[o->slot];
  switch (ahead) {
    case 4:  // the slot
      prefetch_bytes(&pc, sizeof(pending_check));
      break;
    case 3: {  // what the slot points to: the answer, the invoke's long strings, table slots
      requests_.prefetch(o->id);
      if (!pc.echo_matches) tags_.prefetch(pc.echoed_tag);
      if (pc.request.tag_seq >= tags_expired_) {
        __builtin_prefetch(
            &tag_owners_[static_cast<std::size_t>(pc.request.tag_seq - tags_expired_)]);
      }
      prefetch_string(pc.request.invoke.application_number);
      prefetch_string(pc.request.invoke.card_serial);
      if (const decoded_answer* a = pc.complete.answer.get()) {
        prefetch_bytes(a, sizeof(decoded_answer));
      }
      break;
    }
    case 2:  // what the answer points to; the subject's record
      if (const decoded_answer* a = pc.complete.answer.get()) {
        const printed_certificate& c = a->certificate;
        prefetch_string(c.application_number);
        prefetch_string(c.serial);
        prefetch_string(c.subject_card_serial);
        prefetch_bytes(c.persons.data(), c.persons.size() * sizeof(printed_person));
      }
      if (pc.request.resident) {
        // The newest version is the one most checks compare with.
        prefetch_bytes(&model_.timeline(*pc.request.resident).back(), sizeof(resident_state));
      }
      break;
    case 1:  // the strings too long to be stored inline, of the persons and the record
      if (const decoded_answer* a = pc.complete.answer.get()) {
        for (const printed_person& x : a->certificate.persons) {
          if (x.address) prefetch_string(x.address->building);
          if (x.honseki) prefetch_string(*x.honseki);
          if (x.hittousha) prefetch_string(*x.hittousha);
        }
      }
      if (pc.request.resident) {
        const population::resident& r = model_.timeline(*pc.request.resident).back().record;
        prefetch_string(r.address.building);
        prefetch_string(r.honseki);
        prefetch_string(r.hittousha);
      }
      break;
    default:
      break;
  }
}

namespace detail {

void check_queue::push(std::uint64_t stream, const check_entry& e) {
  bool fresh = false;
  std::uint32_t& index = stream_index_.emplace(stream, fresh);
  if (fresh) {
    index = static_cast<std::uint32_t>(streams_.size());
    streams_.emplace_back();
  }
  std::deque<check_entry>& q = streams_[index];
  if (q.empty() || !(e < q.back())) {
    q.push_back(e);
  } else {
    q.insert(std::upper_bound(q.begin(), q.end(), e), e);
  }
  ++size_;
  // The new entry can only have become the smallest front.
  if (top_valid_ && q.front() < streams_[top_].front()) top_ = index;
}

std::size_t check_queue::top_stream() {
  if (!top_valid_) {
    top_ = streams_.size();
    for (std::size_t i = 0; i < streams_.size(); ++i) {
      if (streams_[i].empty()) continue;
      if (top_ == streams_.size() || streams_[i].front() < streams_[top_].front()) top_ = i;
    }
    top_valid_ = top_ < streams_.size();
  }
  return top_;
}

const check_entry& check_queue::top() { return streams_[top_stream()].front(); }

void check_queue::pop() {
  streams_[top_stream()].pop_front();
  --size_;
  top_valid_ = false;
}

const check_entry* check_queue::behind_top(std::size_t ahead) {
  if (empty()) return nullptr;
  const std::deque<check_entry>& q = streams_[top_stream()];
  return ahead < q.size() ? &q[ahead] : nullptr;
}

}  // namespace detail

}  // namespace kofu::verify
