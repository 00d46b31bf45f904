#pragma once
// A vendor profile (vendor_profile.hpp, docs/profiles.md) behind wire_protocol: the vendor's
// requests, its status classes and result codes, its answers adapted into the certificate model.
// For a section the profile does not declare (`update`, `reflection_batch`, `maintenance`) the
// request goes, and its answer is read, in the reference shape (reference_wire.hpp): a vendor
// that speaks the reference protocol for it.
//
// Issue answers that the profile classified ok are judged for profile_fit: one that does not
// decode, or has missing parts, did not map; one classified `error` because the profile knows
// its status or result code not, did not map either.
// Immutable; thread-safe (vendor_profile is).

#include <memory>

#include "kofu/driver/reference_wire.hpp"
#include "kofu/driver/vendor_profile.hpp"

namespace kofu::driver {

class profile_wire final : public wire_protocol {
 public:
  // `profile` must not be null.
  explicit profile_wire(std::shared_ptr<const vendor_profile> profile);

  const vendor_profile& profile() const { return *profile_; }

  const std::string& name() const override { return profile_->name(); }
  nlohmann::json header_document() const override { return profile_->document(); }

  bool offers_type(std::string_view type) const override { return profile_->supports_type(type); }
  bool offers_household_scope() const override { return profile_->supports_household_scope(); }
  bool offers_update_kind(std::string_view kind) const override {
    return profile_->supports_update_kind(kind);
  }

  std::shared_ptr<const verify::answer_decoder> decoder() const override {
    return profile_->decoder();
  }
  std::shared_ptr<const verify::record_rendering> rendering() const override {
    return profile_->rendering();
  }

  http_request issue_request(const issue_fields& fields) const override;
  // By the profile's status classes and body-coded outcome; the answer is parsed (`document`).
  issue_answer classify_issue(unsigned status, const std::string& body,
                              std::string_view content_type) const override;
  verify::decoded_answer decode_issue(unsigned status, const std::string& body) const override;
  std::optional<fit_sample> judge_fit(const issue_answer& answer, unsigned status,
                                      const std::string& body) const override;
  std::optional<std::string> issue_result_code(const nlohmann::json& body) const override;
  std::optional<std::string> update_result_code(const nlohmann::json& body) const override;

  http_request update_request(const change_fields& change) const override;
  change_answer classify_update(unsigned status, const std::string& body) const override;
  http_request batch_request(const std::string& batch_id,
                             const std::vector<change_fields>& changes) const override;
  // ok: `versions` listed in the reference shape ({resident_id, version or null} per change),
  // so that the history reads the same whatever the vendor.
  change_answer classify_batch(unsigned status, const std::string& body,
                               const std::vector<change_fields>& changes) const override;
  http_request maintenance_request(std::uint32_t duration_ms,
                                   const std::string& admin_token) const override;
  // The outcome always recorded; the body kept unless it is ok.
  maintenance_answer classify_maintenance(unsigned status, const std::string& body) const override;

 private:
  verify::decoded_answer decode_parsed(unsigned status, const std::string& body,
                                       const nlohmann::json* document) const;

  std::shared_ptr<const vendor_profile> profile_;
  reference_wire reference_;  // for the sections the profile does not declare
};

}  // namespace kofu::driver
