#pragma once
// The reference protocol (docs/protocol.md) behind wire_protocol: `POST /v1/issue`,
// `POST /v1/residents/{id}/changes`, `POST /v1/reflection/batch`, `POST /v1/admin/maintenance`,
// outcomes by HTTP status alone (200 ok, 409 retry, other 4xx refused or failed). It offers
// everything, samples no fit, and leaves decoding to the verifier (no decoder, no rendering).
// Stateless; thread-safe.

#include "kofu/driver/wire_protocol.hpp"

namespace kofu::driver {

// The `options` object of an issue request as one line of JSON (also written to the history, in
// this form whatever the protocol).
std::string reference_issue_options(const issue_fields& fields);

// The outcome of an issue answer by its status alone: 200 ok, 409 retry, other 4xx refused,
// anything else error.
std::string reference_issue_outcome(unsigned status);

class reference_wire final : public wire_protocol {
 public:
  const std::string& name() const override;
  nlohmann::json header_document() const override { return nullptr; }

  bool offers_type(std::string_view) const override { return true; }
  bool offers_household_scope() const override { return true; }
  bool offers_update_kind(std::string_view) const override { return true; }

  std::shared_ptr<const verify::answer_decoder> decoder() const override { return nullptr; }
  std::shared_ptr<const verify::record_rendering> rendering() const override { return nullptr; }

  http_request issue_request(const issue_fields& fields) const override;
  // By status alone; the body is not parsed (the verifier decodes its text).
  issue_answer classify_issue(unsigned status, const std::string& body,
                              std::string_view content_type) const override;
  verify::decoded_answer decode_issue(unsigned status, const std::string& body) const override;
  std::optional<fit_sample> judge_fit(const issue_answer&, unsigned,
                                      const std::string&) const override {
    return std::nullopt;
  }
  std::optional<std::string> issue_result_code(const nlohmann::json&) const override {
    return std::nullopt;
  }
  std::optional<std::string> update_result_code(const nlohmann::json&) const override {
    return std::nullopt;
  }

  // `change.version` is not sent.
  http_request update_request(const change_fields& change) const override;
  // 200 ok (with the answer's `version` when it has one), other 4xx failed (`body` kept), anything
  // else unknown (`body` kept).
  change_answer classify_update(unsigned status, const std::string& body) const override;
  http_request batch_request(const std::string& batch_id,
                             const std::vector<change_fields>& changes) const override;
  // 200 ok (the answer's `versions` listed as the server wrote them), other 4xx failed (`body`
  // kept), anything else unknown (no body).
  change_answer classify_batch(unsigned status, const std::string& body,
                               const std::vector<change_fields>& changes) const override;
  http_request maintenance_request(std::uint32_t duration_ms,
                                   const std::string& admin_token) const override;
  // No outcome recorded; the body kept when the status is 300 or above.
  maintenance_answer classify_maintenance(unsigned status, const std::string& body) const override;
};

}  // namespace kofu::driver
