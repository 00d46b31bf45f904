// `kofu profile check SCENARIO`: a vendor profile shown against a live server, field by field
// (DESIGN §5a, issue 11). One issuance per certificate type the profile offers (and a 住民票の写し
// of a whole household), one update per update kind it offers followed by an issuance of the
// updated resident; for each, the raw answer, the outcome the profile decided, and the
// certificate model it mapped next to the expected rendering of the record. Exit 0 when
// everything mapped and matched, 1 when something did not, 2 on bad usage or input.
//
// The expected values come from the scenario's population and the updates this command made,
// through the verifier's own model (verify::resident_model with the profile's renderings): the
// server must hold that population and no other change of these residents (the embedded
// kofu-mock, or a vendor's server freshly loaded with `kofu population export`).

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "command_registry.hpp"
#include "kofu/driver/driver.hpp"
#include "kofu/driver/population_index.hpp"
#include "kofu/driver/update_generator.hpp"
#include "kofu/driver/wire_protocol.hpp"
#include "kofu/population/reader.hpp"
#include "kofu/scenario/loader.hpp"
#include "kofu/verify/certificate.hpp"
#include "kofu/verify/resident_model.hpp"
#include "target_setup.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
namespace driver = kofu::driver;
namespace population = kofu::population;
namespace scenario = kofu::scenario;
namespace verify = kofu::verify;

struct check_args {
  std::string scenario;
  std::vector<std::string> targets;
  unsigned count = 1;  // residents per certificate type and per update kind
  bool json = false;
};

// One value of the certificate model: as the answer printed it (as the profile mapped it), and
// as the record renders it. No expectation: shown only.
struct field_row {
  std::string field;
  std::optional<std::string> printed;  // nullopt: not printed
  std::optional<std::string> expected;
  bool match = true;
  std::string note;
};

// One request and what came of it.
struct check {
  std::string title;  // "issue juminhyo (household)", "update move", …
  std::string resident_id;
  std::string request;  // "POST /path"
  std::string transport_error;
  unsigned status = 0;
  std::string answer;
  std::string outcome;
  std::string result_code;
  std::string outcome_error;
  std::optional<std::uint32_t> version;  // updates: as the answer says
  std::optional<std::string> malformed;
  std::vector<std::string> missing;
  std::vector<field_row> fields;
  std::string problem;  // the first thing that did not map or match ("" when none)
  std::optional<field_row> first_mismatch;  // when `problem` is a field's
};

// ---- Text helpers ---------------------------------------------------------------------------

std::vector<char32_t> code_points(std::string_view s) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k < n && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    out.push_back(cp);
    i += n;
  }
  return out;
}

// Terminal columns of a code point: 2 for East Asian wide and full-width characters.
unsigned columns(char32_t cp) {
  if (cp >= 0x0300 && cp <= 0x036F) return 0;  // combining marks
  if (cp >= 0xFE00 && cp <= 0xFE0F) return 0;  // variation selectors
  if (cp >= 0xE0100 && cp <= 0xE01EF) return 0;
  const bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                    (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                    (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
  return wide ? 2 : 1;
}

std::string encode(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

// `s` cut to `width` terminal columns (with "…" when cut) and padded to exactly `width`.
std::string fit(std::string_view s, unsigned width) {
  std::string out;
  unsigned used = 0;
  const auto cps = code_points(s);
  for (std::size_t i = 0; i < cps.size(); ++i) {
    char32_t cp = cps[i];
    if (cp == '\n' || cp == '\t') cp = ' ';
    const unsigned w = columns(cp);
    if (used + w > width - 1 && i + 1 < cps.size()) {
      out += "…";
      ++used;
      break;
    }
    if (used + w > width) break;
    out += encode(cp);
    used += w;
  }
  if (used < width) out.append(width - used, ' ');
  return out;
}

// At most `bytes` bytes of `s`, cut on a character boundary.
std::string head(const std::string& s, std::size_t bytes) {
  if (s.size() <= bytes) return s;
  std::size_t cut = bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut);
}

// Where two texts first differ, by code point ("" when equal).
std::string first_difference(std::string_view printed, std::string_view expected) {
  const auto a = code_points(printed);
  const auto b = code_points(expected);
  std::size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  if (i == a.size() && i == b.size()) return {};
  auto name = [](const std::vector<char32_t>& v, std::size_t k) {
    return k < v.size() ? fmt::format("U+{:04X}", static_cast<std::uint32_t>(v[k]))
                        : std::string("the end");
  };
  return fmt::format("first difference at character {}: printed {}, expected {}", i + 1, name(a, i),
                     name(b, i));
}

// ---- What each type prints (docs/protocol.md's table) -----------------------------------------

std::set<std::string> person_fields_of(std::string_view type, bool options) {
  if (type == "juminhyo") {
    std::set<std::string> s{"address", "moved_in_date", "household_head"};
    if (options) s.insert({"relationship", "honseki", "hittousha", "mynumber"});
    return s;
  }
  if (type == "juminhyo_kisai" || type == "koseki_fuhyo") return {"address", "moved_in_date"};
  if (type == "inkan" || type == "kazei") return {"address"};
  if (type == "koseki_zenbu" || type == "koseki_kojin") return {"koseki_relationship"};
  return {};
}

// The certificate type that shows an update's result best.
std::string_view type_after(scenario::update_kind kind) {
  switch (kind) {
    case scenario::update_kind::seal:
      return "inkan";
    case scenario::update_kind::tax:
      return "kazei";
    default:
      return "juminhyo";
  }
}

// ---- The session ------------------------------------------------------------------------------

class profile_check {
 public:
  profile_check(const scenario::scenario& sc, driver::endpoint target,
                boost::asio::ssl::context* tls, const driver::wire_protocol& wire,
                const driver::population_index& index, verify::resident_model& model)
      : sc_(sc),
        target_(std::move(target)),
        tls_(tls),
        wire_(wire),
        index_(index),
        model_(model),
        rendering_(wire.rendering()),
        run_number_(static_cast<std::uint32_t>(std::time(nullptr) % 1000000)) {
    if (const auto decoder = wire_.decoder()) caps_ = decoder->capabilities();
  }

  bool offers_type(std::string_view type) const { return wire_.offers_type(type); }
  bool offers_household() const { return wire_.offers_household_scope(); }
  bool offers_kind(std::string_view kind) const { return wire_.offers_update_kind(kind); }

  // Residents (indices) whose record allows `type`, the first `count` of the population.
  std::vector<std::uint32_t> residents_for(std::string_view type, bool household,
                                           unsigned count) const {
    std::vector<std::uint32_t> out;
    for (std::uint32_t i = 0; i < index_.size() && out.size() < count; ++i) {
      const auto& r = index_.at(i);
      if (r.status != population::resident_status::active) continue;
      if (type == "inkan" && !(r.seal && r.seal->status == population::seal_status::registered))
        continue;
      if (type.starts_with("koseki") && r.koseki_id.empty()) continue;
      if (household) {
        unsigned active = 0;
        for (auto m : index_.household_of(i)) {
          active += index_.at(m).status == population::resident_status::active ? 1u : 0u;
        }
        if (active < 2) continue;
      }
      out.push_back(i);
    }
    return out;
  }

  check issue(std::uint32_t r, std::string_view type, bool household, const std::string& title) {
    check c;
    c.title = title;
    const auto& raw = index_.at(r);
    c.resident_id = raw.resident_id;
    const bool options = type == "juminhyo";
    const driver::issue_fields f{driver::application_number(run_number_, ++ids_),
                                 "konbini",
                                 std::string(type),
                                 raw.card_serial,
                                 raw.resident_id,
                                 household,
                                 options,
                                 options,
                                 options};
    auto req = wire_.issue_request(f);
    const auto answer =
        send(req, c, [&](const driver::exchange_result& x, const json& body, std::string& error) {
          c.result_code = wire_.issue_result_code(body).value_or("");
          auto classified = wire_.classify_issue(x.status, x.body, x.content_type);
          error = std::move(classified.error);
          return classified.outcome;
        });
    if (!answer || c.outcome != "ok") {
      problem(c, c.transport_error.empty()
                     ? fmt::format("outcome {}{}", c.outcome,
                                   c.outcome_error.empty() ? "" : ": " + c.outcome_error)
                     : c.transport_error);
      return c;
    }
    const auto d = wire_.decode_issue(c.status, c.answer);
    c.malformed = d.malformed;
    c.missing = d.missing;
    if (d.malformed) {
      problem(c, "malformed: " + *d.malformed);
      return c;
    }
    compare(c, d, r, type, household, options, f.application_number);
    if (!d.missing.empty()) problem(c, "missing: " + d.missing.front());
    return c;
  }

  // One update of `kind` for a resident the update stream would pick, then (when it was applied)
  // one issuance of that resident.
  std::vector<check> update(scenario::update_kind kind) {
    std::vector<check> out;
    // A scenario with only this kind, never a seal cancellation (the certificate after it must
    // be issuable), and its own seed so that each kind takes another resident.
    scenario::scenario one = sc_;
    one.updates.kinds = {};
    one.updates.kinds[static_cast<std::size_t>(kind)] = 1;
    one.updates.seal_cancel_share = 0;
    one.updates.hot_share = 0;
    one.seed = sc_.seed * 31 + 7 + static_cast<std::uint64_t>(kind);
    driver::update_generator generator(one, index_);
    const auto ch = generator.next();
    check c;
    c.title = fmt::format("update {}", scenario::to_string(kind));
    if (!ch) {
      problem(c, "no resident free for an update");
      out.push_back(std::move(c));
      return out;
    }
    const auto& raw = index_.at(ch->resident);
    c.resident_id = raw.resident_id;
    const driver::change_fields cf{raw.resident_id, ch->change_id, ch->version,
                                   std::string(scenario::to_string(kind)), ch->fields};
    auto req = wire_.update_request(cf);
    std::optional<std::uint32_t> version;
    send(req, c, [&](const driver::exchange_result& x, const json& body, std::string& error) {
      c.result_code = wire_.update_result_code(body).value_or("");
      auto a = wire_.classify_update(x.status, x.body);
      error = std::move(a.error);
      version = a.versions.empty() ? std::nullopt : a.versions.front();
      return a.outcome;
    });
    c.version = version;
    if (c.outcome != "ok") {
      problem(c, c.transport_error.empty()
                     ? fmt::format("outcome {}{}", c.outcome,
                                   c.outcome_error.empty() ? "" : ": " + c.outcome_error)
                     : c.transport_error);
      out.push_back(std::move(c));
      return out;
    }
    field_row v{"version", version ? std::optional(std::to_string(*version)) : std::nullopt,
                std::to_string(ch->version), true, ""};
    if (!version) {
      v.note = "the answer gives no version";
    } else if (*version != ch->version) {
      v.match = false;
    }
    c.fields.push_back(v);
    if (!v.match) problem(c, "version: printed " + *v.printed + ", expected " + *v.expected);
    out.push_back(std::move(c));
    // The model takes the change as the verifier does, so the next certificate is expected with it.
    model_.begin_update(ch->resident, ++ids_, 0, version.value_or(ch->version),
                        scenario::to_string(kind), ch->fields);
    model_.acknowledge(ch->resident, ids_, 0);
    std::string_view type = type_after(kind);
    if (!offers_type(type)) type = offers_type("juminhyo") ? "juminhyo" : "";
    for (std::size_t t = 0; type.empty() && t < scenario::certificate_type_count; ++t) {
      const auto name = scenario::to_string(static_cast<scenario::certificate_type>(t));
      if (offers_type(name)) type = name;
    }
    if (!type.empty()) {
      out.push_back(
          issue(ch->resident, type, false,
                fmt::format("issue {} after the {} update", type, scenario::to_string(kind))));
    }
    return out;
  }

 private:
  // Sends the request (again, up to three times, while the outcome is `retry`); records the
  // exchange in `c`; returns the answer's body as JSON (a string when it is not JSON), or
  // nullopt when there was no answer.
  template <class Classify>
  std::optional<json> send(driver::http_request& req, check& c, Classify classify) {
    c.request = fmt::format("{} {}", std::string(req.method_string()), std::string(req.target()));
    std::optional<json> body;
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
      auto copy = req;
      const auto r = exchange(copy);
      if (r.outcome != driver::exchange_result::kind::answered) {
        c.transport_error =
            r.outcome == driver::exchange_result::kind::timeout ? "timeout: " + r.error : r.error;
        c.outcome = "timeout";
        return std::nullopt;
      }
      c.status = r.status;
      c.answer = r.body;
      c.outcome_error.clear();
      c.result_code.clear();
      auto doc = json::parse(r.body, nullptr, false);
      body = doc.is_discarded() ? json(r.body) : std::move(doc);
      c.outcome = classify(r, *body, c.outcome_error);
      if (c.outcome != "retry") break;
    }
    return body;
  }

  driver::exchange_result exchange(driver::http_request& req) {
    boost::asio::io_context io;
    driver::connection conn(io.get_executor(), target_, tls_, sc_.target.tls.server_name);
    driver::exchange_result out;
    const auto timeout =
        std::chrono::milliseconds(std::max<std::uint32_t>(sc_.load.timeout_ms, 1000));
    boost::asio::co_spawn(
        io, [&]() -> boost::asio::awaitable<void> { out = co_await conn.exchange(req, timeout); },
        boost::asio::detached);
    io.run();
    return out;
  }

  static void problem(check& c, std::string what) {
    if (c.problem.empty()) c.problem = std::move(what);
  }

  void row(check& c, std::string field, std::optional<std::string> printed,
           std::optional<std::string> expected, std::string note = {}) {
    field_row f{std::move(field), std::move(printed), std::move(expected), true, std::move(note)};
    if (f.expected) f.match = f.printed.has_value() && *f.printed == *f.expected;
    if (!f.match) {
      if (c.problem.empty()) c.first_mismatch = f;
      if (!f.printed) {
        problem(c, fmt::format("{}: not printed, expected \"{}\"", f.field, *f.expected));
      } else {
        const auto where = first_difference(*f.printed, *f.expected);
        problem(c, fmt::format("{}: printed \"{}\", expected \"{}\"{}", f.field, *f.printed,
                               *f.expected, where.empty() ? "" : " (" + where + ")"));
      }
    }
    c.fields.push_back(std::move(f));
  }

  const verify::resident_state& current(std::uint32_t r) const { return model_.timeline(r).back(); }

  std::string name_text(const population::person_name& n) const {
    return rendering_ ? n.family_kanji : n.full_kanji();
  }
  std::string address_text(const population::address& a) const {
    return rendering_ ? a.building : verify::to_text(a);
  }
  std::string sex_text(population::sex s) const {
    return rendering_ ? rendering_->sex(s) : std::string(population::to_string(s));
  }

  // The 世帯主 of r's current household as the answers print it ("" when it has none).
  std::string household_head_of(std::uint32_t r) const {
    const auto& household = current(r).record.household_id;
    for (const auto m : model_.household_members(household)) {
      const auto& s = current(m);
      if (s.record.household_id == household && s.head &&
          s.record.status == population::resident_status::active) {
        return rendering_ ? s.head_name : s.record.name.full_kanji();
      }
    }
    return {};
  }

  // The residents the certificate must print, in the order the reference server prints them.
  std::vector<std::uint32_t> expected_persons(std::uint32_t r, std::string_view type,
                                              bool household) const {
    if (type == "juminhyo" && household) {
      std::vector<std::uint32_t> out;
      const auto& h = current(r).record.household_id;
      for (const auto m : model_.household_members(h)) {
        const auto& s = current(m).record;
        if (s.household_id == h && s.status == population::resident_status::active) {
          out.push_back(m);
        }
      }
      return out;
    }
    if (type == "koseki_zenbu" || type == "koseki_fuhyo") return model_.koseki_members_of(r);
    return {r};
  }

  void compare(check& c, const verify::decoded_answer& d, std::uint32_t subject,
               std::string_view type, bool household, bool options,
               const std::string& application_number) {
    const auto& cert = d.certificate;
    const auto& subject_state = current(subject);
    row(c, "application_number", cert.application_number, application_number);
    row(c, "type", cert.type, std::string(type));
    if (cert.serial.empty()) {
      row(c, "serial", std::nullopt, "(a serial)");
    } else {
      row(c, "serial", cert.serial, std::nullopt, "any serial");
    }
    if (caps_.subject_resident_id) {
      row(c, "subject.resident_id", cert.subject_resident_id, subject_state.record.resident_id);
    }
    if (caps_.card_serial) {
      row(c, "subject.card_serial", cert.subject_card_serial, index_.at(subject).card_serial);
    }
    if (!wire_.decoder()) {
      row(c, "digest", d.digest_printed, d.digest_computed);
    }
    const auto expected = expected_persons(subject, type, household);
    std::set<std::uint32_t> printed_residents;
    std::uint32_t highest = 0;
    const auto fields = person_fields_of(type, options);
    for (std::size_t i = 0; i < cert.persons.size(); ++i) {
      const auto& x = cert.persons[i];
      const std::string at = fmt::format("persons[{}]", i);
      std::optional<std::uint32_t> who;
      if (!x.resident_id.empty()) {
        who = model_.find_resident(x.resident_id);
      } else if (i < expected.size()) {
        who = expected[i];
      }
      const bool on_certificate =
          who && std::find(expected.begin(), expected.end(), *who) != expected.end();
      if (!who) {
        row(c, at + ".resident_id", x.resident_id, std::string("(a resident of the population)"));
        continue;
      }
      const auto& s = current(*who);
      const auto& rec = s.record;
      printed_residents.insert(*who);
      highest = std::max(highest, rec.version);
      row(c, at + ".resident_id",
          x.resident_id.empty() ? std::nullopt : std::optional(x.resident_id),
          on_certificate ? std::optional(rec.resident_id) : std::nullopt,
          on_certificate ? "" : "not expected on this certificate");
      if (!on_certificate) {
        c.fields.back().match = false;
        if (c.problem.empty()) c.first_mismatch = c.fields.back();
        problem(c, fmt::format("{}: resident {} is not expected on this certificate", at,
                               x.resident_id));
      }
      if (x.page > 0) row(c, at + ".page", std::to_string(x.page), std::nullopt);
      if (caps_.versions == verify::version_semantics::per_person) {
        row(c, at + ".version",
            x.source_version < 0 ? std::nullopt : std::optional(std::to_string(x.source_version)),
            std::to_string(rec.version));
      }
      row(c, at + ".name", name_text(x.name), name_text(rec.name));
      if (rendering_ && !rec.name.family_kana.empty()) {
        row(c, at + ".name_kana", x.name.family_kana, rec.name.family_kana);
      } else if (!rendering_) {
        row(c, at + ".name_kana", x.name.family_kana + " " + x.name.given_kana,
            rec.name.family_kana + " " + rec.name.given_kana);
      }
      row(c, at + ".birth_date", x.birth_date, rec.birth_date);
      row(c, at + ".sex", x.sex, sex_text(rec.sex));
      auto optional = [&](const char* key, const std::optional<std::string>& printed,
                          const std::string& value) {
        const bool wanted = fields.count(key) != 0 && caps_.prints_person_field(key);
        if (wanted) {
          row(c, at + "." + key, printed, value);
        } else if (printed) {
          row(c, at + "." + key, printed, std::nullopt, "not printed by this type");
          c.fields.back().match = false;
          if (c.problem.empty()) c.first_mismatch = c.fields.back();
          problem(c, fmt::format("{}.{}: printed, but a {} does not print it", at, key, type));
        }
      };
      optional("address", x.address ? std::optional(address_text(*x.address)) : std::nullopt,
               address_text(rec.address));
      optional("moved_in_date", x.moved_in_date, rec.moved_in_date);
      optional("household_head", x.household_head, household_head_of(*who));
      optional("relationship", x.relationship, rec.relationship);
      optional("honseki", x.honseki, rec.honseki);
      optional("hittousha", x.hittousha, rec.hittousha);
      optional("mynumber", x.mynumber, rec.mynumber);
      optional("koseki_relationship", x.koseki_relationship, rec.koseki_relationship);
    }
    for (const auto m : expected) {
      if (printed_residents.count(m) != 0) continue;
      if (current(m).record.status != population::resident_status::active) continue;
      row(c, "persons", std::nullopt, "R" + current(m).record.resident_id);
    }
    if (cert.persons.empty()) row(c, "persons", std::nullopt, "(the persons)");
    if (caps_.versions == verify::version_semantics::per_certificate) {
      row(c, "version",
          cert.source_version < 0 ? std::nullopt
                                  : std::optional(std::to_string(cert.source_version)),
          std::to_string(highest), "the highest version printed");
    } else if (caps_.versions == verify::version_semantics::global_counter) {
      // The registry's counter: no expected value without the server's numbering of every change.
      row(c, "version",
          cert.source_version < 0 ? std::nullopt
                                  : std::optional(std::to_string(cert.source_version)),
          std::nullopt, "a global change counter: judged in a run, from the updates' answers");
    } else if (!wire_.decoder()) {
      row(c, "version", std::to_string(cert.source_version),
          std::to_string(subject_state.record.version));
    }
    const auto& rec = subject_state.record;
    if (type == "inkan") {
      row(c, "seal.registration_number",
          cert.seal ? std::optional(cert.seal->registration_number) : std::nullopt,
          rec.seal ? rec.seal->registration_number : std::string("(none)"));
      row(c, "seal.image_sha256", cert.seal ? std::optional(cert.seal->image_sha256) : std::nullopt,
          rec.seal ? rec.seal->image_sha256 : std::string("(none)"));
    }
    if (type == "kazei") {
      row(c, "tax", cert.tax ? std::optional(verify::to_text(*cert.tax)) : std::nullopt,
          verify::to_text(rec.tax));
    }
    if (type.starts_with("koseki")) {
      row(c, "koseki.honseki", cert.koseki ? std::optional(cert.koseki->honseki) : std::nullopt,
          rec.honseki);
      row(c, "koseki.hittousha", cert.koseki ? std::optional(cert.koseki->hittousha) : std::nullopt,
          rec.hittousha);
      if (caps_.koseki_id) {
        row(c, "koseki.koseki_id",
            cert.koseki ? std::optional(cert.koseki->koseki_id) : std::nullopt, rec.koseki_id);
      }
    }
  }

  const scenario::scenario& sc_;
  const driver::endpoint target_;
  boost::asio::ssl::context* const tls_;
  const driver::wire_protocol& wire_;
  const driver::population_index& index_;
  verify::resident_model& model_;
  std::shared_ptr<const verify::record_rendering> rendering_;
  verify::answer_capabilities caps_;  // reference protocol: everything printed
  const std::uint32_t run_number_;
  std::uint64_t ids_ = 0;
};

// ---- Output -----------------------------------------------------------------------------------

json to_json(const check& c) {
  json fields = json::array();
  for (const auto& f : c.fields) {
    fields.push_back({{"field", f.field},
                      {"printed", f.printed ? json(*f.printed) : json(nullptr)},
                      {"expected", f.expected ? json(*f.expected) : json(nullptr)},
                      {"match", f.match},
                      {"note", f.note}});
  }
  return {{"check", c.title},
          {"resident_id", c.resident_id},
          {"request", c.request},
          {"status", c.status},
          {"transport_error", c.transport_error},
          {"answer", head(c.answer, 4000)},
          {"answer_bytes", c.answer.size()},
          {"outcome", c.outcome},
          {"result_code", c.result_code},
          {"outcome_error", c.outcome_error},
          {"version", c.version ? json(*c.version) : json(nullptr)},
          {"malformed", c.malformed ? json(*c.malformed) : json(nullptr)},
          {"missing", c.missing},
          {"fields", fields},
          {"passed", c.problem.empty()},
          {"problem", c.problem}};
}

void print_text(std::size_t n, const check& c) {
  fmt::print("\n[{}] {} — resident {}\n", n, c.title, c.resident_id.empty() ? "-" : c.resident_id);
  fmt::print("    request   {}\n", c.request.empty() ? "-" : c.request);
  if (!c.transport_error.empty()) {
    fmt::print("    answer    none: {}\n", c.transport_error);
  } else if (!c.request.empty()) {
    const auto shown = head(c.answer, 160);
    fmt::print("    answer    HTTP {} {} ({} bytes)\n", c.status, fit(shown, 100), c.answer.size());
    fmt::print("    outcome   {}{}{}\n", c.outcome,
               c.result_code.empty() ? "" : " (result code " + c.result_code + ")",
               c.outcome_error.empty() ? "" : " — " + c.outcome_error);
  }
  if (c.version) fmt::print("    version   {} (from the answer)\n", *c.version);
  if (c.malformed) fmt::print("    MALFORMED {}\n", *c.malformed);
  if (!c.fields.empty()) {
    fmt::print("    {} {} {} \n", fit("field", 30), fit("printed (as mapped)", 36),
               fit("expected (rendered)", 36));
    for (const auto& f : c.fields) {
      const std::string mark = !f.match ? "MISMATCH" : f.expected ? "ok" : "";
      fmt::print("    {} {} {} {}{}\n", fit(f.field, 30),
                 fit(f.printed.value_or("(not printed)"), 36), fit(f.expected.value_or("-"), 36),
                 mark, f.note.empty() ? "" : (mark.empty() ? "" : " ") + ("(" + f.note + ")"));
    }
  }
  for (const auto& m : c.missing) fmt::print("    missing   {}\n", m);
  fmt::print("    {}\n", c.problem.empty() ? "=> mapped and matched" : "=> " + c.problem);
}

// A folder for the population and the embedded server's log, removed at the end.
class scratch_dir {
 public:
  scratch_dir() {
    std::string pattern = (fs::temp_directory_path() / "kofu-profile-check-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~scratch_dir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

int run_check(const check_args& args) {
  const char* me = "kofu profile check";
  auto loaded = scenario::load_file(args.scenario);
  if (!loaded) {
    fmt::print(stderr, "{}: scenario rejected:\n{}\n", me, loaded.error().message);
    return 2;
  }
  auto& sc = *loaded;
  kofu::app::override_targets(sc, args.targets);
  auto endpoints = kofu::app::parse_endpoints(sc);
  if (!endpoints) {
    fmt::print(stderr, "{}: {}\n", me, endpoints.error().message);
    return 2;
  }
  auto tls = kofu::app::tls_context_for(sc, *endpoints);
  if (!tls) {
    fmt::print(stderr, "{}: {}\n", me, tls.error().message);
    return 2;
  }
  if (auto probed = kofu::app::probe_endpoints(sc, *endpoints, tls->get()); !probed) {
    fmt::print(stderr, "{}: {}\n", me, probed.error().message);
    return 2;
  }
  auto wire = kofu::app::load_wire(sc);
  if (!wire) {
    fmt::print(stderr, "{}: vendor profile rejected:\n{}\n", me, wire.error().message);
    return 2;
  }
  const scratch_dir scratch;
  if (scratch.path().empty()) {
    fmt::print(stderr, "{}: cannot make a temporary folder\n", me);
    return 2;
  }
  auto population_path = kofu::app::prepare_population(sc, scratch.path());
  if (!population_path) {
    fmt::print(stderr, "{}: {}\n", me, population_path.error().message);
    return 2;
  }
  auto residents = population::load_file(*population_path);
  if (!residents || residents->empty()) {
    fmt::print(
        stderr, "{}: {}\n", me,
        residents ? population_path->string() + ": no residents" : residents.error().message);
    return 2;
  }
  std::unique_ptr<driver::embedded_server> server;
  driver::endpoint target;
  if (sc.target.embedded) {
    auto started = kofu::app::start_embedded(sc, *population_path, scratch.path() / "kofu-mock.log",
                                             tls->get());
    if (!started) {
      fmt::print(stderr, "{}: {}\n", me, started.error().message);
      return 2;
    }
    server = std::move(*started);
    target = *driver::parse_endpoint(server->url());
  } else {
    target = endpoints->front();
  }

  verify::resident_model model(*residents, (*wire)->rendering());
  const driver::population_index index(std::move(*residents), sc.concentration.hot_residents,
                                       sc.seed);
  profile_check session(sc, target, tls->get(), **wire, index, model);

  std::vector<check> checks;
  std::vector<std::string> not_offered;
  for (std::size_t t = 0; t < scenario::certificate_type_count; ++t) {
    const auto type = scenario::to_string(static_cast<scenario::certificate_type>(t));
    if (!session.offers_type(type)) {
      not_offered.push_back(std::string(type));
      continue;
    }
    for (const bool household : {false, true}) {
      if (household && (type != "juminhyo" || !session.offers_household())) continue;
      const std::string title =
          fmt::format("issue {}{}", type, household ? " (household scope)" : "");
      const auto chosen = session.residents_for(type, household, args.count);
      if (chosen.empty()) {
        check c;
        c.title = title;
        c.problem = "no resident of the population allows it";
        checks.push_back(std::move(c));
      }
      for (const auto r : chosen) checks.push_back(session.issue(r, type, household, title));
    }
  }
  for (std::size_t k = 0; k < scenario::update_kind_count; ++k) {
    const auto kind = static_cast<scenario::update_kind>(k);
    if (!session.offers_kind(scenario::to_string(kind))) {
      not_offered.push_back(fmt::format("{} updates", scenario::to_string(kind)));
      continue;
    }
    for (unsigned n = 0; n < args.count; ++n) {
      for (auto& c : session.update(kind)) checks.push_back(std::move(c));
    }
  }
  if (server) server->stop();

  const auto failed = static_cast<std::size_t>(std::count_if(
      checks.begin(), checks.end(), [](const check& c) { return !c.problem.empty(); }));
  const auto first =
      std::find_if(checks.begin(), checks.end(), [](const check& c) { return !c.problem.empty(); });
  const std::string profile_name = (*wire)->name();
  if (args.json) {
    json out{{"profile", profile_name},
             {"target", server ? std::string("embedded") : target.base},
             {"not_offered", not_offered},
             {"checks", json::array()},
             {"passed", failed == 0}};
    for (const auto& c : checks) out["checks"].push_back(to_json(c));
    json first_json = nullptr;
    if (first != checks.end()) {
      first_json = {{"check", first->title},
                    {"resident_id", first->resident_id},
                    {"problem", first->problem}};
      if (const auto& f = first->first_mismatch) {
        first_json["field"] = f->field;
        first_json["printed"] = f->printed ? json(*f->printed) : json();
        first_json["expected"] = f->expected ? json(*f->expected) : json();
      }
    }
    out["first_mismatch"] = first_json;
    fmt::print("{}\n", out.dump(2));
  } else {
    fmt::print("profile '{}' against {}{}\n", profile_name,
               server ? "the embedded kofu-mock" : target.base,
               sc.target.mock_args.empty() || !server
                   ? std::string()
                   : fmt::format(" ({})", fmt::join(sc.target.mock_args, " ")));
    if (!not_offered.empty()) {
      fmt::print("not offered by the profile, not sent: {}\n", fmt::join(not_offered, ", "));
    }
    for (std::size_t i = 0; i < checks.size(); ++i) print_text(i + 1, checks[i]);
    fmt::print("\n{} checks: {} mapped and matched, {} did not\n", checks.size(),
               checks.size() - failed, failed);
    if (first != checks.end()) {
      fmt::print("first mismatch: [{}] {} (resident {}): {}\n",
                 static_cast<std::size_t>(first - checks.begin()) + 1, first->title,
                 first->resident_id.empty() ? "-" : first->resident_id, first->problem);
    }
  }
  return failed == 0 ? 0 : 1;
}

const kofu::app::command_registration registration(25, [](CLI::App& app, int& exit_code) {
  auto* profile = app.add_subcommand("profile", "Vendor profiles (docs/profiles.md)");
  profile->require_subcommand(1);
  auto args = std::make_shared<check_args>();
  auto* cmd = profile->add_subcommand(
      "check",
      "Send one issuance per certificate type and one update per update kind the scenario's "
      "profile offers, and show each answer as the profile maps it next to the expected "
      "rendering, field by field (exit 0 all matched, 1 a mismatch, 2 bad input)");
  cmd->add_option("scenario", args->scenario, "Scenario file (its target and profile)")->required();
  cmd->add_option("--target", args->targets,
                  "Base URL of the server instead of the scenario's target (the first is used)");
  cmd->add_option("--count", args->count,
                  "Residents per certificate type and per update kind (default 1)")
      ->check(CLI::Range(1u, 20u));
  cmd->add_flag("--json", args->json, "Print JSON instead of tables");
  cmd->callback([args, &exit_code] { exit_code = run_check(*args); });
});

}  // namespace
