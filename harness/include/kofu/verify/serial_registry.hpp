#pragma once
// Every certificate serial answered in a run, for DUPLICATE (DESIGN §7: one serial answered
// twice), in memory that follows the gaps between serials rather than their number.
//
// Issuing systems number their certificates (kofu-mock prints "C-<instance>-<12 digits>", a
// municipal 交付番号 is a counter): a serial is a prefix and a decimal counter at its end. For
// each prefix (and counter width) the registry keeps the counters seen as runs of consecutive
// numbers; answers arrive nearly in counter order, so runs merge as the gaps fill and the runs
// left are about as many as the answers in flight. Serials without a counter, prefixes beyond
// the first `max_prefixes`, and a prefix whose counters do not form runs (on average fewer than
// `min_run` a run once it has more than `min_runs_checked` runs: random or strided numbers) are
// kept as 64-bit fingerprints instead: 10–12.5 bytes a serial, and two different serials with
// equal fingerprints would read as a duplicate (≈ n²/2⁶⁵: 3·10⁻⁴ after 10⁸ serials). Numbered
// serials are compared exactly.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kofu::verify {

class serial_registry {
 public:
  static constexpr std::size_t max_prefixes = 64;
  static constexpr std::size_t min_runs_checked = 1024;
  static constexpr std::size_t min_run = 8;

  // Records `serial`; false if it was recorded before.
  bool insert(std::string_view serial);

  std::size_t size() const { return size_; }
  // Memory held, about: runs, prefixes and fingerprint slots.
  std::size_t bytes() const;
  // How many serials are kept as fingerprints (the rest as runs); for tests and the notes.
  std::size_t fingerprinted() const { return fingerprints_.size(); }

 private:
  // Counters of one prefix as runs [first, last] of consecutive numbers, by first.
  struct numbered {
    std::map<std::uint64_t, std::uint64_t> runs;
    std::size_t count = 0;
    bool sparse = false;  // counters moved to the fingerprints; later ones go there too
  };
  // 64-bit fingerprints in 1024 open-addressing shards that grow by a quarter at 80 % load (no
  // doubling spike: one shard is rebuilt at a time).
  class fingerprint_set {
   public:
    bool insert(std::uint64_t fp);  // false if it was already there
    std::size_t size() const { return size_; }
    std::size_t bytes() const;

   private:
    static constexpr unsigned shard_bits = 10;
    struct shard {
      std::vector<std::uint64_t> slots;  // 0: empty
      std::size_t size = 0;
    };
    static bool insert_into(std::vector<std::uint64_t>& slots, std::uint64_t fp);
    std::array<shard, std::size_t{1} << shard_bits> shards_;
    std::size_t size_ = 0;
  };

  static bool insert_run(numbered& n, std::uint64_t counter);
  void make_sparse(const std::string& key, numbered& n);

  // Key: the prefix and one byte holding the counter's width (so "A-07" and "A-7" differ).
  std::unordered_map<std::string, numbered> prefixes_;
  fingerprint_set fingerprints_;
  std::size_t runs_ = 0;  // over every prefix
  std::size_t size_ = 0;
};

}  // namespace kofu::verify
