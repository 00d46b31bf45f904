#include "certificate_writer.hpp"

#include "canonical_json.hpp"
#include "issue_request.hpp"
#include "sha256.hpp"

namespace kofu::mock {
namespace {

// A JSON field of a record: its printed form when derived, else written from the field.
void append_field(std::string& out, const std::string& printed, const nlohmann::json& field) {
  if (printed.empty()) {
    canonical::append_value(out, field);
  } else {
    out += printed;
  }
}

// 氏名 of the household's 世帯主 as printed ("family given" in kanji), or empty without one.
void append_household_head(std::string& out, const registry& residents,
                           const std::string& household_id) {
  const auto head = residents.household_head(household_id);
  if (!head) {
    canonical::append_string(out, {});
  } else if (!head->printed.full_name_kanji.empty()) {
    out += head->printed.full_name_kanji;
  } else {
    canonical::append_string(out, head->full_name_kanji());
  }
}

// One entry of `persons`: identity columns from `id` (stage 2), print details from `d` (stage 3).
// Members in key order; which ones a type prints is the protocol's (docs/protocol.md).
void write_person(std::string& out, const certificate_content& c, std::size_t index,
                  const registry& residents) {
  const auto& id = *c.persons[index];
  const auto& d = *c.details[index];
  const bool juminhyo = c.type == kJuminhyo;
  const bool koseki_columns = c.type == kKosekiZenbu || c.type == kKosekiKojin;
  const bool address = juminhyo || c.type == kJuminhyoKisai || c.type == kKosekiFuhyo ||
                       c.type == kInkan || c.type == kKazei;
  const bool moved_in = juminhyo || c.type == kJuminhyoKisai || c.type == kKosekiFuhyo;
  const bool honseki = juminhyo && c.columns.honseki;

  canonical::object_writer person(out);
  if (address) append_field(person.key("address"), d.printed.address, d.address);
  canonical::append_string(person.key("birth_date"), id.birth_date);
  if (honseki) canonical::append_string(person.key("hittousha"), id.hittousha);
  if (honseki) canonical::append_string(person.key("honseki"), id.honseki);
  if (juminhyo) append_household_head(person.key("household_head"), residents, d.household_id);
  if (koseki_columns) {
    canonical::append_string(person.key("koseki_relationship"), id.koseki_relationship);
  }
  if (moved_in) canonical::append_string(person.key("moved_in_date"), d.moved_in_date);
  if (juminhyo && c.columns.mynumber) canonical::append_string(person.key("mynumber"), id.mynumber);
  append_field(person.key("name"), id.printed.name, id.name);
  const auto page = c.type == kKosekiZenbu ? index / 2 + 1 : 1;
  canonical::append_int(person.key("page"), static_cast<std::int64_t>(page));
  if (juminhyo && c.columns.zokugara) {
    canonical::append_string(person.key("relationship"), id.relationship);
  }
  canonical::append_string(person.key("resident_id"), id.resident_id);
  canonical::append_string(person.key("sex"), id.sex);
  canonical::append_int(person.key("source_version"), id.version);
  person.close();
}

}  // namespace

void write_certificate(std::string& out, const certificate_content& c, const registry& residents) {
  const bool koseki = c.type == kKosekiZenbu || c.type == kKosekiKojin || c.type == kKosekiFuhyo;
  canonical::object_writer certificate(out);
  canonical::append_string(certificate.key("issued_at"), c.issued_at);
  if (koseki) {
    const auto& head = *c.persons.front();
    canonical::object_writer entry(certificate.key("koseki"));
    canonical::append_string(entry.key("hittousha"), head.hittousha);
    canonical::append_string(entry.key("honseki"), head.honseki);
    canonical::append_string(entry.key("koseki_id"), c.koseki_id);
    entry.close();
  }
  certificate.key("persons") += '[';
  for (std::size_t i = 0; i < c.persons.size(); ++i) {
    if (i != 0) out += ',';
    write_person(out, c, i, residents);
  }
  out += ']';
  if (c.type == kInkan) {
    const auto& seal = c.details.front()->seal;
    canonical::object_writer entry(certificate.key("seal"));
    canonical::append_value(entry.key("image_png_base64"), seal.at("image_png_base64"));
    canonical::append_value(entry.key("image_sha256"), seal.at("image_sha256"));
    canonical::append_value(entry.key("registration_number"), seal.at("registration_number"));
    entry.close();
  }
  canonical::append_string(certificate.key("serial"), c.serial);
  canonical::append_int(certificate.key("source_version"), c.subject->version);
  {
    canonical::object_writer subject(certificate.key("subject"));
    canonical::append_string(subject.key("card_serial"), c.subject->card_serial);
    canonical::append_string(subject.key("resident_id"), c.subject->resident_id);
    subject.close();
  }
  if (c.type == kKazei) canonical::append_value(certificate.key("tax"), c.details.front()->tax);
  canonical::append_string(certificate.key("type"), kCertificateTypes[c.type]);
  certificate.close();
}

std::string write_answer(std::string_view application_number, const certificate_content& content,
                         const registry& residents) {
  // Built in a buffer that keeps its capacity on this thread, then copied out once at its size.
  thread_local std::string buffer;
  buffer.clear();
  buffer += R"({"application_number":)";
  canonical::append_string(buffer, application_number);
  buffer += R"(,"certificate":)";
  const auto certificate_at = buffer.size();
  write_certificate(buffer, content, residents);
  const auto digest = sha256_hex_of_parts(
      {application_number, "\n",
       std::string_view(buffer).substr(certificate_at, buffer.size() - certificate_at)});
  buffer += R"(,"digest":")";
  buffer.append(digest.data(), digest.size());
  buffer += R"("})";
  return buffer;
}

}  // namespace kofu::mock
