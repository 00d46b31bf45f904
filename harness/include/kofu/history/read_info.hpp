#pragma once
// What a history file held beside its events: its header and footer, its lines, and its
// integrity (docs/history.md). The verifier's replay fills it in (kofu/verify/replay.hpp) and
// report.json reports it (kofu/reports/report_json.hpp). Plain values.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kofu/history/chain.hpp"

namespace kofu::history {

// What the history file held, beside the events.
struct history_read_info {
  std::uint64_t lines = 0;
  bool truncated_last_line = false;  // a run killed mid-write: the partial line is ignored
  bool has_footer = false;
  std::string end_reason;  // the footer's `reason` ("completed", "interrupted", …), when it has one
  nlohmann::json footer_stats;  // the footer's `stats` (the driver's counters), when it has them
  std::string ended_at;         // the footer's `ended_at` (UTC), when it has one
  nlohmann::json header;
  std::filesystem::path population_path;

  // Integrity (issue 15 item 5; docs/history.md "Integrity"). Lines that did not parse (with
  // replay_options::keep_going; the first max_listed_stretches are listed, all are counted).
  std::vector<line_stretch> corrupt_lines;
  std::uint64_t corrupt_line_count = 0;
  // The chain (history/chain.hpp): blocks whose seal failed, the unsealed tail, the last value.
  bool chained = false;
  std::uint64_t sealed_blocks = 0;
  std::vector<line_stretch> broken_blocks;
  std::optional<line_stretch> unsealed_tail;
  std::string chain_head;
  // Issue requests with an invoke or complete inside a broken block, sorted: their findings are
  // set aside (the file, not the server, is in doubt). `set_aside_incomplete`: a broken block was
  // too large to note every request in it.
  std::vector<std::uint64_t> set_aside_requests;
  bool set_aside_incomplete = false;
  static constexpr std::size_t max_listed_stretches = 100;
  // Whether the file is not what the writer wrote (a corrupt line or a broken seal).
  bool integrity_broken() const { return corrupt_line_count > 0 || !broken_blocks.empty(); }
};

}  // namespace kofu::history
