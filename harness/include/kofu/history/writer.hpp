#pragma once
// The run's history (DESIGN §6, docs/history.md): JSON Lines, append-only, optionally zstd.
//
// One writer thread owns the file. Producers (the driver's workers) never touch it: each keeps a
// `line_buffer` of whole lines and hands it over in one block every few hundred milliseconds, so
// the hot path appends to a thread-local string and takes the writer's mutex only once per
// hand-off, never per event. The writer thread writes whatever it holds at least every
// `flush_interval` with write(2) (and, compressed, a zstd flush), so a process killed at any moment
// (SIGKILL included) loses at most the events of the last hand-off plus one flush interval, and
// every complete line in the file is a whole JSON object. The last line may be cut short.
// Each flush ends with a chain line that seals what it wrote (chain.hpp); a block handed over by
// `tap` is followed by the chain line as a block of its own.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "kofu/common/error.hpp"
#include "kofu/history/chain.hpp"

namespace kofu::history {

struct writer_options {
  std::filesystem::path path;  // ".../history.jsonl" (or ".zst" when compress)
  bool compress = false;       // zstd stream, flushed at every flush so a killed run stays readable
  std::chrono::milliseconds flush_interval{200};  // at most 1 s (DESIGN §6)
  int compression_level = 3;
  // Optional: called on the writer thread with every block of whole lines once it is written
  // (uncompressed), in file order; takes the block. `kofu run` feeds its online verifier so.
  // It must return quickly (hand the block to another thread): it delays the next flush.
  std::function<void(std::string&& lines)> tap = nullptr;
};

class writer {
 public:
  // Creates (truncates) the file and starts the writer thread. Errors name the path.
  static result<std::unique_ptr<writer>> open(const writer_options& options);
  ~writer();  // close(), ignoring its result
  writer(const writer&) = delete;
  writer& operator=(const writer&) = delete;

  // Queues a block of whole lines (each ending in '\n'). Thread-safe. Cheap: moves the string.
  void submit(std::string&& lines);

  // Writes everything queued, ends the zstd frame, closes the file and joins the thread.
  // Idempotent. Returns the first I/O error met at any time (a full disk is not silent).
  result<void> close();

  // Bytes of JSON Lines handed to the file so far (before compression). Thread-safe.
  std::uint64_t lines_bytes() const;
  // The chain value (hex) of the last sealed block ("" before the first). Thread-safe.
  std::string chain_head() const;
  const std::filesystem::path& path() const { return options_.path; }

 private:
  explicit writer(const writer_options& options);
  void run();
  // Writes `block` (compressing it if asked), and flushes when `flush` is set. Writer thread only.
  bool write_block(const std::string& block, bool flush, bool end);
  bool write_raw(const char* data, std::size_t size);

  writer_options options_;
  int fd_ = -1;
  struct zstd_state;
  std::unique_ptr<zstd_state> zstd_;  // writer thread only (and close() after the join)
  chain_sealer sealer_;               // writer thread only

  // State below is protected by mutex_.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::string> queue_;
  bool stopping_ = false;
  std::uint64_t lines_bytes_ = 0;
  std::string head_;
  std::optional<error> error_;

  std::thread thread_;
  bool closed_ = false;  // caller's thread only
};

// A producer's buffer of whole lines. Not thread-safe: one per producer thread.
class line_buffer {
 public:
  explicit line_buffer(writer* target) : target_(target) {}
  ~line_buffer() { hand_off(); }
  line_buffer(const line_buffer&) = delete;
  line_buffer& operator=(const line_buffer&) = delete;

  // Appends one event as one line (invalid UTF-8 in strings is replaced, never breaks the line).
  void append(const nlohmann::json& event);
  // Appends a line already serialised (no newline inside; the newline is added).
  void append_raw(std::string_view line);
  // Hands the buffered lines to the writer (call every flush interval and at the end).
  void hand_off();
  std::size_t buffered() const { return buffer_.size(); }

 private:
  writer* target_;
  std::string buffer_;
};

// The event as one line, without the newline: nlohmann's compact dump with invalid UTF-8 replaced.
std::string to_line(const nlohmann::json& event);

}  // namespace kofu::history
