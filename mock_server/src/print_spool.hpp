#pragma once
// The print stage: the print-order manager (a pool of print slots), an optional spool folder, and
// one printer thread that prints jobs in order. The print data of a request (its whole answer)
// goes into a slot (or a spool file); the printer reads it back when the job's turn comes.
//
// Correct: a request that times out waiting for the printer cancels its whole issuance — the job
// is taken off the queue (or, if already printing, waited for) before its slot is freed — and
// spool files are named uniquely (process id and a sequence number).
//
// DEFECT timeout-partial-release (①) is in the pipeline's print step (issuance_pipeline.cpp):
// on timeout it frees the slot only and keeps waiting, so the next request's data is printed.
// DEFECT spool-collision: spool files are named by a per-process counter on a ring of 1000
// names, so two processes sharing a spool folder overwrite each other's print files.
//
// Thread-safe: every member may be called from any thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/system/error_code.hpp>

namespace kofu::mock {

// One print job; shared by the requester and the printer.
struct print_job {
  // Rings once when the result is set. Only a wake-up: a receive cancelled by a timeout may
  // swallow it, so waiters always look at result() and wake up now and then on their own.
  using signal_channel =
      boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>;
  struct outcome {
    boost::system::error_code error;
    std::string data;  // the printed answer
  };

  print_job(boost::asio::any_io_executor ex, std::string app, std::size_t s, std::string file)
      : application_number(std::move(app)), slot(s), spool_file(std::move(file)), done(ex, 1) {}

  // Sets the result once (later calls are ignored) and rings `done`.
  void finish(boost::system::error_code error, std::string data);
  std::optional<outcome> result() const;

  const std::string application_number;
  const std::size_t slot;
  const std::string spool_file;  // empty: print from the slot in memory
  signal_channel done;

 private:
  mutable std::mutex mutex_;
  std::optional<outcome> result_;  // protected by mutex_
};

class print_spool {
 public:
  print_spool(std::chrono::milliseconds print_time, std::optional<std::filesystem::path> spool_dir,
              bool counter_names_defect);
  ~print_spool();
  print_spool(const print_spool&) = delete;
  print_spool& operator=(const print_spool&) = delete;

  // A free slot (the most recently freed one first), holding nothing yet.
  std::size_t acquire_slot();
  void fill_slot(std::size_t slot, std::string data);
  void release_slot(std::size_t slot);

  bool uses_spool_dir() const { return spool_dir_.has_value(); }
  // With no printer time and no spool folder the printer is instantaneous: the requester prints
  // its own slot in place (print_inline) instead of queueing a job for the printer thread, which
  // would only add a thread hop per request.
  bool prints_inline() const { return print_time_.count() == 0 && !spool_dir_; }
  // Takes a slot, puts the data in, prints it back and frees the slot, under one lock.
  std::string print_inline(std::string data);
  // Writes print data to a new spool file; returns its path, or empty on an I/O error.
  std::string write_spool_file(const std::string& data);

  // Queues a job printing `slot` (or `spool_file`). The result arrives on job->done.
  std::shared_ptr<print_job> submit(boost::asio::any_io_executor ex,
                                    const std::string& application_number, std::size_t slot,
                                    std::string spool_file);
  // Takes a job off the queue. True if it had not started printing (it never will); false if it
  // is printing or printed (its result will arrive on done).
  bool cancel(const std::shared_ptr<print_job>& job);

  void stop();

 private:
  void printer_loop();
  std::string print(const print_job& job);

  const std::chrono::milliseconds print_time_;
  const std::optional<std::filesystem::path> spool_dir_;
  const bool counter_names_defect_;

  std::mutex mutex_;
  std::condition_variable wake_;
  // State below is protected by mutex_.
  std::vector<std::string> slots_;
  std::vector<std::size_t> free_slots_;  // LIFO
  std::deque<std::shared_ptr<print_job>> queue_;
  std::uint64_t spool_sequence_ = 0;
  bool stopping_ = false;

  std::thread printer_;  // last: started after the state above exists
};

}  // namespace kofu::mock
