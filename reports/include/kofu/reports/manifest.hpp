#pragma once
// manifest.json (DESIGN §8): the size and SHA-256 of every artifact kofu wrote in a run folder,
// optionally signed (OpenSSL 3: Ed25519, or ECDSA P-256 with SHA-256), and its check
// (`kofu verify-report`).
//
// Format (docs/reports.md):
//   {"format": "kofu-manifest/1", "kofu_version": "…", "created_at": "…Z",
//    "artifacts": [{"name": "report.json", "size": 1234, "sha256": "…"}, …],
//    "signature": {"algorithm": "Ed25519" | "ECDSA-P256-SHA256", "public_key_sha256": "…",
//                  "public_key_pem": "…", "value": "BASE64"}}        (only when signed)
// The signature covers the manifest's canonical bytes: the object without its "signature" member,
// serialised compactly with sorted keys (nlohmann's dump(), UTF-8). The public key's fingerprint
// is the SHA-256 of its DER SubjectPublicKeyInfo (`openssl pkey -pubin -outform DER | sha256sum`).

#include <nlohmann/json.hpp>

#include <array>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kofu/common/error.hpp"

namespace kofu::reports {

// The files of a run folder kofu writes (what the manifest lists when present), in order.
// manifest.json itself is not among them.
inline constexpr std::array<std::string_view, 9> run_folder_artifacts = {
    "report.json",       "junit.xml", "summary.md",       "report.html",  "history.jsonl",
    "history.jsonl.zst", "run.json",  "population.jsonl", "kofu-mock.log"};

// The evidence files of print data (issue 12) that DIR/report.json's findings reference — each
// finding's `evidence.print.pdf` and `evidence.print.pages[].png` — as paths relative to DIR,
// sorted, without repeats. Only paths inside the folder's `print/` are taken (a reference
// elsewhere is not kofu's and is ignored); none when report.json is absent or does not parse.
std::vector<std::string> print_evidence_files(const std::filesystem::path& dir);

// A private key that signs manifests. Move-only; sign() is const and thread-safe.
class signing_key {
 public:
  // Reads a PEM private key (PKCS#8 or traditional, unencrypted). Errors (errc::io / parse /
  // invalid_field, naming the file): unreadable, not a key, or a type other than Ed25519 and EC
  // P-256.
  static result<signing_key> load(const std::filesystem::path& pem);
  ~signing_key();
  signing_key(signing_key&&) noexcept;
  signing_key& operator=(signing_key&&) noexcept;

  std::string algorithm() const;          // "Ed25519" or "ECDSA-P256-SHA256"
  std::string public_key_sha256() const;  // lower-case hex
  std::string public_key_pem() const;
  result<std::string> sign(std::string_view bytes) const;  // the raw signature

 private:
  struct impl;
  explicit signing_key(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

// The canonical bytes a signature covers (see above).
std::string manifest_canonical_bytes(const nlohmann::json& manifest);

// Builds the manifest of `dir` (the run_folder_artifacts present, then the print evidence files
// present) and signs it with `key` when given. Errors: a listed file that cannot be read.
result<nlohmann::json> make_manifest(const std::filesystem::path& dir,
                                     const signing_key* key = nullptr);
// make_manifest, written to DIR/manifest.json.
result<void> write_manifest(const std::filesystem::path& dir, const signing_key* key = nullptr);

// What `kofu verify-report` found.
struct manifest_check {
  std::vector<std::string> changes;  // one line each: "changed: junit.xml (…)", "missing: …", …
  bool signed_ = false;              // the manifest carries a signature
  bool signature_valid = false;      // …and it verifies (against `pubkey` when one was given)
  std::string signature_note;        // one line on the signature, for people
  bool unchanged() const { return changes.empty(); }
};
// Reads DIR/manifest.json and recomputes every hash: an artifact listed and missing, one whose
// size or SHA-256 differ, and a file of run_folder_artifacts or a print evidence file present but
// not listed are changes.
// The signature, when present, is checked against the key it names (integrity only) or, with
// `pubkey` (a PEM public key), against that key (authenticity; an unsigned manifest or one signed
// by another key is then not valid). Errors (exit 2): no manifest, a manifest that does not
// parse or lacks its fields, a public key that cannot be read.
result<manifest_check> check_manifest(const std::filesystem::path& dir,
                                      const std::optional<std::filesystem::path>& pubkey = {});

}  // namespace kofu::reports
