#include "kofu/verify/serial_registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <iterator>

namespace kofu::verify {
namespace {

constexpr std::size_t max_counter_digits = 18;  // below 10^18: fits 64 bits with room to add one

std::uint64_t fingerprint(std::string_view serial) { return std::hash<std::string_view>{}(serial); }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool serial_registry::insert(std::string_view serial) {
  std::size_t digits = 0;
  while (digits < serial.size() && digits < max_counter_digits &&
         is_digit(serial[serial.size() - 1 - digits])) {
    ++digits;
  }
  bool fresh = false;
  if (digits == 0) {
    fresh = fingerprints_.insert(fingerprint(serial));
  } else {
    std::string key(serial.substr(0, serial.size() - digits));
    key.push_back(static_cast<char>(digits));
    auto it = prefixes_.find(key);
    if (it == prefixes_.end() && prefixes_.size() < max_prefixes) {
      it = prefixes_.emplace(std::move(key), numbered{}).first;
    }
    if (it == prefixes_.end() || it->second.sparse) {
      fresh = fingerprints_.insert(fingerprint(serial));
    } else {
      std::uint64_t counter = 0;
      for (const char c : serial.substr(serial.size() - digits)) {
        counter = counter * 10 + static_cast<std::uint64_t>(c - '0');
      }
      numbered& n = it->second;
      const std::size_t runs_before = n.runs.size();
      fresh = insert_run(n, counter);
      runs_ += n.runs.size();
      runs_ -= runs_before;
      if (fresh && n.runs.size() > min_runs_checked && n.runs.size() * min_run > n.count) {
        make_sparse(it->first, n);
      }
    }
  }
  if (fresh) ++size_;
  return fresh;
}

bool serial_registry::insert_run(numbered& n, std::uint64_t counter) {
  // The run starting at or before the counter, if any, and the one after it.
  auto next = n.runs.upper_bound(counter);
  if (next != n.runs.begin()) {
    const auto before = std::prev(next);
    if (counter <= before->second) return false;  // inside a run: seen
    if (before->second + 1 == counter) {
      before->second = counter;
      if (next != n.runs.end() && next->first == counter + 1) {  // the gap closed: merge
        before->second = next->second;
        n.runs.erase(next);
      }
      ++n.count;
      return true;
    }
  }
  if (next != n.runs.end() && next->first == counter + 1) {  // grows the next run downwards
    auto node = n.runs.extract(next);
    node.key() = counter;
    n.runs.insert(std::move(node));
  } else {
    n.runs.emplace(counter, counter);
  }
  ++n.count;
  return true;
}

void serial_registry::make_sparse(const std::string& key, numbered& n) {
  const std::string_view prefix(key.data(), key.size() - 1);
  const int width = static_cast<int>(static_cast<unsigned char>(key.back()));
  for (const auto& [first, last] : n.runs) {
    for (std::uint64_t c = first;; ++c) {
      fingerprints_.insert(fingerprint(fmt::format("{}{:0{}}", prefix, c, width)));
      if (c == last) break;
    }
  }
  runs_ -= n.runs.size();
  n.runs = {};
  n.sparse = true;
}

std::size_t serial_registry::bytes() const {
  // A std::map node: the key and value, three pointers and the colour, rounded by the allocator.
  constexpr std::size_t run_bytes = 48;
  std::size_t b = fingerprints_.bytes() + runs_ * run_bytes;
  for (const auto& [key, n] : prefixes_) b += key.capacity() + sizeof n + 32;
  return b;
}

bool serial_registry::fingerprint_set::insert_into(std::vector<std::uint64_t>& slots,
                                                   std::uint64_t fp) {
  // Home slot from the bits below the shard's: multiply-shift onto any capacity.
  auto i = static_cast<std::size_t>((((fp << shard_bits) >> 32) * slots.size()) >> 32);
  while (slots[i] != 0) {
    if (slots[i] == fp) return false;
    if (++i == slots.size()) i = 0;
  }
  slots[i] = fp;
  return true;
}

bool serial_registry::fingerprint_set::insert(std::uint64_t fp) {
  // Fingerprints are std::hash outputs; mix them so that similar serials spread over the shards.
  fp *= 0x9E3779B97F4A7C15ULL;
  fp ^= fp >> 29;
  if (fp == 0) fp = 1;  // 0 marks an empty slot
  shard& s = shards_[fp >> (64 - shard_bits)];
  if ((s.size + 1) * 5 > s.slots.size() * 4) {
    std::vector<std::uint64_t> grown(std::max<std::size_t>(64, s.slots.size() + s.slots.size() / 4),
                                     0);
    for (const std::uint64_t v : s.slots) {
      if (v != 0) insert_into(grown, v);
    }
    s.slots = std::move(grown);
  }
  if (!insert_into(s.slots, fp)) return false;
  ++s.size;
  ++size_;
  return true;
}

std::size_t serial_registry::fingerprint_set::bytes() const {
  std::size_t b = 0;
  for (const auto& s : shards_) b += s.slots.capacity() * sizeof(std::uint64_t);
  return b;
}

}  // namespace kofu::verify
