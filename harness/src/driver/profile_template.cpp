#include "kofu/driver/profile_template.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>

namespace kofu::driver {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool parse_int(std::string_view s, int& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::optional<std::string> to_wareki(std::string_view iso) {
  int y = 0, m = 0, d = 0;
  if (iso.size() != 10 || iso[4] != '-' || iso[7] != '-' || !parse_int(iso.substr(0, 4), y) ||
      !parse_int(iso.substr(5, 2), m) || !parse_int(iso.substr(8, 2), d) || m < 1 || m > 12 ||
      d < 1 || d > 31) {
    return std::nullopt;
  }
  struct era {
    const char* name;
    int y, m, d;  // first day
  };
  // Newest first: the first era that began on or before the date.
  static constexpr std::array<era, 5> eras{{{"令和", 2019, 5, 1},
                                            {"平成", 1989, 1, 8},
                                            {"昭和", 1926, 12, 25},
                                            {"大正", 1912, 7, 30},
                                            {"明治", 1868, 1, 25}}};
  const int key = y * 10000 + m * 100 + d;
  for (const era& e : eras) {
    if (key < e.y * 10000 + e.m * 100 + e.d) continue;
    const int year = y - e.y + 1;
    const std::string year_text = year == 1 ? std::string("元") : std::to_string(year);
    return fmt::format("{}{}年{}月{}日", e.name, year_text, m, d);
  }
  return std::nullopt;
}

text_template text_template::parse(const std::string& text, const std::string& where,
                                   const std::function<bool(std::string_view)>& known_path,
                                   const value_tables& tables, std::vector<std::string>& problems) {
  text_template t;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto open = text.find("{{", pos);
    if (open == std::string::npos) {
      t.parts_.push_back({text.substr(pos), {}, {}});
      break;
    }
    if (open > pos) t.parts_.push_back({text.substr(pos, open - pos), {}, {}});
    const auto close = text.find("}}", open + 2);
    if (close == std::string::npos) {
      problems.push_back(where + ": unclosed '{{'");
      return t;
    }
    std::string_view inner(text.data() + open + 2, close - open - 2);
    part p;
    std::size_t bar = inner.find('|');
    p.path = std::string(trim(inner.substr(0, bar)));
    if (p.path.empty() || !known_path(p.path)) {
      problems.push_back(fmt::format("{}: unknown field '{{{{{}}}}}'", where, p.path));
    }
    while (bar != std::string_view::npos) {
      const auto next = inner.find('|', bar + 1);
      const auto spec = trim(inner.substr(
          bar + 1, next == std::string_view::npos ? std::string_view::npos : next - bar - 1));
      filter f;
      const auto colon = spec.find(':');
      f.name = std::string(trim(spec.substr(0, colon)));
      if (colon != std::string_view::npos) f.argument = std::string(trim(spec.substr(colon + 1)));
      if (f.name == "table") {
        if (!tables.count(f.argument)) {
          problems.push_back(
              fmt::format("{}: no value table '{}' for '{{{{{}}}}}'", where, f.argument, p.path));
        }
      } else if (f.name != "wareki" && f.name != "fullwidth_space") {
        problems.push_back(fmt::format(
            "{}: unknown filter '{}' (wareki, fullwidth_space, table:NAME)", where, f.name));
      }
      p.filters.push_back(std::move(f));
      bar = next;
    }
    t.parts_.push_back(std::move(p));
    pos = close + 2;
  }
  return t;
}

std::string text_template::render(const resolver& resolve, const value_tables& tables,
                                  std::vector<std::string>* missing) const {
  std::string out;
  for (const part& p : parts_) {
    if (p.path.empty()) {
      out += p.literal;
      continue;
    }
    auto value = resolve(p.path);
    if (!value) {
      if (missing != nullptr) missing->push_back(p.path);
      continue;
    }
    std::string text = std::move(*value);
    for (const filter& f : p.filters) {
      if (f.name == "wareki") {
        // A value that is no ISO date stays as it is: the comparison then shows it.
        if (auto w = to_wareki(text)) text = std::move(*w);
      } else if (f.name == "fullwidth_space") {
        std::string wide;
        for (const char ch : text) {
          if (ch == ' ')
            wide += "\u3000";
          else
            wide += ch;
        }
        text = std::move(wide);
      } else if (f.name == "table") {
        const auto t = tables.find(f.argument);
        if (t != tables.end()) {
          const auto it = t->second.find(text);
          if (it != t->second.end()) text = it->second;
        }
      }
    }
    out += text;
  }
  return out;
}

std::optional<std::string> text_template::sole_path() const {
  if (parts_.size() == 1 && !parts_[0].path.empty() && parts_[0].filters.empty()) {
    return parts_[0].path;
  }
  return std::nullopt;
}

}  // namespace kofu::driver
