#include "kofu/history/reader.hpp"

#include <zstd.h>

#include <fstream>

#include <fmt/format.h>

namespace kofu::history {

struct reader::impl {
  std::filesystem::path path;
  std::ifstream in;
  bool compressed = false;
  ZSTD_DCtx* dctx = nullptr;
  std::string raw;  // compressed bytes not yet consumed
  std::size_t raw_pos = 0;
  std::string text;  // decompressed (or plain) bytes not yet split into lines
  std::size_t text_pos = 0;
  bool input_done = false;
  bool frame_open = false;  // inside a zstd frame that has not ended
  bool truncated = false;
  std::uint64_t line = 0;

  ~impl() { ZSTD_freeDCtx(dctx); }

  // Appends more text; false at the end of the input.
  bool fill() {
    if (input_done) return false;
    std::string chunk(1 << 16, '\0');
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    chunk.resize(static_cast<std::size_t>(in.gcount()));
    if (chunk.empty()) {
      input_done = true;
      return false;
    }
    if (!compressed) {
      compact();
      text += chunk;
      return true;
    }
    raw.erase(0, raw_pos);
    raw_pos = 0;
    raw += chunk;
    compact();
    std::string out(ZSTD_DStreamOutSize(), '\0');
    while (raw_pos < raw.size()) {
      ZSTD_inBuffer ib{raw.data() + raw_pos, raw.size() - raw_pos, 0};
      ZSTD_outBuffer ob{out.data(), out.size(), 0};
      const std::size_t hint = ZSTD_decompressStream(dctx, &ob, &ib);
      if (ZSTD_isError(hint)) {
        // Corrupt data: treat as the end (what precedes it has been returned).
        input_done = true;
        truncated = true;
        raw.clear();
        raw_pos = 0;
        break;
      }
      raw_pos += ib.pos;
      text.append(out.data(), ob.pos);
      frame_open = hint != 0;
      if (ib.pos == 0 && ob.pos == 0) break;
    }
    return true;
  }

  void compact() {
    if (text_pos > 0) {
      text.erase(0, text_pos);
      text_pos = 0;
    }
  }
};

reader::reader(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
reader::reader(reader&&) noexcept = default;
reader& reader::operator=(reader&&) noexcept = default;
reader::~reader() = default;

std::optional<std::filesystem::path> find_history(const std::filesystem::path& dir) {
  for (const char* name : {"history.jsonl", "history.jsonl.zst"}) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(dir / name, ec)) return dir / name;
  }
  return std::nullopt;
}

result<reader> reader::open(const std::filesystem::path& path_in) {
  std::filesystem::path path = path_in;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    auto found = find_history(path);
    if (!found) {
      return make_error(
          errc::io, fmt::format("{}: no history.jsonl or history.jsonl.zst in it", path.string()));
    }
    path = *found;
  }
  auto state = std::make_unique<impl>();
  state->path = path;
  state->in.open(path, std::ios::binary);
  if (!state->in) return make_error(errc::io, fmt::format("{}: cannot open", path.string()));
  char magic[4] = {};
  state->in.read(magic, 4);
  const auto got = state->in.gcount();
  state->in.clear();
  state->in.seekg(0);
  state->compressed = got == 4 && static_cast<unsigned char>(magic[0]) == 0x28 &&
                      static_cast<unsigned char>(magic[1]) == 0xB5 &&
                      static_cast<unsigned char>(magic[2]) == 0x2F &&
                      static_cast<unsigned char>(magic[3]) == 0xFD;
  if (state->compressed) state->dctx = ZSTD_createDCtx();
  return reader(std::move(state));
}

result<std::optional<record>> reader::next() {
  impl& s = *impl_;
  for (;;) {
    const auto newline = s.text.find('\n', s.text_pos);
    if (newline == std::string::npos) {
      if (s.fill()) continue;
      // End of input: what remains is a line cut short by a kill.
      if (s.text_pos < s.text.size() || (s.compressed && s.frame_open)) s.truncated = true;
      s.text.clear();
      s.text_pos = 0;
      return std::optional<record>{};
    }
    const std::string_view line(s.text.data() + s.text_pos, newline - s.text_pos);
    s.text_pos = newline + 1;
    ++s.line;
    if (line.empty()) continue;
    auto event = nlohmann::json::parse(line, nullptr, false);
    if (event.is_discarded() || !event.is_object()) {
      return make_error(errc::parse,
                        fmt::format("{}:{}: not a JSON object", s.path.string(), s.line));
    }
    return std::optional<record>{record{s.line, std::move(event)}};
  }
}

bool reader::truncated() const { return impl_->truncated; }
const std::filesystem::path& reader::path() const { return impl_->path; }

}  // namespace kofu::history
