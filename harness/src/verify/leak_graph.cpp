// The leak graph (DESIGN §7): an edge per WRONG_PERSON or FOREIGN_DATA finding that names its
// victim, with its source found from the timing and the victim alone (leak_sources.hpp), and the
// swaps, shifts, chains of shifts, ambiguous edges, duplicates and victims of
// checker::summary().

#include "checker_internal.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace kofu::verify {

// The edge of a finding, when it is a WRONG_PERSON or FOREIGN_DATA that names its victim; its
// source as the timing gives it (the same lookup as the finding's, run right after it).
void checker::record_edge(const finding& f) {
  if (f.kind != finding_kind::wrong_person && f.kind != finding_kind::foreign_data) return;
  if (f.victim_resident.empty()) return;
  leak_edge e;
  e.victim_resident = f.victim_resident;
  e.recipient_resident = f.requested_resident;
  e.recipient_request = f.request_id;
  e.kind = f.kind;
  const auto v = model_.find_resident(f.victim_resident);
  const detail::leak_source_match m = sources_.find(*v, f.request_id, f.sent_ns, f.received_ns);
  e.source_candidates = m.candidates;
  if (m.candidates == 1) {
    e.victim_request = m.id;
    e.source_preceded = m.preceded;
    e.same_worker = m.worker == f.worker;
    e.same_conn = e.same_worker && m.conn == f.conn;
  } else {
    e.candidate_requests = m.ids;
  }
  edges_.push_back(std::move(e));
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
  // Shifts: edges whose one source is named. Two shifts are consecutive when the recipient of
  // one is the source of the other (A → B → C); chains are connected runs of consecutive shifts
  // through three or more requests (a swap's two shifts join only two).
  std::map<std::uint64_t, std::size_t> shift_to;  // recipient request → its shift edge
  for (std::size_t i = 0; i < edges.size(); ++i) {
    const auto& e = edges[i];
    if (e.source_candidates >= 2) ++g.ambiguous;
    if (e.source_candidates == 0) ++g.unsourced;
    if (!e.victim_request) continue;
    ++g.shifts;
    shift_to.emplace(e.recipient_request, i);
  }
  std::vector<std::size_t> parent(edges.size());
  for (std::size_t i = 0; i < parent.size(); ++i) parent[i] = i;
  auto root = [&](std::size_t x) {  // iterative: a chain can be thousands of shifts long
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (std::size_t i = 0; i < edges.size(); ++i) {
    if (!edges[i].victim_request) continue;
    const auto before = shift_to.find(*edges[i].victim_request);
    if (before != shift_to.end()) parent[root(i)] = root(before->second);
  }
  struct component {
    std::set<std::uint64_t> requests;
    std::vector<std::size_t> edges;
  };
  std::map<std::size_t, component> components;
  for (const auto& [recipient, i] : shift_to) {
    component& c = components[root(i)];
    c.requests.insert(*edges[i].victim_request);
    c.requests.insert(recipient);
    c.edges.push_back(i);
  }
  // Chains are numbered by their smallest request id (ids grow as requests are sent).
  std::vector<const component*> chains;
  for (const auto& [r, c] : components) {
    (void)r;
    if (c.edges.size() >= 2 && c.requests.size() >= 3) chains.push_back(&c);
  }
  std::sort(chains.begin(), chains.end(), [](const component* x, const component* y) {
    return *x->requests.begin() < *y->requests.begin();
  });
  for (std::size_t k = 0; k < chains.size(); ++k) {
    g.chains.push_back(
        {chains[k]->edges.size(), *chains[k]->requests.begin(), *chains[k]->requests.rbegin()});
    for (const std::size_t i : chains[k]->edges) g.edges[i].chain = k;
  }
  g.shift_chains = g.chains.size();
  g.victims.assign(victims.begin(), victims.end());
  return g;
}

}  // namespace detail

}  // namespace kofu::verify
