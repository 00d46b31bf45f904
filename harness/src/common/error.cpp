#include "kofu/common/error.hpp"

#include <stdexcept>

namespace kofu {

const char* to_string(errc code) {
  switch (code) {
    case errc::io:
      return "io";
    case errc::parse:
      return "parse";
    case errc::invalid_field:
      return "invalid_field";
    case errc::duplicate:
      return "duplicate";
    case errc::schema:
      return "schema";
    case errc::usage:
      return "usage";
  }
  return "unknown";
}

void throw_exception_from_error(const error& e, const boost::source_location&) {
  throw std::runtime_error(e.message);
}

}  // namespace kofu
