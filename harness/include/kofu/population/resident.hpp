#pragma once
// One resident of the synthetic population (docs/population.md is the file format).
// Plain values: copyable, no invariants beyond those the reader checks.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kofu::population {

enum class sex { male, female };
enum class resident_status { active, removed };    // removed: 転出・死亡等, never issuable
enum class seal_status { registered, cancelled };  // cancelled: never certified

std::string_view to_string(sex value);
std::string_view to_string(resident_status value);
std::string_view to_string(seal_status value);

struct person_name {
  std::string family_kanji;
  std::string given_kanji;
  std::string family_kana;
  std::string given_kana;

  // "family given" with one ASCII space, as 筆頭者 and 世帯主 are written in the file.
  std::string full_kanji() const { return family_kanji + ' ' + given_kanji; }
  friend bool operator==(const person_name&, const person_name&) = default;
};

struct address {
  std::string postal_code;
  std::string prefecture;
  std::string city;
  std::string town;
  std::string banchi;
  std::string building;  // always ends with `token`
  std::string token;     // unique per household and per move (DESIGN §3)
  friend bool operator==(const address&, const address&) = default;
};

struct seal_registration {
  std::string registration_number;
  seal_status status = seal_status::registered;
  std::string image_png_base64;
  std::string image_sha256;  // hex SHA-256 of the decoded PNG bytes
  friend bool operator==(const seal_registration&, const seal_registration&) = default;
};

struct tax_record {
  std::int32_t fiscal_year = 0;
  std::int64_t income = 0;           // yen
  std::int64_t taxable_income = 0;   // yen
  std::int64_t municipal_tax = 0;    // yen
  std::int64_t prefectural_tax = 0;  // yen
  friend bool operator==(const tax_record&, const tax_record&) = default;
};

struct resident {
  std::string resident_id;   // 住民票コード-like, 11 digits
  std::string card_serial;   // 16 upper-case hex digits
  std::string mynumber;      // 12 digits
  std::string household_id;  // 世帯
  std::string relationship;  // 続柄 (住民票): 世帯主, 妻, 夫, 子, 父, 母, 孫
  person_name name;
  std::string birth_date;  // YYYY-MM-DD
  population::sex sex = sex::male;
  population::address address;
  std::string moved_in_date;        // 住民となった年月日, YYYY-MM-DD
  std::string honseki;              // 本籍
  std::string hittousha;            // 筆頭者
  std::string koseki_id;            // 戸籍
  std::string koseki_relationship;  // 戸籍上の続柄
  std::optional<seal_registration> seal;
  tax_record tax;
  resident_status status = resident_status::active;
  std::uint32_t version = 1;
  friend bool operator==(const resident&, const resident&) = default;
};

}  // namespace kofu::population
