#include "koseki_linkage.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "race_window.hpp"

namespace kofu::mock {

namespace asio = boost::asio;

koseki_linkage::koseki_linkage(const registry& residents, bool shared_work_area_defect,
                               std::chrono::milliseconds call_time, unsigned threads)
    : residents_(residents),
      shared_work_area_defect_(shared_work_area_defect),
      call_time_(call_time) {
  context_.emplace();
  work_.emplace(asio::make_work_guard(*context_));
  for (unsigned i = 0; i < std::max(1u, threads); ++i) {
    threads_.emplace_back([this] { context_->run(); });
  }
}

koseki_linkage::~koseki_linkage() { stop(); }

void koseki_linkage::stop() {
  if (!context_) return;
  work_.reset();
  context_->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  context_.reset();
}

asio::awaitable<linkage_result> koseki_linkage::fetch(std::string application_number,
                                                      std::string koseki_id,
                                                      std::string resident_id, bool whole) {
  // The job runs on the linkage's own threads; the caller resumes on its own executor.
  // (Built in a named variable first: GCC 12 mishandles temporaries inside co_await operands.)
  work_area query{std::move(koseki_id), std::move(resident_id)};
  auto job = run_job(std::move(application_number), std::move(query), whole);
  linkage_result result = co_await asio::co_spawn(*context_, std::move(job), asio::use_awaitable);
  co_return result;
}

asio::awaitable<linkage_result> koseki_linkage::run_job(std::string application_number,
                                                        work_area query, bool whole) {
  // ---- DEFECT linkage-overwrite: the query goes through one shared work area. ----
  if (shared_work_area_defect_) {
    std::lock_guard lock(shared_mutex_);
    shared_area_ = query;
  }
  // The call to the 戸籍 system.
  co_await race_window_pause(call_time_);
  if (shared_work_area_defect_) {
    std::lock_guard lock(shared_mutex_);
    query = shared_area_;  // whatever the last job wrote
  }
  // ---- end DEFECT linkage-overwrite ----

  linkage_result result{std::move(application_number), query.koseki_id, {}};
  if (whole) {
    result.members = residents_.koseki_members(query.koseki_id);
  } else if (auto r = residents_.find(query.resident_id)) {
    result.members.push_back(std::move(r));
  }
  co_return result;
}

}  // namespace kofu::mock
