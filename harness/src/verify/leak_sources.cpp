// The requests that can still be named as the source of leaked data (leak_sources.hpp).

#include "kofu/verify/leak_sources.hpp"

#include <algorithm>

namespace kofu::verify::detail {

std::uint64_t leak_sources::on_invoke(std::uint32_t resident, std::uint64_t id, std::uint64_t tag,
                                      std::int64_t a, std::uint32_t worker, std::uint64_t conn) {
  const std::uint64_t handle = forgotten_ + order_.size();
  entry& e = order_.emplace_back();
  e.a = a;
  e.id = id;
  e.tag = tag;
  e.conn = conn;
  e.resident = resident;
  e.worker = worker;
  by_resident_[resident].handles.push_back(handle);
  return handle;
}

void leak_sources::on_complete(std::uint64_t handle, std::int64_t b) {
  if (handle >= forgotten_) at(handle).b = b;  // an unsettled entry is never forgotten
}

void leak_sources::on_settled(std::uint64_t handle, bool lost) {
  if (handle < forgotten_) return;
  entry& e = at(handle);
  e.settled = true;
  e.lost = lost;
  const std::uint64_t end = forgotten_ + order_.size();
  while (first_unsettled_ < end && at(first_unsettled_).settled) ++first_unsettled_;
}

leak_source_match leak_sources::find(std::uint32_t resident, std::uint64_t recipient,
                                     std::int64_t a, std::int64_t b) const {
  leak_source_match m;
  const resident_list* list = by_resident_.find(resident);
  if (list == nullptr) return m;
  for (std::size_t i = list->head; i < list->handles.size(); ++i) {
    const entry& x = at(list->handles[i]);
    if (x.id == recipient || x.a >= b) continue;
    const bool overlapped = x.b > a;
    // Until it is settled, whether a preceding request lost its answer is unknown: it stays a
    // candidate rather than be ruled out on a guess.
    const bool preceded = !overlapped && (x.lost || !x.settled) && a - x.b <= horizon_ns_;
    if (!overlapped && !preceded) continue;
    if (++m.candidates == 1) {
      m.id = x.id;
      m.tag = x.tag;
      m.worker = x.worker;
      m.conn = x.conn;
      m.preceded = preceded;
    }
    if (m.ids.size() < leak_source_match::max_listed) m.ids.push_back(x.id);
  }
  return m;
}

void leak_sources::expire(std::int64_t now) {
  if (now < time_min_ns + slack_ns_ + 2 * horizon_ns_) return;
  // A request in flight for twice the horizon is no longer followed (a killed run's last
  // requests, or a complete lost from a damaged history): it would hold every later entry.
  const std::int64_t abandoned_before = now - slack_ns_ - 2 * horizon_ns_;
  while (!order_.empty() && order_.front().a < abandoned_before) forget_front();
  // Requests still to be checked are the unsettled ones and those not yet seen; the first
  // unsettled one in the order seen bounds the send times of the rest up to the reorder slack.
  std::int64_t w = now;
  if (first_unsettled_ < forgotten_ + order_.size()) w = std::min(w, at(first_unsettled_).a);
  w -= slack_ns_;
  while (!order_.empty()) {
    const entry& x = order_.front();
    if (!x.settled || x.b > w) break;             // may overlap a request still to be checked
    if (x.lost && w - x.b <= horizon_ns_) break;  // may precede one within the horizon
    forget_front();
  }
}

void leak_sources::forget_front() {
  const std::uint32_t r = order_.front().resident;
  resident_list* list = by_resident_.find(r);
  // The front of all is the front of its resident's list: both are in the order sent.
  if (++list->head == list->handles.size()) {
    by_resident_.erase(r);
  } else if (list->head >= 16 && list->head * 2 >= list->handles.size()) {
    list->handles.erase(list->handles.begin(),
                        list->handles.begin() + static_cast<std::ptrdiff_t>(list->head));
    list->head = 0;
  }
  order_.pop_front();
  ++forgotten_;
  first_unsettled_ = std::max(first_unsettled_, forgotten_);
  const std::uint64_t end = forgotten_ + order_.size();
  while (first_unsettled_ < end && at(first_unsettled_).settled) ++first_unsettled_;
}

}  // namespace kofu::verify::detail
