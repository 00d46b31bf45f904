#include "record_fields.hpp"

#include <fmt/format.h>

#include <array>

namespace kofu::mock::fields {
namespace {

std::string field_error(std::string_view path, std::string_view reason) {
  return fmt::format("field '{}': {}", path, reason);
}

// Every key of `j` is one of `allowed`, and each of `allowed` is present as a string.
template <std::size_t N>
std::string check_string_object(const nlohmann::json& j, std::string_view path,
                                const std::array<std::string_view, N>& keys) {
  if (!j.is_object()) return field_error(path, "must be an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (auto k : keys) known = known || it.key() == k;
    if (!known) return field_error(fmt::format("{}.{}", path, it.key()), "unknown field");
  }
  for (auto k : keys) {
    auto it = j.find(std::string(k));
    if (it == j.end()) return field_error(fmt::format("{}.{}", path, k), "missing");
    if (!it->is_string()) return field_error(fmt::format("{}.{}", path, k), "must be a string");
  }
  return {};
}

}  // namespace

std::string check_string(const nlohmann::json& j, std::string_view path) {
  if (!j.is_string()) return field_error(path, "must be a string");
  return {};
}

std::string check_name(const nlohmann::json& j, std::string_view path) {
  static constexpr std::array<std::string_view, 4> kKeys = {"family_kanji", "given_kanji",
                                                            "family_kana", "given_kana"};
  return check_string_object(j, path, kKeys);
}

std::string check_address(const nlohmann::json& j, std::string_view path) {
  static constexpr std::array<std::string_view, 7> kKeys = {
      "postal_code", "prefecture", "city", "town", "banchi", "building", "token"};
  auto err = check_string_object(j, path, kKeys);
  if (!err.empty()) return err;
  if (j["token"].get_ref<const std::string&>().empty()) {
    return field_error(fmt::format("{}.token", path), "must not be empty");
  }
  return {};
}

std::string check_seal(const nlohmann::json& j, std::string_view path) {
  if (j.is_null()) return {};
  static constexpr std::array<std::string_view, 4> kKeys = {"registration_number", "status",
                                                            "image_png_base64", "image_sha256"};
  auto err = check_string_object(j, path, kKeys);
  if (!err.empty()) return err;
  const auto& status = j["status"].get_ref<const std::string&>();
  if (status != "registered" && status != "cancelled") {
    return field_error(fmt::format("{}.status", path), "must be 'registered' or 'cancelled'");
  }
  return {};
}

std::string check_tax(const nlohmann::json& j, std::string_view path) {
  if (!j.is_object()) return field_error(path, "must be an object");
  if (j.empty()) return field_error(path, "must not be empty");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it->is_number_integer()) {
      return field_error(fmt::format("{}.{}", path, it.key()), "must be an integer");
    }
  }
  return {};
}

}  // namespace kofu::mock::fields
