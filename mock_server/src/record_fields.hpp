#pragma once
// Validation of the structured fields of a resident record, shared by the population loader and
// by the change endpoints (a reflected change replaces these fields whole). Each returns an empty
// string when valid, else "field 'path': reason" with `path` prefixed by the caller's path.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kofu::mock::fields {

std::string check_string(const nlohmann::json& j, std::string_view path);
std::string check_name(const nlohmann::json& j, std::string_view path);
std::string check_address(const nlohmann::json& j, std::string_view path);
std::string check_seal(const nlohmann::json& j, std::string_view path);  // object or null
std::string check_tax(const nlohmann::json& j, std::string_view path);

}  // namespace kofu::mock::fields
