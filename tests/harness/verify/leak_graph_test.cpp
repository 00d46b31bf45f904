// The leak graph's classification of each edge's source from the timing and the victim alone
// (leak_graph.cpp, leak_sources.hpp): shifts across workers, chains, ambiguous and unsourced
// edges, hot residents, swaps.

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "verify_fixture.hpp"

namespace kofu::verify {
namespace {

using population::resident;
using test::history_builder;

// Residents with a household head to print, and correct or foreign answers for them.
struct people {
  std::vector<resident> pop = test::small_population(80, 11);
  std::vector<const resident*> active;
  people() {
    for (const auto& r : pop) {
      if (r.status == population::resident_status::active) active.push_back(&r);
    }
  }
  const resident& operator[](std::size_t i) const { return *active.at(i); }
  std::string head_name(const resident& r) const {
    for (const auto& x : pop) {
      if (x.household_id == r.household_id && x.relationship == "世帯主") {
        return x.name.full_kanji();
      }
    }
    return {};
  }
  // The certificate of `whose`, answered to request `id` (its own number echoed).
  test::json answer(const history_builder& h, std::uint64_t id, const resident& whose) const {
    return test::render(h.application_number(id), "juminhyo", {}, whose, {whose}, head_name(whose),
                        "C-" + std::to_string(id));
  }
};

// What one edge must say: its recipient, and its source or its candidates (none: unsourced).
struct expected_edge {
  std::uint64_t recipient = 0;
  std::optional<std::uint64_t> source;
  std::set<std::uint64_t> candidates;  // when ambiguous
  bool preceded = false;
  bool in_chain = false;
};

struct graph_case {
  const char* name;
  std::function<void(const people&, history_builder&)> build;
  std::vector<expected_edge> edges;
  std::uint64_t chains = 0;
  std::uint64_t swaps = 0;
  checker_options options = {};
};

void expect_graph(const graph_case& c) {
  people p;
  history_builder h(p.pop, c.options);
  c.build(p, h);
  const auto checked = h.run();
  const leak_graph g = checked->summary().leaks;
  ASSERT_EQ(g.edges.size(), c.edges.size()) << c.name;
  std::uint64_t shifts = 0;
  std::uint64_t ambiguous = 0;
  std::uint64_t unsourced = 0;
  for (const expected_edge& want : c.edges) {
    const leak_edge* e = nullptr;
    for (const auto& x : g.edges) {
      if (x.recipient_request == want.recipient) e = &x;
    }
    ASSERT_NE(e, nullptr) << c.name << ": no edge to request " << want.recipient;
    EXPECT_EQ(e->victim_request, want.source) << c.name << ": request " << want.recipient;
    if (want.source) {
      ++shifts;
      EXPECT_EQ(e->source_candidates, 1u) << c.name;
      EXPECT_EQ(e->source_preceded, want.preceded) << c.name << ": request " << want.recipient;
      EXPECT_EQ(e->chain.has_value(), want.in_chain) << c.name << ": request " << want.recipient;
    } else {
      EXPECT_EQ(e->source_candidates, want.candidates.size()) << c.name;
      EXPECT_EQ(std::set<std::uint64_t>(e->candidate_requests.begin(), e->candidate_requests.end()),
                want.candidates)
          << c.name << ": request " << want.recipient;
      ++(want.candidates.empty() ? unsourced : ambiguous);
    }
    // The finding says the same: a source named only when certain.
    for (const auto& f : checked->findings()) {
      if (f.request_id != want.recipient || f.kind != e->kind) continue;
      EXPECT_EQ(f.victim_request_id, want.source) << c.name;
      EXPECT_EQ(f.victim_request_candidates, e->source_candidates) << c.name;
    }
  }
  EXPECT_EQ(g.shifts, shifts) << c.name;
  EXPECT_EQ(g.ambiguous, ambiguous) << c.name;
  EXPECT_EQ(g.unsourced, unsourced) << c.name;
  EXPECT_EQ(g.shift_chains, c.chains) << c.name;
  EXPECT_EQ(g.chains.size(), c.chains) << c.name;
  EXPECT_EQ(g.swaps, c.swaps) << c.name;
}

TEST(LeakGraphTest, ClassifiesSourcesFromTimingAndResidentAlone) {
  checker_options short_horizon;
  short_horizon.source_horizon_ns = 1000;
  const std::vector<graph_case> cases = {
      {"shift from a timed-out request on another worker",
       [](const people& p, history_builder& h) {
         h.invoke_issue(1, 1000, p[0], "juminhyo", {}, 0, 1);
         h.complete_issue_other(1, 5000, issue_outcome::timeout);
         h.invoke_issue(2, 6000, p[1], "juminhyo", {}, 1, 7);
         h.complete_issue(2, 7000, p.answer(h, 2, p[0]));
       },
       {{2, 1, {}, true, false}}},
      {"chain A → B → C → D, each on another worker",
       [](const people& p, history_builder& h) {
         h.invoke_issue(1, 1000, p[0], "juminhyo", {}, 0, 1);
         h.complete_issue_other(1, 5000, issue_outcome::error);
         h.invoke_issue(2, 6000, p[1], "juminhyo", {}, 1, 2);
         h.complete_issue(2, 7000, p.answer(h, 2, p[0]));
         h.invoke_issue(3, 8000, p[2], "juminhyo", {}, 0, 3);
         h.complete_issue(3, 9000, p.answer(h, 3, p[1]));
         h.invoke_issue(4, 9500, p[3], "juminhyo", {}, 1, 4);
         h.complete_issue(4, 9800, p.answer(h, 4, p[2]));
       },
       {{2, 1, {}, true, true}, {3, 2, {}, true, true}, {4, 3, {}, true, true}},
       1},
      {"two lost requests of the victim: ambiguous, neither named",
       [](const people& p, history_builder& h) {
         h.invoke_issue(1, 1000, p[0], "juminhyo", {}, 0, 1);
         h.invoke_issue(2, 1100, p[0], "juminhyo", {}, 1, 2);
         h.complete_issue_other(1, 5000, issue_outcome::timeout);
         h.complete_issue_other(2, 5100, issue_outcome::error);
         h.invoke_issue(3, 6000, p[1], "juminhyo", {}, 0, 1);
         h.complete_issue(3, 7000, p.answer(h, 3, p[0]));
       },
       {{3, std::nullopt, {1, 2}}}},
      {"hot resident: the one lost request among six answered ones since",
       [](const people& p, history_builder& h) {
         h.invoke_issue(1, 1000, p[0], "juminhyo", {}, 0, 1);
         h.complete_issue_other(1, 2000, issue_outcome::timeout);
         for (std::uint64_t k = 0; k < 6; ++k) {
           const auto t = static_cast<std::int64_t>(3000 + k * 100);
           h.invoke_issue(2 + k, t, p[0], "juminhyo", {}, 0, 2);
           h.complete_issue(2 + k, t + 50, p.answer(h, 2 + k, p[0]));
         }
         h.invoke_issue(8, 4000, p[1], "juminhyo", {}, 1, 3);
         h.complete_issue(8, 4500, p.answer(h, 8, p[0]));
       },
       {{8, 1, {}, true, false}}},
      {"hot resident: six requests overlapping the recipient, all candidates",
       [](const people& p, history_builder& h) {
         h.invoke_issue(1, 1000, p[1], "juminhyo", {}, 1, 9);
         for (std::uint64_t k = 0; k < 6; ++k) {
           const auto t = static_cast<std::int64_t>(1100 + k * 10);
           h.invoke_issue(2 + k, t, p[0], "juminhyo", {}, static_cast<std::uint32_t>(k % 2),
                          static_cast<std::uint32_t>(k));
         }
         for (std::uint64_t k = 0; k < 6; ++k) {
           const auto t = static_cast<std::int64_t>(1500 + k * 10);
           h.complete_issue(2 + k, t, p.answer(h, 2 + k, p[0]));
         }
         h.complete_issue(1, 2000, p.answer(h, 1, p[0]));
       },
       {{1, std::nullopt, {2, 3, 4, 5, 6, 7}}}},
      {"the victim's requests all got their own certificates: unsourced",
       [](const people& p, history_builder& h) {
         h.invoke_issue(1, 1000, p[0], "juminhyo", {}, 0, 1);
         h.complete_issue(1, 1500, p.answer(h, 1, p[0]));
         h.invoke_issue(2, 6000, p[1], "juminhyo", {}, 0, 1);
         h.complete_issue(2, 7000, p.answer(h, 2, p[0]));
       },
       {{2, std::nullopt, {}}}},
      {"a lost request beyond the horizon is no candidate",
       [](const people& p, history_builder& h) {
         h.invoke_issue(1, 1000, p[0], "juminhyo", {}, 0, 1);
         h.complete_issue_other(1, 2000, issue_outcome::timeout);
         h.invoke_issue(2, 3500, p[1], "juminhyo", {}, 0, 1);
         h.complete_issue(2, 4000, p.answer(h, 2, p[0]));
       },
       {{2, std::nullopt, {}}},
       0,
       0,
       short_horizon},
      {"a swap: two overlapping shifts, no chain",
       [](const people& p, history_builder& h) {
         h.invoke_issue(1, 1000, p[0], "juminhyo", {}, 0, 1);
         h.invoke_issue(2, 1100, p[1], "juminhyo", {}, 1, 2);
         h.complete_issue(1, 2000, p.answer(h, 1, p[1]));
         h.complete_issue(2, 2100, p.answer(h, 2, p[0]));
       },
       {{1, 2, {}, false, false}, {2, 1, {}, false, false}},
       0,
       1},
      {"one request's data to two others: a duplicate, not a chain",
       [](const people& p, history_builder& h) {
         h.invoke_issue(1, 1000, p[0], "juminhyo", {}, 0, 1);
         h.invoke_issue(2, 1200, p[1], "juminhyo", {}, 0, 1);
         h.invoke_issue(3, 1300, p[2], "juminhyo", {}, 1, 5);
         h.complete_issue(1, 1500, p.answer(h, 1, p[0]));
         h.complete_issue(2, 1600, p.answer(h, 2, p[0]));
         h.complete_issue(3, 1700, p.answer(h, 3, p[0]));
       },
       {{2, 1, {}, false, false}, {3, 1, {}, false, false}}},
  };
  for (const auto& c : cases) expect_graph(c);
}

// The explanation says how the source was found, or that it is not known.
TEST(LeakGraphTest, ExplanationSaysWhetherTheSourcePrecededOrIsAmbiguous) {
  people p;
  history_builder h(p.pop);
  h.invoke_issue(1, 1000, p[0], "juminhyo");
  h.complete_issue_other(1, 5000, issue_outcome::timeout);
  h.invoke_issue(2, 6000, p[1], "juminhyo");
  h.complete_issue(2, 7000, p.answer(h, 2, p[0]));
  h.invoke_issue(3, 8000, p[2], "juminhyo");
  h.invoke_issue(4, 8100, p[2], "juminhyo");
  h.invoke_issue(5, 8200, p[3], "juminhyo");
  h.complete_issue(3, 8500, p.answer(h, 3, p[2]));
  h.complete_issue(4, 8600, p.answer(h, 4, p[2]));
  h.complete_issue(5, 8700, p.answer(h, 5, p[2]));
  const auto r = h.run();
  ASSERT_EQ(r->findings().size(), 2u);
  const finding& shifted = r->findings()[0];
  EXPECT_EQ(shifted.victim_request_id, std::optional<std::uint64_t>(1));
  EXPECT_TRUE(shifted.victim_request_preceded);
  EXPECT_EQ(shifted.victim_application_number, h.application_number(1));
  EXPECT_NE(shifted.explanation_en.find("answered before this one was sent"), std::string::npos)
      << shifted.explanation_en;
  const finding& unsure = r->findings()[1];
  EXPECT_FALSE(unsure.victim_request_id.has_value());
  EXPECT_EQ(unsure.victim_request_candidates, 2u);
  EXPECT_NE(unsure.explanation_en.find("2 requests for that resident could have been"),
            std::string::npos)
      << unsure.explanation_en;
  EXPECT_EQ(to_json(unsure)["victim_request_candidates"], 2);
}

}  // namespace
}  // namespace kofu::verify
