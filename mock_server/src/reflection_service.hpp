#pragma once
// The writers: POST /v1/residents/{id}/changes, POST /v1/reflection/batch and
// POST /v1/admin/maintenance. All of them run on one writer thread (their own io_context), so a
// change is validated and applied against the same state and versions follow change order.
// Issuance goes on concurrently on the I/O threads.
//
// DEFECT reflection-race (②) is in apply_batch(): the defective reflection run writes each
// record's fields into the live record first and publishes the new versions only when the whole
// run is done, so issuance reads new data under the old version.
//
// Thread-safe: the handlers may be called from any coroutine; stop() is idempotent.

#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "http_reply.hpp"
#include "service_context.hpp"

namespace kofu::mock {

class reflection_service {
 public:
  explicit reflection_service(service_context& context);
  ~reflection_service();
  reflection_service(const reflection_service&) = delete;
  reflection_service& operator=(const reflection_service&) = delete;

  // The reference endpoints: parse the body (400 on bad input), then run as below.
  boost::asio::awaitable<http_reply> change(std::string resident_id, std::string body);
  boost::asio::awaitable<http_reply> batch(std::string body);
  boost::asio::awaitable<http_reply> maintenance(std::string authorization, std::string body);

  // The same writers for requests already parsed, e.g. by a dialect's translation layer
  // (vendor_ja_dialect.hpp). They answer exactly as the endpoints do after parsing.
  boost::asio::awaitable<http_reply> change(resident_change c);
  boost::asio::awaitable<http_reply> batch(std::string batch_id,
                                           std::vector<resident_change> changes);
  // nullopt when `authorization` is "Bearer <admin token>"; else the 403 (admin disabled) or 401
  // answer.
  std::optional<http_reply> admin_refusal(std::string_view authorization) const;
  // A maintenance window of `duration_ms` (1 … 3 600 000, checked by the caller); no admin check.
  boost::asio::awaitable<http_reply> maintenance(std::int64_t duration_ms);

  void stop();

 private:
  http_reply apply_one(const resident_change& c);
  http_reply apply_batch(const std::string& batch_id, const std::vector<resident_change>& changes);
  http_reply open_maintenance(std::int64_t duration_ms);
  // Updates the seal register after a seal change reached the record (the linkage call).
  void reflect_seal(const std::string& resident_id);
  // Runs `work` on the writer thread and returns its reply.
  template <class Work>
  boost::asio::awaitable<http_reply> on_writer(Work work);

  service_context& ctx_;
  std::optional<boost::asio::io_context> writer_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
};

}  // namespace kofu::mock
