#pragma once
// Population hand-over (issue 11, DESIGN §5a): the synthetic population written in a vendor's
// import format, as a profile's optional `export` section declares it (docs/profiles.md):
//
//   "export": {"format": "csv" | "jsonl", "encoding": "utf-8" | "cp932", "header": true,
//              "values": {"seal_status": {"registered": "登録", …}},
//              "columns": [{"name": "氏名", "value": "{{name.family_kanji}}\u3000{{…}}"}, …]}
//
// Column values are text templates (profile_template.hpp) over the record's paths (those of the
// renderings, plus seal.*, tax.*, status, version) and `render.FIELD`, the profile's own rendering
// of FIELD (name, birth_date, moved_in_date, address, relationship, honseki, hittousha, mynumber,
// koseki_relationship, sex). Value tables: the section's `values`, then /issue/values.
//
// CSV is RFC 4180 (fields quoted when they hold '"', ',', CR or LF; CRLF line ends; a header row
// when `header`). JSON Lines: one object a line, keys the column names, every value a string, LF.
//
// CP932 never replaces a character: a character is written only when CP932 holds it and reads it
// back as the same code point (U+301C WAVE DASH is written by glibc as 0x8160, which reads back
// as U+FF5E: refused; docs/decisions.md). Every refused character is listed and nothing is written.
// Immutable after parsing; `values` may be called from several threads.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kofu/common/error.hpp"
#include "kofu/driver/profile_template.hpp"
#include "kofu/population/resident.hpp"
#include "kofu/verify/resident_model.hpp"

namespace kofu::driver {

class population_export {
 public:
  enum class file_format { csv, jsonl };
  enum class text_encoding { utf8, cp932 };

  // Parses /export. `issue_tables`: /issue/values (the section's `values` come first);
  // `rendering`: the profile's renderings (null: `render.*` paths are unknown). Problems are
  // appended, each named by its JSON path.
  static population_export parse(const nlohmann::json& section, const value_tables& issue_tables,
                                 std::shared_ptr<const verify::record_rendering> rendering,
                                 std::vector<std::string>& problems);

  file_format format() const { return format_; }
  text_encoding encoding() const { return encoding_; }
  bool header() const { return header_; }
  const std::vector<std::string>& column_names() const { return names_; }

  // The record's column values (UTF-8), in column order; an absent value (no seal) is "".
  std::vector<std::string> values(const population::resident& r) const;
  // A line of the file in UTF-8, with its line end: the header row (CSV with `header`), or a
  // record's values as `values` gives them.
  std::string header_line() const;
  std::string record_line(const std::vector<std::string>& values) const;

 private:
  file_format format_ = file_format::csv;
  text_encoding encoding_ = text_encoding::utf8;
  bool header_ = true;
  std::vector<std::string> names_;
  std::vector<text_template> templates_;
  value_tables tables_;
  std::shared_ptr<const verify::record_rendering> rendering_;
};

// CP932 through glibc's iconv, refusing rather than replacing. Not thread-safe (one per thread).
class cp932_encoder {
 public:
  cp932_encoder();  // throws std::runtime_error when iconv offers no CP932
  ~cp932_encoder();
  cp932_encoder(const cp932_encoder&) = delete;
  cp932_encoder& operator=(const cp932_encoder&) = delete;

  // A character `encode` refused: its code point and, when CP932 holds it as another
  // character, the code point it reads back as (0 when it cannot be written at all).
  struct refusal {
    char32_t code_point = 0;
    char32_t read_back = 0;
  };
  // `utf8` (valid UTF-8) in CP932, appended to `out`; false, with every refused character in
  // `refused` (in order, repeats included) and `out` unspecified, when any is refused.
  bool encode(std::string_view utf8, std::string& out, std::vector<refusal>& refused);

 private:
  // Converts all of `in`; false on any character the conversion refuses.
  bool convert(void* cd, std::string_view in, std::string& out);
  bool round_trips(std::string_view utf8, std::string& encoded);
  void* to_cp932_;
  void* from_cp932_;
  std::string scratch_;
};

// One character of the export that its encoding cannot hold.
struct export_refusal {
  std::uint64_t line = 0;  // line of the output file (the header row is line 1)
  std::string column;      // the column's name
  std::string resident_id;
  cp932_encoder::refusal character;
};

// "line L, column NAME, resident R: U+XXXXX 'c'" (and what CP932 would read back, if anything).
std::string describe(const export_refusal& r);

// The next resident, nullopt at the end, or an error (a bad line of a population file).
using resident_source = std::function<result<std::optional<population::resident>>()>;

struct export_summary {
  std::uint64_t residents = 0;
  std::uint64_t bytes = 0;
  std::vector<export_refusal> refusals;  // not empty: nothing was written
};

// Writes every resident of `source` to `out`, replacing it. The file appears only complete:
// written beside `out` under a temporary name and renamed at the end. When any character cannot
// be encoded, every such character of the population is listed in the summary and no file is
// written (`out` is left as it was). Errors: the source's, and I/O (naming the path).
result<export_summary> write_population_export(const population_export& spec,
                                               const resident_source& source,
                                               const std::filesystem::path& out);

}  // namespace kofu::driver
