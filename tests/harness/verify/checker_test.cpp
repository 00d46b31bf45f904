#include "kofu/verify/checker.hpp"

#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "verify_fixture.hpp"

namespace kofu::verify {
namespace {

using population::resident;
using test::history_builder;
using test::json;
using test::render;
using test::reseal;

// Residents with the roles the cases need, taken from a generated population.
struct cast {
  std::vector<resident> pop;
  std::size_t head = 0;    // 世帯主 of a household with at least two active members
  std::size_t other = 0;   // 世帯主 of another household
  std::size_t sealed = 0;  // has a registered seal
};

cast make_cast() {
  cast c;
  c.pop = test::small_population(80, 11);
  std::map<std::string, int> members;
  for (const auto& r : c.pop) {
    if (r.status == population::resident_status::active) ++members[r.household_id];
  }
  bool head_found = false;
  bool other_found = false;
  bool sealed_found = false;
  for (std::size_t i = 0; i < c.pop.size(); ++i) {
    const auto& r = c.pop[i];
    if (r.status != population::resident_status::active) continue;
    if (r.relationship == "世帯主" && members[r.household_id] >= 2 && !head_found) {
      c.head = i;
      head_found = true;
    } else if (r.relationship == "世帯主" && !other_found && head_found &&
               r.household_id != c.pop[c.head].household_id) {
      c.other = i;
      other_found = true;
    }
    if (r.seal && r.seal->status == population::seal_status::registered && !sealed_found) {
      c.sealed = i;
      sealed_found = true;
    }
  }
  EXPECT_TRUE(head_found && other_found && sealed_found);
  return c;
}

std::string head_name_of(const std::vector<resident>& pop, const resident& r) {
  for (const auto& x : pop) {
    if (x.household_id == r.household_id && x.relationship == "世帯主") return x.name.full_kanji();
  }
  return {};
}

std::vector<resident> household_of(const std::vector<resident>& pop, const resident& r) {
  std::vector<resident> out;
  for (const auto& x : pop) {
    if (x.household_id == r.household_id && x.status == population::resident_status::active) {
      out.push_back(x);
    }
  }
  return out;
}

std::vector<resident> koseki_of(const std::vector<resident>& pop, const resident& r) {
  std::vector<resident> out;
  for (const auto& x : pop) {
    if (x.koseki_id == r.koseki_id) out.push_back(x);
  }
  return out;
}

// One request (id 1) sent at 1000 and answered at 2000 with `answer`.
json answer_for(const std::vector<resident>& pop, const resident& subject, const std::string& type,
                const issue_options& o, std::uint64_t id, const history_builder& h,
                const std::vector<resident>& persons, const std::string& serial = "C-1-0001") {
  return render(h.application_number(id), type, o, subject, persons, head_name_of(pop, subject),
                serial);
}

resident moved(resident r, const std::string& token, std::uint32_t version) {
  r.address.token = token;
  r.address.building = "試験荘 " + token;
  r.address.town = "試験町";
  r.moved_in_date = "2026-11-22";
  r.version = version;
  return r;
}

json move_fields(const resident& r) {
  return {{"address", test::address_json(r.address)}, {"moved_in_date", r.moved_in_date}};
}

using counts = std::map<finding_kind, std::uint64_t>;

struct checker_case {
  const char* name;
  std::function<void(cast&, history_builder&)> build;  // adds events
  std::function<void(cast&)> adjust = nullptr;         // edits the population first
  counts expected;
  checker_options options = {};
};

void expect_counts(const checker& c, const counts& expected, const char* name) {
  const auto s = c.summary();
  for (const finding_kind k : all_finding_kinds) {
    const auto it = expected.find(k);
    EXPECT_EQ(s.findings_by_kind[static_cast<std::size_t>(k)],
              it == expected.end() ? 0u : it->second)
        << name << ": " << to_string(k);
  }
  for (const auto& f : c.findings()) {
    EXPECT_FALSE(f.explanation_en.empty()) << name;
    EXPECT_FALSE(f.explanation_ja.empty()) << name;
  }
}

// A simple request of `subject` answered by `body` within [1000, 2000].
void single(history_builder& h, const resident& subject, const std::string& type, const json& body,
            issue_options o = {}) {
  h.invoke_issue(1, 1000, subject, type, o);
  h.complete_issue(1, 2000, body);
}

// The cancelled-seal defect's overlap: an inkan request of the sealed resident within
// [1000, 2000] while a cancellation of its seal is sent (1100) and acknowledged (1500), so both
// versions are allowed; the answer is printed from `printed_version` (1 registered, 2 cancelled).
void inkan_during_cancellation(cast& c, history_builder& h, std::uint32_t printed_version) {
  const auto& p = c.pop[c.sealed];
  auto cancelled = *p.seal;
  cancelled.status = population::seal_status::cancelled;
  h.invoke_issue(1, 1000, p, "inkan");
  h.invoke_update(101, 1100, p, 2, "seal", {{"seal", test::seal_json(cancelled)}});
  h.complete_update(101, 1500, update_outcome::ok);
  resident shown = p;
  shown.version = printed_version;
  h.complete_issue(1, 2000, answer_for(c.pop, shown, "inkan", {}, 1, h, {shown}));
}

TEST(CheckerTest, EachFindingFromTable) {
  const std::vector<checker_case> cases = {
      {"clean individual juminhyo with all options",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         issue_options o{"individual", true, true, true};
         single(h, p, "juminhyo", answer_for(c.pop, p, "juminhyo", o, 1, h, {p}), o);
       },
       nullptr,
       {}},
      {"clean household juminhyo",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         issue_options o{"household", false, true, false};
         single(h, p, "juminhyo", answer_for(c.pop, p, "juminhyo", o, 1, h, household_of(c.pop, p)),
                o);
       },
       nullptr,
       {}},
      {"clean certificates of every other type",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         const auto& s = c.pop[c.sealed];
         std::uint64_t id = 0;
         for (const std::string type : {"juminhyo_kisai", "inkan", "koseki_zenbu", "koseki_kojin",
                                        "koseki_fuhyo", "kazei"}) {
           ++id;
           const auto& subject = type == "inkan" ? s : p;
           const auto persons = (type == "koseki_zenbu" || type == "koseki_fuhyo")
                                    ? koseki_of(c.pop, subject)
                                    : std::vector<resident>{subject};
           h.invoke_issue(id, 1000 * static_cast<std::int64_t>(id), subject, type);
           h.complete_issue(
               id, 1000 * static_cast<std::int64_t>(id) + 500,
               answer_for(c.pop, subject, type, {}, id, h, persons, "C-1-" + std::to_string(id)));
         }
       },
       nullptr,
       {}},
      {"clean: a namesake in the same household is not a wrong person",
       [](cast& c, history_builder& h) {
         resident member;
         for (const auto& r : c.pop) {
           if (r.household_id == c.pop[c.head].household_id && r.relationship != "世帯主")
             member = r;
         }
         single(h, member, "juminhyo", answer_for(c.pop, member, "juminhyo", {}, 1, h, {member}));
       },
       [](cast& c) {
         for (auto& r : c.pop) {
           if (r.household_id == c.pop[c.head].household_id && r.relationship != "世帯主") {
             r.name = c.pop[c.head].name;
           }
         }
       },
       {}},
      {"clean: no head printed while the head has moved out of the household",
       [](cast& c, history_builder& h) {
         const auto& head = c.pop[c.head];
         resident member;
         for (const auto& r : c.pop) {
           if (r.household_id == head.household_id && r.relationship != "世帯主") member = r;
         }
         h.invoke_update(101, 100, head, 2, "household",
                         {{"household_id", "H900000001"}, {"relationship", "世帯主"}});
         h.complete_update(101, 200, update_outcome::ok);
         json body = answer_for(c.pop, member, "juminhyo", {}, 1, h, {member});
         body["certificate"]["persons"][0]["household_head"] = "";
         reseal(body);
         single(h, member, "juminhyo", body);
       },
       nullptr,
       {}},
      {"FOREIGN_DATA: no head printed while the household has one",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         json body = answer_for(c.pop, p, "juminhyo", {}, 1, h, {p});
         body["certificate"]["persons"][0]["household_head"] = "";
         reseal(body);
         single(h, p, "juminhyo", body);
       },
       nullptr,
       {{finding_kind::foreign_data, 1}}},
      {"WRONG_PERSON: another resident's certificate",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         const auto& v = c.pop[c.other];
         single(h, p, "juminhyo", answer_for(c.pop, v, "juminhyo", {}, 1, h, {v}));
       },
       nullptr,
       {{finding_kind::wrong_person, 1}}},
      {"WRONG_PERSON: own ids, another resident's content",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         auto v = c.pop[c.other];
         v.resident_id = p.resident_id;
         v.card_serial = p.card_serial;
         json body = answer_for(c.pop, p, "juminhyo", {}, 1, h, {v});
         body["certificate"]["persons"][0]["household_head"] = head_name_of(c.pop, c.pop[c.other]);
         reseal(body);
         single(h, p, "juminhyo", body);
       },
       nullptr,
       {{finding_kind::wrong_person, 1}}},
      {"FOREIGN_DATA: another household's address",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         json body = answer_for(c.pop, p, "juminhyo", {}, 1, h, {p});
         body["certificate"]["persons"][0]["address"] = test::address_json(c.pop[c.other].address);
         reseal(body);
         single(h, p, "juminhyo", body);
       },
       nullptr,
       {{finding_kind::foreign_data, 1}}},
      {"FOREIGN_DATA: a person of another household on a household certificate",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         issue_options o{"household", false, false, false};
         auto persons = household_of(c.pop, p);
         persons.push_back(c.pop[c.other]);
         single(h, p, "juminhyo", answer_for(c.pop, p, "juminhyo", o, 1, h, persons), o);
       },
       nullptr,
       {{finding_kind::foreign_data, 1}}},
      {"TORN: old address with new name",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         const resident v2 = moved(p, "B000000002", 2);
         resident v3 = v2;
         v3.name.given_kanji = "改名";
         v3.version = 3;
         h.invoke_update(101, 100, p, 2, "move", move_fields(v2));
         h.complete_update(101, 200, update_outcome::ok);
         h.invoke_update(102, 300, p, 3, "name", {{"name", test::name_json(v3.name)}});
         h.complete_update(102, 400, update_outcome::ok);
         resident torn = v3;
         torn.address = p.address;
         torn.moved_in_date = p.moved_in_date;
         json body = answer_for(c.pop, v3, "juminhyo", {}, 1, h, {torn});
         body["certificate"]["persons"][0]["household_head"] = v3.name.full_kanji();
         reseal(body);
         single(h, p, "juminhyo", body);
       },
       nullptr,
       {{finding_kind::torn, 1}}},
      {"ABORTED: content of a failed update",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         const resident v2 = moved(p, "B000000009", 2);
         h.invoke_update(101, 100, p, 2, "move", move_fields(v2));
         h.complete_update(101, 200, update_outcome::failed);
         resident shown = v2;
         shown.version = 1;
         single(h, p, "juminhyo", answer_for(c.pop, p, "juminhyo", {}, 1, h, {shown}));
       },
       nullptr,
       {{finding_kind::aborted, 1}}},
      {"STALE: version superseded before the request",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         h.invoke_update(101, 100, p, 2, "move", move_fields(moved(p, "B000000002", 2)));
         h.complete_update(101, 500, update_outcome::ok);
         single(h, p, "juminhyo", answer_for(c.pop, p, "juminhyo", {}, 1, h, {p}));
       },
       nullptr,
       {{finding_kind::stale, 1}}},
      {"STALE within the staleness bound is allowed",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         h.invoke_update(101, 100, p, 2, "move", move_fields(moved(p, "B000000002", 2)));
         h.complete_update(101, 500, update_outcome::ok);
         single(h, p, "juminhyo", answer_for(c.pop, p, "juminhyo", {}, 1, h, {p}));
       },
       nullptr,
       {},
       [] {
         checker_options o;
         o.staleness_ns = 600;
         return o;
       }()},
      {"PHANTOM: a version whose update was sent after the answer",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         const resident v2 = moved(p, "B000000002", 2);
         single(h, p, "juminhyo", answer_for(c.pop, v2, "juminhyo", {}, 1, h, {v2}));
         h.invoke_update(101, 3000, p, 2, "move", move_fields(v2));
         h.complete_update(101, 3100, update_outcome::ok);
       },
       nullptr,
       {{finding_kind::phantom, 1}}},
      {"PHANTOM: 高 printed for 髙 (code points compared exactly)",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         resident shown = p;
         shown.name.family_kanji = "高橋";
         single(h, p, "juminhyo", answer_for(c.pop, p, "juminhyo", {}, 1, h, {shown}));
       },
       [](cast& c) {
         c.pop[c.head].name.family_kanji = "髙橋";
         c.pop[c.head].name.given_kanji = "試験";
       },
       {{finding_kind::phantom, 1}}},
      {"PHANTOM, not FOREIGN_DATA: the 世帯主 printed with 﨑 folded to 崎",
       [](cast& c, history_builder& h) {
         resident member;
         for (const auto& r : c.pop) {
           if (r.household_id == c.pop[c.head].household_id && r.relationship != "世帯主")
             member = r;
         }
         single(h, member, "juminhyo",
                render(h.application_number(1), "juminhyo", {}, member, {member}, "山崎 試験",
                       "C-1-0001"));
       },
       [](cast& c) {
         c.pop[c.head].name.family_kanji = "山﨑";
         c.pop[c.head].name.given_kanji = "試験";
         c.pop[c.other].name.family_kanji = "山崎";  // a head who carries the folded spelling
         c.pop[c.other].name.given_kanji = "試験";
       },
       {{finding_kind::phantom, 1}}},
      {"PHANTOM, not FOREIGN_DATA: the 戸籍 header's 筆頭者 and 本籍 printed folded",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         json body = answer_for(c.pop, p, "koseki_zenbu", {}, 1, h, koseki_of(c.pop, p));
         body["certificate"]["koseki"]["hittousha"] = "高橋 一郎";
         body["certificate"]["koseki"]["honseki"] = "東京都架空市山崎町1番地";
         reseal(body);
         single(h, p, "koseki_zenbu", body);
       },
       [](cast& c) {
         const std::string k = c.pop[c.head].koseki_id;
         for (auto& r : c.pop) {
           if (r.koseki_id != k) continue;
           r.hittousha = "髙橋 一郎";
           r.honseki = "東京都架空市山﨑町1番地";
         }
       },
       {{finding_kind::phantom, 1}}},
      {"FOREIGN_DATA: the 戸籍 header of another 戸籍, folded or not",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         const auto& q = c.pop[c.other];
         json body = answer_for(c.pop, p, "koseki_zenbu", {}, 1, h, koseki_of(c.pop, p));
         body["certificate"]["koseki"] = {
             {"koseki_id", q.koseki_id}, {"honseki", q.honseki}, {"hittousha", "高橋 一郎"}};
         reseal(body);
         single(h, p, "koseki_zenbu", body);
       },
       [](cast& c) { c.pop[c.head].hittousha = "髙橋 一郎"; },
       {{finding_kind::foreign_data, 1}}},
      {"PHANTOM and FOREIGN_DATA, not WRONG_PERSON: a folded name beside a namesake's address",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         resident shown = p;
         shown.name.family_kanji = "高橋";
         shown.address = c.pop[c.other].address;
         single(h, p, "juminhyo", answer_for(c.pop, p, "juminhyo", {}, 1, h, {shown}));
       },
       [](cast& c) {
         c.pop[c.head].name.family_kanji = "髙橋";
         c.pop[c.head].name.given_kanji = "試験";
         c.pop[c.other].name = c.pop[c.head].name;  // the namesake carries the folded spelling
         c.pop[c.other].name.family_kanji = "高橋";
       },
       {{finding_kind::phantom, 1}, {finding_kind::foreign_data, 1}}},
      {"WRONG_DOCUMENT: My Number printed when not asked",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         json body = answer_for(c.pop, p, "juminhyo", {}, 1, h, {p});
         body["certificate"]["persons"][0]["mynumber"] = p.mynumber;
         reseal(body);
         single(h, p, "juminhyo", body);
       },
       nullptr,
       {{finding_kind::wrong_document, 1}}},
      {"WRONG_DOCUMENT: another certificate type",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         single(h, p, "juminhyo", answer_for(c.pop, p, "kazei", {}, 1, h, {p}));
       },
       nullptr,
       {{finding_kind::wrong_document, 1}}},
      {"NOT_ISSUABLE: resident removed",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.other];
         single(h, p, "juminhyo", answer_for(c.pop, p, "juminhyo", {}, 1, h, {p}));
       },
       [](cast& c) { c.pop[c.other].status = population::resident_status::removed; },
       {{finding_kind::not_issuable, 1}}},
      {"NOT_ISSUABLE: seal cancelled by an update acknowledged before the request",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.sealed];
         auto cancelled = *p.seal;
         cancelled.status = population::seal_status::cancelled;
         h.invoke_update(101, 100, p, 2, "seal", {{"seal", test::seal_json(cancelled)}});
         h.complete_update(101, 200, update_outcome::ok);
         resident shown = p;
         shown.version = 2;
         single(h, p, "inkan", answer_for(c.pop, shown, "inkan", {}, 1, h, {shown}));
       },
       nullptr,
       {{finding_kind::not_issuable, 1}}},
      {"NOT_ISSUABLE: printed from the version that cancelled the seal, cancelled in flight",
       [](cast& c, history_builder& h) { inkan_during_cancellation(c, h, 2); },
       nullptr,
       {{finding_kind::not_issuable, 1}}},
      {"inkan printed from the registered version while a cancellation is in flight is fine",
       [](cast& c, history_builder& h) { inkan_during_cancellation(c, h, 1); },
       nullptr,
       {}},
      {"TAG_MISMATCH and then DUPLICATE: an echo of the overlapping request's number",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         const auto& q = c.pop[c.other];
         h.invoke_issue(1, 1000, p, "juminhyo");
         h.invoke_issue(2, 1100, q, "juminhyo");
         json body = answer_for(c.pop, p, "juminhyo", {}, 1, h, {p});
         body["application_number"] = h.application_number(2);
         reseal(body);
         h.complete_issue(1, 2000, body);
         h.complete_issue(2, 2500, answer_for(c.pop, q, "juminhyo", {}, 2, h, {q}, "C-1-0002"));
       },
       nullptr,
       {{finding_kind::tag_mismatch, 1}, {finding_kind::duplicate, 1}}},
      {"DUPLICATE: one serial answered twice",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         h.invoke_issue(1, 1000, p, "juminhyo");
         h.complete_issue(1, 2000, answer_for(c.pop, p, "juminhyo", {}, 1, h, {p}, "C-7"));
         h.invoke_issue(2, 3000, p, "juminhyo");
         h.complete_issue(2, 4000, answer_for(c.pop, p, "juminhyo", {}, 2, h, {p}, "C-7"));
       },
       nullptr,
       {{finding_kind::duplicate, 1}}},
      {"DIGEST_INVALID: digest of other content",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         json body = answer_for(c.pop, p, "juminhyo", {}, 1, h, {p});
         body["digest"] = std::string(64, '0');
         single(h, p, "juminhyo", body);
       },
       nullptr,
       {{finding_kind::digest_invalid, 1}}},
      {"MALFORMED: no certificate, and a body that is not JSON",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         h.invoke_issue(1, 1000, p, "juminhyo");
         h.complete_issue(1, 2000, json{{"application_number", h.application_number(1)}});
         h.invoke_issue(2, 1000, p, "juminhyo");
         h.complete_issue_text(2, 2000, "<html>busy</html>");
       },
       nullptr,
       {{finding_kind::malformed, 2}}},
      {"unknown update outcome: old and new both allowed after send",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         const resident v2 = moved(p, "B000000002", 2);
         h.invoke_update(101, 100, p, 2, "move", move_fields(v2));
         h.complete_update(101, 150, update_outcome::unknown);
         h.invoke_issue(1, 1000, p, "juminhyo");
         h.complete_issue(1, 2000, answer_for(c.pop, p, "juminhyo", {}, 1, h, {p}, "C-1"));
         h.invoke_issue(2, 3000, p, "juminhyo");
         h.complete_issue(2, 4000, answer_for(c.pop, v2, "juminhyo", {}, 2, h, {v2}, "C-2"));
       },
       nullptr,
       {}},
      {"unknown update outcome: new version before the send is PHANTOM",
       [](cast& c, history_builder& h) {
         const auto& p = c.pop[c.head];
         const resident v2 = moved(p, "B000000002", 2);
         h.invoke_issue(1, 10, p, "juminhyo");
         h.complete_issue(1, 90, answer_for(c.pop, v2, "juminhyo", {}, 1, h, {v2}, "C-1"));
         h.invoke_update(101, 100, p, 2, "move", move_fields(v2));
         h.complete_update(101, 150, update_outcome::unknown);
       },
       nullptr,
       {{finding_kind::phantom, 1}}},
  };
  for (const auto& c : cases) {
    cast roles = make_cast();
    if (c.adjust) c.adjust(roles);
    history_builder h(roles.pop, c.options);
    c.build(roles, h);
    const auto result = h.run();
    expect_counts(*result, c.expected, c.name);
    if (!c.expected.empty()) {
      EXPECT_EQ(result->summary().final_verdict, verdict::fail) << c.name;
    } else {
      EXPECT_EQ(result->summary().final_verdict, verdict::pass) << c.name;
    }
  }
}

TEST(CheckerTest, WrongPersonNamesVictimAndItsRequest) {
  cast c = make_cast();
  history_builder h(c.pop);
  const auto& p = c.pop[c.head];
  const auto& v = c.pop[c.other];
  h.invoke_issue(1, 1000, p, "juminhyo", {}, 0, 1);
  h.invoke_issue(2, 1100, v, "juminhyo", {}, 1, 2);
  h.complete_issue(1, 2000, answer_for(c.pop, v, "juminhyo", {}, 1, h, {v}, "C-1"));
  h.complete_issue(2, 2100, answer_for(c.pop, p, "juminhyo", {}, 2, h, {p}, "C-2"));
  const auto r = h.run();
  ASSERT_EQ(r->findings().size(), 2u);
  const finding& f = r->findings()[0];
  EXPECT_EQ(f.kind, finding_kind::wrong_person);
  EXPECT_EQ(f.victim_resident, v.resident_id);
  ASSERT_TRUE(f.victim_request_id.has_value());
  EXPECT_EQ(*f.victim_request_id, 2u);
  EXPECT_TRUE(f.victim_data_current);
  EXPECT_NE(f.explanation_en.find(v.resident_id), std::string::npos);
  const auto s = r->summary();
  EXPECT_EQ(s.leaks.swaps, 1u);
  EXPECT_EQ(s.leaks.duplicates, 0u);
  EXPECT_EQ(s.leaks.shifts, 2u);  // each source named: the one overlapping request of the victim
  EXPECT_EQ(s.leaks.shift_chains, 0u);  // a swap is no chain
  EXPECT_EQ(s.leaks.victims.size(), 2u);
}

TEST(CheckerTest, LeakGraphCountsDuplicatesAndShifts) {
  cast c = make_cast();
  history_builder h(c.pop);
  const auto& x = c.pop[c.head];
  const auto& y = c.pop[c.other];
  const auto& z = c.pop[c.sealed];
  // Worker 0, connection 0: x's request, then y's request gets x's data (a shift), and z's
  // request on another worker also gets x's data (so x's data went to two requests): two
  // shifts from one source, named whatever the worker, and no chain (no shift follows another).
  h.invoke_issue(1, 1000, x, "juminhyo", {}, 0, 0);
  h.invoke_issue(2, 1200, y, "juminhyo", {}, 0, 0);
  h.invoke_issue(3, 1300, z, "juminhyo", {}, 1, 5);
  h.complete_issue(1, 1500, answer_for(c.pop, x, "juminhyo", {}, 1, h, {x}, "C-1"));
  h.complete_issue(2, 1600, answer_for(c.pop, x, "juminhyo", {}, 2, h, {x}, "C-2"));
  h.complete_issue(3, 1700, answer_for(c.pop, x, "juminhyo", {}, 3, h, {x}, "C-3"));
  const auto s = h.run()->summary();
  EXPECT_EQ(s.findings_by_kind[static_cast<std::size_t>(finding_kind::wrong_person)], 2u);
  EXPECT_EQ(s.leaks.duplicates, 1u);
  EXPECT_EQ(s.leaks.shifts, 2u);
  EXPECT_EQ(s.leaks.shift_chains, 0u);
  EXPECT_EQ(s.leaks.swaps, 0u);
  ASSERT_EQ(s.leaks.victims.size(), 1u);
  EXPECT_EQ(s.leaks.victims[0], x.resident_id);
}

// Two requests sent with one application number (a driver bug, or a hand-made history): an
// answer echoing it is matched with the later request, whichever is checked first, and only
// while the number is within the tag horizon.
TEST(CheckerTest, ReusedApplicationNumberNamesTheLaterRequest) {
  cast c = make_cast();
  const auto& p = c.pop[c.head];
  const auto& q = c.pop[c.other];
  history_builder h(c.pop);
  auto run = [&](checker_options o) {
    checker k(resident_model(c.pop), o);
    auto invoke = [&](std::uint64_t id, std::int64_t t, const resident& r) {
      issue_invoke e;
      e.id = id;
      e.t = t;
      e.application_number = h.application_number(1);
      e.resident_id = r.resident_id;
      e.card_serial = r.card_serial;
      e.certificate_type = "juminhyo";
      e.channel = "konbini";
      k.on_issue_invoke(e);
    };
    auto complete = [&](std::uint64_t id, std::int64_t t, const json& body) {
      issue_complete e;
      e.id = id;
      e.t = t;
      e.status = 200;
      e.answer = std::make_shared<const decoded_answer>(decode_answer(body));
      k.on_issue_complete(e);
    };
    invoke(1, 1000, p);
    invoke(2, 1100, q);
    complete(1, 2000, answer_for(c.pop, p, "juminhyo", {}, 1, h, {p}, "C-1"));
    complete(2, 2100, answer_for(c.pop, q, "juminhyo", {}, 1, h, {q}, "C-2"));
    k.finish();
    return std::vector<finding>(k.findings().begin(), k.findings().end());
  };
  const auto found = run({});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].kind, finding_kind::duplicate);
  EXPECT_EQ(found[0].request_id, 2u);
  EXPECT_EQ(found[0].victim_request_id, std::optional<std::uint64_t>(1));
  // Forgotten before either check: nothing to match.
  checker_options short_horizon;
  short_horizon.tag_horizon_ns = 50;
  EXPECT_TRUE(run(short_horizon).empty());
}

TEST(CheckQueueTest, TakesEntriesInOrderWhateverTheStreams) {
  std::mt19937_64 rng(7);
  detail::check_queue q;
  std::set<std::pair<std::int64_t, std::uint64_t>> expected;
  std::array<std::int64_t, 4> clock{};
  std::uint64_t id = 0;
  for (int step = 0; step < 20000; ++step) {
    if (rng() % 10 < 6) {
      const std::size_t stream = rng() % clock.size();
      clock[stream] += static_cast<std::int64_t>(rng() % 3);  // ties within and across streams
      std::int64_t b = clock[stream];
      if (rng() % 10 == 0) b -= static_cast<std::int64_t>(rng() % 50);  // out of order
      ++id;
      q.push(stream, {b, id, static_cast<std::uint32_t>(id)});
      expected.emplace(b, id);
    } else if (!expected.empty()) {
      ASSERT_FALSE(q.empty());
      const detail::check_entry e = q.top();
      EXPECT_EQ(std::pair(e.b, e.id), *expected.begin());
      EXPECT_EQ(e.slot, static_cast<std::uint32_t>(e.id));
      q.pop();
      expected.erase(expected.begin());
    }
    ASSERT_EQ(q.size(), expected.size());
  }
}

TEST(CheckerTest, CountsExposureAndOutcomes) {
  cast c = make_cast();
  history_builder h(c.pop);
  const auto& p = c.pop[c.head];
  const auto& q = c.pop[c.other];
  // 1 and 2 overlap (different residents); 3 overlaps an update of p and gets 409;
  // 4 is alone; 5 never completes.
  h.invoke_issue(1, 1000, p, "juminhyo");
  h.invoke_issue(2, 1100, q, "juminhyo");
  h.complete_issue(1, 1500, answer_for(c.pop, p, "juminhyo", {}, 1, h, {p}, "C-1"));
  h.complete_issue(2, 1600, answer_for(c.pop, q, "juminhyo", {}, 2, h, {q}, "C-2"));
  h.invoke_issue(3, 3000, p, "juminhyo");
  h.invoke_update(101, 3100, p, 2, "move", move_fields(moved(p, "B000000002", 2)));
  h.complete_update(101, 3200, update_outcome::ok);
  h.complete_issue_other(3, 3300, issue_outcome::retry);
  h.invoke_issue(4, 5000, q, "juminhyo");
  h.complete_issue(4, 5500, answer_for(c.pop, q, "juminhyo", {}, 4, h, {q}, "C-4"));
  h.invoke_issue(5, 6000, q, "juminhyo");
  const auto s = h.run()->summary();
  EXPECT_EQ(s.outcomes.answered, 3u);
  EXPECT_EQ(s.outcomes.retry, 1u);
  EXPECT_EQ(s.outcomes.unanswered, 1u);
  EXPECT_EQ(s.exposure_counts.requests, 5u);
  EXPECT_EQ(s.exposure_counts.overlapped_other_resident, 2u);
  EXPECT_EQ(s.exposure_counts.overlapped_own_update, 1u);
  EXPECT_EQ(s.exposure_counts.overlapped_own_update_retry, 1u);
  EXPECT_EQ(s.exposure_counts.peak_in_flight, 2u);
  EXPECT_EQ(s.exposure_counts.updates, 1u);
  EXPECT_EQ(s.latency.count(), 3u);
  EXPECT_EQ(s.final_verdict, verdict::pass);
}

TEST(CheckerTest, CountsExposurePerPhase) {
  cast c = make_cast();
  history_builder h(c.pop);
  const auto& p = c.pop[c.head];
  const auto& q = c.pop[c.other];
  checker run(resident_model(c.pop), checker_options{});
  marker_event warmup{0, "phase", "warmup", {}, {}};
  marker_event spike{2000, "phase", "", {{"name", "spike"}}, {}};
  run.on_event(warmup);
  h.invoke_issue(1, 1000, p, "juminhyo");
  h.complete_issue(1, 1500, answer_for(c.pop, p, "juminhyo", {}, 1, h, {p}, "C-1"));
  for (const auto& e : h.events()) run.on_event(e);
  run.on_event(spike);
  history_builder h2(c.pop);
  h2.invoke_issue(2, 3000, p, "juminhyo");
  h2.invoke_issue(3, 3100, q, "juminhyo");
  h2.complete_issue(2, 3500, answer_for(c.pop, p, "juminhyo", {}, 2, h2, {p}, "C-2"));
  h2.complete_issue(3, 3600, answer_for(c.pop, q, "juminhyo", {}, 3, h2, {q}, "C-3"));
  for (const auto& e : h2.events()) run.on_event(e);
  run.finish();
  const auto s = run.summary();
  ASSERT_EQ(s.exposure_by_phase.size(), 2u);
  EXPECT_EQ(s.exposure_by_phase[0].first, "warmup");
  EXPECT_EQ(s.exposure_by_phase[0].second.requests, 1u);
  EXPECT_EQ(s.exposure_by_phase[0].second.overlapped_other_resident, 0u);
  EXPECT_EQ(s.exposure_by_phase[1].first, "spike");
  EXPECT_EQ(s.exposure_by_phase[1].second.requests, 2u);
  EXPECT_EQ(s.exposure_by_phase[1].second.overlapped_other_resident, 2u);
  EXPECT_EQ(s.exposure_by_phase[1].second.peak_in_flight, 2u);
  EXPECT_TRUE(s.findings_by_kind == decltype(s.findings_by_kind){});
}

// The driver writes a phase's event with the phase's start time after its first requests: those
// are the first phase's, not a phase without a name.
TEST(CheckerTest, RequestsWrittenBeforeTheFirstPhaseEventAreItsOwn) {
  cast c = make_cast();
  history_builder h(c.pop);
  const auto& p = c.pop[c.head];
  checker run(resident_model(c.pop), checker_options{});
  h.invoke_issue(1, 1000, p, "juminhyo");
  h.complete_issue(1, 1500, answer_for(c.pop, p, "juminhyo", {}, 1, h, {p}, "C-1"));
  run.on_event(h.events()[0]);
  run.on_event(marker_event{500, "phase", "open", {}, {}});
  run.on_event(h.events()[1]);
  run.finish();
  const auto s = run.summary();
  ASSERT_EQ(s.exposure_by_phase.size(), 1u);
  EXPECT_EQ(s.exposure_by_phase[0].first, "open");
  EXPECT_EQ(s.exposure_by_phase[0].second.requests, 1u);
}

TEST(CheckerTest, VerdictUnknownWhenOverlapNeverReached) {
  cast c = make_cast();
  checker_options o;
  o.min_update_overlaps = 1;
  history_builder h(c.pop, o);
  const auto& p = c.pop[c.head];
  single(h, p, "juminhyo", answer_for(c.pop, p, "juminhyo", {}, 1, h, {p}));
  const auto s = h.run()->summary();
  EXPECT_EQ(s.final_verdict, verdict::unknown);
  history_builder empty(c.pop);
  EXPECT_EQ(empty.run()->summary().final_verdict, verdict::unknown);
}

TEST(CheckerTest, UpperBoundIsExactBinomial) {
  struct bound_case {
    std::uint64_t n, k;
    double expected;
  };
  const bound_case cases[] = {
      {0, 0, 1.0},
      {1000, 0, 1.0 - std::pow(0.05, 1.0 / 1000)},
      {100, 1, 0.0466},  // Clopper–Pearson one-sided 95 %
      {1000, 10, 0.01700},
  };
  for (const auto& c : cases) {
    EXPECT_NEAR(binomial_upper_bound_95(c.n, c.k), c.expected, 5e-4) << c.n << "/" << c.k;
  }
  EXPECT_LT(binomial_upper_bound_95(1000, 0), 3.0 / 1000);
}

TEST(CheckerTest, LatencyHistogramMergeIsAssociative) {
  latency_histogram a, b, c;
  for (int i = 1; i < 1000; ++i) a.add(i * 1'000'000LL);
  for (int i = 1; i < 50; ++i) b.add(i * 77'000LL);
  c.add(5'000'000'000LL);
  latency_histogram ab = a;
  ab.merge(b);
  ab.merge(c);
  latency_histogram bc = b;
  bc.merge(c);
  latency_histogram a_bc = a;
  a_bc.merge(bc);
  for (double p : {50.0, 90.0, 99.0, 99.9, 100.0}) {
    EXPECT_DOUBLE_EQ(ab.percentile_ms(p), a_bc.percentile_ms(p));
  }
  EXPECT_NEAR(a.percentile_ms(50), 500, 500 * 0.02);
  EXPECT_NEAR(a.percentile_ms(99), 990, 990 * 0.02);
}

}  // namespace
}  // namespace kofu::verify
