#include "kofu/reports/manifest.hpp"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "kofu/common/sha256.hpp"

namespace kofu::reports {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct pkey_free {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
struct md_ctx_free {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_free>;
struct bio_free {
  void operator()(BIO* b) const { BIO_free(b); }
};
using bio_ptr = std::unique_ptr<BIO, bio_free>;

constexpr const char* ed25519_name = "Ed25519";
constexpr const char* ecdsa_name = "ECDSA-P256-SHA256";

result<std::string> read_whole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(errc::io, fmt::format("{}: cannot read", path.string()));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return make_error(errc::io, fmt::format("{}: read failed", path.string()));
  return text;
}

// The algorithm a key signs with, or "" for a type kofu does not sign with.
std::string algorithm_of(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519")) return ed25519_name;
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    std::size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &length) == 1 &&
        std::string_view(group, length) == "prime256v1") {
      return ecdsa_name;
    }
  }
  return {};
}

// Ed25519 signs the message itself; ECDSA signs its SHA-256.
const EVP_MD* digest_for(const std::string& algorithm) {
  return algorithm == ecdsa_name ? EVP_sha256() : nullptr;
}

std::string public_der_sha256(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key, &der);
  if (length <= 0) return {};
  std::string hex = sha256_hex(
      std::string_view(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length)));
  OPENSSL_free(der);
  return hex;
}

std::string public_pem(EVP_PKEY* key) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) return {};
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return length > 0 ? std::string(data, static_cast<std::size_t>(length)) : std::string();
}

pkey_ptr read_public_pem(std::string_view pem) {
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return pkey_ptr(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t length = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --length;
  out.resize(length);
  return out;
}

bool verify_signature(EVP_PKEY* key, const std::string& algorithm, std::string_view bytes,
                      std::string_view signature) {
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, digest_for(algorithm), nullptr, key) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                          bytes.size()) == 1;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string short_hash(const std::string& hex) { return hex.substr(0, 16); }

}  // namespace

struct signing_key::impl {
  pkey_ptr key;
  std::string algorithm;
};

signing_key::signing_key(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
signing_key::~signing_key() = default;
signing_key::signing_key(signing_key&&) noexcept = default;
signing_key& signing_key::operator=(signing_key&&) noexcept = default;

result<signing_key> signing_key::load(const fs::path& pem) {
  auto text = read_whole(pem);
  if (!text) return text.error();
  bio_ptr bio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())));
  // No passphrase callback: an encrypted key fails here rather than prompting in a pipeline.
  pkey_ptr key(bio ? PEM_read_bio_PrivateKey(
                         bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr)
                   : nullptr);
  if (!key) {
    return make_error(errc::parse,
                      fmt::format("{}: not an unencrypted PEM private key", pem.string()));
  }
  std::string algorithm = algorithm_of(key.get());
  if (algorithm.empty()) {
    return make_error(errc::invalid_field,
                      fmt::format("{}: a {} key; kofu signs with Ed25519 or ECDSA P-256 keys only",
                                  pem.string(), EVP_PKEY_get0_type_name(key.get())));
  }
  auto p = std::make_unique<impl>();
  p->key = std::move(key);
  p->algorithm = std::move(algorithm);
  return signing_key(std::move(p));
}

std::string signing_key::algorithm() const { return impl_->algorithm; }
std::string signing_key::public_key_sha256() const { return public_der_sha256(impl_->key.get()); }
std::string signing_key::public_key_pem() const { return public_pem(impl_->key.get()); }

result<std::string> signing_key::sign(std::string_view bytes) const {
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  std::size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, digest_for(impl_->algorithm), nullptr,
                         impl_->key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, data, bytes.size()) != 1) {
    return make_error(errc::io, "signing the manifest failed (OpenSSL)");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                     bytes.size()) != 1) {
    return make_error(errc::io, "signing the manifest failed (OpenSSL)");
  }
  signature.resize(length);
  return signature;
}

std::string manifest_canonical_bytes(const json& manifest) {
  json unsigned_part = manifest;
  if (unsigned_part.is_object()) unsigned_part.erase("signature");
  return unsigned_part.dump(-1, ' ', false, json::error_handler_t::strict);
}

std::vector<std::string> print_evidence_files(const fs::path& dir) {
  std::ifstream in(dir / "report.json", std::ios::binary);
  if (!in) return {};
  const json report = json::parse(in, nullptr, false);
  std::set<std::string> files;
  // A path kofu writes: print/NAME, one level, no way out of the folder.
  auto take = [&](const json& value) {
    if (!value.is_string()) return;
    const std::string& name = value.get_ref<const std::string&>();
    if (!name.starts_with("print/")) return;
    const std::string_view rest = std::string_view(name).substr(6);
    if (!rest.empty() && rest.find_first_of("/\\") == std::string_view::npos && rest != "." &&
        rest != "..") {
      files.insert(name);
    }
  };
  const auto findings = report.is_object() ? report.find("findings") : report.end();
  if (findings == report.end() || !findings->is_array()) return {};
  for (const json& f : *findings) {
    const json* print = f.is_object() && f.contains("evidence") && f["evidence"].is_object() &&
                                f["evidence"].contains("print")
                            ? &f["evidence"]["print"]
                            : nullptr;
    if (print == nullptr || !print->is_object()) continue;
    if (const auto pdf = print->find("pdf"); pdf != print->end()) take(*pdf);
    const auto pages = print->find("pages");
    if (pages == print->end() || !pages->is_array()) continue;
    for (const json& page : *pages) {
      if (page.is_object() && page.contains("png")) take(page["png"]);
    }
  }
  return {files.begin(), files.end()};
}

result<json> make_manifest(const fs::path& dir, const signing_key* key) {
  json artifacts = json::array();
  std::vector<std::string> names(run_folder_artifacts.begin(), run_folder_artifacts.end());
  const auto evidence = print_evidence_files(dir);
  names.insert(names.end(), evidence.begin(), evidence.end());
  for (const std::string& name : names) {
    const fs::path path = dir / name;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) continue;
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(errc::io, fmt::format("{}: cannot read", path.string()));
    sha256_hasher hasher;
    std::uint64_t size = 0;
    std::vector<char> buffer(1 << 20);
    while (in) {
      in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      const auto got = static_cast<std::size_t>(in.gcount());
      hasher.update(std::string_view(buffer.data(), got));
      size += got;
    }
    if (in.bad()) return make_error(errc::io, fmt::format("{}: read failed", path.string()));
    artifacts.push_back({{"name", name}, {"size", size}, {"sha256", to_hex(hasher.finish())}});
  }
  json manifest = {{"format", "kofu-manifest/1"},
                   {"kofu_version", KOFU_VERSION},
                   {"created_at", utc_now()},
                   {"artifacts", artifacts}};
  if (key != nullptr) {
    auto signature = key->sign(manifest_canonical_bytes(manifest));
    if (!signature) return signature.error();
    manifest["signature"] = {{"algorithm", key->algorithm()},
                             {"public_key_sha256", key->public_key_sha256()},
                             {"public_key_pem", key->public_key_pem()},
                             {"value", base64(*signature)}};
  }
  return result<json>(boost::system::in_place_value, std::move(manifest));
}

result<void> write_manifest(const fs::path& dir, const signing_key* key) {
  auto manifest = make_manifest(dir, key);
  if (!manifest) return manifest.error();
  const fs::path path = dir / "manifest.json";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error(errc::io, fmt::format("{}: cannot write", path.string()));
  out << manifest->dump(2) << '\n';
  if (!out) return make_error(errc::io, fmt::format("{}: write failed", path.string()));
  return {};
}

namespace {

// The signature part of check_manifest.
void check_signature(const json& manifest, const fs::path& manifest_path, EVP_PKEY* expected,
                     const std::string& expected_fingerprint, manifest_check& out) {
  const auto it = manifest.find("signature");
  if (it == manifest.end() || it->is_null()) {
    out.signature_note = expected != nullptr
                             ? "signature: MISSING — the manifest is unsigned, a key was given"
                             : "signature: none (the manifest is unsigned)";
    return;
  }
  out.signed_ = true;
  const json& sig = *it;
  const auto field = [&sig](const char* key) {
    const auto f = sig.is_object() ? sig.find(key) : sig.end();
    return sig.is_object() && f != sig.end() && f->is_string() ? f->get<std::string>()
                                                               : std::string();
  };
  const std::string algorithm = field("algorithm");
  const std::string fingerprint = field("public_key_sha256");
  const auto value = unbase64(field("value"));
  if ((algorithm != ed25519_name && algorithm != ecdsa_name) || !value) {
    out.signature_note = fmt::format(
        "signature: BAD — {}: the signature's algorithm or value "
        "cannot be read",
        manifest_path.string());
    return;
  }
  pkey_ptr embedded;
  EVP_PKEY* key = expected;
  if (expected != nullptr) {
    if (fingerprint != expected_fingerprint) {
      out.signature_note =
          fmt::format("signature: BAD — signed by another key (SHA-256 {}), not the one given ({})",
                      fingerprint, expected_fingerprint);
      return;
    }
  } else {
    embedded = read_public_pem(field("public_key_pem"));
    if (!embedded || public_der_sha256(embedded.get()) != fingerprint) {
      out.signature_note =
          "signature: BAD — the public key in the manifest is unreadable or does not match its "
          "fingerprint";
      return;
    }
    key = embedded.get();
  }
  if (algorithm_of(key) != algorithm) {
    out.signature_note = fmt::format("signature: BAD — the key is not an {} key", algorithm);
    return;
  }
  if (!verify_signature(key, algorithm, manifest_canonical_bytes(manifest), *value)) {
    out.signature_note = fmt::format("signature: BAD — the manifest is not what key {} signed",
                                     short_hash(fingerprint));
    return;
  }
  out.signature_valid = true;
  out.signature_note =
      expected != nullptr
          ? fmt::format("signature: valid ({}, by the key given: SHA-256 {})", algorithm,
                        fingerprint)
          : fmt::format(
                "signature: valid ({}, key SHA-256 {}; give --pubkey to check whose key "
                "it is)",
                algorithm, fingerprint);
}

}  // namespace

result<manifest_check> check_manifest(const fs::path& dir, const std::optional<fs::path>& pubkey) {
  pkey_ptr expected;
  std::string expected_fingerprint;
  if (pubkey) {
    auto text = read_whole(*pubkey);
    if (!text) return text.error();
    expected = read_public_pem(*text);
    if (!expected) {
      return make_error(errc::parse, fmt::format("{}: not a PEM public key", pubkey->string()));
    }
    expected_fingerprint = public_der_sha256(expected.get());
  }
  const fs::path path = dir / "manifest.json";
  auto text = read_whole(path);
  if (!text) return text.error();
  const json manifest = json::parse(*text, nullptr, false);
  if (!manifest.is_object() || manifest.value("format", json()) != "kofu-manifest/1") {
    return make_error(errc::parse, fmt::format("{}: not a kofu manifest (format kofu-manifest/1)",
                                               path.string()));
  }
  const auto artifacts = manifest.find("artifacts");
  if (artifacts == manifest.end() || !artifacts->is_array()) {
    return make_error(errc::invalid_field,
                      fmt::format("{}: /artifacts: expected a list", path.string()));
  }
  auto now = make_manifest(dir);
  if (!now) return now.error();
  manifest_check out;
  std::set<std::string> listed;
  std::size_t index = 0;
  for (const json& a : *artifacts) {
    const auto name = a.is_object() ? a.find("name") : a.end();
    if (!a.is_object() || name == a.end() || !name->is_string() || !a.contains("sha256") ||
        !a["sha256"].is_string() || !a.contains("size") || !a["size"].is_number_unsigned()) {
      return make_error(
          errc::invalid_field,
          fmt::format("{}: /artifacts/{}: expected name, size and sha256", path.string(), index));
    }
    ++index;
    const std::string& file = name->get_ref<const std::string&>();
    listed.insert(file);
    const json* found = nullptr;
    for (const json& b : (*now)["artifacts"]) {
      if (b["name"] == file) found = &b;
    }
    if (found == nullptr) {
      out.changes.push_back(fmt::format("missing: {}", file));
      continue;
    }
    const auto size = a["size"].get<std::uint64_t>();
    const auto& hash = a["sha256"].get_ref<const std::string&>();
    const auto now_size = (*found)["size"].get<std::uint64_t>();
    const auto& now_hash = (*found)["sha256"].get_ref<const std::string&>();
    if (size != now_size || hash != now_hash) {
      out.changes.push_back(fmt::format("changed: {} (size {} → {}, SHA-256 {}… → {}…)", file, size,
                                        now_size, short_hash(hash), short_hash(now_hash)));
    }
  }
  for (const json& b : (*now)["artifacts"]) {
    const auto& file = b["name"].get_ref<const std::string&>();
    if (!listed.contains(file)) {
      out.changes.push_back(fmt::format("added: {} (not in the manifest)", file));
    }
  }
  check_signature(manifest, path, expected.get(), expected_fingerprint, out);
  return out;
}

}  // namespace kofu::reports
