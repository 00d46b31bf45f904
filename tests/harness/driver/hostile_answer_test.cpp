// End-to-end (issue 15 item 2): the real `kofu run` against a hostile target of ours on
// 127.0.0.1 that answers JSON nested 100,000 and 20,000 deep and bodies above the answer limit.
// kofu must survive, judge every such answer MALFORMED with the reason, keep the history and the
// report small, and `kofu verify` must agree.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "kofu/history/reader.hpp"
#include "test_server.hpp"
#include "test_support.hpp"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

std::string nested_objects(std::size_t depth) {
  std::string out;
  for (std::size_t i = 0; i < depth; ++i) out += R"({"a":)";
  out += "1";
  out += std::string(depth, '}');
  return out;
}

TEST(HostileAnswerTest, DeepAndHugeAnswersAreMalformedAndReportsStayBounded) {
  if (!fs::exists(kofu::test::kofu_binary())) GTEST_SKIP() << "kofu not built";
  constexpr std::size_t huge = std::size_t{6} << 20;  // above the default 4 MiB limit
  std::atomic<int> issued{0};
  kofu::test::test_server server([&](const kofu::test::seen_request& r) {
    if (r.target == "/version") return kofu::test::test_answer{200, nested_arrays(100000)};
    if (r.target != "/v1/issue") return kofu::test::test_answer{200, "{}"};
    switch (issued++ % 3) {
      case 0:
        return kofu::test::test_answer{200, nested_arrays(100000)};
      case 1:
        return kofu::test::test_answer{200, nested_objects(20000)};
      default:
        return kofu::test::test_answer{200, R"({"x":")" + std::string(huge, 'a') + R"("})"};
    }
  });
  kofu::test::temp_dir dir;
  json scenario = {{"name", "hostile"},
                   {"target", {{"kind", "urls"}, {"urls", {server.url()}}}},
                   {"population", {{"residents", 40}, {"seed", 3}}},
                   {"load", {{"workers", 1}, {"connections", 2}, {"timeout_ms", 5000}}},
                   {"phases", {{{"duration_s", 1.0}, {"rate", 12}}}},
                   {"updates", {{"rate", 0}}},
                   {"history", {{"flush_ms", 100}}}};
  kofu::test::write_file(dir / "s.json", scenario.dump());
  const auto r =
      kofu::test::run_command({kofu::test::kofu_binary(), "run", (dir / "s.json").string(), "--out",
                               (dir / "out").string(), "--quiet"},
                              std::chrono::seconds(120));
  // 1: findings (MALFORMED). Not 2 (bad input) and not a signal (128 + n).
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  ASSERT_GE(issued.load(), 6);

  const fs::path out = dir / "out";
  const auto report_size = fs::file_size(out / "report.json");
  const auto history_size = fs::file_size(out / "history.jsonl");
  EXPECT_LT(report_size, std::uintmax_t{4} << 20) << "report.json grows with the answers";
  EXPECT_LT(history_size, std::uintmax_t{1} << 20) << "history.jsonl keeps whole answers";
  const json report = json::parse(kofu::test::read_file(out / "report.json"));
  const int answered = report["answered"];
  EXPECT_GE(answered, 6);
  EXPECT_EQ(report["findings_by_kind"]["MALFORMED"], answered);
  int deep = 0, large = 0;
  for (const auto& f : report["findings"]) {
    if (f["kind"] != "MALFORMED") continue;
    const std::string detail = f["evidence"]["detail"];
    if (detail.find("nests deeper than 64 levels") != std::string::npos) ++deep;
    if (detail.find("above the limit of 4194304") != std::string::npos) {
      ++large;
      const json& answer = f["evidence"]["answer"];
      EXPECT_EQ(answer["size"], huge + 8) << answer.dump();
      EXPECT_EQ(answer["sha256"].get<std::string>().size(), 64u);
      EXPECT_LE(answer["prefix"].get<std::string>().size(), 1024u);
    }
  }
  EXPECT_GT(deep, 0) << report["findings"].dump().substr(0, 2000);
  EXPECT_GT(large, 0);

  // The history says what was withheld; `kofu verify` reads it and agrees.
  auto reader = kofu::history::reader::open(out);
  ASSERT_TRUE(reader);
  int withheld = 0;
  while (auto rec = reader->next()) {
    ASSERT_TRUE(rec) << rec.error().message;
    if (!*rec) break;
    const json& e = (*rec)->event;
    if (e["type"] == "complete" && e.contains("body_withheld")) {
      ++withheld;
      EXPECT_TRUE(e["body_withheld"].contains("sha256"));
      EXPECT_TRUE(e["body_withheld"].contains("size"));
    }
  }
  EXPECT_EQ(withheld, answered);
  const auto v = kofu::test::run_command({kofu::test::kofu_binary(), "verify", out.string()},
                                         std::chrono::seconds(60));
  EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
  const json again = json::parse(kofu::test::read_file(out / "report.json"));
  EXPECT_EQ(again["findings_by_kind"], report["findings_by_kind"]);
  EXPECT_EQ(again["history_integrity"]["status"], "intact");
}

}  // namespace
