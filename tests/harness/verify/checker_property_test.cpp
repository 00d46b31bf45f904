// Property test (issue 5 item 7): on thousands of small random histories, the fast checker agrees
// with a brute-force one that tries every version of the record at every instant of the request.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <set>

#include "kofu/verify/checker.hpp"
#include "verify_fixture.hpp"

namespace kofu::verify {
namespace {

using population::resident;
using test::json;

constexpr std::int64_t inf = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t neg_inf = std::numeric_limits<std::int64_t>::min();

// One update as the brute force sees it: the content it would produce and when.
struct brute_update {
  std::int64_t sent = 0;
  std::int64_t done = 0;  // completion time; meaningless for unknown
  enum { ok, failed, unknown } outcome = ok;
  bool has_complete = true;
  resident content;
  std::string kind;
};

// A version that exists (population or successful/unknown update) and its visibility interval
// endpoints: produced after `sent`, superseded when the next existing version is acknowledged.
struct brute_version {
  resident content;
  std::int64_t sent;
  std::int64_t next_acked;
};

std::vector<brute_version> existing_versions(const resident& initial,
                                             const std::vector<brute_update>& ups) {
  std::vector<brute_version> out{{initial, neg_inf, inf}};
  for (const auto& u : ups) {
    if (u.outcome == brute_update::failed) continue;
    out.back().next_acked = u.outcome == brute_update::ok ? u.done : inf;
    out.push_back({u.content, u.sent, inf});
  }
  return out;
}

// Every half-nanosecond instant t in (a − staleness, b): which versions could be current at t?
std::set<std::size_t> brute_allowed(const std::vector<brute_version>& vs, std::int64_t a,
                                    std::int64_t b, std::int64_t staleness) {
  std::set<std::size_t> allowed;
  for (std::int64_t h = 2 * (a - staleness) + 1; h < 2 * b; ++h) {
    for (std::size_t k = 0; k < vs.size(); ++k) {
      const bool after_send = vs[k].sent == neg_inf || 2 * vs[k].sent < h;
      const bool before_next = vs[k].next_acked == inf || h < 2 * vs[k].next_acked;
      if (after_send && before_next) allowed.insert(k);
    }
  }
  return allowed;
}

bool same_content(const resident& x, const resident& y) {
  return x.name == y.name && x.address == y.address && x.moved_in_date == y.moved_in_date;
}

TEST(CheckerPropertyTest, FastCheckerAgreesWithBruteForce) {
  const auto pop = test::small_population(12, 3);
  std::size_t subject = pop.size();
  std::size_t stranger = pop.size();
  for (std::size_t i = 0; i < pop.size(); ++i) {
    if (pop[i].relationship != "世帯主" && pop[i].status == population::resident_status::active &&
        subject == pop.size()) {
      subject = i;
    }
  }
  ASSERT_LT(subject, pop.size());
  for (std::size_t i = 0; i < pop.size(); ++i) {
    if (pop[i].household_id != pop[subject].household_id) stranger = i;
  }
  ASSERT_LT(stranger, pop.size());
  std::string head_name;
  for (const auto& r : pop) {
    if (r.household_id == pop[subject].household_id && r.relationship == "世帯主") {
      head_name = r.name.full_kanji();
    }
  }

  std::mt19937_64 rng(20261122);
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  std::map<std::string, int> outcomes_seen;
  const int histories = 2500;
  int token_counter = 0;
  for (int iteration = 0; iteration < histories; ++iteration) {
    const resident& p = pop[subject];
    // Updates, serialised: each is sent after the previous one completed.
    std::vector<brute_update> ups;
    resident current = p;
    std::uint32_t next_version = 2;
    std::int64_t t = uniform(0, 20);
    const int n_updates = static_cast<int>(uniform(0, 4));
    for (int k = 0; k < n_updates; ++k) {
      brute_update u;
      u.sent = t + uniform(0, 30);
      u.done = u.sent + uniform(1, 30);
      const auto roll = uniform(0, 99);
      u.outcome = roll < 60   ? brute_update::ok
                  : roll < 85 ? brute_update::failed
                              : brute_update::unknown;
      u.has_complete = u.outcome != brute_update::unknown || uniform(0, 1) == 0;
      u.content = current;
      u.content.version = next_version;
      if (uniform(0, 1) == 0) {
        u.kind = "move";
        const std::string token = fmt::format("B{:09d}", ++token_counter);
        u.content.address.token = token;
        u.content.address.building = "試験荘 " + token;
        u.content.moved_in_date = fmt::format("2026-11-{:02d}", 1 + token_counter % 28);
      } else {
        u.kind = "name";
        u.content.name.given_kanji = fmt::format("名{}", ++token_counter);
      }
      if (u.outcome != brute_update::failed) {
        current = u.content;
        ++next_version;
      }
      ups.push_back(u);
      t = u.done;
      if (u.outcome == brute_update::unknown) break;  // the driver retires the resident
    }
    const auto versions = existing_versions(p, ups);
    const std::int64_t staleness = uniform(0, 3) == 0 ? uniform(0, 40) : 0;
    checker_options o;
    o.staleness_ns = staleness;

    // Requests with content drawn from every kind of source.
    struct request {
      std::int64_t a, b;
      resident printed;
      std::set<std::string> expected;  // finding names
    };
    std::vector<request> requests;
    const int n_requests = static_cast<int>(uniform(1, 3));
    for (int k = 0; k < n_requests; ++k) {
      request r;
      r.a = uniform(0, 200);
      r.b = r.a + uniform(1, 60);
      const auto choice = uniform(0, 9);
      std::vector<const brute_update*> failed;
      for (const auto& u : ups) {
        if (u.outcome == brute_update::failed) failed.push_back(&u);
      }
      if (choice == 9 || (choice == 8 && !failed.empty())) {
        if (choice == 9) {
          r.printed = versions[static_cast<std::size_t>(
                                   uniform(0, static_cast<std::int64_t>(versions.size()) - 1))]
                          .content;
          r.printed.address = pop[stranger].address;
          r.expected.insert("FOREIGN_DATA");
        } else {
          // The failed update's own value exists in no version that was produced. Sent after
          // the answer, it could not have reached it at all: PHANTOM.
          const brute_update* u = failed[static_cast<std::size_t>(
              uniform(0, static_cast<std::int64_t>(failed.size()) - 1))];
          r.printed = u->content;
          r.expected.insert(u->sent < r.b ? "ABORTED" : "PHANTOM");
        }
        // Each value that some version carries is judged on its own against the window.
        const auto allowed = brute_allowed(versions, r.a, r.b, staleness);
        auto judge = [&](auto equal) {
          std::vector<std::size_t> carriers;
          for (std::size_t k2 = 0; k2 < versions.size(); ++k2) {
            if (equal(versions[k2].content)) carriers.push_back(k2);
          }
          if (carriers.empty()) return;
          for (std::size_t k2 : carriers) {
            if (allowed.count(k2) != 0) return;
          }
          r.expected.insert(carriers.front() < *allowed.begin() ? "STALE" : "PHANTOM");
        };
        judge([&](const resident& v) { return v.name == r.printed.name; });
        judge([&](const resident& v) { return v.address == r.printed.address; });
        judge([&](const resident& v) { return v.moved_in_date == r.printed.moved_in_date; });
      } else {
        const auto pick = [&] {
          return static_cast<std::size_t>(
              uniform(0, static_cast<std::int64_t>(versions.size()) - 1));
        };
        const std::size_t j = pick();
        r.printed = versions[j].content;
        if (choice >= 6) {
          const std::size_t i = pick();
          r.printed.name = versions[i].content.name;  // maybe torn
        }
        // Brute force: the versions carrying exactly this content, and when they were possible.
        const auto allowed = brute_allowed(versions, r.a, r.b, staleness);
        // A value only future versions carry: every value is judged on its own.
        std::vector<std::vector<std::size_t>> carriers_of(3);
        for (std::size_t k2 = 0; k2 < versions.size(); ++k2) {
          if (versions[k2].content.name == r.printed.name) carriers_of[0].push_back(k2);
          if (versions[k2].content.address == r.printed.address) carriers_of[1].push_back(k2);
          if (versions[k2].content.moved_in_date == r.printed.moved_in_date)
            carriers_of[2].push_back(k2);
        }
        const std::size_t newest_allowed = *allowed.rbegin();
        bool future_only = false;
        for (const auto& cs : carriers_of) {
          future_only = future_only || (!cs.empty() && cs.front() > newest_allowed);
        }
        if (future_only) {
          for (const auto& cs : carriers_of) {
            if (cs.empty() || std::any_of(cs.begin(), cs.end(),
                                          [&](std::size_t v) { return allowed.count(v) != 0; })) {
              continue;
            }
            r.expected.insert(cs.front() < *allowed.begin() ? "STALE" : "PHANTOM");
          }
          requests.push_back(std::move(r));
          continue;
        }
        std::optional<std::size_t> carrier;
        for (std::size_t k2 = 0; k2 < versions.size(); ++k2) {
          // The version label is printed too: a version carries the certificate only if both match.
          if (same_content(versions[k2].content, r.printed) &&
              versions[k2].content.version == r.printed.version) {
            carrier = k2;
          }
        }
        std::optional<std::size_t> content_carrier;
        for (std::size_t k2 = 0; k2 < versions.size(); ++k2) {
          if (same_content(versions[k2].content, r.printed)) content_carrier = k2;
        }
        if (!carrier && content_carrier) {
          // One version's content under another version's label: the label is judged alone.
          bool label_existed = false;
          for (std::size_t k2 = 0; k2 <= newest_allowed; ++k2) {
            label_existed = label_existed || versions[k2].content.version == r.printed.version;
          }
          bool label_aborted = false;
          for (const auto* u : failed) {
            label_aborted =
                label_aborted || (u->content.version == r.printed.version && u->sent < r.b);
          }
          r.expected.insert(label_existed ? "TORN" : label_aborted ? "ABORTED" : "PHANTOM");
        } else if (!carrier) {
          r.expected.insert("TORN");
        } else if (allowed.count(*carrier) != 0) {
          // allowed: no finding
        } else if (*carrier < *allowed.begin()) {
          r.expected.insert("STALE");
        } else {
          r.expected.insert("PHANTOM");
        }
      }
      requests.push_back(std::move(r));
    }

    // The history in time order (ties: any order; every check runs at the end).
    struct timed {
      std::int64_t t;
      int seq;
      history_event e;
    };
    std::vector<timed> events;
    int seq = 0;
    for (std::size_t k = 0; k < ups.size(); ++k) {
      const auto& u = ups[k];
      update_invoke inv;
      inv.id = 1000 + k;
      inv.t = u.sent;
      json fields = u.kind == "move" ? json{{"address", test::address_json(u.content.address)},
                                            {"moved_in_date", u.content.moved_in_date}}
                                     : json{{"name", test::name_json(u.content.name)}};
      inv.changes.push_back({p.resident_id, k + 2, u.content.version, u.kind, fields});
      events.push_back({u.sent, seq++, inv});
      if (u.has_complete) {
        const update_outcome out = u.outcome == brute_update::ok       ? update_outcome::ok
                                   : u.outcome == brute_update::failed ? update_outcome::failed
                                                                       : update_outcome::unknown;
        events.push_back({u.done, seq++, update_complete{1000 + k, u.done, out, {}}});
      }
    }
    for (std::size_t k = 0; k < requests.size(); ++k) {
      const auto& r = requests[k];
      issue_invoke inv;
      inv.id = k + 1;
      inv.t = r.a;
      inv.application_number = fmt::format("KOFU-{}-{}", iteration, k);
      inv.resident_id = p.resident_id;
      inv.card_serial = p.card_serial;
      inv.certificate_type = "juminhyo";
      events.push_back({r.a, seq++, inv});
      issue_complete done;
      done.id = k + 1;
      done.t = r.b;
      done.status = 200;
      done.answer = std::make_shared<const decoded_answer>(
          decode_answer(test::render(inv.application_number, "juminhyo", {}, r.printed, {r.printed},
                                     head_name, fmt::format("C-{}-{}", iteration, k))));
      events.push_back({r.b, seq++, done});
    }
    std::stable_sort(events.begin(), events.end(), [](const timed& x, const timed& y) {
      return x.t != y.t ? x.t < y.t : x.seq < y.seq;
    });
    // Offline-like (every check at the end) and streaming (each check as soon as time passes b):
    // both must agree with the brute force.
    checker batch(resident_model(pop), o);
    o.reorder_slack_ns = 0;
    checker streaming(resident_model(pop), o);
    for (const auto& e : events) {
      batch.on_event(e.e);
      streaming.on_event(e.e);
    }
    batch.finish();
    streaming.finish();

    for (const checker* run : {&batch, &streaming})
      for (std::size_t k = 0; k < requests.size(); ++k) {
        const checker& c = *run;
        std::set<std::string> got;
        for (const auto& f : c.findings()) {
          if (f.request_id == k + 1) got.insert(std::string(to_string(f.kind)));
        }
        const std::set<std::string>& want = requests[k].expected;
        if (want.empty()) ++outcomes_seen["ok"];
        for (const auto& kind : want) ++outcomes_seen[kind];
        if (got != want) {
          std::string detail;
          for (const auto& f : c.findings()) {
            if (f.request_id != k + 1) continue;
            detail += std::string(to_string(f.kind)) + ": " + f.explanation_en + "\n";
            for (const auto& d : f.diffs)
              detail += "  " + d.path + " <" + d.printed + "> src " + d.source + "\n";
          }
          ADD_FAILURE() << (run == &batch ? "batch" : "streaming") << " history " << iteration
                        << " request " << k + 1 << " [" << requests[k].a << ", " << requests[k].b
                        << "] staleness " << staleness << ": expected " << want.size()
                        << " kinds, got " << got.size() << " kinds\n"
                        << detail << "expected: " <<
              [&] {
                std::string e;
                for (const auto& x : want) e += x + " ";
                return e;
              }()
                        << "\nversions:" << [&] {
                             std::string e;
                             for (const auto& v : versions)
                               e += fmt::format(" v{}[{},{}) {} {} {};", v.content.version, v.sent,
                                                v.next_acked, v.content.name.given_kanji,
                                                v.content.address.token, v.content.moved_in_date);
                             return e;
                           }();
          return;
        }
      }
  }
  // The generator must have exercised every class, or the agreement says little.
  for (const char* k : {"ok", "TORN", "STALE", "PHANTOM", "ABORTED", "FOREIGN_DATA"}) {
    EXPECT_GT(outcomes_seen[k], 20) << k;
  }
}

}  // namespace
}  // namespace kofu::verify
