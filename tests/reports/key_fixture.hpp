#pragma once
// Signing keys made at test time with OpenSSL (never committed), written as PEM files.

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace kofu::test {

// Writes a fresh key of `algorithm` ("ED25519", "P-256" or "RSA") to PRIVATE and its public
// half to PUBLIC. Returns false on any OpenSSL failure.
inline bool make_key_pair(const std::string& algorithm, const std::filesystem::path& private_pem,
                          const std::filesystem::path& public_pem) {
  EVP_PKEY* key = algorithm == "P-256" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                  : algorithm == "RSA" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                                       : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) return false;
  bool ok = false;
  if (FILE* f = std::fopen(private_pem.c_str(), "w")) {
    ok = PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    ok = std::fclose(f) == 0 && ok;
  }
  if (FILE* f = std::fopen(public_pem.c_str(), "w")) {
    ok = PEM_write_PUBKEY(f, key) == 1 && ok;
    ok = std::fclose(f) == 0 && ok;
  }
  EVP_PKEY_free(key);
  return ok;
}

}  // namespace kofu::test
