#include "kofu/driver/jq_expression.hpp"

extern "C" {
#include <jq.h>
#include <jv.h>
}

#include <memory>
#include <unordered_map>

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

}  // namespace

std::optional<jq_expression> jq_expression::compile(const std::string& program,
                                                    std::string& error) {
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
