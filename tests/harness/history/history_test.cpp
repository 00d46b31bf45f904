#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "kofu/history/reader.hpp"
#include "kofu/history/writer.hpp"
#include "test_support.hpp"

namespace {

using kofu::history::line_buffer;
using kofu::history::reader;
using kofu::history::writer;
using nlohmann::json;

std::vector<json> read_all(const std::filesystem::path& path, bool* truncated = nullptr) {
  auto r = reader::open(path);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  std::vector<json> events;
  if (!r) return events;
  for (;;) {
    auto rec = r->next();
    EXPECT_TRUE(rec) << (rec ? "" : rec.error().message);
    if (!rec || !*rec) break;
    events.push_back((*rec)->event);
  }
  if (truncated) *truncated = r->truncated();
  return events;
}

class HistoryRoundTripTest : public ::testing::TestWithParam<bool> {};

TEST_P(HistoryRoundTripTest, ManyProducersKeepTheirOrder) {
  const bool compress = GetParam();
  kofu::test::temp_dir dir;
  const auto path = dir / (compress ? "history.jsonl.zst" : "history.jsonl");
  auto w = writer::open({path, compress, std::chrono::milliseconds(50)});
  ASSERT_TRUE(w) << w.error().message;
  constexpr int producers = 4;
  constexpr int per_producer = 5000;
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      line_buffer buffer(w->get());
      for (int i = 0; i < per_producer; ++i) {
        // Strings with Japanese text, an emoji-free supplementary character and an invalid byte.
        buffer.append(json{{"type", "invoke"},
                           {"worker", p},
                           {"seq", i},
                           {"name", "髙橋 𠮷"},
                           {"bad", std::string("a\xff"
                                               "b")}});
        if (i % 700 == 0) buffer.hand_off();
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE((*w)->close());

  bool truncated = true;
  const auto events = read_all(path, &truncated);
  EXPECT_FALSE(truncated);
  ASSERT_EQ(events.size(), static_cast<std::size_t>(producers * per_producer));
  std::map<int, int> next_seq;
  for (const auto& e : events) {
    const int worker = e.at("worker").get<int>();
    EXPECT_EQ(e.at("seq").get<int>(), next_seq[worker]) << "producer " << worker;
    next_seq[worker] = e.at("seq").get<int>() + 1;
    EXPECT_EQ(e.at("name").get<std::string>(), "髙橋 𠮷");
  }
  // Reading the folder finds the file.
  EXPECT_EQ(read_all(dir.path()).size(), events.size());
}

INSTANTIATE_TEST_SUITE_P(PlainAndZstd, HistoryRoundTripTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "Zstd" : "Plain";
                         });

TEST(HistoryReaderTest, CutLastLineIsTruncationNotError) {
  kofu::test::temp_dir dir;
  kofu::test::write_file(dir / "history.jsonl",
                         "{\"type\":\"header\"}\n{\"type\":\"invoke\",\"id\":1}\n{\"type\":\"comp");
  bool truncated = false;
  const auto events = read_all(dir / "history.jsonl", &truncated);
  EXPECT_EQ(events.size(), 2u);
  EXPECT_TRUE(truncated);
}

TEST(HistoryReaderTest, BrokenLineNamesFileAndLineAndGoesOn) {
  kofu::test::temp_dir dir;
  kofu::test::write_file(dir / "h.jsonl", "{\"a\":1}\nnot json\n{\"b\":2}\n");
  auto r = reader::open(dir / "h.jsonl");
  ASSERT_TRUE(r);
  auto first = r->next();
  ASSERT_TRUE(first && *first);
  auto second = r->next();
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("h.jsonl:2"), std::string::npos) << second.error().message;
  auto third = r->next();
  ASSERT_TRUE(third && *third);
  EXPECT_EQ((*third)->line, 3u);
  EXPECT_EQ((*third)->event.at("b"), 2);
}

TEST(HistoryWriterTest, RejectsSlowFlushAndUnwritablePath) {
  kofu::test::temp_dir dir;
  EXPECT_FALSE(writer::open({dir / "h.jsonl", false, std::chrono::milliseconds(5000)}));
  auto w = writer::open({dir / "missing" / "h.jsonl", false, std::chrono::milliseconds(100)});
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find("missing"), std::string::npos);
}

// The child half of the kill test: writes events from two threads until killed (bounded to 20 s),
// printing "appended N" after each hand-off of N events in all. Run only by the test below.
TEST(HistoryKillChild, DISABLED_WritesUntilKilled) {
  const char* out = std::getenv("KOFU_HISTORY_CHILD_OUT");
  ASSERT_NE(out, nullptr);
  const bool compress = std::string(out).ends_with(".zst");
  auto w = writer::open({out, compress, std::chrono::milliseconds(100)});
  ASSERT_TRUE(w);
  std::atomic<bool> stop{false};
  std::thread noise([&] {
    line_buffer buffer(w->get());
    for (int i = 0; !stop && i < 2'000'000; ++i) {
      buffer.append(json{{"type", "event"}, {"name", "noise"}, {"i", i}});
      if (i % 100 == 0) {
        buffer.hand_off();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    }
  });
  line_buffer buffer(w->get());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
    buffer.append(json{{"type", "invoke"}, {"seq", i}, {"padding", std::string(200, 'x')}});
    if (i % 50 == 49) {
      buffer.hand_off();
      std::printf("appended %d\n", i + 1);
      std::fflush(stdout);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  stop = true;
  noise.join();
}

class HistoryKillTest : public ::testing::TestWithParam<bool> {};

TEST_P(HistoryKillTest, SigkillLeavesOnlyWholeLinesAndLosesLessThanASecond) {
  kofu::test::temp_dir dir;
  const auto path = dir / (GetParam() ? "history.jsonl.zst" : "history.jsonl");
  ::setenv("KOFU_HISTORY_CHILD_OUT", path.c_str(), 1);
  kofu::test::child_process child({"/proc/self/exe",
                                   "--gtest_filter=HistoryKillChild.DISABLED_WritesUntilKilled",
                                   "--gtest_also_run_disabled_tests"});
  ::unsetenv("KOFU_HISTORY_CHILD_OUT");
  // Let it run a while, remember how much it had handed over, wait well over the flush bound
  // (100 ms here, 1 s by contract), then kill it mid-write.
  int handed_over = 0;
  for (int lines = 0; lines < 40; ++lines) {
    auto line = child.read_line(std::chrono::seconds(10));
    ASSERT_TRUE(line) << "child stopped early";
    if (line->rfind("appended ", 0) == 0) handed_over = std::stoi(line->substr(9));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  child.signal(SIGKILL);
  child.wait();

  bool truncated = false;
  const auto events = read_all(path, &truncated);  // every complete line parses (EXPECTs inside)
  int max_seq = -1;
  for (const auto& e : events) {
    if (e.at("type") == "invoke") {
      EXPECT_EQ(e.at("seq").get<int>(), max_seq + 1);
      max_seq = e.at("seq").get<int>();
    }
  }
  EXPECT_GE(max_seq + 1, handed_over) << "events handed over 1.5 s before the kill are missing";
}

INSTANTIATE_TEST_SUITE_P(PlainAndZstd, HistoryKillTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "Zstd" : "Plain";
                         });

}  // namespace
