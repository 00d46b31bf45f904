#include "kofu/verify/certificate.hpp"

#include <fmt/format.h>

#include <array>
#include <utility>

#include "kofu/common/sha256.hpp"
#include "kofu/verify/canonical_json.hpp"

namespace kofu::verify {
namespace {

using json = nlohmann::json;

// Thrown only inside decode_answer and caught there: a malformed answer is data, not an error.
struct decode_failure {
  std::string message;
};

[[noreturn]] void fail(std::string message) { throw decode_failure{std::move(message)}; }

const json& member(const json& obj, const char* key, const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end()) fail(fmt::format("{}.{} is missing", where, key));
  return *it;
}

std::string string_at(const json& obj, const char* key, const std::string& where) {
  const json& v = member(obj, key, where);
  if (!v.is_string()) fail(fmt::format("{}.{} is not a string", where, key));
  return v.get<std::string>();
}

std::int64_t int_at(const json& obj, const char* key, const std::string& where) {
  const json& v = member(obj, key, where);
  if (!v.is_number_integer()) fail(fmt::format("{}.{} is not an integer", where, key));
  return v.get<std::int64_t>();
}

const json& object_at(const json& obj, const char* key, const std::string& where) {
  const json& v = member(obj, key, where);
  if (!v.is_object()) fail(fmt::format("{}.{} is not an object", where, key));
  return v;
}

population::person_name decode_name(const json& v, const std::string& where) {
  if (!v.is_object()) fail(where + " is not an object");
  return {string_at(v, "family_kanji", where), string_at(v, "given_kanji", where),
          string_at(v, "family_kana", where), string_at(v, "given_kana", where)};
}

population::address decode_address(const json& v, const std::string& where) {
  if (!v.is_object()) fail(where + " is not an object");
  return {string_at(v, "postal_code", where), string_at(v, "prefecture", where),
          string_at(v, "city", where),        string_at(v, "town", where),
          string_at(v, "banchi", where),      string_at(v, "building", where),
          string_at(v, "token", where)};
}

population::tax_record decode_tax(const json& v, const std::string& where) {
  if (!v.is_object()) fail(where + " is not an object");
  population::tax_record t;
  t.fiscal_year = static_cast<std::int32_t>(int_at(v, "fiscal_year", where));
  t.income = int_at(v, "income", where);
  t.taxable_income = int_at(v, "taxable_income", where);
  t.municipal_tax = int_at(v, "municipal_tax", where);
  t.prefectural_tax = int_at(v, "prefectural_tax", where);
  return t;
}

// Standard base64 (RFC 4648 §4) with padding; nullopt on any other character.
std::optional<std::string> base64_decode(const std::string& in) {
  static const std::array<std::int8_t, 256> table = [] {
    std::array<std::int8_t, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i)
      t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
  }();
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t pad = 0;
  for (const char ch : in) {
    if (ch == '=') {
      ++pad;
      continue;
    }
    if (pad != 0) return std::nullopt;
    const auto v = table[static_cast<unsigned char>(ch)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (pad > 2) return std::nullopt;
  return out;
}

printed_person decode_person(const json& v, const std::string& where) {
  if (!v.is_object()) fail(where + " is not an object");
  printed_person p;
  for (const auto& [key, value] : v.items()) {
    if (key == "resident_id") {
      if (!value.is_string()) fail(where + ".resident_id is not a string");
      p.resident_id = value.get<std::string>();
    } else if (key == "source_version") {
      if (!value.is_number_integer()) fail(where + ".source_version is not an integer");
      p.source_version = value.get<std::int64_t>();
    } else if (key == "page") {
      if (!value.is_number_integer()) fail(where + ".page is not an integer");
      p.page = value.get<std::int64_t>();
    } else if (key == "name") {
      p.name = decode_name(value, where + ".name");
    } else if (key == "address") {
      p.address = decode_address(value, where + ".address");
    } else if (key == "birth_date" || key == "sex" || key == "moved_in_date" ||
               key == "household_head" || key == "relationship" || key == "honseki" ||
               key == "hittousha" || key == "mynumber" || key == "koseki_relationship") {
      if (!value.is_string()) fail(fmt::format("{}.{} is not a string", where, key));
      auto s = value.get<std::string>();
      if (key == "birth_date")
        p.birth_date = std::move(s);
      else if (key == "sex")
        p.sex = std::move(s);
      else if (key == "moved_in_date")
        p.moved_in_date = std::move(s);
      else if (key == "household_head")
        p.household_head = std::move(s);
      else if (key == "relationship")
        p.relationship = std::move(s);
      else if (key == "honseki")
        p.honseki = std::move(s);
      else if (key == "hittousha")
        p.hittousha = std::move(s);
      else if (key == "mynumber")
        p.mynumber = std::move(s);
      else
        p.koseki_relationship = std::move(s);
    } else {
      p.unknown_keys.push_back(key);
    }
  }
  if (p.resident_id.empty()) fail(where + ".resident_id is missing");
  if (p.source_version < 0) fail(where + ".source_version is missing");
  if (v.find("name") == v.end()) fail(where + ".name is missing");
  if (v.find("birth_date") == v.end()) fail(where + ".birth_date is missing");
  if (v.find("sex") == v.end()) fail(where + ".sex is missing");
  return p;
}

}  // namespace

decoded_answer decode_answer(const json& body, bool keep_body) {
  decoded_answer out;
  if (keep_body) out.body = body;
  try {
    if (!body.is_object()) fail("the answer is not a JSON object");
    printed_certificate& c = out.certificate;
    c.application_number = string_at(body, "application_number", "answer");
    out.digest_printed = string_at(body, "digest", "answer");
    const json& cert = object_at(body, "certificate", "answer");
    c.type = string_at(cert, "type", "certificate");
    c.serial = string_at(cert, "serial", "certificate");
    const json& subject = object_at(cert, "subject", "certificate");
    c.subject_resident_id = string_at(subject, "resident_id", "certificate.subject");
    c.subject_card_serial = string_at(subject, "card_serial", "certificate.subject");
    c.source_version = int_at(cert, "source_version", "certificate");
    const json& persons = member(cert, "persons", "certificate");
    if (!persons.is_array() || persons.empty())
      fail("certificate.persons is not a non-empty array");
    c.persons.reserve(persons.size());
    for (std::size_t i = 0; i < persons.size(); ++i) {
      c.persons.push_back(decode_person(persons[i], fmt::format("certificate.persons[{}]", i)));
    }
    if (const auto it = cert.find("seal"); it != cert.end() && !it->is_null()) {
      if (!it->is_object()) fail("certificate.seal is not an object");
      printed_seal s;
      s.registration_number = string_at(*it, "registration_number", "certificate.seal");
      s.image_sha256 = string_at(*it, "image_sha256", "certificate.seal");
      const auto image = base64_decode(string_at(*it, "image_png_base64", "certificate.seal"));
      if (image) s.image_sha256_computed = sha256_hex(*image);
      c.seal = std::move(s);
    }
    if (const auto it = cert.find("tax"); it != cert.end() && !it->is_null()) {
      c.tax = decode_tax(*it, "certificate.tax");
    }
    if (const auto it = cert.find("koseki"); it != cert.end() && !it->is_null()) {
      if (!it->is_object()) fail("certificate.koseki is not an object");
      c.koseki = printed_koseki{string_at(*it, "koseki_id", "certificate.koseki"),
                                string_at(*it, "honseki", "certificate.koseki"),
                                string_at(*it, "hittousha", "certificate.koseki")};
    }
    out.digest_computed = certificate_digest(c.application_number, cert);
    out.digest_valid = out.digest_computed == out.digest_printed;
  } catch (const decode_failure& e) {
    out.malformed = e.message;
  }
  return out;
}

decoded_answer malformed_answer(std::string reason, std::string body_text) {
  decoded_answer out;
  out.malformed = std::move(reason);
  out.body = std::move(body_text);
  return out;
}

std::string to_text(const population::person_name& n) {
  return fmt::format("{} {} ({} {})", n.family_kanji, n.given_kanji, n.family_kana, n.given_kana);
}

std::string to_text(const population::address& a) {
  return fmt::format("〒{} {}{}{}{} {}", a.postal_code, a.prefecture, a.city, a.town, a.banchi,
                     a.building);
}

std::string to_text(const population::tax_record& t) {
  return fmt::format("FY{} income {} taxable {} municipal {} prefectural {}", t.fiscal_year,
                     t.income, t.taxable_income, t.municipal_tax, t.prefectural_tax);
}

}  // namespace kofu::verify
