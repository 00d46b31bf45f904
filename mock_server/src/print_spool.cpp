#include "print_spool.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace kofu::mock {

void print_job::finish(boost::system::error_code error, std::string data) {
  {
    std::lock_guard lock(mutex_);
    if (result_) return;
    result_ = outcome{error, std::move(data)};
  }
  done.try_send(error);
}

std::optional<print_job::outcome> print_job::result() const {
  std::lock_guard lock(mutex_);
  return result_;
}

print_spool::print_spool(std::chrono::milliseconds print_time,
                         std::optional<std::filesystem::path> spool_dir, bool counter_names_defect)
    : print_time_(print_time),
      spool_dir_(std::move(spool_dir)),
      counter_names_defect_(counter_names_defect),
      printer_([this] { printer_loop(); }) {}

print_spool::~print_spool() { stop(); }

void print_spool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (printer_.joinable()) printer_.join();
  std::lock_guard lock(mutex_);
  for (auto& job : queue_) job->finish(boost::asio::error::operation_aborted, std::string());
  queue_.clear();
}

std::size_t print_spool::acquire_slot() {
  std::lock_guard lock(mutex_);
  if (free_slots_.empty()) {
    slots_.emplace_back();
    return slots_.size() - 1;
  }
  const auto slot = free_slots_.back();
  free_slots_.pop_back();
  return slot;
}

void print_spool::fill_slot(std::size_t slot, std::string data) {
  std::lock_guard lock(mutex_);
  slots_.at(slot) = std::move(data);
}

void print_spool::release_slot(std::size_t slot) {
  std::lock_guard lock(mutex_);
  free_slots_.push_back(slot);
}

std::string print_spool::print_inline(std::string data) {
  std::lock_guard lock(mutex_);
  std::size_t slot = 0;
  if (free_slots_.empty()) {
    slots_.emplace_back();
    slot = slots_.size() - 1;
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  slots_[slot] = std::move(data);
  std::string printed = std::move(slots_[slot]);
  slots_[slot].clear();
  free_slots_.push_back(slot);
  return printed;
}

std::string print_spool::write_spool_file(const std::string& data) {
  std::uint64_t sequence = 0;
  {
    std::lock_guard lock(mutex_);
    sequence = spool_sequence_++;
  }
  std::filesystem::path file;
  if (counter_names_defect_) {
    // ---- DEFECT spool-collision: a per-process counter on a ring of names. Another process on
    // ---- the same folder counts the same names.
    file = *spool_dir_ / fmt::format("print-{:04}.json", sequence % 1000);
  } else {
    file = *spool_dir_ / fmt::format("print-{}-{}.json", ::getpid(), sequence);
  }
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  if (!out) return {};
  return file.string();
}

std::shared_ptr<print_job> print_spool::submit(boost::asio::any_io_executor ex,
                                               const std::string& application_number,
                                               std::size_t slot, std::string spool_file) {
  auto job =
      std::make_shared<print_job>(std::move(ex), application_number, slot, std::move(spool_file));
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      job->finish(boost::asio::error::operation_aborted, std::string());
      return job;
    }
    queue_.push_back(job);
  }
  wake_.notify_one();
  return job;
}

bool print_spool::cancel(const std::shared_ptr<print_job>& job) {
  std::lock_guard lock(mutex_);
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (*it == job) {
      queue_.erase(it);
      return true;
    }
  }
  return false;
}

std::string print_spool::print(const print_job& job) {
  if (print_time_.count() > 0) std::this_thread::sleep_for(print_time_);
  if (!job.spool_file.empty()) {
    std::ifstream in(job.spool_file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!counter_names_defect_) {
      std::error_code ec;
      std::filesystem::remove(job.spool_file, ec);
    }
    return text.str();
  }
  std::lock_guard lock(mutex_);
  return slots_.at(job.slot);
}

void print_spool::printer_loop() {
  for (;;) {
    std::shared_ptr<print_job> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    auto data = print(*job);
    if (data.empty()) {
      job->finish(boost::asio::error::no_such_device, std::string());
    } else {
      job->finish(boost::system::error_code(), std::move(data));
    }
  }
}

}  // namespace kofu::mock
