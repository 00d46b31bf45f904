#include "kofu/population/reader.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "kofu/common/json_depth.hpp"

namespace kofu::population {
namespace {

using json = nlohmann::json;

// Reads the fields of one record, remembering the first problem with its dotted path.
class field_reader {
 public:
  explicit field_reader(std::string_view where) : where_(where) {}

  const json* member(const json& object, const std::string& path, std::string_view name) {
    if (failed()) return nullptr;
    auto it = object.find(name);
    if (it == object.end()) {
      fail(path, "missing");
      return nullptr;
    }
    return &*it;
  }

  std::string string(const json& object, const std::string& prefix, std::string_view name,
                     bool non_empty = true) {
    const std::string path = join(prefix, name);
    const json* v = member(object, path, name);
    if (v == nullptr) return {};
    if (!v->is_string()) {
      fail(path, fmt::format("expected a string, found {}", v->type_name()));
      return {};
    }
    std::string s = v->get<std::string>();
    if (non_empty && s.empty()) fail(path, "must not be empty");
    return s;
  }

  std::int64_t integer(const json& object, const std::string& prefix, std::string_view name,
                       std::int64_t min, std::int64_t max) {
    const std::string path = join(prefix, name);
    const json* v = member(object, path, name);
    if (v == nullptr) return 0;
    if (!v->is_number_integer()) {
      fail(path, fmt::format("expected an integer, found {}", v->type_name()));
      return 0;
    }
    const auto value = v->get<std::int64_t>();
    if (value < min || value > max) {
      fail(path, fmt::format("{} is out of range [{}, {}]", value, min, max));
    }
    return value;
  }

  const json* object(const json& parent, const std::string& prefix, std::string_view name,
                     bool nullable = false) {
    const std::string path = join(prefix, name);
    const json* v = member(parent, path, name);
    if (v == nullptr) return nullptr;
    if (nullable && v->is_null()) return nullptr;
    if (!v->is_object()) {
      fail(path, fmt::format("expected an object{}, found {}", nullable ? " or null" : "",
                             v->type_name()));
      return nullptr;
    }
    return v;
  }

  template <class Enum, std::size_t N>
  Enum choice(const json& object, const std::string& prefix, std::string_view name,
              const std::array<std::pair<std::string_view, Enum>, N>& values) {
    const std::string path = join(prefix, name);
    const std::string s = string(object, prefix, name);
    if (failed()) return values[0].second;
    for (const auto& [text, value] : values) {
      if (s == text) return value;
    }
    std::string allowed;
    for (const auto& [text, value] : values)
      allowed += fmt::format("{}'{}'", allowed.empty() ? "" : ", ", text);
    fail(path, fmt::format("'{}' is not one of {}", s, allowed));
    return values[0].second;
  }

  // A string of exactly `length` ASCII characters from `alphabet`.
  void check_format(const std::string& path, const std::string& value, std::size_t length,
                    std::string_view alphabet, std::string_view what) {
    if (failed()) return;
    if (value.size() != length || value.find_first_not_of(alphabet) != std::string::npos) {
      fail(path, fmt::format("'{}' is not {}", value, what));
    }
  }

  void check_date(const std::string& path, const std::string& value) {
    if (failed()) return;
    const bool shape = value.size() == 10 && value[4] == '-' && value[7] == '-' &&
                       value.find_first_not_of("0123456789-") == std::string::npos;
    if (!shape) fail(path, fmt::format("'{}' is not a date YYYY-MM-DD", value));
  }

  void fail(const std::string& path, const std::string& what) {
    if (!error_)
      error_ =
          make_error(errc::invalid_field, fmt::format("{}: field '{}': {}", where_, path, what));
  }
  bool failed() const { return error_.has_value(); }
  const std::optional<error>& first_error() const { return error_; }

 private:
  static std::string join(const std::string& prefix, std::string_view name) {
    return prefix.empty() ? std::string(name) : prefix + "." + std::string(name);
  }
  std::string where_;
  std::optional<error> error_;
};

constexpr std::string_view digits = "0123456789";
constexpr std::string_view upper_hex = "0123456789ABCDEF";
constexpr std::string_view lower_hex = "0123456789abcdef";

const std::array<std::string_view, 18> known_fields{"resident_id",  "card_serial",
                                                    "mynumber",     "household_id",
                                                    "relationship", "name",
                                                    "birth_date",   "sex",
                                                    "address",      "moved_in_date",
                                                    "honseki",      "hittousha",
                                                    "koseki_id",    "koseki_relationship",
                                                    "seal",         "tax",
                                                    "status",       "version"};

}  // namespace

result<resident> parse_resident(std::string_view line, std::string_view where) {
  if (!json_depth_within(line, max_answer_depth)) {
    return make_error(errc::parse, fmt::format("{}: not valid JSON: nested deeper than {} levels",
                                               where, max_answer_depth));
  }
  json doc;
  try {
    doc = json::parse(line);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for "1E999"
    // nlohmann's message names the byte position; invalid UTF-8 and truncation land here.
    std::string what = e.what();
    if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    return make_error(errc::parse, fmt::format("{}: not valid JSON: {}", where, what));
  }
  if (!doc.is_object()) {
    return make_error(errc::parse,
                      fmt::format("{}: expected a JSON object, found {}", where, doc.type_name()));
  }
  for (const auto& item : doc.items()) {
    if (std::find(known_fields.begin(), known_fields.end(), item.key()) == known_fields.end()) {
      return make_error(errc::invalid_field,
                        fmt::format("{}: field '{}': unknown field", where, item.key()));
    }
  }

  field_reader f(where);
  resident r;
  r.resident_id = f.string(doc, "", "resident_id");
  f.check_format("resident_id", r.resident_id, 11, digits, "11 digits");
  r.card_serial = f.string(doc, "", "card_serial");
  f.check_format("card_serial", r.card_serial, 16, upper_hex, "16 upper-case hex digits");
  r.mynumber = f.string(doc, "", "mynumber");
  f.check_format("mynumber", r.mynumber, 12, digits, "12 digits");
  r.household_id = f.string(doc, "", "household_id");
  r.relationship = f.string(doc, "", "relationship");
  if (const json* name = f.object(doc, "", "name")) {
    r.name.family_kanji = f.string(*name, "name", "family_kanji");
    r.name.given_kanji = f.string(*name, "name", "given_kanji");
    r.name.family_kana = f.string(*name, "name", "family_kana");
    r.name.given_kana = f.string(*name, "name", "given_kana");
  }
  r.birth_date = f.string(doc, "", "birth_date");
  f.check_date("birth_date", r.birth_date);
  r.sex = f.choice(doc, "", "sex",
                   std::array<std::pair<std::string_view, sex>, 2>{
                       {{"male", sex::male}, {"female", sex::female}}});
  if (const json* a = f.object(doc, "", "address")) {
    r.address.postal_code = f.string(*a, "address", "postal_code");
    r.address.prefecture = f.string(*a, "address", "prefecture");
    r.address.city = f.string(*a, "address", "city");
    r.address.town = f.string(*a, "address", "town");
    r.address.banchi = f.string(*a, "address", "banchi");
    r.address.building = f.string(*a, "address", "building");
    r.address.token = f.string(*a, "address", "token");
    if (!f.failed() && !r.address.building.ends_with(r.address.token)) {
      f.fail("address.building", fmt::format("'{}' does not end with the token '{}'",
                                             r.address.building, r.address.token));
    }
  }
  r.moved_in_date = f.string(doc, "", "moved_in_date");
  f.check_date("moved_in_date", r.moved_in_date);
  r.honseki = f.string(doc, "", "honseki");
  r.hittousha = f.string(doc, "", "hittousha");
  r.koseki_id = f.string(doc, "", "koseki_id");
  r.koseki_relationship = f.string(doc, "", "koseki_relationship");
  if (const json* s = f.object(doc, "", "seal", /*nullable=*/true)) {
    seal_registration seal;
    seal.registration_number = f.string(*s, "seal", "registration_number");
    seal.status = f.choice(
        *s, "seal", "status",
        std::array<std::pair<std::string_view, seal_status>, 2>{
            {{"registered", seal_status::registered}, {"cancelled", seal_status::cancelled}}});
    seal.image_png_base64 = f.string(*s, "seal", "image_png_base64");
    seal.image_sha256 = f.string(*s, "seal", "image_sha256");
    f.check_format("seal.image_sha256", seal.image_sha256, 64, lower_hex,
                   "a lower-case hex SHA-256");
    r.seal = std::move(seal);
  }
  if (const json* t = f.object(doc, "", "tax")) {
    constexpr std::int64_t max_yen = 1'000'000'000'000;
    r.tax.fiscal_year = static_cast<std::int32_t>(f.integer(*t, "tax", "fiscal_year", 1900, 2200));
    r.tax.income = f.integer(*t, "tax", "income", 0, max_yen);
    r.tax.taxable_income = f.integer(*t, "tax", "taxable_income", 0, max_yen);
    r.tax.municipal_tax = f.integer(*t, "tax", "municipal_tax", 0, max_yen);
    r.tax.prefectural_tax = f.integer(*t, "tax", "prefectural_tax", 0, max_yen);
  }
  r.status =
      f.choice(doc, "", "status",
               std::array<std::pair<std::string_view, resident_status>, 2>{
                   {{"active", resident_status::active}, {"removed", resident_status::removed}}});
  r.version = static_cast<std::uint32_t>(f.integer(doc, "", "version", 1, 0xFFFFFFFFLL));
  if (f.failed()) return *f.first_error();
  return r;
}

result<reader> reader::open(const std::filesystem::path& path) {
  auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*in) return make_error(errc::io, fmt::format("{}: cannot open for reading", path.string()));
  reader r;
  r.path_ = path;
  r.in_ = std::move(in);
  return r;
}

result<std::optional<resident>> reader::next() {
  for (;;) {
    if (!std::getline(*in_, buffer_)) {
      if (in_->bad()) return make_error(errc::io, fmt::format("{}: read failed", path_.string()));
      return std::optional<resident>{};
    }
    ++line_;
    if (buffer_.empty()) {
      return make_error(errc::parse, fmt::format("{}:{}: empty line", path_.string(), line_));
    }
    auto parsed = parse_resident(buffer_, fmt::format("{}:{}", path_.string(), line_));
    if (!parsed) return parsed.error();
    return std::optional<resident>(std::move(*parsed));
  }
}

result<std::vector<resident>> load_file(const std::filesystem::path& path) {
  auto opened = reader::open(path);
  if (!opened) return opened.error();
  reader& in = *opened;
  std::vector<resident> residents;
  std::unordered_map<std::string, std::uint64_t> resident_ids, card_serials, mynumbers;
  std::unordered_map<std::string, std::string> household_token;  // household -> token
  std::unordered_map<std::string, std::string> token_household;  // token -> household
  std::unordered_map<std::string, int> heads;
  auto where = [&] { return fmt::format("{}:{}", path.string(), in.line_number()); };
  auto unique = [&](std::unordered_map<std::string, std::uint64_t>& seen, const std::string& value,
                    std::string_view field) -> std::optional<error> {
    auto [it, inserted] = seen.emplace(value, in.line_number());
    if (inserted) return std::nullopt;
    return make_error(errc::duplicate, fmt::format("{}: field '{}': '{}' already used on line {}",
                                                   where(), field, value, it->second));
  };
  for (;;) {
    auto next = in.next();
    if (!next) return next.error();
    if (!next->has_value()) break;
    resident& r = **next;
    if (auto e = unique(resident_ids, r.resident_id, "resident_id")) return *e;
    if (auto e = unique(card_serials, r.card_serial, "card_serial")) return *e;
    if (auto e = unique(mynumbers, r.mynumber, "mynumber")) return *e;
    auto [h, new_household] = household_token.emplace(r.household_id, r.address.token);
    if (!new_household && h->second != r.address.token) {
      return make_error(
          errc::invalid_field,
          fmt::format("{}: field 'address.token': '{}' differs from its household {}'s '{}'",
                      where(), r.address.token, r.household_id, h->second));
    }
    auto [t, new_token] = token_household.emplace(r.address.token, r.household_id);
    if (!new_token && t->second != r.household_id) {
      return make_error(errc::duplicate,
                        fmt::format("{}: field 'address.token': '{}' is already household {}'s",
                                    where(), r.address.token, t->second));
    }
    if (r.relationship == "世帯主" && ++heads[r.household_id] > 1) {
      return make_error(errc::invalid_field,
                        fmt::format("{}: field 'relationship': household {} has two 世帯主",
                                    where(), r.household_id));
    }
    residents.push_back(std::move(r));
  }
  for (const auto& [household, token] : household_token) {
    if (heads[household] != 1) {
      return make_error(errc::invalid_field,
                        fmt::format("{}: household {} has no 世帯主", path.string(), household));
    }
  }
  // Nothing could be requested of an empty population: a run on it would prove nothing.
  if (residents.empty()) {
    return make_error(
        errc::invalid_field,
        fmt::format("{}: no residents (an empty population cannot be tested)", path.string()));
  }
  return residents;
}

}  // namespace kofu::population
