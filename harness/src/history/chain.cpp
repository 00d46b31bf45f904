#include "kofu/history/chain.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "kofu/common/json_depth.hpp"

namespace kofu::history {
namespace {

constexpr std::string_view chain_prefix = R"({"type":"chain",)";

std::uint64_t count_lines(std::string_view text) {
  return static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n'));
}

std::optional<sha256_digest> from_hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  sha256_digest out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    int v = 0;
    for (int k = 0; k < 2; ++k) {
      const char ch = hex[2 * i + static_cast<std::size_t>(k)];
      int nibble = -1;
      if (ch >= '0' && ch <= '9') nibble = ch - '0';
      if (ch >= 'a' && ch <= 'f') nibble = ch - 'a' + 10;
      if (nibble < 0) return std::nullopt;
      v = (v << 4) | nibble;
    }
    out[i] = static_cast<std::uint8_t>(v);
  }
  return out;
}

std::string_view as_bytes(const sha256_digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

}  // namespace

bool is_chain_line(std::string_view line) { return line.starts_with(chain_prefix); }

void chain_sealer::start() {
  block_ = std::make_unique<sha256_hasher>();
  block_->update(as_bytes(head_));
}

void chain_sealer::add(std::string_view lines) {
  if (lines.empty()) return;
  if (!block_) start();
  block_->update(lines);
  lines_ += count_lines(lines);
  bytes_ += lines.size();
}

std::string chain_sealer::seal() {
  if (!block_) start();
  head_ = block_->finish();
  block_.reset();
  ++seq_;
  std::string line =
      fmt::format(R"({{"type":"chain","seq":{},"lines":{},"bytes":{},"sha256":"{}"}})", seq_,
                  lines_, bytes_, to_hex(head_));
  lines_ = 0;
  bytes_ = 0;
  return line;
}

void chain_verifier::begin_block() {
  block_ = std::make_unique<sha256_hasher>();
  block_->update(as_bytes(prev_));
  alt_block_.reset();
  if (alt_prev_) {
    alt_block_ = std::make_unique<sha256_hasher>();
    alt_block_->update(as_bytes(*alt_prev_));
    alt_prev_.reset();
  }
  lines_ = 0;
  bytes_ = 0;
  block_first_ = 0;
}

chain_verifier::line_kind chain_verifier::on_line(std::string_view line, std::uint64_t number) {
  if (!block_) begin_block();
  last_line_ = number;
  if (!is_chain_line(line)) {
    if (block_first_ == 0) block_first_ = number;
    block_->update(line);
    block_->update("\n");
    if (alt_block_) {
      alt_block_->update(line);
      alt_block_->update("\n");
    }
    ++lines_;
    bytes_ += line.size() + 1;
    return line_kind::data;
  }
  ++blocks_;
  const std::uint64_t first = block_first_ == 0 ? number : block_first_;
  sha256_digest computed = block_->finish();
  std::optional<sha256_digest> alt_computed;
  if (alt_block_) alt_computed = alt_block_->finish();
  const std::uint64_t lines = lines_;
  const std::uint64_t bytes = bytes_;
  block_.reset();
  alt_block_.reset();
  std::string reason;
  std::optional<sha256_digest> stated;
  std::uint64_t stated_seq = 0;
  if (line.size() > 512 || !json_depth_within(line, 2)) {
    reason = "the chain line is not in the form the writer writes";
  } else {
    const auto doc = nlohmann::json::parse(line, nullptr, false);
    const auto number_at = [&](const char* key) -> std::optional<std::uint64_t> {
      if (!doc.is_object()) return std::nullopt;
      const auto it = doc.find(key);
      if (it == doc.end() || !it->is_number_unsigned()) return std::nullopt;
      return it->get<std::uint64_t>();
    };
    const auto seq = number_at("seq");
    const auto stated_lines = number_at("lines");
    const auto stated_bytes = number_at("bytes");
    if (doc.is_object()) {
      if (const auto it = doc.find("sha256"); it != doc.end() && it->is_string()) {
        stated = from_hex(it->get<std::string>());
      }
    }
    if (!seq || !stated_lines || !stated_bytes || !stated) {
      reason = "the chain line is not in the form the writer writes";
    } else {
      stated_seq = *seq;
      if (*seq != seq_ + 1) {
        reason = fmt::format("chain line {} follows chain line {}: blocks were removed or moved",
                             *seq, seq_);
      } else if (*stated_lines != lines || *stated_bytes != bytes) {
        reason = fmt::format(
            "the block has {} lines ({} bytes) where its chain line says {} ({} bytes): lines "
            "were added or removed",
            lines, bytes, *stated_lines, *stated_bytes);
      } else if (*stated != computed) {
        if (alt_computed && *stated == *alt_computed) {
          computed = *alt_computed;  // the previous chain line was the changed one
        } else {
          reason = "the block's bytes differ from what was sealed: the file was changed";
        }
      }
    }
  }
  if (reason.empty()) {
    ++sealed_;
    ++seq_;
    prev_ = computed;
    head_hex_ = to_hex(computed);
    return line_kind::sealed;
  }
  broken_.push_back({first, number, std::move(reason)});
  // Go on from what the chain line states (or, should the chain line be what was changed, from
  // what was computed), so that one changed block does not condemn the rest.
  if (stated) {
    prev_ = *stated;
    alt_prev_ = computed;
    head_hex_ = to_hex(*stated);
  } else {
    prev_ = computed;
  }
  if (stated_seq != 0) seq_ = stated_seq;
  return line_kind::broken;
}

void chain_verifier::finish() {
  if (block_ && block_first_ != 0) {
    tail_ = line_stretch{block_first_, last_line_,
                         blocks_ == 0 ? "the history has no chain line (written before chains, or "
                                        "the run was killed before its first flush)"
                                      : "after the last chain line (the run was killed before "
                                        "this block was sealed)"};
  }
  block_.reset();
}

}  // namespace kofu::history
