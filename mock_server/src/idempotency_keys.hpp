#pragma once
// The Idempotency-Key memory of vendor-ja's POST /api/jukiren/v1/ido (docs/vendor-ja.md): for
// each key, a digest of the body first sent with it and the answer that body got. A request with
// a known key and the same body is answered with that first answer again (and changes nothing);
// the same key with another body is a conflict.
//
// Bounded memory: the last kCapacity keys are kept (first-seen order) and older ones forgotten,
// so a key reused after 100 000 newer keys counts as new. At ≤ 128 bytes a key plus a short
// answer that is a few tens of MB at most.
//
// Thread-safe: every member may be called from any thread.

#include <array>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http_reply.hpp"

namespace kofu::mock {

class idempotency_keys {
 public:
  static constexpr std::size_t kCapacity = 100'000;
  using body_digest = std::array<char, 64>;  // hex SHA-256 of the request body

  explicit idempotency_keys(std::size_t capacity = kCapacity) : capacity_(capacity) {}

  enum class claim_kind {
    fresh,      // first time: the caller processes the request, then finish() or abandon()
    replay,     // seen with the same body: `answer` is the first answer
    conflict,   // seen with another body
    in_flight,  // seen with the same body, whose first request has not been answered yet
  };
  struct claim {
    claim_kind kind = claim_kind::fresh;
    http_reply answer;  // for replay
  };

  claim begin(const std::string& key, const body_digest& body);
  // The answer of the request that got `fresh` for `key`.
  void finish(const std::string& key, const http_reply& answer);
  // The request that got `fresh` ended without an answer: the key is free again.
  void abandon(const std::string& key);

 private:
  struct entry {
    body_digest body{};
    std::optional<http_reply> answer;  // nullopt while in flight
  };

  const std::size_t capacity_;
  std::mutex mutex_;
  // State below is protected by mutex_.
  std::unordered_map<std::string, entry> entries_;
  std::deque<std::string> order_;  // keys of entries_, first seen first (and abandoned ones)
};

}  // namespace kofu::mock
