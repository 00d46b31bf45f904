#include "kofu/population/resident.hpp"

namespace kofu::population {

std::string_view to_string(sex value) { return value == sex::male ? "male" : "female"; }

std::string_view to_string(resident_status value) {
  return value == resident_status::active ? "active" : "removed";
}

std::string_view to_string(seal_status value) {
  return value == seal_status::registered ? "registered" : "cancelled";
}

}  // namespace kofu::population
