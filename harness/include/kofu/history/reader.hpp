#pragma once
// Reads a history written by history::writer (docs/history.md), plain or zstd (detected from
// the file's first bytes), one event at a time, streaming. Made for the verifier and `kofu verify`.
//
// A run killed mid-write leaves a last line without its newline (or a zstd stream without its end):
// that is not an error; `truncated()` says so after the end is reached. A complete line that is
// not a JSON object is an error naming FILE:LINE; the reader stays usable after it.
// Not thread-safe; one reader per thread.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "kofu/common/error.hpp"

namespace kofu::history {

struct record {
  std::uint64_t line = 0;  // 1-based line number in the (decompressed) file
  nlohmann::json event;    // the line's object: "type" is header, invoke, complete, event, footer
};

class reader {
 public:
  // Opens `path`; when it is a folder, opens history.jsonl or history.jsonl.zst inside it.
  static result<reader> open(const std::filesystem::path& path);
  reader(reader&&) noexcept;
  reader& operator=(reader&&) noexcept;
  ~reader();

  // The next event; nullopt at the end.
  result<std::optional<record>> next();

  // After next() returned nullopt: the file ended inside a line or a zstd frame (killed run).
  bool truncated() const;
  const std::filesystem::path& path() const;

 private:
  struct impl;
  explicit reader(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

// The history file of a run folder: DIR/history.jsonl or DIR/history.jsonl.zst, whichever exists.
std::optional<std::filesystem::path> find_history(const std::filesystem::path& dir);

}  // namespace kofu::history
