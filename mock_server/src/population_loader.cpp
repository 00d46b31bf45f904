#include "kofu/mock/population_loader.hpp"

#include <fmt/format.h>

#include <array>
#include <fstream>
#include <unordered_set>

#include "record_fields.hpp"

namespace kofu::mock {
namespace {

constexpr std::array<std::string_view, 18> kRecordKeys = {"resident_id",  "card_serial",
                                                          "mynumber",     "household_id",
                                                          "relationship", "name",
                                                          "birth_date",   "sex",
                                                          "address",      "moved_in_date",
                                                          "honseki",      "hittousha",
                                                          "koseki_id",    "koseki_relationship",
                                                          "seal",         "tax",
                                                          "status",       "version"};

constexpr std::array<std::string_view, 13> kStringKeys = {
    "resident_id",  "card_serial", "mynumber",  "household_id",
    "relationship", "birth_date",  "sex",       "moved_in_date",
    "honseki",      "hittousha",   "koseki_id", "koseki_relationship",
    "status"};

}  // namespace

std::string validate_record_json(const nlohmann::json& j) {
  if (!j.is_object()) return "record must be a JSON object";
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (auto k : kRecordKeys) known = known || it.key() == k;
    if (!known) return fmt::format("field '{}': unknown field", it.key());
  }
  for (auto k : kRecordKeys) {
    if (!j.contains(std::string(k))) return fmt::format("field '{}': missing", k);
  }
  for (auto k : kStringKeys) {
    auto err = fields::check_string(j[std::string(k)], k);
    if (!err.empty()) return err;
    if (j[std::string(k)].get_ref<const std::string&>().empty() && k != "koseki_relationship") {
      return fmt::format("field '{}': must not be empty", k);
    }
  }
  for (auto err :
       {fields::check_name(j["name"], "name"), fields::check_address(j["address"], "address"),
        fields::check_seal(j["seal"], "seal"), fields::check_tax(j["tax"], "tax")}) {
    if (!err.empty()) return err;
  }
  const auto& status = j["status"].get_ref<const std::string&>();
  if (status != "active" && status != "removed") {
    return "field 'status': must be 'active' or 'removed'";
  }
  if (!j["version"].is_number_integer() || j["version"].get<std::int64_t>() < 1) {
    return "field 'version': must be an integer >= 1";
  }
  return {};
}

resident_record record_from_json(const nlohmann::json& j) {
  resident_record r;
  r.resident_id = j["resident_id"].get<std::string>();
  r.card_serial = j["card_serial"].get<std::string>();
  r.mynumber = j["mynumber"].get<std::string>();
  r.household_id = j["household_id"].get<std::string>();
  r.relationship = j["relationship"].get<std::string>();
  r.name = j["name"];
  r.birth_date = j["birth_date"].get<std::string>();
  r.sex = j["sex"].get<std::string>();
  r.address = j["address"];
  r.moved_in_date = j["moved_in_date"].get<std::string>();
  r.honseki = j["honseki"].get<std::string>();
  r.hittousha = j["hittousha"].get<std::string>();
  r.koseki_id = j["koseki_id"].get<std::string>();
  r.koseki_relationship = j["koseki_relationship"].get<std::string>();
  r.seal = j["seal"];
  r.tax = j["tax"];
  r.status = j["status"].get<std::string>();
  r.version = j["version"].get<std::int64_t>();
  return r;
}

std::variant<std::vector<resident_record>, load_error> load_population(
    const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return load_error{fmt::format("{}: cannot open", file.string())};
  std::vector<resident_record> records;
  std::unordered_set<std::string> ids, cards;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) {
      return load_error{fmt::format("{}:{}: empty line", file.string(), line_no)};
    }
    // Parse errors (truncated lines, invalid UTF-8) come back as a discarded value, not a throw.
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      return load_error{fmt::format("{}:{}: not valid JSON (truncated line or invalid UTF-8)",
                                    file.string(), line_no)};
    }
    if (auto err = validate_record_json(j); !err.empty()) {
      return load_error{fmt::format("{}:{}: {}", file.string(), line_no, err)};
    }
    auto r = record_from_json(j);
    if (!ids.insert(r.resident_id).second) {
      return load_error{fmt::format("{}:{}: field 'resident_id': duplicate '{}'", file.string(),
                                    line_no, r.resident_id)};
    }
    if (!cards.insert(r.card_serial).second) {
      return load_error{fmt::format("{}:{}: field 'card_serial': duplicate '{}'", file.string(),
                                    line_no, r.card_serial)};
    }
    r.file_index = records.size();
    records.push_back(std::move(r));
  }
  if (records.empty()) return load_error{fmt::format("{}: no residents", file.string())};
  return records;
}

}  // namespace kofu::mock
