#pragma once
// Hex SHA-256 through OpenSSL (kofu-mock's own; the harness has its own too).

#include <array>
#include <initializer_list>
#include <string_view>

namespace kofu::mock {

// Lower-case hex SHA-256 of the concatenation of `parts`, without concatenating them first.
// Uses one digest context per thread, set up once (OpenSSL 3 looks the algorithm up on every
// one-shot call otherwise). Safe from any thread.
std::array<char, 64> sha256_hex_of_parts(std::initializer_list<std::string_view> parts);

}  // namespace kofu::mock
