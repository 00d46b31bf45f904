// The leak graph (DESIGN §7): an edge per WRONG_PERSON or FOREIGN_DATA finding that names its
// victim, and the swaps, shifts, shift chains, duplicates and victims of checker::summary().

#include "checker_internal.hpp"

#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>

namespace kofu::verify {

// The edge of a finding, when it is a WRONG_PERSON or FOREIGN_DATA that names its victim.
void checker::record_edge(const finding& f) {
  if (f.kind == finding_kind::wrong_person || f.kind == finding_kind::foreign_data) {
    if (!f.victim_resident.empty()) {
      leak_edge e;
      e.victim_resident = f.victim_resident;
      e.recipient_resident = f.requested_resident;
      e.recipient_request = f.request_id;
      e.victim_request = f.victim_request_id;
      e.kind = f.kind;
      if (f.victim_request_id) {
        const auto v = model_.find_resident(f.victim_resident);
        for (const auto& r : recent_[*v]) {
          if (r.id == *f.victim_request_id && r.a < f.sent_ns) {
            e.same_worker = r.worker == f.worker;
            e.same_conn = e.same_worker && r.conn == f.conn;
          }
        }
      }
      edges_.push_back(std::move(e));
    }
  }
}

namespace detail {

leak_graph build_leak_graph(const std::vector<leak_edge>& edges) {
  leak_graph g;
  g.edges = edges;
  std::set<std::pair<std::string, std::string>> pairs;
  std::map<std::string, std::set<std::uint64_t>> recipients_of;
  std::set<std::string> victims;
  for (const auto& e : edges) {
    if (e.kind != finding_kind::wrong_person) {
      victims.insert(e.victim_resident);
      recipients_of[e.victim_resident].insert(e.recipient_request);
      continue;
    }
    pairs.emplace(e.victim_resident, e.recipient_resident);
    victims.insert(e.victim_resident);
    recipients_of[e.victim_resident].insert(e.recipient_request);
  }
  for (const auto& [v, r] : pairs) {
    if (v < r && pairs.count({r, v}) != 0) ++g.swaps;
  }
  for (const auto& [v, reqs] : recipients_of) {
    if (reqs.size() >= 2) ++g.duplicates;
  }
  // Shifts: edges whose source request preceded the recipient on the same worker; chains are
  // connected runs of such edges (request → request).
  std::map<std::uint64_t, std::uint64_t> parent;
  std::function<std::uint64_t(std::uint64_t)> root = [&](std::uint64_t x) {
    auto it = parent.find(x);
    if (it == parent.end()) {
      parent[x] = x;
      return x;
    }
    if (it->second == x) return x;
    const std::uint64_t r = root(it->second);
    parent[x] = r;
    return r;
  };
  for (const auto& e : edges) {
    if (!e.same_worker || !e.victim_request) continue;
    ++g.shifts;
    const auto a = root(*e.victim_request);
    const auto b = root(e.recipient_request);
    if (a != b) parent[a] = b;
  }
  std::set<std::uint64_t> roots;
  for (const auto& [x, unused] : parent) {
    (void)unused;
    roots.insert(root(x));
  }
  g.shift_chains = roots.size();
  g.victims.assign(victims.begin(), victims.end());
  return g;
}

}  // namespace detail

}  // namespace kofu::verify
