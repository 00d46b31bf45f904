// manifest.json: every artifact's size and SHA-256, a signature with Ed25519 or ECDSA P-256
// keys made at test time, and check_manifest catching a one-byte change in any artifact, a
// missing or added one, a wrong key, a tampered signature and an unsigned manifest.

#include "kofu/reports/manifest.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

#include "key_fixture.hpp"
#include "kofu/common/sha256.hpp"
#include "kofu/reports/artifacts.hpp"
#include "report_fixture.hpp"
#include "test_support.hpp"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using kofu::reports::check_manifest;

// A run folder with every report written by write_all, plus a history and run.json.
void make_run_folder(const fs::path& dir, const std::optional<fs::path>& key = {}) {
  kofu::test::write_file(dir / "history.jsonl", "{\"type\":\"header\"}\n{\"type\":\"footer\"}\n");
  kofu::test::write_file(dir / "run.json", "{\"end_reason\":\"completed\"}\n");
  auto written = kofu::reports::write_all(dir, kofu::test::failing_report(), {key});
  ASSERT_TRUE(written) << written.error().message;
}

bool mentions(const kofu::reports::manifest_check& c, const std::string& part) {
  return std::any_of(c.changes.begin(), c.changes.end(),
                     [&](const std::string& line) { return line.find(part) != std::string::npos; });
}

TEST(ManifestTest, ListsEveryArtifactWithItsSizeAndHash) {
  kofu::test::temp_dir dir;
  make_run_folder(dir.path());
  const json m = json::parse(kofu::test::read_file(dir / "manifest.json"));
  EXPECT_EQ(m["format"], "kofu-manifest/1");
  EXPECT_FALSE(m.contains("signature"));
  std::vector<std::string> names;
  for (const auto& a : m["artifacts"]) {
    names.push_back(a["name"]);
    const std::string bytes = kofu::test::read_file(dir / a["name"].get<std::string>());
    EXPECT_EQ(a["size"], bytes.size());
    EXPECT_EQ(a["sha256"], kofu::sha256_hex(bytes));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"report.json", "junit.xml", "summary.md",
                                             "report.html", "history.jsonl", "run.json"}));
  const auto c = check_manifest(dir.path());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->unchanged());
  EXPECT_FALSE(c->signed_);
}

TEST(ManifestTest, OneByteChangedInAnyArtifactIsFound) {
  kofu::test::temp_dir dir;
  make_run_folder(dir.path());
  const json m = json::parse(kofu::test::read_file(dir / "manifest.json"));
  for (const auto& a : m["artifacts"]) {
    const fs::path path = dir / a["name"].get<std::string>();
    const std::string original = kofu::test::read_file(path);
    for (const std::size_t at : {std::size_t{0}, original.size() / 2, original.size() - 1}) {
      std::string changed = original;
      changed[at] = static_cast<char>(changed[at] ^ 0x01);
      kofu::test::write_file(path, changed);
      const auto c = check_manifest(dir.path());
      ASSERT_TRUE(c) << c.error().message;
      EXPECT_EQ(c->changes.size(), 1u) << path << " byte " << at;
      EXPECT_TRUE(mentions(*c, "changed: " + a["name"].get<std::string>())) << path;
    }
    kofu::test::write_file(path, original);
  }
  const auto c = check_manifest(dir.path());
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->unchanged());
}

TEST(ManifestTest, MissingAndAddedArtifactsAreChanges) {
  kofu::test::temp_dir dir;
  make_run_folder(dir.path());
  fs::remove(dir / "summary.md");
  kofu::test::write_file(dir / "kofu-mock.log", "listening on http://127.0.0.1:1\n");
  kofu::test::write_file(dir / "notes.txt", "not kofu's: ignored");
  const auto c = check_manifest(dir.path());
  ASSERT_TRUE(c);
  EXPECT_EQ(c->changes.size(), 2u);
  EXPECT_TRUE(mentions(*c, "missing: summary.md"));
  EXPECT_TRUE(mentions(*c, "added: kofu-mock.log"));
}

// Print data (issue 12): the PDF and the PNG pages a finding references are listed like the
// reports, and one deleted afterwards is missing; a reference outside print/ is not kofu's.
TEST(ManifestTest, ListsThePrintEvidenceFindingsReference) {
  kofu::test::temp_dir dir;
  fs::create_directory(dir / "print");
  kofu::test::write_file(dir / "print/ab12.pdf", "%PDF-1.7 the certificate");
  kofu::test::write_file(dir / "print/ab12-p2.png", "\x89PNG page 2");
  kofu::test::write_file(dir / "print/cd34.pdf", "%PDF-1.7 kept, no finding");
  kofu::test::write_file(dir / "outside.png", "not evidence");
  json report = kofu::test::failing_report();
  report["findings"][0]["evidence"]["print"] = {
      {"pdf", "print/ab12.pdf"}, {"pages", {{{"page", 2}, {"png", "print/ab12-p2.png"}}}}};
  report["findings"][1]["evidence"]["print"] = {
      {"pdf", "print/ab12.pdf"},
      {"pages", {{{"page", 1}, {"png", "print/../outside.png"}}, {{"page", 3}, {"error", "x"}}}}};
  report["findings"][2]["evidence"]["print"] = {{"pdf", nullptr}, {"sha256", "ef56"}};
  ASSERT_TRUE(kofu::reports::write_all(dir.path(), report, {}));
  EXPECT_EQ(kofu::reports::print_evidence_files(dir.path()),
            (std::vector<std::string>{"print/ab12-p2.png", "print/ab12.pdf"}));
  const json m = json::parse(kofu::test::read_file(dir / "manifest.json"));
  std::map<std::string, json> listed;
  for (const auto& a : m["artifacts"]) listed[a["name"].get<std::string>()] = a;
  for (const std::string name : {"print/ab12.pdf", "print/ab12-p2.png"}) {
    ASSERT_TRUE(listed.contains(name)) << name << " is not in the manifest";
    const std::string bytes = kofu::test::read_file(dir / name);
    EXPECT_EQ(listed[name]["size"], bytes.size()) << name;
    EXPECT_EQ(listed[name]["sha256"], kofu::sha256_hex(bytes)) << name;
  }
  EXPECT_FALSE(listed.contains("print/cd34.pdf"));
  EXPECT_FALSE(listed.contains("outside.png"));
  EXPECT_FALSE(listed.contains("print/../outside.png"));
  auto c = check_manifest(dir.path());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->unchanged());
  fs::remove(dir / "print/ab12-p2.png");
  c = check_manifest(dir.path());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->changes.size(), 1u);
  EXPECT_TRUE(mentions(*c, "missing: print/ab12-p2.png"));
}

TEST(ManifestTest, BadManifestOrKeyIsAnError) {
  kofu::test::temp_dir dir;
  EXPECT_FALSE(check_manifest(dir.path()));  // no manifest
  kofu::test::write_file(dir / "manifest.json", "{\"format\": \"kofu-manifest/1\"");
  EXPECT_FALSE(check_manifest(dir.path()));
  kofu::test::write_file(dir / "manifest.json",
                         R"({"format": "kofu-manifest/1", "artifacts": [{"name": 3}]})");
  const auto bad = check_manifest(dir.path());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("/artifacts/0"), std::string::npos) << bad.error().message;
  kofu::test::write_file(dir / "not-a-key.pem", "hello");
  EXPECT_FALSE(kofu::reports::signing_key::load(dir / "not-a-key.pem"));
  ASSERT_TRUE(kofu::test::make_key_pair("RSA", dir / "rsa.pem", dir / "rsa.pub"));
  const auto rsa = kofu::reports::signing_key::load(dir / "rsa.pem");
  ASSERT_FALSE(rsa);
  EXPECT_NE(rsa.error().message.find("Ed25519 or ECDSA P-256"), std::string::npos);
  // A key that cannot be used writes nothing.
  EXPECT_FALSE(
      kofu::reports::write_all(dir.path(), kofu::test::passing_report(), {dir / "rsa.pem"}));
  EXPECT_FALSE(fs::exists(dir / "junit.xml"));
}

class SignedManifestTest : public testing::TestWithParam<const char*> {};

TEST_P(SignedManifestTest, SignatureHoldsOnlyForTheUntouchedManifestAndItsKey) {
  kofu::test::temp_dir dir;
  ASSERT_TRUE(kofu::test::make_key_pair(GetParam(), dir / "key.pem", dir / "key.pub"));
  ASSERT_TRUE(kofu::test::make_key_pair(GetParam(), dir / "other.pem", dir / "other.pub"));
  const fs::path run = dir / "run";
  fs::create_directory(run);
  make_run_folder(run, dir / "key.pem");
  const json m = json::parse(kofu::test::read_file(run / "manifest.json"));
  ASSERT_TRUE(m.contains("signature"));
  EXPECT_EQ(m["signature"]["algorithm"],
            std::string(GetParam()) == "P-256" ? "ECDSA-P256-SHA256" : "Ed25519");
  const auto key = kofu::reports::signing_key::load(dir / "key.pem");
  ASSERT_TRUE(key);
  EXPECT_EQ(m["signature"]["public_key_sha256"], key->public_key_sha256());

  const auto own = check_manifest(run);
  ASSERT_TRUE(own);
  EXPECT_TRUE(own->unchanged());
  EXPECT_TRUE(own->signature_valid) << own->signature_note;
  const auto with_key = check_manifest(run, dir / "key.pub");
  ASSERT_TRUE(with_key);
  EXPECT_TRUE(with_key->signature_valid) << with_key->signature_note;

  // Another key: the files are unchanged, the signature is not that key's.
  const auto other = check_manifest(run, dir / "other.pub");
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->unchanged());
  EXPECT_FALSE(other->signature_valid);
  EXPECT_NE(other->signature_note.find("another key"), std::string::npos) << other->signature_note;

  // A tampered signature value (one bit).
  json tampered = m;
  std::string value = m["signature"]["value"];
  value[4] = value[4] == 'A' ? 'B' : 'A';
  tampered["signature"]["value"] = value;
  kofu::test::write_file(run / "manifest.json", tampered.dump(2));
  for (const auto& pub : {std::optional<fs::path>(), std::optional<fs::path>(dir / "key.pub")}) {
    const auto c = check_manifest(run, pub);
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->signature_valid) << c->signature_note;
  }

  // A manifest edited to vouch for a changed file: the hashes agree, the signature does not.
  std::string summary = kofu::test::read_file(run / "summary.md");
  summary[0] = '!';
  kofu::test::write_file(run / "summary.md", summary);
  json forged = m;
  for (auto& a : forged["artifacts"]) {
    if (a["name"] == "summary.md") a["sha256"] = kofu::sha256_hex(summary);
  }
  kofu::test::write_file(run / "manifest.json", forged.dump(2));
  const auto f = check_manifest(run, dir / "key.pub");
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->unchanged());
  EXPECT_FALSE(f->signature_valid) << f->signature_note;
  // Re-signed with another key and that key's public half swapped in: valid on its own word,
  // not against the key the user expects.
  const auto other_key = kofu::reports::signing_key::load(dir / "other.pem");
  ASSERT_TRUE(other_key);
  ASSERT_TRUE(kofu::reports::write_manifest(run, &*other_key));
  const auto swapped = check_manifest(run);
  ASSERT_TRUE(swapped);
  EXPECT_TRUE(swapped->signature_valid);
  const auto expected = check_manifest(run, dir / "key.pub");
  ASSERT_TRUE(expected);
  EXPECT_FALSE(expected->signature_valid);
}

TEST(ManifestTest, UnsignedManifestFailsWhenAKeyIsExpected) {
  kofu::test::temp_dir dir;
  ASSERT_TRUE(kofu::test::make_key_pair("ED25519", dir / "key.pem", dir / "key.pub"));
  const fs::path run = dir / "run";
  fs::create_directory(run);
  make_run_folder(run);
  const auto c = check_manifest(run, dir / "key.pub");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->unchanged());
  EXPECT_FALSE(c->signed_);
  EXPECT_FALSE(c->signature_valid);
  EXPECT_NE(c->signature_note.find("unsigned"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Keys, SignedManifestTest, testing::Values("ED25519", "P-256"));

}  // namespace
