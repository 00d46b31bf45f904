#include "sha256.hpp"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

namespace kofu::mock {
namespace {

struct md_deleter {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// The algorithm, fetched once for the process.
const EVP_MD* sha256_md() {
  static const std::unique_ptr<EVP_MD, md_deleter> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  return md ? md.get() : EVP_sha256();
}

}  // namespace

std::array<char, 64> sha256_hex_of_parts(std::initializer_list<std::string_view> parts) {
  thread_local const std::unique_ptr<EVP_MD_CTX, md_deleter> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), sha256_md(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 is not available");
  }
  for (const auto part : parts) EVP_DigestUpdate(ctx.get(), part.data(), part.size());
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), md.data(), &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::array<char, 64> out{};
  for (unsigned int i = 0; i < length && i < 32; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 0x0f];
  }
  return out;
}

}  // namespace kofu::mock
