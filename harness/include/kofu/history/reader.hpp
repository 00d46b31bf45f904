#pragma once
// Reads a history written by history::writer (docs/history.md), plain or zstd (detected from
// the file's first bytes), one event at a time, streaming. Made for the verifier and `kofu verify`.
//
// A run killed mid-write leaves a last line without its newline (or a zstd stream without its end):
// that is not an error; `truncated()` says so after the end is reached. A complete line that is
// not a JSON object (or nests deeper than max_history_line_depth) is an error naming FILE:LINE;
// the reader stays usable after it. Chain lines (chain.hpp) are skipped: next() yields events;
// checking the seal is the verifier's work (verify/replay.hpp).
// Not thread-safe; one reader per thread.

#include <cstdint>
#include <filesystem>
#include <istream>
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

// The history's text as a stream of bytes, decompressed on the fly when the file is zstd
// (detected from its first bytes), for readers that parse lines themselves (`kofu verify`).
// A stream cut short by a kill ends where the data ends; corrupt compressed data ends the stream
// and is reported by decode_error().
class text_stream : public std::istream {
 public:
  static result<std::unique_ptr<text_stream>> open(const std::filesystem::path& file);
  ~text_stream() override;
  text_stream(const text_stream&) = delete;
  text_stream& operator=(const text_stream&) = delete;
  bool compressed() const;
  // Inside a zstd frame that has not ended (after the end: the run was killed while writing).
  bool frame_open() const;
  // Set when the compressed data could not be decoded (the stream ended there).
  std::optional<std::string> decode_error() const;

 private:
  class buffer;
  explicit text_stream(std::unique_ptr<buffer> b);
  std::unique_ptr<buffer> buffer_;
};

}  // namespace kofu::history
