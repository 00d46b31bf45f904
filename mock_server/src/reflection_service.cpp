#include "reflection_service.hpp"

#include <openssl/crypto.h>

#include <chrono>
#include <unordered_map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace kofu::mock {

namespace asio = boost::asio;
using nlohmann::json;

reflection_service::reflection_service(service_context& context) : ctx_(context) {
  writer_.emplace();
  work_.emplace(asio::make_work_guard(*writer_));
  thread_ = std::thread([this] { writer_->run(); });
}

reflection_service::~reflection_service() { stop(); }

void reflection_service::stop() {
  if (!writer_) return;
  work_.reset();
  writer_->stop();
  if (thread_.joinable()) thread_.join();
  writer_.reset();
}

template <class Work>
asio::awaitable<http_reply> reflection_service::on_writer(Work work) {
  // Named operands only around co_await: GCC 12 mishandles temporaries inside co_await
  // expressions (they are destroyed twice).
  auto task = [w = std::move(work)]() -> asio::awaitable<http_reply> { co_return w(); };
  auto op = asio::co_spawn(*writer_, std::move(task), asio::use_awaitable);
  http_reply reply = co_await std::move(op);
  co_return reply;
}

void reflection_service::reflect_seal(const std::string& resident_id) {
  // The linkage to the seal subsystem takes a moment; the register follows the record.
  if (ctx_.race_window.count() > 0) std::this_thread::sleep_for(ctx_.race_window);
  auto r = ctx_.residents.find(resident_id);
  if (!r) return;
  ctx_.seals.set(resident_id, r->seal.is_null() ? "none" : r->seal.at("status").get<std::string>());
}

http_reply reflection_service::apply_one(const resident_change& c) {
  const auto outcome = ctx_.residents.apply_change(c);
  switch (outcome.status) {
    case change_status::unknown_resident:
      return json_error(404, "unknown_resident",
                        fmt::format("no resident with resident_id '{}'", c.resident_id));
    case change_status::non_monotonic_change_id:
      return json_error(409, "non_monotonic_change_id",
                        fmt::format("field 'change_id': {} is not greater than the last accepted "
                                    "change of resident {}",
                                    c.change_id, c.resident_id));
    case change_status::applied:
      break;
  }
  if (c.kind == "seal") reflect_seal(c.resident_id);
  return json_reply(200, {{"resident_id", c.resident_id}, {"version", outcome.version}});
}

http_reply reflection_service::apply_batch(const std::string& batch_id,
                                           const std::vector<resident_change>& changes) {
  // Validate everything first: a batch with any invalid change is rejected whole.
  std::unordered_map<std::string, std::int64_t> pending;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const auto& c = changes[i];
    const auto status = ctx_.residents.check_change(c, pending[c.resident_id]);
    if (status == change_status::unknown_resident) {
      return json_error(
          400, "invalid_change",
          fmt::format("field 'changes[{}].resident_id': unknown resident '{}'", i, c.resident_id));
    }
    if (status == change_status::non_monotonic_change_id) {
      return json_error(400, "invalid_change",
                        fmt::format("field 'changes[{}].change_id': {} is not greater than the "
                                    "last change of resident {}",
                                    i, c.change_id, c.resident_id));
    }
    pending[c.resident_id] = c.change_id;
  }
  json versions = json::array();
  if (ctx_.defects.has(defect::reflection_race)) {
    // ---- DEFECT reflection-race: fields go into the live records one by one while issuance
    // ---- reads them; the versions are published only when the run is complete.
    for (const auto& c : changes) {
      for (auto f = c.fields.begin(); f != c.fields.end(); ++f) {
        ctx_.residents.write_field_unversioned(c.resident_id, f.key(), f.value());
        if (ctx_.race_window.count() > 0) std::this_thread::sleep_for(ctx_.race_window);
      }
    }
    for (const auto& c : changes) {
      const auto version = ctx_.residents.publish_version(c.resident_id, c.change_id);
      if (c.kind == "seal") reflect_seal(c.resident_id);
      versions.push_back({{"resident_id", c.resident_id}, {"version", version}});
    }
    // ---- end DEFECT reflection-race ----
  } else {
    // Each record is written whole, fields and version in one step, one after another.
    for (const auto& c : changes) {
      const auto outcome = ctx_.residents.apply_change(c);
      if (c.kind == "seal") reflect_seal(c.resident_id);
      versions.push_back({{"resident_id", c.resident_id}, {"version", outcome.version}});
      if (ctx_.race_window.count() > 0) std::this_thread::sleep_for(ctx_.race_window);
    }
  }
  return json_reply(200, {{"batch_id", batch_id}, {"versions", std::move(versions)}});
}

http_reply reflection_service::open_maintenance(std::int64_t duration_ms) {
  // The system update: the card index is rebuilt.
  ctx_.residents.rebuild_card_index();
  std::unordered_map<std::string, std::size_t> positions;
  if (ctx_.defects.has(defect::stale_index_after_update)) {
    // ---- DEFECT stale-index-after-update: the rebuilt index is positional and frozen.
    positions = ctx_.residents.positional_card_index();
  }
  ctx_.maintenance.open(maintenance_window::clock::now() + std::chrono::milliseconds(duration_ms),
                        std::move(positions));
  const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() +
                     duration_ms;
  return json_reply(202, {{"until_ms", until}});
}

asio::awaitable<http_reply> reflection_service::change(std::string resident_id, std::string body) {
  auto j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    co_return json_error(400, "malformed_json", "the body is not valid UTF-8 JSON");
  }
  auto parsed = parse_change(j, /*with_resident_id=*/false, "");
  if (auto* err = std::get_if<std::string>(&parsed)) {
    co_return json_error(
        400, err->find("unknown field") != std::string::npos ? "unknown_field" : "invalid_change",
        *err);
  }
  auto c = std::get<resident_change>(std::move(parsed));
  c.resident_id = std::move(resident_id);
  auto op = change(std::move(c));
  http_reply reply = co_await std::move(op);
  co_return reply;
}

asio::awaitable<http_reply> reflection_service::change(resident_change c) {
  auto op = on_writer([this, c = std::move(c)] { return apply_one(c); });
  http_reply reply = co_await std::move(op);
  co_return reply;
}

asio::awaitable<http_reply> reflection_service::batch(std::string body) {
  auto j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    co_return json_error(400, "malformed_json", "the body is not valid UTF-8 JSON");
  }
  if (!j.is_object()) co_return json_error(400, "invalid_type", "the body must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "batch_id" && it.key() != "changes") {
      co_return json_error(400, "unknown_field",
                           fmt::format("field '{}': unknown field", it.key()));
    }
  }
  auto id = j.find("batch_id");
  if (id == j.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
    co_return json_error(400, "invalid_value", "field 'batch_id': must be a non-empty string");
  }
  auto list = j.find("changes");
  if (list == j.end() || !list->is_array() || list->empty()) {
    co_return json_error(400, "invalid_value", "field 'changes': must be a non-empty array");
  }
  std::vector<resident_change> changes;
  changes.reserve(list->size());
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto parsed =
        parse_change((*list)[i], /*with_resident_id=*/true, fmt::format("changes[{}]", i));
    if (auto* err = std::get_if<std::string>(&parsed)) {
      co_return json_error(400, "invalid_change", *err);
    }
    changes.push_back(std::get<resident_change>(std::move(parsed)));
  }
  auto op = batch(id->get<std::string>(), std::move(changes));
  http_reply reply = co_await std::move(op);
  co_return reply;
}

asio::awaitable<http_reply> reflection_service::batch(std::string batch_id,
                                                      std::vector<resident_change> changes) {
  auto op = on_writer([this, batch_id = std::move(batch_id), changes = std::move(changes)] {
    return apply_batch(batch_id, changes);
  });
  http_reply reply = co_await std::move(op);
  co_return reply;
}

std::optional<http_reply> reflection_service::admin_refusal(std::string_view authorization) const {
  const auto& token = ctx_.options.admin_token;
  if (token.empty()) {
    return json_error(403, "admin_disabled",
                      "admin calls are disabled: start kofu-mock with --admin-token");
  }
  const std::string expected = "Bearer " + token;
  if (authorization.size() != expected.size() ||
      CRYPTO_memcmp(authorization.data(), expected.data(), expected.size()) != 0) {
    return json_error(401, "unauthorized", "header 'Authorization': bearer token required");
  }
  return std::nullopt;
}

asio::awaitable<http_reply> reflection_service::maintenance(std::string authorization,
                                                            std::string body) {
  if (auto refused = admin_refusal(authorization)) co_return std::move(*refused);
  auto j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    co_return json_error(400, "malformed_json", "the body is not valid UTF-8 JSON");
  }
  if (!j.is_object()) co_return json_error(400, "invalid_type", "the body must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "duration_ms") {
      co_return json_error(400, "unknown_field",
                           fmt::format("field '{}': unknown field", it.key()));
    }
  }
  auto d = j.find("duration_ms");
  if (d == j.end() || !d->is_number_integer() || d->get<std::int64_t>() < 1 ||
      d->get<std::int64_t>() > 3'600'000) {
    co_return json_error(400, "invalid_value",
                         "field 'duration_ms': must be an integer from 1 to 3600000");
  }
  auto op = maintenance(d->get<std::int64_t>());
  http_reply reply = co_await std::move(op);
  co_return reply;
}

asio::awaitable<http_reply> reflection_service::maintenance(std::int64_t duration_ms) {
  auto op = on_writer([this, duration_ms] { return open_maintenance(duration_ms); });
  http_reply reply = co_await std::move(op);
  co_return reply;
}

}  // namespace kofu::mock
