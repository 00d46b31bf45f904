#pragma once
// The synthetic history the verifier benchmarks replay: `requests` correct 住民票 answers for a
// 20,000-resident population, about 8 requests in flight, and an acknowledged move of a
// non-head resident every 20 requests; events as the driver writes them (type first, the
// driver's 64-bit connection numbers). Built once per size and kept for the process.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "kofu/population/generator.hpp"
#include "kofu/verify/canonical_json.hpp"

namespace kofu::bench {

using json = nlohmann::json;
using kofu::population::resident;
using kofu::verify::certificate_digest;

inline json name_json(const kofu::population::person_name& n) {
  return {{"family_kanji", n.family_kanji},
          {"given_kanji", n.given_kanji},
          {"family_kana", n.family_kana},
          {"given_kana", n.given_kana}};
}

inline json address_json(const kofu::population::address& a) {
  return {{"postal_code", a.postal_code},
          {"prefecture", a.prefecture},
          {"city", a.city},
          {"town", a.town},
          {"banchi", a.banchi},
          {"building", a.building},
          {"token", a.token}};
}

// A correct juminhyo answer for r as of `version`.
inline json answer(const std::string& app, const resident& r, const std::string& head,
                   const std::string& serial) {
  json person = {{"resident_id", r.resident_id},
                 {"source_version", r.version},
                 {"page", 1},
                 {"name", name_json(r.name)},
                 {"birth_date", r.birth_date},
                 {"sex", r.sex == kofu::population::sex::male ? "male" : "female"},
                 {"address", address_json(r.address)},
                 {"moved_in_date", r.moved_in_date},
                 {"household_head", head}};
  json cert = {{"type", "juminhyo"},
               {"serial", serial},
               {"issued_at", "2026-11-22T05:30:00.123Z"},
               {"subject", {{"resident_id", r.resident_id}, {"card_serial", r.card_serial}}},
               {"source_version", r.version},
               {"persons", json::array({person})}};
  return {{"application_number", app},
          {"certificate", cert},
          {"digest", certificate_digest(app, cert)}};
}

struct bench_history {
  std::vector<resident> pop;
  std::vector<json> events;  // as the driver writes them
  std::uint64_t answered = 0;
};

// `requests` juminhyo requests, about 8 in flight, and a move every 20 requests (acknowledged).
inline const bench_history& history(std::size_t requests) {
  static std::map<std::size_t, bench_history> cache;
  auto& h = cache[requests];
  if (!h.events.empty()) return h;
  kofu::population::generator g({20000, 1, 0.05});
  while (g.next_group(h.pop)) {
  }
  std::map<std::string, std::string> head;
  for (const auto& r : h.pop) {
    if (r.relationship == "世帯主") head[r.household_id] = r.name.full_kanji();
  }
  std::vector<resident> current = h.pop;
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<std::size_t> pick(0, h.pop.size() - 1);
  std::int64_t t = 1'000'000;
  std::uint64_t id = 0;
  struct open_request {
    std::uint64_t id;
    std::size_t r;
    std::int64_t done;
  };
  std::deque<open_request> open;
  const auto complete = [&](const open_request& o) {
    const resident& r = current[o.r];
    h.events.push_back({{"type", "complete"},
                        {"op", "issue"},
                        {"id", o.id},
                        {"t", o.done},
                        {"status", 200},
                        {"outcome", "ok"},
                        {"body", answer("KOFU-000001-" + std::to_string(o.id), r,
                                        head[r.household_id], "C-" + std::to_string(o.id))}});
    ++h.answered;
  };
  for (std::size_t i = 0; i < requests; ++i) {
    t += 125'000;
    while (!open.empty() && open.front().done <= t) {
      complete(open.front());
      open.pop_front();
    }
    std::size_t r = pick(rng);
    while (current[r].status != kofu::population::resident_status::active) r = pick(rng);
    if (i % 20 == 19 && current[r].relationship != "世帯主") {
      // A move of a non-head resident, acknowledged before any later request is sent.
      resident& c = current[r];
      c.version += 1;
      c.address.token = "B" + std::to_string(100000000 + i);
      c.address.building = "試験荘 " + c.address.token;
      ++id;
      h.events.push_back(
          {{"type", "invoke"},
           {"op", "update"},
           {"id", id},
           {"t", t},
           {"resident_id", c.resident_id},
           {"change_id", c.version},
           {"version", c.version},
           {"kind", "move"},
           {"fields", {{"address", address_json(c.address)}, {"moved_in_date", c.moved_in_date}}}});
      h.events.push_back({{"type", "complete"},
                          {"op", "update"},
                          {"id", id},
                          {"t", t + 1000},
                          {"status", 200},
                          {"outcome", "ok"},
                          {"version", c.version}});
      t += 2000;
      continue;
    }
    ++id;
    h.events.push_back(
        {{"type", "invoke"},
         {"op", "issue"},
         {"id", id},
         {"t", t},
         {"worker", id % 4},
         // The driver's connection number: (worker << 40) | (slot << 24) | reconnect serial.
         {"conn", ((id % 4) << 40) | ((id % 64) << 24) | 1},
         {"application_number", "KOFU-000001-" + std::to_string(id)},
         {"resident_id", current[r].resident_id},
         {"card_serial", current[r].card_serial},
         {"certificate_type", "juminhyo"},
         {"channel", "konbini"},
         {"options", {{"scope", "individual"}}}});
    open.push_back({id, r, t + 1'000'000});
  }
  for (const auto& o : open) complete(o);
  return h;
}

}  // namespace kofu::bench
