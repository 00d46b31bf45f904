#include "driver/vendor_answer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <set>

#include "kofu/common/sha256.hpp"

namespace kofu::driver {

using json = nlohmann::json;

answer_locator::found answer_locator::read(const json& node) const {
  found out;
  if (pointer) {
    const json* at = &node;
    for (const auto& token : tokens) {
      if (at->is_object()) {
        const auto it = at->find(token);
        if (it == at->end()) return out;
        at = &*it;
      } else if (at->is_array()) {
        std::size_t index = 0;
        const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), index);
        if (ec != std::errc() || end != token.data() + token.size() || token.empty() ||
            (token.size() > 1 && token[0] == '0') || index >= at->size()) {
          return out;
        }
        at = &(*at)[index];
      } else {
        return out;
      }
    }
    if (!at->is_null()) out.in_place = at;
    return out;
  }
  if (jq) {
    auto v = jq->first(node);
    if (v && !v->is_null()) out.owned = std::move(*v);
  }
  return out;
}

namespace detail {
namespace {

// The person fields of the model (docs/protocol.md's names; name_kana is the printed kana).
constexpr std::array<const char*, 15> person_keys = {
    "resident_id",  "page",    "version",   "name",          "name_kana",
    "birth_date",   "sex",     "address",   "moved_in_date", "household_head",
    "relationship", "honseki", "hittousha", "mynumber",      "koseki_relationship"};
constexpr std::array<const char*, 5> tax_keys = {"fiscal_year", "income", "taxable_income",
                                                 "municipal_tax", "prefectural_tax"};
// Templates of /render: how each printed value of a record is written, by default as the
// population writes it.
const std::map<std::string, std::string>& default_renderings() {
  static const std::map<std::string, std::string> d = {
      {"name", "{{name.family_kanji}} {{name.given_kanji}}"},
      {"name_kana", "{{name.family_kana}} {{name.given_kana}}"},
      {"household_head", "{{name.family_kanji}} {{name.given_kanji}}"},
      {"birth_date", "{{birth_date}}"},
      {"moved_in_date", "{{moved_in_date}}"},
      {"address",
       "〒{{address.postal_code}} "
       "{{address.prefecture}}{{address.city}}{{address.town}}{{address.banchi}} "
       "{{address.building}}"},
      {"relationship", "{{relationship}}"},
      {"honseki", "{{honseki}}"},
      {"hittousha", "{{hittousha}}"},
      {"mynumber", "{{mynumber}}"},
      {"koseki_relationship", "{{koseki_relationship}}"}};
  return d;
}

}  // namespace

// The record's values by path, for renderings and the export (vendor_answer.hpp).
bool known_record_path(std::string_view p) {
  static const std::set<std::string, std::less<>> paths = {"resident_id",
                                                           "card_serial",
                                                           "mynumber",
                                                           "household_id",
                                                           "relationship",
                                                           "name.family_kanji",
                                                           "name.given_kanji",
                                                           "name.family_kana",
                                                           "name.given_kana",
                                                           "birth_date",
                                                           "sex",
                                                           "address.postal_code",
                                                           "address.prefecture",
                                                           "address.city",
                                                           "address.town",
                                                           "address.banchi",
                                                           "address.building",
                                                           "address.token",
                                                           "moved_in_date",
                                                           "honseki",
                                                           "hittousha",
                                                           "koseki_id",
                                                           "koseki_relationship",
                                                           "seal.registration_number",
                                                           "seal.status",
                                                           "seal.image_png_base64",
                                                           "seal.image_sha256",
                                                           "tax.fiscal_year",
                                                           "tax.income",
                                                           "tax.taxable_income",
                                                           "tax.municipal_tax",
                                                           "tax.prefectural_tax",
                                                           "status",
                                                           "version"};
  return paths.count(p) != 0;
}

std::optional<std::string> record_value(const population::resident& r, std::string_view p) {
  if (p == "resident_id") return r.resident_id;
  if (p == "card_serial") return r.card_serial;
  if (p == "mynumber") return r.mynumber;
  if (p == "household_id") return r.household_id;
  if (p == "relationship") return r.relationship;
  if (p == "name.family_kanji") return r.name.family_kanji;
  if (p == "name.given_kanji") return r.name.given_kanji;
  if (p == "name.family_kana") return r.name.family_kana;
  if (p == "name.given_kana") return r.name.given_kana;
  if (p == "birth_date") return r.birth_date;
  if (p == "sex") return std::string(population::to_string(r.sex));
  if (p == "address.postal_code") return r.address.postal_code;
  if (p == "address.prefecture") return r.address.prefecture;
  if (p == "address.city") return r.address.city;
  if (p == "address.town") return r.address.town;
  if (p == "address.banchi") return r.address.banchi;
  if (p == "address.building") return r.address.building;
  if (p == "address.token") return r.address.token;
  if (p == "moved_in_date") return r.moved_in_date;
  if (p == "honseki") return r.honseki;
  if (p == "hittousha") return r.hittousha;
  if (p == "koseki_id") return r.koseki_id;
  if (p == "koseki_relationship") return r.koseki_relationship;
  if (p.starts_with("seal.")) {
    if (!r.seal) return std::nullopt;  // no 印鑑登録: the value is absent, not empty
    if (p == "seal.registration_number") return r.seal->registration_number;
    if (p == "seal.status") return std::string(population::to_string(r.seal->status));
    if (p == "seal.image_png_base64") return r.seal->image_png_base64;
    if (p == "seal.image_sha256") return r.seal->image_sha256;
    return std::nullopt;
  }
  if (p == "tax.fiscal_year") return std::to_string(r.tax.fiscal_year);
  if (p == "tax.income") return std::to_string(r.tax.income);
  if (p == "tax.taxable_income") return std::to_string(r.tax.taxable_income);
  if (p == "tax.municipal_tax") return std::to_string(r.tax.municipal_tax);
  if (p == "tax.prefectural_tax") return std::to_string(r.tax.prefectural_tax);
  if (p == "status") return std::string(population::to_string(r.status));
  if (p == "version") return std::to_string(r.version);
  return std::nullopt;
}

namespace {

std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

class vendor_rendering final : public verify::record_rendering {
 public:
  vendor_rendering(std::map<std::string, text_template> templates,
                   std::array<std::string, 2> sex_words, value_tables tables, bool kana)
      : templates_(std::move(templates)),
        sex_words_(std::move(sex_words)),
        tables_(std::move(tables)),
        kana_(kana) {}

  population::resident render(const population::resident& raw) const override {
    population::resident r = raw;
    r.name = {text("name", raw), "", kana_ ? text("name_kana", raw) : std::string(), ""};
    r.birth_date = text("birth_date", raw);
    r.moved_in_date = text("moved_in_date", raw);
    const std::string address = text("address", raw);
    r.address = {"", "", "", "", "", address, address};
    r.relationship = text("relationship", raw);
    r.honseki = text("honseki", raw);
    r.hittousha = text("hittousha", raw);
    r.mynumber = text("mynumber", raw);
    r.koseki_relationship = text("koseki_relationship", raw);
    return r;
  }
  std::string household_head(const population::resident& raw) const override {
    return text("household_head", raw);
  }
  std::string sex(population::sex s) const override {
    return sex_words_[s == population::sex::male ? 0 : 1];
  }

 private:
  std::string text(const std::string& field, const population::resident& raw) const {
    return templates_.at(field).render(
        [&](std::string_view path) { return record_value(raw, path); }, tables_);
  }
  std::map<std::string, text_template> templates_;
  std::array<std::string, 2> sex_words_;
  value_tables tables_;
  bool kana_;
};

class vendor_decoder final : public verify::answer_decoder {
 public:
  answer_locator application_number, certificate, type, serial, version, card_serial,
      subject_resident_id, persons;
  std::map<std::string, answer_locator> person;
  answer_locator seal_registration_number, seal_image_base64, seal_image_sha256;
  std::map<std::string, answer_locator> tax;
  answer_locator koseki_id, koseki_honseki, koseki_hittousha;
  std::map<std::string, std::string> type_of_code;  // vendor code → reference type
  verify::answer_capabilities caps;

  const verify::answer_capabilities& capabilities() const override { return caps; }

  verify::decoded_answer decode(const json& body, bool keep_body) const override {
    verify::decoded_answer out;
    if (keep_body) out.body = body;
    out.digest_valid = true;  // a vendor's digest is not the reference's: not applicable
    auto& c = out.certificate;
    auto missing = [&](const std::string& what, const answer_locator& at) {
      out.missing.push_back(fmt::format("{} not found at {}", what, at.describe()));
    };
    auto read_text = [&](const answer_locator& at, const json& node, const std::string& what,
                         std::string& target, bool required) {
      if (!at.is_set()) return;
      if (auto v = at.read(node)) {
        target = text_of(*v);
      } else if (required) {
        missing(what, at);
      }
    };
    auto read_int = [&](const answer_locator& at, const json& node, const std::string& what,
                        std::int64_t& target) {
      if (!at.is_set()) return;
      const auto v = at.read(node);
      if (v && v->is_number_integer()) {
        target = v->get<std::int64_t>();
      } else if (v && v->is_string()) {
        try {
          std::size_t used = 0;
          target = std::stoll(v->get<std::string>(), &used);
          if (used == v->get_ref<const std::string&>().size()) return;
        } catch (const std::exception&) {
        }
        out.missing.push_back(fmt::format("{} at {} is not an integer", what, at.describe()));
      } else {
        missing(what, at);
      }
    };
    read_text(application_number, body, "the application number", c.application_number, true);
    const auto cert = certificate.read(body);
    if (!cert || !cert->is_object()) {
      out.malformed = fmt::format("no certificate object at {}", certificate.describe());
      return out;
    }
    std::string code;
    read_text(type, *cert, "the certificate type", code, true);
    const auto mapped = type_of_code.find(code);
    c.type = mapped == type_of_code.end() ? code : mapped->second;
    read_text(serial, *cert, "the certificate serial", c.serial, true);
    if (caps.versions == verify::version_semantics::per_certificate ||
        caps.versions == verify::version_semantics::global_counter) {
      read_int(version, *cert, "the certificate version", c.source_version);
    }
    read_text(card_serial, *cert, "the card serial", c.subject_card_serial, true);
    read_text(subject_resident_id, *cert, "the subject", c.subject_resident_id, true);
    const auto list = persons.read(*cert);
    if (!list || !list->is_array() || list->empty()) {
      out.missing.push_back(fmt::format("no persons at {}", persons.describe()));
    } else {
      for (std::size_t i = 0; i < list->size(); ++i) {
        const json& node = (*list)[i];
        const std::string at = fmt::format("persons[{}]", i);
        verify::printed_person x;
        auto field = [&](const char* key) -> const answer_locator& { return person.at(key); };
        read_text(field("resident_id"), node, at + ".resident_id", x.resident_id, true);
        read_int(field("page"), node, at + ".page", x.page);
        if (caps.versions == verify::version_semantics::per_person) {
          read_int(field("version"), node, at + ".version", x.source_version);
        }
        read_text(field("name"), node, at + ".name", x.name.family_kanji, true);
        read_text(field("name_kana"), node, at + ".name_kana", x.name.family_kana, true);
        read_text(field("birth_date"), node, at + ".birth_date", x.birth_date, true);
        read_text(field("sex"), node, at + ".sex", x.sex, true);
        auto optional_text = [&](const char* key, std::optional<std::string>& target) {
          if (!field(key).is_set()) return;
          if (auto v = field(key).read(node)) target = text_of(*v);
        };
        std::optional<std::string> address;
        optional_text("address", address);
        if (address) x.address = population::address{"", "", "", "", "", *address, *address};
        optional_text("moved_in_date", x.moved_in_date);
        optional_text("household_head", x.household_head);
        optional_text("relationship", x.relationship);
        optional_text("honseki", x.honseki);
        optional_text("hittousha", x.hittousha);
        optional_text("mynumber", x.mynumber);
        optional_text("koseki_relationship", x.koseki_relationship);
        c.persons.push_back(std::move(x));
      }
    }
    if (seal_registration_number.is_set()) {
      if (auto number = seal_registration_number.read(*cert)) {
        verify::printed_seal s;
        s.registration_number = text_of(*number);
        if (auto image = seal_image_base64.read(*cert); image && image->is_string()) {
          if (auto bytes = verify::decode_base64(image->get<std::string>())) {
            s.image_sha256_computed = sha256_hex(*bytes);
          }
        }
        if (auto printed = seal_image_sha256.read(*cert))
          s.image_sha256 = text_of(*printed);
        else
          s.image_sha256 = s.image_sha256_computed;
        c.seal = std::move(s);
      }
    }
    if (!tax.empty()) {
      const auto any = std::any_of(tax.begin(), tax.end(), [&](const auto& t) {
        return static_cast<bool>(t.second.read(*cert));
      });
      if (any) {
        population::tax_record t;
        std::int64_t year = 0;
        read_int(tax.at("fiscal_year"), *cert, "tax.fiscal_year", year);
        t.fiscal_year = static_cast<std::int32_t>(year);
        read_int(tax.at("income"), *cert, "tax.income", t.income);
        read_int(tax.at("taxable_income"), *cert, "tax.taxable_income", t.taxable_income);
        read_int(tax.at("municipal_tax"), *cert, "tax.municipal_tax", t.municipal_tax);
        read_int(tax.at("prefectural_tax"), *cert, "tax.prefectural_tax", t.prefectural_tax);
        c.tax = t;
      }
    }
    if (koseki_honseki.is_set() || koseki_id.is_set()) {
      const auto h = koseki_honseki.read(*cert);
      const auto id = koseki_id.read(*cert);
      if (h || id) {
        verify::printed_koseki k;
        if (id) k.koseki_id = text_of(*id);
        if (h) k.honseki = text_of(*h);
        read_text(koseki_hittousha, *cert, "koseki.hittousha", k.hittousha, true);
        c.koseki = std::move(k);
      }
    }
    return out;
  }
};

}  // namespace

answer_locator parse_locator(const json& value, const std::string& where,
                             std::vector<std::string>& problems) {
  answer_locator l;
  if (value.is_null()) return l;
  if (value.is_string()) {
    // RFC 6901: "" is the node itself; otherwise "/"-separated tokens with ~1 for / and ~0 for ~.
    const auto& text = value.get_ref<const std::string&>();
    if (!text.empty() && text.front() != '/') {
      problems.push_back(where + ": not a JSON pointer");
      return l;
    }
    for (std::size_t pos = 0; pos < text.size();) {
      const auto next = text.find('/', pos + 1);
      const auto raw = text.substr(pos + 1, next == std::string::npos ? next : next - pos - 1);
      std::string token;
      for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '~') {
          token += raw[i];
        } else if (i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
          token += raw[++i] == '0' ? '~' : '/';
        } else {
          problems.push_back(where + ": not a JSON pointer ('~' must be followed by 0 or 1)");
          return l;
        }
      }
      l.tokens.push_back(std::move(token));
      pos = next == std::string::npos ? text.size() : next;
    }
    l.pointer = text;
    return l;
  }
  if (value.is_object() && value.size() == 1 && value.contains("jq") && value["jq"].is_string()) {
    std::string error;
    l.jq = jq_expression::compile(value["jq"].get<std::string>(), error);
    if (!l.jq) problems.push_back(where + "/jq: " + error);
    return l;
  }
  problems.push_back(where + ": expected a JSON pointer, {\"jq\": \"…\"} or null");
  return l;
}

vendor_adapter parse_vendor_adapter(const json& answer, const json* render,
                                    const value_tables& tables,
                                    std::vector<std::string>& problems) {
  auto d = std::make_shared<vendor_decoder>();
  const std::string at = "/issue/answer";
  static const std::set<std::string> top_keys = {"application_number",
                                                 "certificate",
                                                 "type",
                                                 "serial",
                                                 "version",
                                                 "versions",
                                                 "card_serial",
                                                 "subject",
                                                 "persons",
                                                 "person",
                                                 "seal",
                                                 "tax",
                                                 "koseki",
                                                 "digest"};
  for (const auto& [k, v] : answer.items()) {
    if (!top_keys.count(k)) problems.push_back(fmt::format("{}/{}: unknown key", at, k));
  }
  auto locator = [&](const json& node, const std::string& key, const std::string& path,
                     bool required) {
    if (!node.contains(key)) {
      if (required) problems.push_back(fmt::format("{}: missing '{}'", path, key));
      return answer_locator{};
    }
    return parse_locator(node.at(key), path + "/" + key, problems);
  };
  auto object = [&](const std::string& key, const std::set<std::string>& allowed) -> const json* {
    if (!answer.contains(key)) return nullptr;
    const json& o = answer.at(key);
    if (!o.is_object()) {
      problems.push_back(fmt::format("{}/{}: expected an object", at, key));
      return nullptr;
    }
    for (const auto& [k, v] : o.items()) {
      if (!allowed.count(k)) problems.push_back(fmt::format("{}/{}/{}: unknown key", at, key, k));
    }
    return &o;
  };
  d->application_number = locator(answer, "application_number", at, true);
  d->certificate = locator(answer, "certificate", at, true);
  d->type = locator(answer, "type", at, true);
  d->serial = locator(answer, "serial", at, true);
  d->persons = locator(answer, "persons", at, true);
  d->version = locator(answer, "version", at, false);
  std::string versions = "per_person";
  if (answer.contains("versions")) {
    const json& v = answer.at("versions");
    if (v.is_string() &&
        (v == "per_person" || v == "per_certificate" || v == "global_counter" || v == "none")) {
      versions = v.get<std::string>();
    } else {
      problems.push_back(at +
                         "/versions: expected \"per_person\", \"per_certificate\", "
                         "\"global_counter\" or \"none\"");
    }
  }
  d->caps.versions = versions == "per_person"        ? verify::version_semantics::per_person
                     : versions == "per_certificate" ? verify::version_semantics::per_certificate
                     : versions == "global_counter"  ? verify::version_semantics::global_counter
                                                     : verify::version_semantics::none;
  if ((versions == "per_certificate" || versions == "global_counter") && !d->version.is_set())
    problems.push_back(
        fmt::format("{}: 'versions' is {}: 'version' must say where it stands", at, versions));
  if (answer.contains("digest") && !answer.at("digest").is_null())
    problems.push_back(at +
                       "/digest: only the reference protocol's digest can be checked; "
                       "leave it out (DIGEST_INVALID is then not applicable)");
  d->caps.digest = false;
  if (const json* subject = object("subject", {"card_serial", "resident_id"})) {
    d->card_serial = locator(*subject, "card_serial", at + "/subject", false);
    d->subject_resident_id = locator(*subject, "resident_id", at + "/subject", false);
  }
  d->caps.card_serial = d->card_serial.is_set();
  d->caps.subject_resident_id = d->subject_resident_id.is_set();
  std::set<std::string> allowed_person(person_keys.begin(), person_keys.end());
  const json* p = object("person", allowed_person);
  for (const char* key : person_keys) {
    d->person[key] = p != nullptr ? locator(*p, key, at + "/person", false) : answer_locator{};
  }
  for (const char* required : {"name", "birth_date", "sex"}) {
    if (!d->person[required].is_set())
      problems.push_back(fmt::format("{}/person: missing '{}'", at, required));
  }
  if (versions == "per_person" && !d->person["version"].is_set())
    problems.push_back(at +
                       "/person: 'versions' is per_person: 'version' must say where it stands");
  for (const char* f : {"address", "moved_in_date", "household_head", "relationship", "honseki",
                        "hittousha", "mynumber", "koseki_relationship"}) {
    if (d->person[f].is_set()) d->caps.person_fields.emplace_back(f);
  }
  if (d->caps.person_fields.empty()) d->caps.person_fields.emplace_back("-");
  if (const json* seal = object("seal", {"registration_number", "image_base64", "image_sha256"})) {
    d->seal_registration_number = locator(*seal, "registration_number", at + "/seal", true);
    d->seal_image_base64 = locator(*seal, "image_base64", at + "/seal", false);
    d->seal_image_sha256 = locator(*seal, "image_sha256", at + "/seal", false);
    if (!d->seal_image_base64.is_set() && !d->seal_image_sha256.is_set())
      problems.push_back(at + "/seal: needs 'image_base64' or 'image_sha256'");
  }
  std::set<std::string> allowed_tax(tax_keys.begin(), tax_keys.end());
  if (const json* t = object("tax", allowed_tax)) {
    for (const char* key : tax_keys) d->tax[key] = locator(*t, key, at + "/tax", true);
  }
  if (const json* k = object("koseki", {"koseki_id", "honseki", "hittousha"})) {
    d->koseki_id = locator(*k, "koseki_id", at + "/koseki", false);
    d->koseki_honseki = locator(*k, "honseki", at + "/koseki", true);
    d->koseki_hittousha = locator(*k, "hittousha", at + "/koseki", true);
  }
  d->caps.koseki_id = d->koseki_id.is_set();
  if (const auto t = tables.find("certificate_type"); t != tables.end()) {
    for (const auto& [reference, vendor] : t->second) d->type_of_code[vendor] = reference;
  }

  // Renderings.
  std::map<std::string, text_template> templates;
  std::map<std::string, std::string> texts = default_renderings();
  std::array<std::string, 2> sex_words{"male", "female"};
  if (render != nullptr) {
    for (const auto& [k, v] : render->items()) {
      const std::string where = "/render/" + k;
      if (k == "sex") {
        if (!v.is_object() || !v.contains("male") || !v.contains("female") ||
            !v["male"].is_string() || !v["female"].is_string()) {
          problems.push_back(where + ": expected {\"male\": \"…\", \"female\": \"…\"}");
          continue;
        }
        sex_words = {v["male"].get<std::string>(), v["female"].get<std::string>()};
        continue;
      }
      if (!texts.count(k)) {
        problems.push_back(where + ": unknown key");
        continue;
      }
      if (!v.is_string()) {
        problems.push_back(where + ": expected a template string");
        continue;
      }
      texts[k] = v.get<std::string>();
    }
  }
  for (const auto& [k, text] : texts) {
    templates.emplace(
        k, text_template::parse(text, "/render/" + k, known_record_path, tables, problems));
  }
  vendor_adapter out;
  out.rendering = std::make_shared<vendor_rendering>(std::move(templates), std::move(sex_words),
                                                     tables, d->person["name_kana"].is_set());
  out.decoder = std::move(d);
  return out;
}

}  // namespace detail
}  // namespace kofu::driver
