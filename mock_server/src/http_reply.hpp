#pragma once
// What an endpoint answers: status, body and content type. Endpoints build these; the session
// turns them into HTTP responses.

#include <cctype>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kofu::mock {

struct http_reply {
  unsigned status = 200;
  std::string body;
  std::string_view content_type = "application/json";  // a string literal (static storage)
};

// `{"error": code, "detail": detail}` with the given status (docs/protocol.md).
inline http_reply json_error(unsigned status, std::string_view code, std::string_view detail) {
  nlohmann::json j = {{"error", code}, {"detail", detail}};
  return {status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
          "application/json"};
}

// "application/json" with optional parameters (charset=utf-8), case-insensitive type.
inline bool is_json_content_type(std::string_view value) {
  const std::string_view kType = "application/json";
  if (value.size() < kType.size()) return false;
  for (std::size_t i = 0; i < kType.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kType[i]) return false;
  }
  const auto rest = value.substr(kType.size());
  return rest.empty() || rest.front() == ';' || rest.front() == ' ';
}

inline http_reply json_reply(unsigned status, const nlohmann::json& j) {
  return {status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
          "application/json"};
}

}  // namespace kofu::mock
