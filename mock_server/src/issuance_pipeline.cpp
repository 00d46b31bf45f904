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

#include "race_window.hpp"
#include "sha256.hpp"

namespace kofu::mock {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using nlohmann::json;

namespace {

constexpr std::array<std::string_view, layout_templates::kTypes> kTypes = {
    "juminhyo", "juminhyo_kisai", "inkan", "koseki_zenbu", "koseki_kojin", "koseki_fuhyo", "kazei"};

enum type_index : std::size_t {
  kJuminhyo,
  kJuminhyoKisai,
  kInkan,
  kKosekiZenbu,
  kKosekiKojin,
  kKosekiFuhyo,
  kKazei
};

struct issue_request {
  std::string application_number;
  std::string channel;
  std::size_t type = kJuminhyo;
  std::string card_serial;
  bool household = false;
  print_columns columns;
};

http_reply bad_request(std::string_view code, std::string detail) {
  return json_error(400, code, detail);
}

std::variant<issue_request, http_reply> parse_issue_request(std::string_view body) {
  auto j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return bad_request("malformed_json", "the body is not valid UTF-8 JSON");
  if (!j.is_object()) return bad_request("invalid_type", "the body must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const auto& k = it.key();
    if (k != "application_number" && k != "channel" && k != "certificate_type" && k != "subject" &&
        k != "options") {
      return bad_request("unknown_field", fmt::format("field '{}': unknown field", k));
    }
  }
  const auto string_field = [&](const json& obj, const char* key,
                                const std::string& path) -> std::variant<std::string, http_reply> {
    auto it = obj.find(key);
    if (it == obj.end())
      return bad_request("missing_field", fmt::format("field '{}': missing", path));
    if (!it->is_string()) {
      return bad_request("invalid_type", fmt::format("field '{}': must be a string", path));
    }
    const auto& s = it->get_ref<const std::string&>();
    if (s.empty() || s.size() > 128) {
      return bad_request("invalid_value", fmt::format("field '{}': must be 1 to 128 bytes", path));
    }
    return s;
  };
  issue_request req;
  {
    auto v = string_field(j, "application_number", "application_number");
    if (auto* e = std::get_if<http_reply>(&v)) return *e;
    req.application_number = std::get<std::string>(v);
  }
  {
    auto v = string_field(j, "channel", "channel");
    if (auto* e = std::get_if<http_reply>(&v)) return *e;
    req.channel = std::get<std::string>(v);
    if (req.channel != "konbini" && req.channel != "window" && req.channel != "kiosk") {
      return bad_request(
          "invalid_value",
          fmt::format("field 'channel': unknown channel '{}' (konbini, window, kiosk)",
                      req.channel));
    }
  }
  {
    auto v = string_field(j, "certificate_type", "certificate_type");
    if (auto* e = std::get_if<http_reply>(&v)) return *e;
    const auto& type = std::get<std::string>(v);
    auto found = std::find(kTypes.begin(), kTypes.end(), type);
    if (found == kTypes.end()) {
      return bad_request("invalid_value",
                         fmt::format("field 'certificate_type': unknown type '{}'", type));
    }
    req.type = static_cast<std::size_t>(found - kTypes.begin());
  }
  {
    auto subject = j.find("subject");
    if (subject == j.end()) return bad_request("missing_field", "field 'subject': missing");
    if (!subject->is_object()) {
      return bad_request("invalid_type", "field 'subject': must be an object");
    }
    for (auto it = subject->begin(); it != subject->end(); ++it) {
      if (it.key() != "card_serial") {
        return bad_request("unknown_field",
                           fmt::format("field 'subject.{}': unknown field", it.key()));
      }
    }
    auto v = string_field(*subject, "card_serial", "subject.card_serial");
    if (auto* e = std::get_if<http_reply>(&v)) return *e;
    req.card_serial = std::get<std::string>(v);
  }
  if (auto options = j.find("options"); options != j.end()) {
    if (!options->is_object()) {
      return bad_request("invalid_type", "field 'options': must be an object");
    }
    for (auto it = options->begin(); it != options->end(); ++it) {
      const auto& k = it.key();
      const auto path = fmt::format("options.{}", k);
      if (k == "scope") {
        if (!it->is_string()) {
          return bad_request("invalid_type", fmt::format("field '{}': must be a string", path));
        }
        const auto& scope = it->get_ref<const std::string&>();
        if (scope != "individual" && scope != "household") {
          return bad_request("invalid_value",
                             fmt::format("field '{}': must be 'individual' or 'household'", path));
        }
        req.household = scope == "household";
      } else if (k == "honseki" || k == "zokugara" || k == "mynumber") {
        if (!it->is_boolean()) {
          return bad_request("invalid_type", fmt::format("field '{}': must be a boolean", path));
        }
        const bool on = it->get<bool>();
        if (k == "honseki") req.columns.honseki = on;
        if (k == "zokugara") req.columns.zokugara = on;
        if (k == "mynumber") req.columns.mynumber = on;
      } else {
        return bad_request("unknown_field", fmt::format("field '{}': unknown field", path));
      }
    }
  }
  // Optional columns exist only on the 住民票の写し.
  if (req.type != kJuminhyo) req.columns = {};
  return req;
}

std::string utc_now_iso() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const auto seconds = std::chrono::time_point_cast<std::chrono::seconds>(now);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(seconds)), ms.count() % 1000);
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
  const auto req = std::get<issue_request>(std::move(parsed));
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
  co_await race_window_pause(ctx_.race_window);
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
  co_await race_window_pause(ctx_.race_window);

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
  co_await race_window_pause(ctx_.race_window);
  const auto columns = ctx_.layouts.columns(req.type, req.columns);

  json certificate = json::object();
  certificate["type"] = kTypes[req.type];
  certificate["subject"] = {{"resident_id", subject->resident_id},
                            {"card_serial", subject->card_serial}};
  certificate["source_version"] = subject->version;
  json printed_persons = json::array();
  for (std::size_t i = 0; i < persons.size(); ++i) {
    const auto& id = *persons[i];
    const auto& d = *details[i];
    json person = {{"resident_id", id.resident_id},
                   {"source_version", id.version},
                   {"page", req.type == kKosekiZenbu ? i / 2 + 1 : 1},
                   {"name", id.name},
                   {"birth_date", id.birth_date},
                   {"sex", id.sex}};
    switch (req.type) {
      case kJuminhyo: {
        person["address"] = d.address;
        person["moved_in_date"] = d.moved_in_date;
        auto members = ctx_.residents.household_members(d.household_id);
        person["household_head"] = !members.empty() && members.front()->relationship == "世帯主"
                                       ? members.front()->full_name_kanji()
                                       : std::string();
        if (columns.zokugara) person["relationship"] = id.relationship;
        if (columns.honseki) {
          person["honseki"] = id.honseki;
          person["hittousha"] = id.hittousha;
        }
        if (columns.mynumber) person["mynumber"] = id.mynumber;
        break;
      }
      case kJuminhyoKisai:
      case kKosekiFuhyo:
        person["address"] = d.address;
        person["moved_in_date"] = d.moved_in_date;
        break;
      case kInkan:
      case kKazei:
        person["address"] = d.address;
        break;
      default:
        break;
    }
    if (req.type == kKosekiZenbu || req.type == kKosekiKojin) {
      person["koseki_relationship"] = id.koseki_relationship;
    }
    printed_persons.push_back(std::move(person));
  }
  certificate["persons"] = std::move(printed_persons);
  if (req.type == kInkan) {
    const auto& seal = details.front()->seal;
    if (seal.is_null()) co_return retry("the seal was removed during issuance");
    certificate["seal"] = {{"registration_number", seal.at("registration_number")},
                           {"image_png_base64", seal.at("image_png_base64")},
                           {"image_sha256", seal.at("image_sha256")}};
  }
  if (req.type == kKazei) certificate["tax"] = details.front()->tax;
  if (req.type == kKosekiZenbu || req.type == kKosekiKojin || req.type == kKosekiFuhyo) {
    const auto& head = *persons.front();
    certificate["koseki"] = {
        {"koseki_id", koseki_id}, {"honseki", head.honseki}, {"hittousha", head.hittousha}};
  }

  // ---- 4. sealing: serial, time, digest over the canonical form ----
  const auto sequence = ctx_.certificate_sequence.fetch_add(1, std::memory_order_relaxed) + 1;
  certificate["serial"] = fmt::format("C-{}-{:012}", ctx_.options.instance, sequence);
  certificate["issued_at"] = utc_now_iso();
  // nlohmann::json keeps object keys in a std::map (sorted by byte), prints no whitespace and
  // escapes exactly as RFC 8785 needs for ASCII keys and integer numbers (docs/protocol.md).
  const auto canonical = certificate.dump(-1, ' ', false, json::error_handler_t::replace);
  const auto digest = sha256_hex(app + "\n" + canonical);
  std::string answer = fmt::format(R"({{"application_number":{},"certificate":{},"digest":"{}"}})",
                                   json(app).dump(), canonical, digest);

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
      co_await race_window_pause(ctx_.race_window);  // hand-off to the printer
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
  co_return http_reply{200, std::move(print_data), "application/json"};
}

}  // namespace kofu::mock
