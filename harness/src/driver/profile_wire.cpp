#include "kofu/driver/profile_wire.hpp"

#include <utility>

namespace kofu::driver {

using json = nlohmann::json;

profile_wire::profile_wire(std::shared_ptr<const vendor_profile> profile)
    : profile_(std::move(profile)) {}

http_request profile_wire::issue_request(const issue_fields& fields) const {
  return profile_->issue_request(fields);
}

issue_answer profile_wire::classify_issue(unsigned status, const std::string& body,
                                          std::string_view) const {
  issue_answer a;
  auto doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) {
    a.outcome = profile_->classify_issue(status, json(body), a.error);
  } else {
    a.outcome = profile_->classify_issue(status, doc, a.error);
    a.document = std::move(doc);
  }
  return a;
}

verify::decoded_answer profile_wire::decode_parsed(unsigned status, const std::string& body,
                                                   const json* document) const {
  if (document == nullptr) return verify::malformed_answer("the answer is not JSON", body);
  if (const auto decoder = profile_->decoder()) return decoder->decode(*document, false);
  // A profile that only renames keys: the reference protocol's decoding after renaming.
  const auto mapped = profile_->map_issue_answer(status, body);
  if (!mapped.error.empty()) return verify::malformed_answer(mapped.error, body);
  return verify::decode_answer(mapped.body, false);
}

verify::decoded_answer profile_wire::decode_issue(unsigned status, const std::string& body) const {
  const auto doc = json::parse(body, nullptr, false);
  return decode_parsed(status, body, doc.is_discarded() ? nullptr : &doc);
}

std::optional<fit_sample> profile_wire::judge_fit(const issue_answer& answer, unsigned status,
                                                  const std::string& body) const {
  if (answer.outcome == "ok") {
    const auto d = decode_parsed(status, body, answer.document ? &*answer.document : nullptr);
    if (d.malformed) return fit_sample{false, *d.malformed};
    if (!d.missing.empty()) return fit_sample{false, d.missing.front()};
    return fit_sample{};
  }
  // Other outcomes say nothing about the mapping, except an answer the profile cannot classify.
  if (answer.outcome == "error" && !answer.error.empty()) return fit_sample{false, answer.error};
  return std::nullopt;
}

std::optional<std::string> profile_wire::issue_result_code(const json& body) const {
  return profile_->issue_result_code(body);
}

std::optional<std::string> profile_wire::update_result_code(const json& body) const {
  return profile_->update_result_code(body);
}

http_request profile_wire::update_request(const change_fields& change) const {
  return profile_->maps_updates() ? profile_->update_request(change)
                                  : reference_.update_request(change);
}

change_answer profile_wire::classify_update(unsigned status, const std::string& body) const {
  if (!profile_->maps_updates()) return reference_.classify_update(status, body);
  auto mapped = profile_->map_update_answer(status, body);
  change_answer a;
  a.outcome = std::move(mapped.outcome);
  if (a.outcome == "ok") {
    a.versions = std::move(mapped.versions);
  } else {
    a.body = std::move(mapped.body);
  }
  a.error = std::move(mapped.error);
  return a;
}

http_request profile_wire::batch_request(const std::string& batch_id,
                                         const std::vector<change_fields>& changes) const {
  return profile_->maps_reflection_batches() ? profile_->batch_request(batch_id, changes)
                                             : reference_.batch_request(batch_id, changes);
}

change_answer profile_wire::classify_batch(unsigned status, const std::string& body,
                                           const std::vector<change_fields>& changes) const {
  if (!profile_->maps_reflection_batches()) {
    return reference_.classify_batch(status, body, changes);
  }
  auto mapped = profile_->map_batch_answer(status, body, changes.size());
  change_answer a;
  a.outcome = std::move(mapped.outcome);
  if (a.outcome == "ok") {
    a.versions = std::move(mapped.versions);
    a.versions.resize(changes.size());
    json listed = json::array();
    for (std::size_t i = 0; i < changes.size(); ++i) {
      listed.push_back({{"resident_id", changes[i].resident_id},
                        {"version", a.versions[i] ? json(*a.versions[i]) : json(nullptr)}});
    }
    a.listed_versions = std::move(listed);
  } else {
    a.body = std::move(mapped.body);
  }
  a.error = std::move(mapped.error);
  return a;
}

http_request profile_wire::maintenance_request(std::uint32_t duration_ms,
                                               const std::string& admin_token) const {
  return profile_->maps_maintenance() ? profile_->maintenance_request(duration_ms, admin_token)
                                      : reference_.maintenance_request(duration_ms, admin_token);
}

maintenance_answer profile_wire::classify_maintenance(unsigned status,
                                                      const std::string& body) const {
  if (!profile_->maps_maintenance()) return reference_.classify_maintenance(status, body);
  std::string outcome = profile_->map_maintenance_status(status, body);
  const bool keep_body = outcome != "ok";
  return {std::move(outcome), keep_body};
}

}  // namespace kofu::driver
