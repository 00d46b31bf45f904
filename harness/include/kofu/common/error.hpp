#pragma once
// Errors of kofu's domain code (scenario loading, population, history, reports): a code for
// programs and a message for people that names the file and the line or JSON path.
// Verification outcomes are never errors: they are findings.

#include <boost/system/result.hpp>

#include <string>
#include <system_error>
#include <utility>

namespace kofu {

enum class errc {
  io = 1,         // a file could not be opened, read or written
  parse,          // text that is not what the format says (JSON syntax, UTF-8, truncation)
  invalid_field,  // a field is missing, has the wrong type, or a value out of range
  duplicate,      // a value that must be unique occurs twice
  schema,         // a document does not validate against its JSON Schema
  usage,          // a command line or option combination that cannot work
};

const char* to_string(errc code);

struct error {
  errc code = errc::io;
  std::string message;  // "FILE:LINE: field 'address.token': expected a string"
};

// Lets boost::system::result<T, error>::value() throw with the message.
[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

template <class T>
using result = boost::system::result<T, error>;

inline error make_error(errc code, std::string message) { return error{code, std::move(message)}; }

}  // namespace kofu
