#include "kofu/common/sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace kofu {

struct sha256_hasher::impl {
  EVP_MD_CTX* ctx = nullptr;
};

sha256_hasher::sha256_hasher() : impl_(std::make_unique<impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  if (impl_->ctx == nullptr || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL: cannot initialise SHA-256");
  }
}

sha256_hasher::~sha256_hasher() { EVP_MD_CTX_free(impl_->ctx); }

void sha256_hasher::update(std::string_view bytes) {
  EVP_DigestUpdate(impl_->ctx, bytes.data(), bytes.size());
}

sha256_digest sha256_hasher::finish() {
  sha256_digest out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, out.data(), &len);
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
  return out;
}

namespace {

// The per-thread state of the one-shot functions. Should fetching fail (no default provider),
// the one-shot functions fall back to EVP_Digest, which then reports nothing either: the
// incremental hasher above throws in that case.
struct one_shot_context {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  one_shot_context() = default;
  one_shot_context(const one_shot_context&) = delete;
  one_shot_context& operator=(const one_shot_context&) = delete;
  ~one_shot_context() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
  }
};

bool hash_parts(std::initializer_list<std::string_view> parts, sha256_digest& out) {
  thread_local one_shot_context c;
  if (c.md == nullptr || c.ctx == nullptr || EVP_DigestInit_ex2(c.ctx, c.md, nullptr) != 1) {
    return false;
  }
  for (const std::string_view part : parts) {
    if (EVP_DigestUpdate(c.ctx, part.data(), part.size()) != 1) return false;
  }
  unsigned int len = 0;
  return EVP_DigestFinal_ex(c.ctx, out.data(), &len) == 1;
}

}  // namespace

sha256_digest sha256(std::string_view bytes) {
  sha256_digest out{};
  if (hash_parts({bytes}, out)) return out;
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

sha256_digest sha256(std::initializer_list<std::string_view> parts) {
  sha256_digest out{};
  if (hash_parts(parts, out)) return out;
  std::string text;
  for (const std::string_view part : parts) text.append(part);
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

std::string to_hex(const sha256_digest& digest) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex(digest.size() * 2, '0');
  for (std::size_t i = 0; i < digest.size(); ++i) {
    hex[2 * i] = digits[digest[i] >> 4];
    hex[2 * i + 1] = digits[digest[i] & 0xF];
  }
  return hex;
}

std::string sha256_hex(std::string_view bytes) { return to_hex(sha256(bytes)); }

}  // namespace kofu
