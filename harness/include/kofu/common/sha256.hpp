#pragma once
// SHA-256 through OpenSSL's EVP interface: one-shot and incremental. Hex is lower case.

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace kofu {

using sha256_digest = std::array<std::uint8_t, 32>;

// One-shot hashing reuses a per-thread context with the implementation fetched once (EVP_Digest
// looks it up on every call, which costs about as much as hashing a certificate). Thread-safe.
sha256_digest sha256(std::string_view bytes);
// SHA-256 of the concatenation of `parts`, without building it.
sha256_digest sha256(std::initializer_list<std::string_view> parts);
std::string sha256_hex(std::string_view bytes);
std::string to_hex(const sha256_digest& digest);

// Incremental hashing of a stream (a population file, a history). Not thread-safe.
class sha256_hasher {
 public:
  sha256_hasher();
  ~sha256_hasher();
  sha256_hasher(const sha256_hasher&) = delete;
  sha256_hasher& operator=(const sha256_hasher&) = delete;
  void update(std::string_view bytes);
  sha256_digest finish();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace kofu
