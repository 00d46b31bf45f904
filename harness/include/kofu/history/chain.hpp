#pragma once
// The history's seal (issue 15 item 5, docs/history.md "Integrity"): a SHA-256 chain over the
// blocks the writer flushes. After each flushed block of lines the writer appends one line
//
//   {"type":"chain","seq":N,"lines":K,"bytes":B,"sha256":"<hex of c_N>"}
//
// where c_0 is 32 zero bytes and c_N = SHA-256(c_{N-1} ‖ the block's bytes): the K lines (each
// with its newline, B bytes in all) since the previous chain line, or since the start of the file
// (the header is in block 1). A changed, inserted or removed byte breaks the block's chain line;
// a removed block breaks the sequence. Whoever rewrites every later chain line after an edit
// defeats the chain: the last value (`head`) is therefore also recorded outside the file (the
// report, the terminal), where a copy kept elsewhere can be compared.
//
// chain_sealer is the writer's side, chain_verifier the reader's. Neither is thread-safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kofu/common/sha256.hpp"

namespace kofu::history {

// Whether a history line is a chain line (the writer writes exactly this prefix).
bool is_chain_line(std::string_view line);

class chain_sealer {
 public:
  // Adds whole lines (each ending in '\n') to the block being sealed.
  void add(std::string_view lines);
  // Whether lines were added since the last seal.
  bool pending() const { return lines_ > 0 || bytes_ > 0; }
  // Closes the block: returns its chain line (without the newline) and starts the next block.
  std::string seal();
  std::string head_hex() const { return to_hex(head_); }

 private:
  void start();
  sha256_digest head_{};  // c_{seq}
  std::uint64_t seq_ = 0;
  std::uint64_t lines_ = 0;
  std::uint64_t bytes_ = 0;
  std::unique_ptr<sha256_hasher> block_;
};

// A stretch of lines the seal does not vouch for, with why.
struct line_stretch {
  std::uint64_t first_line = 0;
  std::uint64_t last_line = 0;
  std::string reason;
};

class chain_verifier {
 public:
  enum class line_kind : std::uint8_t {
    data,    // an ordinary line, part of the block being read
    sealed,  // a chain line that vouches for its block
    broken,  // a chain line that does not: the block (or the line itself) was changed
  };
  // Every line of the file in order, without its newline; `number` is its 1-based line number.
  line_kind on_line(std::string_view line, std::uint64_t number);
  // After the last line: the lines after the last chain line are the unsealed tail.
  void finish();

  bool chained() const { return blocks_ > 0; }  // at least one chain line was seen
  std::uint64_t sealed_blocks() const { return sealed_; }
  std::uint64_t blocks() const { return blocks_; }
  const std::vector<line_stretch>& broken() const { return broken_; }
  const std::optional<line_stretch>& unsealed_tail() const { return tail_; }
  // The last chain value read (hex), or "" before the first chain line.
  const std::string& head() const { return head_hex_; }
  // The block being read: its first line (0 when it has none yet).
  std::uint64_t block_first_line() const { return block_first_; }

 private:
  void begin_block();
  sha256_digest prev_{};
  std::uint64_t seq_ = 0;
  std::uint64_t lines_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t block_first_ = 0;
  std::uint64_t last_line_ = 0;
  std::uint64_t blocks_ = 0;
  std::uint64_t sealed_ = 0;
  std::unique_ptr<sha256_hasher> block_;
  // After a broken block, the next is also hashed from the value computed for the broken one:
  // whether the block or its chain line was changed, the next block then verifies.
  std::optional<sha256_digest> alt_prev_;
  std::unique_ptr<sha256_hasher> alt_block_;
  std::vector<line_stretch> broken_;
  std::optional<line_stretch> tail_;
  std::string head_hex_;
};

}  // namespace kofu::history
