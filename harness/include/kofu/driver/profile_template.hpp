#pragma once
// Text templates of a vendor profile (DESIGN §5a): how an expected value is rendered in the
// vendor's representation, and how a request field is written. A template is text with
// placeholders "{{path}}" or "{{path|filter|filter:argument}}", where `path` names a value of the
// context (dotted: "name.family_kanji", "fields.address.postal_code") and filters transform its
// text in order:
//   wareki           ISO date YYYY-MM-DD → 和暦 "<era><year>年<month>月<day>日" (year 1 is 元)
//   fullwidth_space  every ASCII space → U+3000
//   table:NAME       the profile's value table NAME (reference value → vendor value)
// Parsed once at load (unknown filters and paths fail there, with the JSON path named); rendering
// is allocation-light and thread-safe.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kofu::driver {

// A value table: reference value → vendor value (a profile's `values`).
using value_tables = std::map<std::string, std::map<std::string, std::string>>;

class text_template {
 public:
  // The text of a context value by path; nullopt when the context has no such value.
  using resolver = std::function<std::optional<std::string>(std::string_view path)>;

  // Parses `text`; `known_path` says whether a path exists in the context the template will be
  // rendered in, `tables` which value tables exist. Problems are appended, named by `where`.
  static text_template parse(const std::string& text, const std::string& where,
                             const std::function<bool(std::string_view)>& known_path,
                             const value_tables& tables, std::vector<std::string>& problems);

  // Renders with the values `resolve` gives. A missing value renders as ""; `missing`, when
  // given, receives the paths that had none.
  std::string render(const resolver& resolve, const value_tables& tables,
                     std::vector<std::string>* missing = nullptr) const;

  // A template that is exactly one placeholder without filters: its path (typed substitution).
  std::optional<std::string> sole_path() const;
  bool empty() const { return parts_.empty(); }

 private:
  struct filter {
    std::string name;
    std::string argument;
  };
  struct part {
    std::string literal;  // when path is empty
    std::string path;
    std::vector<filter> filters;
  };
  std::vector<part> parts_;
};

// ISO date "YYYY-MM-DD" as 和暦 ("昭和53年3月14日", "令和元年5月1日"); nullopt when not an ISO date
// of the eras 明治 (from 1868-01-25) to 令和.
std::optional<std::string> to_wareki(std::string_view iso_date);

}  // namespace kofu::driver
