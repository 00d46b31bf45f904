#include "kofu/history/chain.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "kofu/common/json_depth.hpp"
#include "kofu/history/reader.hpp"
#include "kofu/history/writer.hpp"
#include "test_support.hpp"

namespace kofu::history {
namespace {

// Blocks of lines as the writer seals them: each block, then its chain line.
std::vector<std::string> sealed_lines(const std::vector<std::vector<std::string>>& blocks,
                                      bool seal_last = true) {
  chain_sealer sealer;
  std::vector<std::string> out;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    for (const auto& line : blocks[b]) {
      sealer.add(line + "\n");
      out.push_back(line);
    }
    if (b + 1 < blocks.size() || seal_last) out.push_back(sealer.seal());
  }
  return out;
}

chain_verifier verify(const std::vector<std::string>& lines) {
  chain_verifier v;
  for (std::size_t i = 0; i < lines.size(); ++i) (void)v.on_line(lines[i], i + 1);
  v.finish();
  return v;
}

const std::vector<std::vector<std::string>> blocks = {
    {R"({"type":"header"})", R"({"type":"invoke","id":1})"},
    {R"({"type":"complete","id":1,"body":{"name":"髙橋"}})"},
    {R"({"type":"invoke","id":2})", R"({"type":"complete","id":2})"},
};

TEST(ChainTest, SealedLinesVerify) {
  const auto lines = sealed_lines(blocks);
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_TRUE(is_chain_line(lines[2]));
  EXPECT_FALSE(is_chain_line(lines[0]));
  const auto v = verify(lines);
  EXPECT_TRUE(v.chained());
  EXPECT_EQ(v.sealed_blocks(), 3u);
  EXPECT_TRUE(v.broken().empty());
  EXPECT_FALSE(v.unsealed_tail());
  chain_sealer sealer;
  for (const auto& b : blocks) {
    for (const auto& l : b) sealer.add(l + "\n");
    (void)sealer.seal();
  }
  EXPECT_EQ(v.head(), sealer.head_hex());
}

TEST(ChainTest, EveryKindOfChangeBreaksOnlyItsBlock) {
  struct change_case {
    const char* name;
    std::function<void(std::vector<std::string>&)> change;
    std::uint64_t first_line, last_line;
  };
  const change_case cases[] = {
      {"valid JSON edit",
       [](auto& l) { l[3] = R"({"type":"complete","id":1,"body":{"name":"高橋"}})"; }, 4, 5},
      {"line inserted", [](auto& l) { l.insert(l.begin() + 1, "garbage"); }, 1, 4},
      {"line removed", [](auto& l) { l.erase(l.begin() + 5); }, 6, 7},
      {"block removed", [](auto& l) { l.erase(l.begin() + 3, l.begin() + 5); }, 4, 6},
      {"chain line edited",
       [](auto& l) {
         char& c = l[2][l[2].size() - 3];
         c = c == '0' ? '1' : '0';
       },
       1, 3},
  };
  for (const auto& c : cases) {
    auto lines = sealed_lines(blocks);
    c.change(lines);
    const auto v = verify(lines);
    ASSERT_EQ(v.broken().size(), 1u) << c.name;
    EXPECT_EQ(v.broken()[0].first_line, c.first_line) << c.name;
    EXPECT_EQ(v.broken()[0].last_line, c.last_line) << c.name << ": " << v.broken()[0].reason;
    EXPECT_FALSE(v.unsealed_tail()) << c.name;
  }
}

TEST(ChainTest, KilledRunLeavesAnUnsealedTail) {
  const auto v = verify(sealed_lines(blocks, false));
  EXPECT_TRUE(v.broken().empty());
  EXPECT_EQ(v.sealed_blocks(), 2u);
  ASSERT_TRUE(v.unsealed_tail());
  EXPECT_EQ(v.unsealed_tail()->first_line, 6u);
  EXPECT_EQ(v.unsealed_tail()->last_line, 7u);
  const auto none = verify({R"({"type":"header"})"});
  EXPECT_FALSE(none.chained());
  EXPECT_TRUE(none.unsealed_tail());
}

TEST(ChainTest, WriterSealsEveryFlushPlainAndCompressed) {
  for (const bool compress : {false, true}) {
    kofu::test::temp_dir dir;
    const auto path = dir / (compress ? "h.jsonl.zst" : "h.jsonl");
    std::vector<std::string> tapped;
    writer_options o{path, compress, std::chrono::milliseconds(20)};
    o.tap = [&](std::string&& lines) { tapped.push_back(std::move(lines)); };
    auto w = writer::open(o);
    ASSERT_TRUE(w) << w.error().message;
    for (int i = 0; i < 5; ++i) {
      (*w)->submit(R"({"type":"event","name":"x","t":)" + std::to_string(i) + "}\n");
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    ASSERT_TRUE((*w)->close());
    auto stream = text_stream::open(path);
    ASSERT_TRUE(stream);
    chain_verifier v;
    std::string line;
    std::uint64_t n = 0;
    std::string all_tapped;
    for (const auto& t : tapped) all_tapped += t;
    std::string all_read;
    while (std::getline(**stream, line)) {
      (void)v.on_line(line, ++n);
      all_read += line + "\n";
    }
    v.finish();
    EXPECT_EQ(all_read, all_tapped) << "the tap sees the file's lines, chain lines included";
    EXPECT_TRUE(v.broken().empty()) << compress;
    EXPECT_FALSE(v.unsealed_tail()) << compress;
    EXPECT_GE(v.sealed_blocks(), 2u) << compress;
    EXPECT_EQ(v.head(), (*w)->chain_head());
    // The event reader skips chain lines.
    auto r = reader::open(path);
    ASSERT_TRUE(r);
    int events = 0;
    while (auto rec = r->next()) {
      if (!*rec) break;
      EXPECT_EQ((*rec)->event["type"], "event");
      ++events;
    }
    EXPECT_EQ(events, 5);
  }
}

TEST(JsonDepthTest, CountsBracketsOutsideStrings) {
  EXPECT_EQ(json_nesting_depth("{}", 10), 1u);
  EXPECT_EQ(json_nesting_depth(R"({"a":[1,{"b":"[[[[\"{{{"}]})", 10), 3u);
  EXPECT_EQ(json_nesting_depth(R"("\\"[[)", 10), 2u);
  EXPECT_EQ(json_nesting_depth("12", 10), 0u);
  const std::string deep(100000, '[');
  EXPECT_EQ(json_nesting_depth(deep, 64), 65u);
  EXPECT_FALSE(json_depth_within(deep, max_answer_depth));
  EXPECT_TRUE(json_depth_within(std::string(64, '[') + std::string(64, ']'), 64));
}

}  // namespace
}  // namespace kofu::history
