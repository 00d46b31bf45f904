#include "kofu/history/writer.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace kofu::history {

struct writer::zstd_state {
  ZSTD_CCtx* context = nullptr;
  std::string out;
  ~zstd_state() { ZSTD_freeCCtx(context); }
};

writer::writer(const writer_options& options) : options_(options) {}

result<std::unique_ptr<writer>> writer::open(const writer_options& options) {
  if (options.flush_interval > std::chrono::seconds(1) || options.flush_interval.count() <= 0) {
    return make_error(errc::usage, "history flush interval must be within (0, 1 s]");
  }
  std::unique_ptr<writer> w(new writer(options));
  w->fd_ = ::open(options.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w->fd_ < 0) {
    return make_error(errc::io, fmt::format("{}: cannot create the history: {}",
                                            options.path.string(), std::strerror(errno)));
  }
  if (options.compress) {
    w->zstd_ = std::make_unique<zstd_state>();
    w->zstd_->context = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(w->zstd_->context, ZSTD_c_compressionLevel, options.compression_level);
    ZSTD_CCtx_setParameter(w->zstd_->context, ZSTD_c_checksumFlag, 1);
  }
  w->thread_ = std::thread([raw = w.get()] { raw->run(); });
  return w;
}

writer::~writer() { (void)close(); }

void writer::submit(std::string&& lines) {
  if (lines.empty()) return;
  std::lock_guard lock(mutex_);
  lines_bytes_ += lines.size();
  queue_.push_back(std::move(lines));
}

std::uint64_t writer::lines_bytes() const {
  std::lock_guard lock(mutex_);
  return lines_bytes_;
}

std::string writer::chain_head() const {
  std::lock_guard lock(mutex_);
  return head_;
}

void writer::run() {
  std::vector<std::string> taken;
  for (;;) {
    bool stop = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, options_.flush_interval, [&] { return stopping_; });
      taken.swap(queue_);
      stop = stopping_;
    }
    bool ok = true;
    for (std::size_t i = 0; i < taken.size() && ok; ++i) {
      ok = write_block(taken[i], false, false);
      if (!ok) break;
      sealer_.add(taken[i]);
      if (options_.tap) options_.tap(std::move(taken[i]));
    }
    // Every flush ends with the chain line of what it wrote (chain.hpp), so a killed run loses
    // at most the unsealed lines of one interval, and the sealed ones can be checked.
    if (ok && sealer_.pending()) {
      std::string chain = sealer_.seal();
      chain += '\n';
      ok = write_block(chain, true, false);
      if (ok) {
        std::lock_guard lock(mutex_);
        lines_bytes_ += chain.size();
        head_ = sealer_.head_hex();
      }
      if (ok && options_.tap) options_.tap(std::move(chain));
    }
    taken.clear();
    if (stop && ok) ok = write_block({}, true, true);
    if (!ok) {
      std::lock_guard lock(mutex_);
      if (!error_) {
        error_ = make_error(errc::io, fmt::format("{}: write failed: {}", options_.path.string(),
                                                  std::strerror(errno)));
      }
    }
    if (stop) return;
  }
}

bool writer::write_raw(const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool writer::write_block(const std::string& block, bool flush, bool end) {
  if (!zstd_) return write_raw(block.data(), block.size());
  // Compress; a flush (ZSTD_e_flush) makes everything so far decodable without the frame's end,
  // which is what lets a killed run's compressed history be read.
  ZSTD_inBuffer in{block.data(), block.size(), 0};
  const ZSTD_EndDirective mode = end ? ZSTD_e_end : (flush ? ZSTD_e_flush : ZSTD_e_continue);
  auto& out = zstd_->out;
  out.resize(ZSTD_CStreamOutSize());
  for (;;) {
    ZSTD_outBuffer ob{out.data(), out.size(), 0};
    const std::size_t remaining = ZSTD_compressStream2(zstd_->context, &ob, &in, mode);
    if (ZSTD_isError(remaining)) {
      errno = EIO;
      return false;
    }
    if (!write_raw(out.data(), ob.pos)) return false;
    const bool input_done = in.pos == in.size;
    if (mode == ZSTD_e_continue ? input_done : (input_done && remaining == 0)) return true;
  }
}

result<void> writer::close() {
  if (closed_) {
    std::lock_guard lock(mutex_);
    if (error_) return *error_;
    return {};
  }
  closed_ = true;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) {
    if (::close(fd_) != 0) {
      std::lock_guard lock(mutex_);
      if (!error_)
        error_ = make_error(errc::io, fmt::format("{}: close failed", options_.path.string()));
    }
    fd_ = -1;
  }
  std::lock_guard lock(mutex_);
  if (error_) return *error_;
  return {};
}

std::string to_line(const nlohmann::json& event) {
  return event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void line_buffer::append(const nlohmann::json& event) {
  buffer_ += to_line(event);
  buffer_ += '\n';
}

void line_buffer::append_raw(std::string_view line) {
  buffer_ += line;
  buffer_ += '\n';
}

void line_buffer::hand_off() {
  if (buffer_.empty() || target_ == nullptr) return;
  std::string block;
  block.reserve(buffer_.capacity());
  block.swap(buffer_);
  target_->submit(std::move(block));
}

}  // namespace kofu::history
