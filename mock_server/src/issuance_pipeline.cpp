#include "issuance_pipeline.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <array>
#include <chrono>
#include <optional>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "certificate_writer.hpp"
#include "issue_request.hpp"
#include "race_window.hpp"

namespace kofu::mock {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

// "YYYY-MM-DDTHH:MM:SS.mmmZ" for now, in a buffer of the calling thread (valid until its next
// call). The part up to the second is formatted once per second and thread.
std::string_view utc_now_iso() {
  struct stamp_cache {
    std::chrono::system_clock::time_point second{std::chrono::system_clock::time_point::min()};
    std::string text;
  };
  thread_local stamp_cache cache;
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(now);
  if (seconds != cache.second) {
    cache.second = seconds;
    cache.text = fmt::format("{:%Y-%m-%dT%H:%M:%S}",
                             fmt::gmtime(std::chrono::system_clock::to_time_t(seconds)));
  }
  cache.text.resize(19);
  fmt::format_to(std::back_inserter(cache.text), ".{:03}Z", ms.count() % 1000);
  return cache.text;
}

http_reply retry(std::string_view detail) { return json_error(409, "data_changed_retry", detail); }

// Ends a layout on every path out of the pipeline.
class layout_guard {
 public:
  layout_guard(layout_templates& layouts, std::size_t type, const print_columns& requested)
      : layouts_(layouts), type_(type), requested_(requested) {
    layouts_.begin(type_, requested_);
  }
  ~layout_guard() { layouts_.end(type_, requested_); }
  layout_guard(const layout_guard&) = delete;
  layout_guard& operator=(const layout_guard&) = delete;

 private:
  layout_templates& layouts_;
  std::size_t type_;
  print_columns requested_;
};

// Waits until the job is printed or `deadline` passes (nullopt). Looks at the job's result and
// wakes on its signal or every 10 ms, so a wake-up swallowed by a timed-out wait is never lost.
asio::awaitable<std::optional<print_job::outcome>> wait_printed(
    std::shared_ptr<print_job> job, std::chrono::steady_clock::time_point deadline) {
  const auto executor = co_await asio::this_coro::executor;
  for (;;) {
    if (auto r = job->result()) co_return r;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) co_return std::nullopt;
    asio::steady_timer tick(executor, std::min<std::chrono::steady_clock::duration>(
                                          deadline - now, std::chrono::milliseconds(10)));
    auto op = job->done.async_receive(asio::as_tuple(asio::use_awaitable)) ||
              tick.async_wait(asio::as_tuple(asio::use_awaitable));
    co_await std::move(op);
  }
}

}  // namespace

asio::awaitable<http_reply> issuance_pipeline::issue(std::string_view body) {
  auto parsed = parse_issue_request(body);
  if (auto* error = std::get_if<http_reply>(&parsed)) co_return std::move(*error);
  auto op = issue(std::get<issue_request>(std::move(parsed)));
  http_reply reply = co_await std::move(op);
  co_return reply;
}

asio::awaitable<http_reply> issuance_pipeline::issue(issue_request req) {
  const auto& app = req.application_number;
  const bool version_check = !ctx_.defects.has(defect::no_version_check);

  // ---- 1. authentication: card serial → resident ----
  std::optional<std::string> authenticated;
  if (ctx_.defects.has(defect::stale_index_after_update)) {
    // ---- DEFECT stale-index-after-update: during a system update the frozen positional index
    // ---- is used; the row it names may hold another resident by now.
    if (auto row = ctx_.maintenance.row_for_card(req.card_serial)) {
      authenticated = ctx_.residents.resident_at_row(*row);
    } else {
      authenticated = ctx_.residents.resident_for_card(req.card_serial);
    }
  } else {
    authenticated = ctx_.residents.resident_for_card(req.card_serial);
  }
  if (!authenticated) {
    co_return json_error(
        404, "unknown_card",
        fmt::format("field 'subject.card_serial': no resident holds card '{}'", req.card_serial));
  }
  // Hand-off to the registry stage through the channel's work slot.
  auto slot = ctx_.gateway.acquire(req.channel);
  if (!slot) co_return json_error(503, "busy", "too many requests in flight on this channel");
  ctx_.gateway.store(req.channel, *slot, *authenticated);
  if (ctx_.race_window.count() > 0) co_await race_window_pause(ctx_.race_window);
  const auto subject_id = ctx_.gateway.load(req.channel, *slot);
  ctx_.gateway.release(req.channel, *slot);

  // ---- 2. registry read: one snapshot per record ----
  const auto subject = ctx_.residents.find(subject_id);
  if (!subject) co_return json_error(404, "unknown_card", "the card's resident is not registered");
  if (!subject->active()) {
    co_return json_error(
        422, "not_issuable",
        fmt::format("resident {} is removed (転出・死亡等)", subject->resident_id));
  }
  std::vector<resident_snapshot> persons;
  std::string koseki_id;
  switch (req.type) {
    case kJuminhyo:
      if (req.household) persons = ctx_.residents.household_members(subject->household_id);
      if (persons.empty()) persons.push_back(subject);
      break;
    case kKosekiZenbu:
    case kKosekiFuhyo:
    case kKosekiKojin: {
      auto fetch = ctx_.linkage.fetch(app, subject->koseki_id, subject->resident_id,
                                      req.type != kKosekiKojin);
      auto linked = co_await std::move(fetch);
      if (linked.application_number != app || linked.members.empty()) {
        co_return json_error(500, "linkage_failed", "the 戸籍 linkage returned no data");
      }
      persons = std::move(linked.members);
      koseki_id = std::move(linked.koseki_id);
      break;
    }
    default:
      persons.push_back(subject);
  }
  if (req.type == kInkan) {
    std::string seal_status;
    if (ctx_.defects.has(defect::cancelled_seal)) {
      // ---- DEFECT cancelled-seal: the seal register, not the record, decides. ----
      seal_status = subject->seal.is_null() ? "none" : ctx_.seals.status(subject->resident_id);
    } else {
      seal_status =
          subject->seal.is_null() ? "none" : subject->seal.at("status").get<std::string>();
    }
    if (seal_status != "registered") {
      co_return json_error(422, "not_issuable",
                           fmt::format("resident {} has no registered seal ({})",
                                       subject->resident_id, seal_status));
    }
  }
  if (ctx_.race_window.count() > 0) co_await race_window_pause(ctx_.race_window);

  // ---- 3. rendering ----
  // Print details are read again as of now; their version must be the snapshot's.
  std::vector<resident_snapshot> details;
  details.reserve(persons.size());
  for (const auto& p : persons) {
    // A person read later than the subject (through the 戸籍 linkage) may be a newer version of
    // the subject itself: the certificate would carry two versions of one record.
    if (version_check && p->resident_id == subject->resident_id && p->version != subject->version) {
      co_return retry(fmt::format("resident {} changed from version {} to {} during issuance",
                                  p->resident_id, subject->version, p->version));
    }
    auto d = ctx_.residents.find(p->resident_id);
    if (!d) co_return json_error(500, "registry_inconsistent", "a printed record vanished");
    if (version_check && d->version != p->version) {
      co_return retry(fmt::format("resident {} changed from version {} to {} during issuance",
                                  p->resident_id, p->version, d->version));
    }
    details.push_back(std::move(d));
  }
  layout_guard layout(ctx_.layouts, req.type, req.columns);
  if (ctx_.race_window.count() > 0) co_await race_window_pause(ctx_.race_window);
  const auto columns = ctx_.layouts.columns(req.type, req.columns);

  if (req.type == kInkan && details.front()->seal.is_null()) {
    co_return retry("the seal was removed during issuance");
  }

  // ---- 4. sealing: serial, time, digest over the canonical form ----
  const auto sequence = ctx_.certificate_sequence.fetch_add(1, std::memory_order_relaxed) + 1;
  char serial[48];
  const auto serial_end =
      fmt::format_to_n(serial, sizeof serial, "C-{}-{:012}", ctx_.options.instance, sequence).out;
  const certificate_content content{
      .type = req.type,
      .subject = subject.get(),
      .persons = persons,
      .details = details,
      .columns = columns,
      .koseki_id = koseki_id,
      .serial = std::string_view(serial, static_cast<std::size_t>(serial_end - serial)),
      .issued_at = utc_now_iso(),
  };
  std::string answer = write_answer(app, content, ctx_.residents);

  // ---- 5. printing ----
  std::string print_data;
  if (ctx_.spool.prints_inline()) {
    print_data = ctx_.spool.print_inline(std::move(answer));
  } else {
    const auto print_slot = ctx_.spool.acquire_slot();
    std::string spool_file;
    if (ctx_.spool.uses_spool_dir()) {
      spool_file = ctx_.spool.write_spool_file(answer);
      if (spool_file.empty()) {
        ctx_.spool.release_slot(print_slot);
        co_return json_error(500, "spool_failed", "cannot write the print file");
      }
      // hand-off to the printer
      if (ctx_.race_window.count() > 0) co_await race_window_pause(ctx_.race_window);
    } else {
      ctx_.spool.fill_slot(print_slot, std::move(answer));
    }
    const auto executor = co_await asio::this_coro::executor;
    auto job = ctx_.spool.submit(executor, app, print_slot, spool_file);
    const auto print_deadline = std::chrono::steady_clock::now() + ctx_.options.print_timeout;
    auto wait_op = wait_printed(job, print_deadline);
    auto printed = co_await std::move(wait_op);
    if (!printed && ctx_.defects.has(defect::timeout_partial_release)) {
      // ---- DEFECT timeout-partial-release: the timeout path frees the print-order slot only and
      // ---- goes on waiting. The job still prints that slot, which the next request has filled.
      ctx_.spool.release_slot(print_slot);
      auto rest = wait_printed(job, std::chrono::steady_clock::time_point::max());
      printed = co_await std::move(rest);
    } else if (!printed) {
      // Cancel the whole issuance: off the queue, or wait for a print already under way, and only
      // then free the slot.
      if (!ctx_.spool.cancel(job)) {
        auto rest = wait_printed(job, std::chrono::steady_clock::time_point::max());
        co_await std::move(rest);
      }
      ctx_.spool.release_slot(print_slot);
      co_return json_error(503, "print_timeout",
                           "the printer did not answer in time; nothing was issued, retry");
    } else {
      ctx_.spool.release_slot(print_slot);
    }
    if (!printed || printed->error) {
      co_return json_error(500, "print_failed", printed ? printed->error.message() : "no print");
    }
    print_data = std::move(printed->data);
  }
  http_reply reply{200, std::move(print_data), "application/json"};
  if (ctx_.options.print == print_format::pdf) {
    auto print_op = ctx_.pdf_print.print(reply.body, req.channel);
    reply = co_await std::move(print_op);
    if (reply.status != 200) co_return reply;
  }

  // ---- before answering: every printed record must still be at the version printed ----
  if (version_check) {
    if (const auto now = ctx_.residents.current_version(subject->resident_id);
        now != subject->version) {
      co_return retry(fmt::format("resident {} changed from version {} to {} during issuance",
                                  subject->resident_id, subject->version, now));
    }
    for (const auto& p : persons) {
      const auto now = ctx_.residents.current_version(p->resident_id);
      if (now != p->version) {
        co_return retry(fmt::format("resident {} changed from version {} to {} during issuance",
                                    p->resident_id, p->version, now));
      }
    }
  }
  co_return reply;
}

}  // namespace kofu::mock
