#pragma once
// One resident as kofu-mock keeps it: the fields of the population file (docs/population.md) plus
// the bookkeeping of reflected changes. Records are immutable once published in the registry:
// a change publishes a new record object, so a reader holding a snapshot never sees it move.

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace kofu::mock {

struct resident_record {
  std::string resident_id;
  std::string card_serial;
  std::string mynumber;
  std::string household_id;
  std::string relationship;  // 続柄 in the 住民票
  nlohmann::json name;       // {family_kanji, given_kanji, family_kana, given_kana}
  std::string birth_date;
  std::string sex;
  nlohmann::json address;     // the population's address object (with token)
  std::string moved_in_date;  // 住民となった年月日
  std::string honseki;
  std::string hittousha;
  std::string koseki_id;
  std::string koseki_relationship;
  nlohmann::json seal;  // object or null
  nlohmann::json tax;   // object
  std::string status;   // "active" | "removed"
  std::int64_t version = 1;

  // Bookkeeping, not printed.
  std::size_t file_index = 0;       // position in the population file (record order)
  std::int64_t last_change_id = 0;  // highest change_id accepted for this resident

  // What every certificate prints of the JSON fields above, as canonical JSON text (derived data,
  // so that issuance copies text instead of walking the documents). refresh_printed_forms()
  // rewrites it from the fields; the registry calls it for every record it holds and after every
  // field it changes. Empty strings mean "not derived": the certificate writer then prints from
  // the fields themselves.
  struct printed_forms {
    std::string name;             // the `name` object
    std::string address;          // the `address` object
    std::string full_name_kanji;  // full_name_kanji() as a JSON string (the 世帯主 column)
  };
  printed_forms printed;

  bool active() const { return status == "active"; }
  // 氏名 as "family given" in kanji (how 世帯主 and 筆頭者 are printed).
  std::string full_name_kanji() const;
  void refresh_printed_forms();
};

using resident_snapshot = std::shared_ptr<const resident_record>;

}  // namespace kofu::mock
