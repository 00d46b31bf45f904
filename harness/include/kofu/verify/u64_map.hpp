#pragma once
// detail::u64_map: an open-addressing hash map from 64-bit keys, for the checker's per-request
// bookkeeping (checker.hpp, leak_sources.hpp).

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace kofu::verify::detail {

// An open-addressing hash map from 64-bit keys (any value) to V: linear probing, erase by
// backward shift, no allocation per entry. For the checker's per-request bookkeeping.
template <class V>
class u64_map {
 public:
  V* find(std::uint64_t key) {
    if (size_ == 0) return nullptr;
    for (std::size_t i = home(key);; i = (i + 1) & mask()) {
      if (!slots_[i].used) return nullptr;
      if (slots_[i].key == key) return &slots_[i].value;
    }
  }
  const V* find(std::uint64_t key) const { return const_cast<u64_map*>(this)->find(key); }
  // The value of `key`, default-constructed if absent; `fresh` says whether it was.
  V& emplace(std::uint64_t key, bool& fresh) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    std::size_t i = home(key);
    for (; slots_[i].used; i = (i + 1) & mask()) {
      if (slots_[i].key == key) {
        fresh = false;
        return slots_[i].value;
      }
    }
    slots_[i].used = true;
    slots_[i].key = key;
    slots_[i].value = V{};
    ++size_;
    fresh = true;
    return slots_[i].value;
  }
  // Starts loading the slot where a lookup of `key` begins (a hint; no effect on the contents).
  void prefetch(std::uint64_t key) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[home(key)]);
  }
  V& operator[](std::uint64_t key) {
    bool fresh = false;
    return emplace(key, fresh);
  }
  bool erase(std::uint64_t key) {
    if (size_ == 0) return false;
    std::size_t i = home(key);
    for (;; i = (i + 1) & mask()) {
      if (!slots_[i].used) return false;
      if (slots_[i].key == key) break;
    }
    // Backward shift: pull later entries of the probe run into the hole when their home allows.
    for (std::size_t j = (i + 1) & mask(); slots_[j].used; j = (j + 1) & mask()) {
      const std::size_t k = home(slots_[j].key);
      const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (stays) continue;
      slots_[i].key = slots_[j].key;
      slots_[i].value = std::move(slots_[j].value);
      i = j;
    }
    slots_[i].used = false;
    slots_[i].value = V{};
    --size_;
    return true;
  }
  std::size_t size() const { return size_; }
  template <class F>
  void for_each(F&& f) {
    for (auto& s : slots_) {
      if (s.used) f(s.key, s.value);
    }
  }

 private:
  struct slot {
    std::uint64_t key = 0;
    V value{};
    bool used = false;
  };
  std::size_t mask() const { return slots_.size() - 1; }
  std::size_t home(std::uint64_t key) const {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> shift_);
  }
  void grow() {
    std::vector<slot> old = std::move(slots_);
    const std::size_t n = old.empty() ? 64 : old.size() * 2;
    slots_.assign(n, slot{});
    shift_ = 64 - static_cast<unsigned>(__builtin_ctzll(n));
    size_ = 0;
    for (auto& s : old) {
      if (!s.used) continue;
      bool fresh = false;
      emplace(s.key, fresh) = std::move(s.value);
    }
  }
  std::vector<slot> slots_;
  std::size_t size_ = 0;
  unsigned shift_ = 58;
};

}  // namespace kofu::verify::detail
