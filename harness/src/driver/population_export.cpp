#include "kofu/driver/population_export.hpp"

#include <iconv.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "driver/vendor_answer.hpp"

namespace kofu::driver {
namespace {

using json = nlohmann::json;

// `render.FIELD`: the profile's rendering of FIELD, as the verifier expects it printed.
const std::set<std::string, std::less<>>& rendered_paths() {
  static const std::set<std::string, std::less<>> paths = {
      "render.name",      "render.birth_date",   "render.moved_in_date",
      "render.address",   "render.relationship", "render.honseki",
      "render.hittousha", "render.mynumber",     "render.koseki_relationship",
      "render.sex"};
  return paths;
}

// A rendered record (verify::record_rendering::render) holds each printed string in the first
// member of its struct; `field` is a key of rendered_paths() without "render.".
std::string rendered_value(const population::resident& rendered, std::string_view field) {
  if (field == "name") return rendered.name.family_kanji;
  if (field == "birth_date") return rendered.birth_date;
  if (field == "moved_in_date") return rendered.moved_in_date;
  if (field == "address") return rendered.address.building;
  if (field == "relationship") return rendered.relationship;
  if (field == "honseki") return rendered.honseki;
  if (field == "hittousha") return rendered.hittousha;
  if (field == "mynumber") return rendered.mynumber;
  return rendered.koseki_relationship;
}

// The code point at `pos` of valid UTF-8 and its length in bytes.
std::pair<char32_t, std::size_t> next_code_point(std::string_view s, std::size_t pos) {
  const auto b = static_cast<unsigned char>(s[pos]);
  const std::size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
  char32_t cp = n == 1 ? b : n == 2 ? (b & 0x1FU) : n == 3 ? (b & 0x0FU) : (b & 0x07U);
  for (std::size_t i = 1; i < n && pos + i < s.size(); ++i)
    cp = (cp << 6) | (static_cast<unsigned char>(s[pos + i]) & 0x3FU);
  return {cp, n};
}

bool is_ascii(std::string_view s) {
  for (const char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

std::string csv_field(const std::string& v) {
  if (v.find_first_of("\",\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (const char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string json_string(const std::string& v) {
  return json(v).dump(-1, ' ', false, json::error_handler_t::strict);
}

std::string code_point_text(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

std::string describe_character(const cp932_encoder::refusal& r) {
  std::string s = fmt::format("U+{:04X} '{}'", static_cast<std::uint32_t>(r.code_point),
                              code_point_text(r.code_point));
  if (r.read_back != 0) {
    s += fmt::format(" (CP932 would read it back as U+{:04X} '{}')",
                     static_cast<std::uint32_t>(r.read_back), code_point_text(r.read_back));
  }
  return s;
}

}  // namespace

// --- cp932_encoder -------------------------------------------------------------------------

cp932_encoder::cp932_encoder()
    : to_cp932_(iconv_open("CP932", "UTF-8")), from_cp932_(iconv_open("UTF-8", "CP932")) {
  if (to_cp932_ == reinterpret_cast<iconv_t>(-1) || from_cp932_ == reinterpret_cast<iconv_t>(-1)) {
    if (to_cp932_ != reinterpret_cast<iconv_t>(-1)) iconv_close(to_cp932_);
    if (from_cp932_ != reinterpret_cast<iconv_t>(-1)) iconv_close(from_cp932_);
    throw std::runtime_error("iconv offers no CP932 conversion on this system");
  }
}

cp932_encoder::~cp932_encoder() {
  if (to_cp932_ != reinterpret_cast<iconv_t>(-1)) iconv_close(to_cp932_);
  if (from_cp932_ != reinterpret_cast<iconv_t>(-1)) iconv_close(from_cp932_);
}

bool cp932_encoder::convert(void* cd, std::string_view in, std::string& out) {
  iconv(cd, nullptr, nullptr, nullptr, nullptr);  // initial state (CP932 has none; cheap)
  out.clear();
  char* in_ptr = const_cast<char*>(in.data());  // iconv's signature; it does not write there
  std::size_t in_left = in.size();
  char buffer[512];
  while (in_left > 0) {
    char* out_ptr = buffer;
    std::size_t out_left = sizeof buffer;
    const std::size_t rc = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
    out.append(buffer, static_cast<std::size_t>(out_ptr - buffer));
    if (rc == static_cast<std::size_t>(-1) && errno != E2BIG) return false;
  }
  return true;
}

bool cp932_encoder::round_trips(std::string_view utf8, std::string& encoded) {
  // Encoding alone is not enough: glibc writes U+301C as 0x8160, which reads back as U+FF5E.
  return convert(to_cp932_, utf8, encoded) && convert(from_cp932_, encoded, scratch_) &&
         scratch_ == utf8;
}

bool cp932_encoder::encode(std::string_view utf8, std::string& out, std::vector<refusal>& refused) {
  if (is_ascii(utf8)) {  // CP932 holds ASCII as it is (0x5C is U+005C both ways)
    out += utf8;
    return true;
  }
  std::string encoded;
  if (round_trips(utf8, encoded)) {
    out += encoded;
    return true;
  }
  // Character by character, to name every character refused.
  bool ok = true;
  for (std::size_t pos = 0; pos < utf8.size();) {
    const auto [cp, length] = next_code_point(utf8, pos);
    const auto one = utf8.substr(pos, length);
    pos += length;
    if (round_trips(one, encoded)) {
      out += encoded;
      continue;
    }
    ok = false;
    refusal r{cp, 0};
    if (convert(to_cp932_, one, encoded) && convert(from_cp932_, encoded, scratch_) &&
        !scratch_.empty())
      r.read_back = next_code_point(scratch_, 0).first;
    refused.push_back(r);
  }
  return ok;
}

// --- population_export ---------------------------------------------------------------------

population_export population_export::parse(
    const json& section, const value_tables& issue_tables,
    std::shared_ptr<const verify::record_rendering> rendering, std::vector<std::string>& problems) {
  population_export e;
  e.rendering_ = std::move(rendering);
  e.tables_ = issue_tables;
  const std::string at = "/export";
  if (!section.is_object()) {
    problems.push_back(at + ": expected an object");
    return e;
  }
  static const std::set<std::string> keys = {"description", "format", "encoding",
                                             "header",      "values", "columns"};
  for (const auto& [k, v] : section.items()) {
    if (!keys.count(k)) problems.push_back(fmt::format("{}/{}: unknown key", at, k));
  }
  if (!section.contains("format")) {
    problems.push_back(at + ": missing 'format' (csv or jsonl)");
  } else if (const json& f = section.at("format"); f == "csv" || f == "jsonl") {
    e.format_ = f == "csv" ? file_format::csv : file_format::jsonl;
  } else {
    problems.push_back(
        fmt::format("{}/format: {} is not offered (csv, jsonl)", at, f.dump(-1, ' ', false)));
  }
  if (section.contains("encoding")) {
    if (const json& c = section.at("encoding"); c == "utf-8" || c == "cp932") {
      e.encoding_ = c == "utf-8" ? text_encoding::utf8 : text_encoding::cp932;
    } else {
      problems.push_back(
          fmt::format("{}/encoding: {} is not offered (utf-8, cp932)", at, c.dump(-1, ' ', false)));
    }
  }
  e.header_ = e.format_ == file_format::csv;
  if (section.contains("header")) {
    if (!section.at("header").is_boolean()) {
      problems.push_back(at + "/header: expected true or false");
    } else if (e.format_ == file_format::jsonl && section.at("header") == true) {
      problems.push_back(at + "/header: JSON Lines have no header row");
    } else {
      e.header_ = section.at("header").get<bool>();
    }
  }
  if (section.contains("values") && !section.at("values").is_object())
    problems.push_back(at + "/values: expected an object");
  if (section.contains("values") && section.at("values").is_object()) {
    for (const auto& [table, entries] : section.at("values").items()) {
      if (!entries.is_object()) {
        problems.push_back(fmt::format("{}/values/{}: expected an object", at, table));
        continue;
      }
      auto& target = e.tables_[table];
      target.clear();  // the section's table replaces /issue/values' of the same name
      for (const auto& [from, to] : entries.items()) {
        if (to.is_string())
          target[from] = to.get<std::string>();
        else
          problems.push_back(fmt::format("{}/values/{}/{}: expected a string", at, table, from));
      }
    }
  }
  const auto known = [&e](std::string_view path) {
    return detail::known_record_path(path) ||
           (e.rendering_ != nullptr && rendered_paths().count(path) != 0);
  };
  std::optional<cp932_encoder> cp932;
  if (e.encoding_ == text_encoding::cp932) cp932.emplace();
  const json* columns = section.contains("columns") ? &section.at("columns") : nullptr;
  if (columns == nullptr || !columns->is_array() || columns->empty()) {
    problems.push_back(at + "/columns: expected a non-empty array of {\"name\", \"value\"}");
    return e;
  }
  for (std::size_t i = 0; i < columns->size(); ++i) {
    const json& c = (*columns)[i];
    const std::string where = fmt::format("{}/columns/{}", at, i);
    if (!c.is_object()) {
      problems.push_back(where + ": expected {\"name\": \"…\", \"value\": \"…\"}");
      continue;
    }
    for (const auto& [k, v] : c.items()) {
      if (k != "name" && k != "value")
        problems.push_back(fmt::format("{}/{}: unknown key", where, k));
    }
    if (!c.contains("name") || !c["name"].is_string() ||
        c["name"].get_ref<const std::string&>().empty()) {
      problems.push_back(where + "/name: expected a non-empty string");
      continue;
    }
    if (!c.contains("value") || !c["value"].is_string()) {
      problems.push_back(where + "/value: expected a template string");
      continue;
    }
    const std::string name = c["name"].get<std::string>();
    for (std::size_t j = 0; j < e.names_.size(); ++j) {
      if (e.names_[j] == name)
        problems.push_back(fmt::format("{}/name: '{}' is already a column's name", where, name));
    }
    if (cp932) {
      std::string ignored;
      std::vector<cp932_encoder::refusal> refused;
      if (!cp932->encode(name, ignored, refused)) {
        for (const auto& r : refused)
          problems.push_back(
              fmt::format("{}/name: {} cannot be written in CP932", where, describe_character(r)));
      }
    }
    e.names_.push_back(name);
    e.templates_.push_back(text_template::parse(c["value"].get<std::string>(), where + "/value",
                                                known, e.tables_, problems));
  }
  return e;
}

std::vector<std::string> population_export::values(const population::resident& r) const {
  std::vector<std::string> out;
  out.reserve(templates_.size());
  std::optional<population::resident> rendered;  // rendered once, when a column asks for it
  const auto resolve = [&](std::string_view path) -> std::optional<std::string> {
    if (!path.starts_with("render.")) return detail::record_value(r, path);
    if (rendering_ == nullptr) return std::nullopt;
    if (path == "render.sex") return rendering_->sex(r.sex);
    if (!rendered) rendered = rendering_->render(r);
    return rendered_value(*rendered, path.substr(7));
  };
  for (const auto& t : templates_) out.push_back(t.render(resolve, tables_));
  return out;
}

std::string population_export::header_line() const {
  if (format_ != file_format::csv || !header_) return {};
  return record_line(names_);
}

std::string population_export::record_line(const std::vector<std::string>& values) const {
  std::string line;
  if (format_ == file_format::csv) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i > 0) line += ',';
      line += csv_field(values[i]);
    }
    line += "\r\n";
    return line;
  }
  line += '{';
  for (std::size_t i = 0; i < values.size() && i < names_.size(); ++i) {
    if (i > 0) line += ',';
    line += json_string(names_[i]);
    line += ':';
    line += json_string(values[i]);
  }
  line += "}\n";
  return line;
}

// --- writing -------------------------------------------------------------------------------

std::string describe(const export_refusal& r) {
  return fmt::format("line {}, column {}, resident {}: {}", r.line, r.column, r.resident_id,
                     describe_character(r.character));
}

result<export_summary> write_population_export(const population_export& spec,
                                               const resident_source& source,
                                               const std::filesystem::path& out) {
  // Beside `out` (same file system: the rename is atomic), removed unless renamed.
  const auto temporary =
      out.parent_path() / fmt::format(".{}.kofu-export-{}", out.filename().string(), ::getpid());
  struct remover {
    std::filesystem::path path;
    bool keep = false;
    ~remover() {
      std::error_code ignored;
      if (!keep) std::filesystem::remove(path, ignored);
    }
  } guard{temporary};
  std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
  if (!file) return make_error(errc::io, fmt::format("{}: cannot open for writing", out.string()));

  export_summary summary;
  std::optional<cp932_encoder> cp932;
  if (spec.encoding() == population_export::text_encoding::cp932) cp932.emplace();
  std::string encoded;
  std::vector<cp932_encoder::refusal> refused;
  // Encodes and writes one line; false when a character was refused (then nothing is written).
  const auto write = [&](const std::string& text) {
    if (!cp932) {
      file << text;
      summary.bytes += text.size();
      return true;
    }
    encoded.clear();
    refused.clear();
    if (!cp932->encode(text, encoded, refused)) return false;
    file << encoded;
    summary.bytes += encoded.size();
    return true;
  };

  std::uint64_t line = 0;
  if (spec.header()) {
    ++line;
    if (!write(spec.header_line())) {  // names are checked at load; kept for safety
      for (const auto& r : refused) summary.refusals.push_back({line, "(header)", "-", r});
    }
  }
  std::string unused;
  while (true) {
    auto next = source();
    if (!next) return next.error();
    if (!*next) break;
    const population::resident& r = **next;
    ++line;
    ++summary.residents;
    const auto values = spec.values(r);
    const std::string text = spec.record_line(values);
    if (summary.refusals.empty() && write(text)) continue;
    if (!cp932) continue;
    // Refused (or refusals found before: nothing more is written, every one is still listed).
    for (std::size_t i = 0; i < values.size(); ++i) {
      refused.clear();
      unused.clear();
      if (cp932->encode(values[i], unused, refused)) continue;
      for (const auto& c : refused)
        summary.refusals.push_back({line, spec.column_names()[i], r.resident_id, c});
    }
  }
  if (!summary.refusals.empty()) return summary;
  file.close();
  if (!file) return make_error(errc::io, fmt::format("{}: write failed", out.string()));
  std::error_code ec;
  std::filesystem::rename(temporary, out, ec);
  if (ec)
    return make_error(errc::io, fmt::format("{}: cannot write: {}", out.string(), ec.message()));
  guard.keep = true;
  return summary;
}

}  // namespace kofu::driver
