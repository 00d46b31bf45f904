#include "kofu/verify/certificate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <utility>

#include "kofu/common/json_depth.hpp"
#include "kofu/common/sha256.hpp"
#include "kofu/verify/canonical_json.hpp"
#include "verify/strict_json.hpp"

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
std::optional<std::string> base64_decode(std::string_view in) {
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

std::optional<std::string> decode_base64(std::string_view text) { return base64_decode(text); }

bool answer_capabilities::prints_person_field(std::string_view name) const {
  return person_fields.empty() ||
         std::find(person_fields.begin(), person_fields.end(), name) != person_fields.end();
}

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

using detail::for_each_member;
using detail::is_key;
using detail::strict_json_cursor;

namespace {

// The printed digest equals the lower-case hex of `computed` (what to_hex prints): compared on
// the raw bytes, so that a valid digest needs no hex string of its own.
bool printed_digest_matches(std::string_view printed, const sha256_digest& computed) {
  if (printed.size() != computed.size() * 2) return false;
  auto nibble = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    return -1;  // upper case too: to_hex never prints it
  };
  for (std::size_t i = 0; i < computed.size(); ++i) {
    const int hi = nibble(printed[2 * i]);
    const int lo = nibble(printed[2 * i + 1]);
    if (hi < 0 || lo < 0 || ((hi << 4) | lo) != computed[i]) return false;
  }
  return true;
}

}  // namespace

// The strict reading behind decode_answer_text: succeeds only for text in the canonical subset
// (strict_json.hpp) whose every member is one decode_answer reads the same way; otherwise it
// returns false and the caller falls back to nlohmann. Each accepted shape is one that
// decode_answer accepts too, so a MALFORMED answer is always decided by the reference path.
// Members decode_answer ignores (issued_at, unknown keys of name, subject, seal, tax, koseki,
// or of the answer itself) are skipped here too; unknown keys of a person are left to the
// reference path, which reports them.
// Keys are matched by exact length and bytes (is_key); canonical members arrive in byte order,
// so each chain below lists them in that order.
namespace detail {

bool decode_answer_strict(strict_json_cursor& c, decoded_answer& out, answer_text& text) {
  printed_certificate& cert = out.certificate;
  std::string_view application_number;
  std::string_view certificate_text;
  bool have_app = false, have_digest = false, have_cert = false;
  auto str = [&c](std::string& target) {
    std::string_view v;
    if (!c.string(v)) return false;
    target.assign(v);
    return true;
  };
  auto name_of = [&](population::person_name& n) {
    bool f = false, g = false, fk = false, gk = false;
    const bool ok = for_each_member(c, true, [&](std::string_view key) {
      if (is_key(key, "family_kana")) return fk = str(n.family_kana);
      if (is_key(key, "family_kanji")) return f = str(n.family_kanji);
      if (is_key(key, "given_kana")) return gk = str(n.given_kana);
      if (is_key(key, "given_kanji")) return g = str(n.given_kanji);
      return c.skip_value(true);
    });
    return ok && f && g && fk && gk;
  };
  auto address_of = [&](population::address& a) {
    int seen = 0;
    const bool ok = for_each_member(c, true, [&](std::string_view key) {
      std::string* target = is_key(key, "banchi")        ? &a.banchi
                            : is_key(key, "building")    ? &a.building
                            : is_key(key, "city")        ? &a.city
                            : is_key(key, "postal_code") ? &a.postal_code
                            : is_key(key, "prefecture")  ? &a.prefecture
                            : is_key(key, "token")       ? &a.token
                            : is_key(key, "town")        ? &a.town
                                                         : nullptr;
      if (target == nullptr) return c.skip_value(true);
      ++seen;
      return str(*target);
    });
    return ok && seen == 7;
  };
  auto person_of = [&](printed_person& p) {
    bool have_id = false, have_version = false, have_name = false, have_birth = false,
         have_sex = false;
    const bool ok = for_each_member(c, true, [&](std::string_view key) {
      auto opt = [&](std::optional<std::string>& target) {
        target.emplace();
        return str(*target);
      };
      switch (key.empty() ? '\0' : key.front()) {
        case 'a':
          if (is_key(key, "address")) {
            p.address.emplace();
            return address_of(*p.address);
          }
          break;
        case 'b':
          if (is_key(key, "birth_date")) return have_birth = str(p.birth_date);
          break;
        case 'h':
          if (is_key(key, "household_head")) return opt(p.household_head);
          if (is_key(key, "hittousha")) return opt(p.hittousha);
          if (is_key(key, "honseki")) return opt(p.honseki);
          break;
        case 'k':
          if (is_key(key, "koseki_relationship")) return opt(p.koseki_relationship);
          break;
        case 'm':
          if (is_key(key, "moved_in_date")) return opt(p.moved_in_date);
          if (is_key(key, "mynumber")) return opt(p.mynumber);
          break;
        case 'n':
          if (is_key(key, "name")) return have_name = name_of(p.name);
          break;
        case 'p':
          if (is_key(key, "page")) return c.integer(p.page);
          break;
        case 'r':
          if (is_key(key, "relationship")) return opt(p.relationship);
          if (is_key(key, "resident_id")) return have_id = str(p.resident_id);
          break;
        case 's':
          if (is_key(key, "sex")) return have_sex = str(p.sex);
          if (is_key(key, "source_version")) return have_version = c.integer(p.source_version);
          break;
        default:
          break;
      }
      return c.fail();  // an unknown key: the reference path names it
    });
    return ok && have_id && !p.resident_id.empty() && have_version && p.source_version >= 0 &&
           have_name && have_birth && have_sex;
  };
  auto certificate_of = [&] {
    const char* const start = c.position();
    bool have_type = false, have_serial = false, have_subject = false, have_version = false,
         have_persons = false;
    const bool ok = for_each_member(c, true, [&](std::string_view key) {
      if (is_key(key, "persons")) {
        if (!c.expect('[') || c.peek(']')) return c.fail();
        do {
          if (!person_of(cert.persons.emplace_back())) return c.fail();
        } while (c.accept(','));
        return have_persons = c.expect(']');
      }
      if (is_key(key, "serial")) return have_serial = str(cert.serial);
      if (is_key(key, "source_version")) return have_version = c.integer(cert.source_version);
      if (is_key(key, "subject")) {
        bool id = false, card = false;
        have_subject = for_each_member(c, true, [&](std::string_view k) {
          if (is_key(k, "card_serial")) return card = str(cert.subject_card_serial);
          if (is_key(k, "resident_id")) return id = str(cert.subject_resident_id);
          return c.skip_value(true);
        });
        return have_subject = have_subject && id && card;
      }
      if (is_key(key, "type")) return have_type = str(cert.type);
      if (is_key(key, "seal")) {
        if (c.literal("null")) return true;
        printed_seal& s = cert.seal.emplace();
        bool reg = false, sha = false, image = false;
        std::string_view png;
        const bool seal_ok = for_each_member(c, true, [&](std::string_view k) {
          if (is_key(k, "image_png_base64")) return image = c.string(png);
          if (is_key(k, "image_sha256")) return sha = str(s.image_sha256);
          if (is_key(k, "registration_number")) return reg = str(s.registration_number);
          return c.skip_value(true);
        });
        if (!seal_ok || !reg || !sha || !image) return c.fail();
        if (const auto bytes = base64_decode(png)) s.image_sha256_computed = sha256_hex(*bytes);
        return true;
      }
      if (is_key(key, "tax")) {
        if (c.literal("null")) return true;
        population::tax_record& t = cert.tax.emplace();
        std::int64_t year = 0;
        int seen = 0;
        const bool tax_ok = for_each_member(c, true, [&](std::string_view k) {
          std::int64_t* target = is_key(k, "fiscal_year")       ? &year
                                 : is_key(k, "income")          ? &t.income
                                 : is_key(k, "municipal_tax")   ? &t.municipal_tax
                                 : is_key(k, "prefectural_tax") ? &t.prefectural_tax
                                 : is_key(k, "taxable_income")  ? &t.taxable_income
                                                                : nullptr;
          if (target == nullptr) return c.skip_value(true);
          ++seen;
          return c.integer(*target);
        });
        t.fiscal_year = static_cast<std::int32_t>(year);
        return (tax_ok && seen == 5) || c.fail();
      }
      if (is_key(key, "koseki")) {
        if (c.literal("null")) return true;
        printed_koseki& k = cert.koseki.emplace();
        int seen = 0;
        const bool koseki_ok = for_each_member(c, true, [&](std::string_view m) {
          std::string* target = is_key(m, "hittousha")   ? &k.hittousha
                                : is_key(m, "honseki")   ? &k.honseki
                                : is_key(m, "koseki_id") ? &k.koseki_id
                                                         : nullptr;
          if (target == nullptr) return c.skip_value(true);
          ++seen;
          return str(*target);
        });
        return (koseki_ok && seen == 3) || c.fail();
      }
      return c.skip_value(true);  // issued_at, and members decode_answer does not read
    });
    if (!ok || !have_type || !have_serial || !have_subject || !have_version || !have_persons) {
      return c.fail();
    }
    certificate_text = std::string_view(start, static_cast<std::size_t>(c.position() - start));
    return true;
  };
  // The answer object itself need not be canonical: only the certificate is hashed.
  const bool ok = for_each_member(c, false, [&](std::string_view key) {
    if (is_key(key, "application_number")) {
      if (have_app) return c.fail();
      have_app = c.string(application_number);
      return have_app;
    }
    if (is_key(key, "certificate")) {
      if (have_cert) return c.fail();
      return have_cert = certificate_of();
    }
    if (is_key(key, "digest")) {
      if (have_digest) return c.fail();
      return have_digest = str(out.digest_printed);
    }
    return c.skip_value(false);
  });
  if (!ok || !have_app || !have_digest || !have_cert) return false;
  cert.application_number.assign(application_number);
  text = {application_number, certificate_text};
  return true;
}

void check_digest_strict(const answer_text& text, decoded_answer& out) {
  // Canonical text hashes as it stands: the bytes equal canonical_json of the parsed value.
  const sha256_digest computed = sha256({text.application_number, "\n", text.certificate});
  out.digest_valid = printed_digest_matches(out.digest_printed, computed);
  // decode_answer's digest_computed is the hex of `computed`; when valid, that is the printed one.
  out.digest_computed = out.digest_valid ? out.digest_printed : to_hex(computed);
}

}  // namespace detail

decoded_answer decode_answer_text(std::string_view body_json, bool keep_body, bool compute_digest) {
  {
    decoded_answer out;
    strict_json_cursor c(body_json);
    detail::answer_text text;
    if (detail::decode_answer_strict(c, out, text) && c.at_end()) {
      if (compute_digest) detail::check_digest_strict(text, out);
      if (keep_body) out.body_json.assign(body_json);
      return out;
    }
  }
  if (!json_depth_within(body_json, max_answer_depth)) {
    return malformed_answer(fmt::format("the answer nests deeper than {} levels", max_answer_depth),
                            std::string(body_json));
  }
  json body = json::parse(body_json, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded())
    return malformed_answer("the answer is not JSON", std::string(body_json));
  decoded_answer out = decode_answer(body, keep_body);
  if (!compute_digest) out.digest_valid = true;
  return out;
}

json decoded_answer::evidence() const {
  if (!body.is_null() || body_json.empty()) return body;
  if (!json_depth_within(body_json, max_history_line_depth)) return body_json;
  return json::parse(body_json, nullptr, /*allow_exceptions=*/false);
}

decoded_answer malformed_answer(std::string reason, std::string body_text) {
  decoded_answer out;
  out.malformed = std::move(reason);
  out.body = std::move(body_text);
  return out;
}

// A rendered value (a vendor's one-string name or address, resident_model.hpp) is held in the
// first part with the others empty: its text is that string alone.
std::string to_text(const population::person_name& n) {
  if (n.given_kanji.empty() && n.given_kana.empty()) {
    return n.family_kana.empty() ? n.family_kanji
                                 : fmt::format("{} ({})", n.family_kanji, n.family_kana);
  }
  return fmt::format("{} {} ({} {})", n.family_kanji, n.given_kanji, n.family_kana, n.given_kana);
}

std::string to_text(const population::address& a) {
  if (a.postal_code.empty() && a.prefecture.empty() && a.city.empty() && a.town.empty() &&
      a.banchi.empty()) {
    return a.building;
  }
  return fmt::format("〒{} {}{}{}{} {}", a.postal_code, a.prefecture, a.city, a.town, a.banchi,
                     a.building);
}

std::string to_text(const population::tax_record& t) {
  return fmt::format("FY{} income {} taxable {} municipal {} prefectural {}", t.fiscal_year,
                     t.income, t.taxable_income, t.municipal_tax, t.prefectural_tax);
}

}  // namespace kofu::verify
