#include "idempotency_keys.hpp"

namespace kofu::mock {

idempotency_keys::claim idempotency_keys::begin(const std::string& key, const body_digest& body) {
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(key); it != entries_.end()) {
    if (it->second.body != body) return {claim_kind::conflict, {}};
    if (!it->second.answer) return {claim_kind::in_flight, {}};
    return {claim_kind::replay, *it->second.answer};
  }
  entries_.emplace(key, entry{body, std::nullopt});
  order_.push_back(key);
  while (entries_.size() > capacity_ && !order_.empty()) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
  return {claim_kind::fresh, {}};
}

void idempotency_keys::finish(const std::string& key, const http_reply& answer) {
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(key); it != entries_.end() && !it->second.answer) {
    it->second.answer = answer;
  }
}

void idempotency_keys::abandon(const std::string& key) {
  // Only a request cut off without an answer (the server stopping) abandons its key. Its name
  // stays in order_ until it reaches the front; erasing it there again is harmless.
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(key); it != entries_.end() && !it->second.answer) {
    entries_.erase(it);
  }
}

}  // namespace kofu::mock
