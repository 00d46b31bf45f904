#pragma once
// Test fixture for the verifier: a small generated population, a reference renderer of correct
// answers (docs/protocol.md), and a history builder that feeds a checker.
// The renderer is test code written from the protocol text; the checker never calls it.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kofu/population/generator.hpp"
#include "kofu/verify/canonical_json.hpp"
#include "kofu/verify/checker.hpp"

namespace kofu::verify::test {

using json = nlohmann::json;
using population::resident;

inline std::vector<resident> small_population(std::uint64_t n = 60, std::uint64_t seed = 7) {
  population::generator g({n, seed, 0.2});
  std::vector<resident> out;
  while (g.next_group(out)) {
  }
  return out;
}

inline json name_json(const population::person_name& n) {
  return {{"family_kanji", n.family_kanji},
          {"given_kanji", n.given_kanji},
          {"family_kana", n.family_kana},
          {"given_kana", n.given_kana}};
}

inline json address_json(const population::address& a) {
  return {{"postal_code", a.postal_code},
          {"prefecture", a.prefecture},
          {"city", a.city},
          {"town", a.town},
          {"banchi", a.banchi},
          {"building", a.building},
          {"token", a.token}};
}

inline json tax_json(const population::tax_record& t) {
  return {{"fiscal_year", t.fiscal_year},
          {"income", t.income},
          {"taxable_income", t.taxable_income},
          {"municipal_tax", t.municipal_tax},
          {"prefectural_tax", t.prefectural_tax}};
}

inline json seal_json(const population::seal_registration& s) {
  return {{"registration_number", s.registration_number},
          {"image_png_base64", s.image_png_base64},
          {"image_sha256", s.image_sha256},
          {"status", s.status == population::seal_status::registered ? "registered" : "cancelled"}};
}

// A correct answer printing `persons` (records as of the versions to print) for `subject`.
inline json render(const std::string& application_number, const std::string& type,
                   const issue_options& o, const resident& subject,
                   const std::vector<resident>& persons, const std::string& head_name,
                   const std::string& serial) {
  json ps = json::array();
  int index = 0;
  for (const auto& r : persons) {
    json p = {{"resident_id", r.resident_id},
              {"source_version", r.version},
              {"page", type == "koseki_zenbu" ? index / 2 + 1 : 1},
              {"name", name_json(r.name)},
              {"birth_date", r.birth_date},
              {"sex", r.sex == population::sex::male ? "male" : "female"}};
    ++index;
    const bool addr = type == "juminhyo" || type == "juminhyo_kisai" || type == "inkan" ||
                      type == "koseki_fuhyo" || type == "kazei";
    if (addr) p["address"] = address_json(r.address);
    if (type == "juminhyo" || type == "juminhyo_kisai" || type == "koseki_fuhyo") {
      p["moved_in_date"] = r.moved_in_date;
    }
    if (type == "juminhyo") {
      p["household_head"] = head_name;
      if (o.zokugara) p["relationship"] = r.relationship;
      if (o.honseki) {
        p["honseki"] = r.honseki;
        p["hittousha"] = r.hittousha;
      }
      if (o.mynumber) p["mynumber"] = r.mynumber;
    }
    if (type == "koseki_zenbu" || type == "koseki_kojin") {
      p["koseki_relationship"] = r.koseki_relationship;
    }
    ps.push_back(std::move(p));
  }
  json cert = {
      {"type", type},
      {"serial", serial},
      {"issued_at", "2026-11-22T05:30:00.123Z"},
      {"subject", {{"resident_id", subject.resident_id}, {"card_serial", subject.card_serial}}},
      {"source_version", subject.version},
      {"persons", ps}};
  if (type == "inkan" && subject.seal) {
    cert["seal"] = {{"registration_number", subject.seal->registration_number},
                    {"image_png_base64", subject.seal->image_png_base64},
                    {"image_sha256", subject.seal->image_sha256}};
  }
  if (type == "kazei") cert["tax"] = tax_json(subject.tax);
  if (type.rfind("koseki_", 0) == 0) {
    cert["koseki"] = {{"koseki_id", subject.koseki_id},
                      {"honseki", subject.honseki},
                      {"hittousha", subject.hittousha}};
  }
  return {{"application_number", application_number},
          {"certificate", cert},
          {"digest", certificate_digest(application_number, cert)}};
}

// Recomputes the digest after a test edited the certificate.
inline void reseal(json& answer) {
  answer["digest"] =
      certificate_digest(answer["application_number"].get<std::string>(), answer["certificate"]);
}

// Builds a history, keeps the events, and feeds them to a checker.
class history_builder {
 public:
  explicit history_builder(std::vector<resident> pop, checker_options o = {})
      : pop_(std::move(pop)), options_(o) {}

  const std::vector<resident>& population() const { return pop_; }
  const resident& by_id(const std::string& id) const {
    for (const auto& r : pop_) {
      if (r.resident_id == id) return r;
    }
    throw std::runtime_error("no resident " + id);
  }

  std::uint64_t next_id() { return ++id_; }

  void invoke_issue(std::uint64_t id, std::int64_t t, const resident& r, const std::string& type,
                    issue_options o = {}, std::uint32_t worker = 0, std::uint32_t conn = 0) {
    issue_invoke e;
    e.id = id;
    e.t = t;
    e.application_number = application_number(id);
    e.resident_id = r.resident_id;
    e.card_serial = r.card_serial;
    e.certificate_type = type;
    e.channel = "konbini";
    e.options = std::move(o);
    e.worker = worker;
    e.conn = conn;
    events_.emplace_back(e);
  }
  void complete_issue(std::uint64_t id, std::int64_t t, const json& body) {
    issue_complete e;
    e.id = id;
    e.t = t;
    e.status = 200;
    e.outcome = issue_outcome::ok;
    e.answer = std::make_shared<const decoded_answer>(decode_answer(body));
    events_.emplace_back(e);
  }
  // An answer already decoded (print data, mapped by the print layout, carries pages).
  void complete_issue_decoded(std::uint64_t id, std::int64_t t, decoded_answer answer) {
    issue_complete e;
    e.id = id;
    e.t = t;
    e.status = 200;
    e.outcome = issue_outcome::ok;
    e.answer = std::make_shared<const decoded_answer>(std::move(answer));
    events_.emplace_back(e);
  }
  void complete_issue_other(std::uint64_t id, std::int64_t t, issue_outcome outcome) {
    issue_complete e;
    e.id = id;
    e.t = t;
    e.status = outcome == issue_outcome::retry ? 409 : 500;
    e.outcome = outcome;
    events_.emplace_back(e);
  }
  void complete_issue_text(std::uint64_t id, std::int64_t t, const std::string& text) {
    issue_complete e;
    e.id = id;
    e.t = t;
    e.status = 200;
    e.outcome = issue_outcome::ok;
    e.answer =
        std::make_shared<const decoded_answer>(malformed_answer("the answer is not JSON", text));
    events_.emplace_back(e);
  }
  void invoke_update(std::uint64_t id, std::int64_t t, const resident& r, std::uint32_t version,
                     const std::string& kind, json fields) {
    update_invoke e;
    e.id = id;
    e.t = t;
    e.changes.push_back({r.resident_id, version, version, kind, std::move(fields)});
    events_.emplace_back(e);
  }
  void complete_update(std::uint64_t id, std::int64_t t, update_outcome outcome) {
    events_.emplace_back(update_complete{id, t, outcome, {}});
  }

  std::string application_number(std::uint64_t id) const {
    return "KOFU-000001-" + std::to_string(1000000000 + id);
  }

  // Runs a fresh checker over the events.
  std::unique_ptr<checker> run() const {
    auto c = std::make_unique<checker>(resident_model(pop_), options_);
    for (const auto& e : events_) c->on_event(e);
    c->finish();
    return c;
  }

  const std::vector<history_event>& events() const { return events_; }

 private:
  std::vector<resident> pop_;
  checker_options options_;
  std::vector<history_event> events_;
  std::uint64_t id_ = 0;
};

}  // namespace kofu::verify::test
