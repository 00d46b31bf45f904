#include "kofu/driver/jq_expression.hpp"

extern "C" {
#include <jq.h>
#include <jv.h>
}

#include <cctype>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

namespace kofu::driver {
namespace {

void collect_error(void* data, jv message) {
  auto* out = static_cast<std::string*>(data);
  if (jv_get_kind(message) == JV_KIND_STRING) {
    if (!out->empty()) *out += "; ";
    *out += jv_string_value(message);
  }
  jv_free(message);
}

// This thread's compiled programs; torn down with the thread.
class thread_states {
 public:
  ~thread_states() {
    for (auto& [program, state] : states_) jq_teardown(&state);
  }
  jq_state* get(const std::string& program) {
    auto it = states_.find(program);
    if (it != states_.end()) return it->second;
    jq_state* state = jq_init();
    if (state == nullptr) return nullptr;
    std::string ignored;
    jq_set_error_cb(state, collect_error, &ignored);
    const bool ok = jq_compile(state, program.c_str()) != 0;
    jq_set_error_cb(state, nullptr, nullptr);
    if (!ok) {
      jq_teardown(&state);
      return nullptr;
    }
    states_.emplace(program, state);
    return state;
  }

 private:
  std::unordered_map<std::string, jq_state*> states_;
};

// Names a profile's jq program may not use (docs/decisions.md, "jq programs are loop-free"):
// jq has no time limit, so whatever can run without end or reach outside the answer is refused
// at load. Loops and recursion: def, reduce, foreach, label, while, until, repeat, recurse, range,
// and jq's internal helpers (names starting with '_', e.g. _stredit under sub and gsub);
// sub and gsub themselves (jq 1.6 loops forever on a regex that matches the empty string);
// input, environment, modules and halting.
bool refused_name(std::string_view name) {
  static constexpr std::string_view names =
      " def reduce foreach label while until repeat recurse recurse_down range combinations sub"
      " gsub env $ENV input inputs debug stderr input_filename input_line_number halt halt_error"
      " import include modulemeta get_search_list ";
  if (name.front() == '_' || name.substr(0, 2) == "$_") return true;
  return names.find(" " + std::string(name) + " ") != std::string_view::npos;
}

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// The first refused name the program's code uses (outside string literals' text, but inside
// their interpolations; a name right after '.' is a field, not a call), or "".
std::string refused_name_in(const std::string& program) {
  // One entry per nesting: -1 in a string literal, else the parentheses open in this code.
  std::vector<int> modes{0};
  for (std::size_t i = 0; i < program.size(); ++i) {
    const char c = program[i];
    if (modes.back() < 0) {  // in a string literal
      if (c == '\\' && i + 1 < program.size()) {
        if (program[++i] == '(') modes.push_back(0);  // interpolation: code until its ')'
      } else if (c == '"') {
        modes.pop_back();
      }
      continue;
    }
    if (c == '"') {
      modes.push_back(-1);
    } else if (c == '#') {
      while (i + 1 < program.size() && program[i + 1] != '\n') ++i;
    } else if (c == '(') {
      ++modes.back();
    } else if (c == ')') {
      if (modes.back() == 0 && modes.size() > 1)
        modes.pop_back();  // the end of an interpolation
      else if (modes.back() > 0)
        --modes.back();
    } else if (word_char(c) || c == '$') {
      std::size_t end = i + 1;
      while (end < program.size() && word_char(program[end])) ++end;
      const std::string_view name(program.data() + i, end - i);
      const bool field = i > 0 && program[i - 1] == '.';
      const bool number = std::isdigit(static_cast<unsigned char>(c)) != 0;
      if (!field && !number && refused_name(name)) return std::string(name);
      i = end - 1;
    }
  }
  return "";
}

}  // namespace

std::optional<jq_expression> jq_expression::compile(const std::string& program,
                                                    std::string& error) {
  if (program.size() > max_program_bytes) {
    error = fmt::format("jq: the program is {} bytes, above the limit of {}", program.size(),
                        max_program_bytes);
    return std::nullopt;
  }
  if (const auto name = refused_name_in(program); !name.empty()) {
    error = fmt::format(
        "jq: '{}' is not allowed in a profile (a profile's jq programs must not loop, recurse or "
        "read anything but their input; docs/profiles.md)",
        name);
    return std::nullopt;
  }
  jq_state* state = jq_init();
  if (state == nullptr) {
    error = "jq could not start";
    return std::nullopt;
  }
  std::string messages;
  jq_set_error_cb(state, collect_error, &messages);
  const bool ok = jq_compile(state, program.c_str()) != 0;
  jq_teardown(&state);
  if (!ok) {
    error = messages.empty() ? std::string("jq: the program does not compile") : messages;
    return std::nullopt;
  }
  return jq_expression(program);
}

std::optional<nlohmann::json> jq_expression::first(const nlohmann::json& input) const {
  thread_local thread_states states;
  jq_state* state = states.get(program_);
  if (state == nullptr) return std::nullopt;
  const std::string text = input.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  jv value = jv_parse_sized(text.data(), static_cast<int>(text.size()));
  if (!jv_is_valid(value)) {
    jv_free(value);
    return std::nullopt;
  }
  jq_start(state, value, 0);
  jv result = jq_next(state);
  std::optional<nlohmann::json> out;
  if (jv_is_valid(result)) {
    jv dumped = jv_dump_string(result, 0);
    auto parsed = nlohmann::json::parse(jv_string_value(dumped), nullptr, false);
    jv_free(dumped);
    if (!parsed.is_discarded()) out = std::move(parsed);
  } else {
    jv_free(result);
  }
  // Drain the rest so that the state is ready for the next input.
  while (true) {
    jv rest = jq_next(state);
    const bool more = jv_is_valid(rest) != 0;
    jv_free(rest);
    if (!more) break;
  }
  return out;
}

}  // namespace kofu::driver
