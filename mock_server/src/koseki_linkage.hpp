#pragma once
// The 戸籍 linkage (戸籍連携): a separate component with its own queue (io_context) and threads
// that fetches the members of a 戸籍 for the issuance pipeline. Every job carries the application
// number of the request that asked for it and keeps its query in its own work area.
//
// DEFECT linkage-overwrite (③): the linkage keeps ONE work area for all jobs. A job writes its
// query there, calls the 戸籍 system, then reads the query back to fetch the members; a second
// request arriving meanwhile has overwritten it, so the first gets the second's 戸籍.
//
// Thread-safe: fetch() may be called from any thread; the result completes on the caller's
// executor. stop() joins the threads; the destructor calls it.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "kofu/mock/registry.hpp"

namespace kofu::mock {

struct linkage_result {
  std::string application_number;  // the request the job ran for
  std::string koseki_id;
  std::vector<resident_snapshot> members;  // whole 戸籍, or only the person asked for
};

class koseki_linkage {
 public:
  koseki_linkage(const registry& residents, bool shared_work_area_defect,
                 std::chrono::milliseconds call_time, unsigned threads);
  ~koseki_linkage();
  koseki_linkage(const koseki_linkage&) = delete;
  koseki_linkage& operator=(const koseki_linkage&) = delete;

  // Fetches 戸籍 `koseki_id`: every member (`whole`) or only `resident_id`.
  boost::asio::awaitable<linkage_result> fetch(std::string application_number,
                                               std::string koseki_id, std::string resident_id,
                                               bool whole);
  // Stops the threads and discards queued jobs. Idempotent.
  void stop();

 private:
  struct work_area {
    std::string koseki_id;
    std::string resident_id;
  };

  boost::asio::awaitable<linkage_result> run_job(std::string application_number, work_area query,
                                                 bool whole);

  const registry& residents_;
  const bool shared_work_area_defect_;
  const std::chrono::milliseconds call_time_;
  // Reset by stop(): destroying the context destroys jobs that never ran (and the coroutines of
  // the requests waiting for them) while the rest of the server still exists.
  std::optional<boost::asio::io_context> context_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;

  std::mutex shared_mutex_;
  work_area shared_area_;  // protected by shared_mutex_ (used only with the defect)
};

}  // namespace kofu::mock
