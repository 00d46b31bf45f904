#pragma once
// Hex SHA-256 through OpenSSL (kofu-mock's own; the harness has its own too).

#include <string>
#include <string_view>

namespace kofu::mock {

// Lower-case hex SHA-256 of the bytes.
std::string sha256_hex(std::string_view bytes);

}  // namespace kofu::mock
