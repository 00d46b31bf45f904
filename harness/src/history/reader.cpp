#include "kofu/history/reader.hpp"

#include <zstd.h>

#include <fstream>
#include <optional>
#include <streambuf>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "kofu/common/json_depth.hpp"
#include "kofu/history/chain.hpp"

namespace kofu::history {

struct reader::impl {
  std::filesystem::path path;
  std::unique_ptr<text_stream> in;  // the file's text, decompressed when it is zstd
  std::string text;                 // text not yet split into lines
  std::size_t text_pos = 0;
  bool input_done = false;
  bool truncated = false;
  std::uint64_t line = 0;

  // Appends more text; false at the end of the input.
  bool fill() {
    if (input_done) return false;
    std::string chunk(1 << 16, '\0');
    in->read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    chunk.resize(static_cast<std::size_t>(in->gcount()));
    if (chunk.empty()) {
      input_done = true;
      return false;
    }
    if (text_pos > 0) {
      text.erase(0, text_pos);
      text_pos = 0;
    }
    text += chunk;
    return true;
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

namespace {

// Whether the file starts with a zstd frame's magic number; leaves the stream at its start.
bool starts_with_zstd_magic(std::ifstream& in) {
  char magic[4] = {};
  in.read(magic, 4);
  const auto got = in.gcount();
  in.clear();
  in.seekg(0);
  return got == 4 && static_cast<unsigned char>(magic[0]) == 0x28 &&
         static_cast<unsigned char>(magic[1]) == 0xB5 &&
         static_cast<unsigned char>(magic[2]) == 0x2F &&
         static_cast<unsigned char>(magic[3]) == 0xFD;
}

}  // namespace

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
  auto stream = text_stream::open(path);
  if (!stream) return stream.error();
  state->in = std::move(*stream);
  return reader(std::move(state));
}

result<std::optional<record>> reader::next() {
  impl& s = *impl_;
  for (;;) {
    const auto newline = s.text.find('\n', s.text_pos);
    if (newline == std::string::npos) {
      if (s.fill()) continue;
      // End of input: what remains is a line cut short by a kill.
      // Corrupt compressed data ends the input too: what precedes it has been returned.
      if (s.text_pos < s.text.size() || s.in->frame_open() || s.in->decode_error()) {
        s.truncated = true;
      }
      s.text.clear();
      s.text_pos = 0;
      return std::optional<record>{};
    }
    const std::string_view line(s.text.data() + s.text_pos, newline - s.text_pos);
    s.text_pos = newline + 1;
    ++s.line;
    if (line.empty() || is_chain_line(line)) continue;
    if (!json_depth_within(line, max_history_line_depth)) {
      return make_error(errc::parse, fmt::format("{}:{}: nested deeper than {} levels",
                                                 s.path.string(), s.line, max_history_line_depth));
    }
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

// A streambuf over the file: plain bytes, or zstd decoded in blocks.
class text_stream::buffer final : public std::streambuf {
 public:
  buffer(std::ifstream file, bool compressed)
      : file_(std::move(file)),
        compressed_(compressed),
        dctx_(compressed ? ZSTD_createDCtx() : nullptr),
        in_(compressed ? ZSTD_DStreamInSize() : 0),
        out_(compressed ? ZSTD_DStreamOutSize() : std::size_t{1} << 16) {}
  ~buffer() override { ZSTD_freeDCtx(dctx_); }
  buffer(const buffer&) = delete;
  buffer& operator=(const buffer&) = delete;

  bool compressed() const { return compressed_; }
  bool frame_open() const { return frame_open_; }
  const std::optional<std::string>& error() const { return error_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    const std::size_t got = compressed_ ? decode() : read_plain();
    if (got == 0) return traits_type::eof();
    setg(out_.data(), out_.data(), out_.data() + got);
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::size_t read_plain() {
    file_.read(out_.data(), static_cast<std::streamsize>(out_.size()));
    return static_cast<std::size_t>(file_.gcount());
  }

  std::size_t decode() {
    for (;;) {
      if (in_pos_ == in_size_ && !output_pending_) {
        if (error_) return 0;
        file_.read(in_.data(), static_cast<std::streamsize>(in_.size()));
        in_size_ = static_cast<std::size_t>(file_.gcount());
        in_pos_ = 0;
        if (in_size_ == 0) return 0;  // the end (of a killed run's stream too)
      }
      ZSTD_inBuffer ib{in_.data(), in_size_, in_pos_};
      ZSTD_outBuffer ob{out_.data(), out_.size(), 0};
      const std::size_t hint = ZSTD_decompressStream(dctx_, &ob, &ib);
      in_pos_ = ib.pos;
      if (ZSTD_isError(hint)) {
        error_ = ZSTD_getErrorName(hint);
        in_pos_ = in_size_ = 0;
        output_pending_ = false;
        return 0;
      }
      frame_open_ = hint != 0;
      output_pending_ = ob.pos == ob.size;  // more may be waiting inside the decoder
      if (ob.pos > 0) return ob.pos;
    }
  }

  std::ifstream file_;
  bool compressed_;
  ZSTD_DCtx* dctx_;
  std::vector<char> in_;
  std::vector<char> out_;
  std::size_t in_size_ = 0;
  std::size_t in_pos_ = 0;
  bool output_pending_ = false;
  bool frame_open_ = false;  // inside a zstd frame that has not ended
  std::optional<std::string> error_;
};

result<std::unique_ptr<text_stream>> text_stream::open(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(errc::io, fmt::format("{}: cannot open", file.string()));
  const bool compressed = starts_with_zstd_magic(in);
  return std::unique_ptr<text_stream>(
      new text_stream(std::make_unique<buffer>(std::move(in), compressed)));
}

text_stream::text_stream(std::unique_ptr<buffer> b)
    : std::istream(b.get()), buffer_(std::move(b)) {}
text_stream::~text_stream() = default;
bool text_stream::compressed() const { return buffer_->compressed(); }
bool text_stream::frame_open() const { return buffer_->frame_open(); }
std::optional<std::string> text_stream::decode_error() const { return buffer_->error(); }

}  // namespace kofu::history
