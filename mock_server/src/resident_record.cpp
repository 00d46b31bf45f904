#include "kofu/mock/resident_record.hpp"

#include "canonical_json.hpp"

namespace kofu::mock {

std::string resident_record::full_name_kanji() const {
  return name.at("family_kanji").get<std::string>() + " " +
         name.at("given_kanji").get<std::string>();
}

void resident_record::refresh_printed_forms() {
  printed = {};
  canonical::append_value(printed.name, name);
  canonical::append_value(printed.address, address);
  if (!name.is_object()) return;
  const auto family = name.find("family_kanji");
  const auto given = name.find("given_kanji");
  if (family != name.end() && family->is_string() && given != name.end() && given->is_string()) {
    canonical::append_string(printed.full_name_kanji, full_name_kanji());
  }
}

}  // namespace kofu::mock
