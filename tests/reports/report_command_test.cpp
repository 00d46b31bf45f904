// End-to-end: `kofu run --sign-key`, `kofu verify-report` and `kofu report` through the real
// executable on a real run folder (scenarios/demo.json, 2 s, against the embedded kofu-mock).

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "key_fixture.hpp"
#include "test_support.hpp"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using kofu::test::kofu_binary;
using kofu::test::run_command;

bool binaries_built() { return fs::exists(kofu_binary()) && fs::exists(kofu::test::mock_binary()); }

kofu::test::command_result verify_report(const fs::path& run, const std::string& pubkey = {}) {
  std::vector<std::string> argv{kofu_binary(), "verify-report", run.string()};
  if (!pubkey.empty()) argv.insert(argv.end(), {"--pubkey", pubkey});
  return run_command(argv, std::chrono::seconds(60));
}

void flip_byte(const fs::path& path, std::size_t at) {
  std::string bytes = kofu::test::read_file(path);
  ASSERT_LT(at, bytes.size());
  bytes[at] = static_cast<char>(bytes[at] ^ 0x20);
  kofu::test::write_file(path, bytes);
}

TEST(ReportCommandTest, SignedRunIsCheckedTamperedAndRewritten) {
  if (!binaries_built()) GTEST_SKIP() << "kofu or kofu-mock not built";
  kofu::test::temp_dir dir;
  ASSERT_TRUE(kofu::test::make_key_pair("ED25519", dir / "key.pem", dir / "key.pub"));
  ASSERT_TRUE(kofu::test::make_key_pair("P-256", dir / "other.pem", dir / "other.pub"));
  const fs::path run = dir / "run";
  const std::string demo = (kofu::test::source_dir() / "scenarios/demo.json").string();

  // A key kofu cannot sign with is refused before the load: no run folder at all.
  kofu::test::write_file(dir / "bad.pem", "not a key");
  const auto refused = run_command({kofu_binary(), "run", demo, "--out", run.string(), "--duration",
                                    "2", "--quiet", "--sign-key", (dir / "bad.pem").string()});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("bad.pem"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(run / "history.jsonl"));

  const auto r = run_command({kofu_binary(), "run", demo, "--out", run.string(), "--duration", "2",
                              "--quiet", "--sign-key", (dir / "key.pem").string()},
                             std::chrono::seconds(120));
  // A 2-second demo cannot reach its overlap thresholds: unknown (1); never bad input (2).
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.exit_code << r.out << r.err;
  for (const char* name : {"report.json", "junit.xml", "summary.md", "manifest.json"}) {
    EXPECT_TRUE(fs::exists(run / name)) << name;
  }
  const json report = json::parse(kofu::test::read_file(run / "report.json"));
  const json manifest = json::parse(kofu::test::read_file(run / "manifest.json"));
  ASSERT_TRUE(manifest.contains("signature"));
  EXPECT_EQ(manifest["signature"]["algorithm"], "Ed25519");
  EXPECT_NE(kofu::test::read_file(run / "summary.md").find("証明書 "), std::string::npos);
  EXPECT_NE(kofu::test::read_file(run / "junit.xml").find("<testsuite name=\"demo\""),
            std::string::npos);

  auto ok = verify_report(run, (dir / "key.pub").string());
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("unchanged"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("signature: valid"), std::string::npos) << ok.out;

  const auto wrong_key = verify_report(run, (dir / "other.pub").string());
  EXPECT_EQ(wrong_key.exit_code, 1) << wrong_key.out << wrong_key.err;
  EXPECT_NE(wrong_key.out.find("another key"), std::string::npos) << wrong_key.out;

  // One byte of the history and one of junit.xml: both named.
  flip_byte(run / "junit.xml", 100);
  flip_byte(run / "history.jsonl", 5000);
  const auto changed = verify_report(run);
  EXPECT_EQ(changed.exit_code, 1) << changed.out << changed.err;
  EXPECT_NE(changed.out.find("changed: junit.xml"), std::string::npos) << changed.out;
  EXPECT_NE(changed.out.find("changed: history.jsonl"), std::string::npos) << changed.out;
  flip_byte(run / "history.jsonl", 5000);  // back as it was

  // kofu report rewrites every report from the history and signs the new manifest.
  const auto rewritten = run_command(
      {kofu_binary(), "report", run.string(), "--sign-key", (dir / "other.pem").string()},
      std::chrono::seconds(120));
  EXPECT_EQ(rewritten.exit_code, r.exit_code) << rewritten.out << rewritten.err;
  const json again = json::parse(kofu::test::read_file(run / "report.json"));
  EXPECT_EQ(again["verdict"], report["verdict"]);
  EXPECT_EQ(again["findings_by_kind"], report["findings_by_kind"]);
  EXPECT_EQ(again["answered"], report["answered"]);
  ok = verify_report(run, (dir / "other.pub").string());
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_EQ(verify_report(run, (dir / "key.pub").string()).exit_code, 1);

  // Unsigned: fine on its own, a failure when a key is expected.
  const auto unsigned_run = run_command({kofu_binary(), "verify", run.string()});
  EXPECT_EQ(unsigned_run.exit_code, r.exit_code) << unsigned_run.out << unsigned_run.err;
  EXPECT_EQ(verify_report(run).exit_code, 0);
  const auto expected_key = verify_report(run, (dir / "key.pub").string());
  EXPECT_EQ(expected_key.exit_code, 1) << expected_key.out;
  EXPECT_NE(expected_key.out.find("unsigned"), std::string::npos) << expected_key.out;

  // Bad input: no manifest, an unreadable key, a missing argument.
  fs::remove(run / "manifest.json");
  EXPECT_EQ(verify_report(run).exit_code, 2);
  EXPECT_EQ(verify_report(dir.path(), (dir / "missing.pub").string()).exit_code, 2);
  EXPECT_EQ(run_command({kofu_binary(), "verify-report"}).exit_code, 2);
  EXPECT_EQ(run_command({kofu_binary(), "report", (dir / "nothing").string()}).exit_code, 2);
}

}  // namespace
