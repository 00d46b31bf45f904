#pragma once
// A vendor profile (DESIGN §5, issue 4 item 3): how the reference requests — issuance, updates
// and events — map onto a vendor's API, and how the vendor's answers map back to the reference
// fields the verifier reads. The driver speaks it through profile_wire (profile_wire.hpp), the
// reference protocol through reference_wire. A profile file is JSON:
//
//   {"name": "…", "description": "…",
//    "issue": {
//      "method": "POST", "path": "/api/v3/…", "headers": {"X-Tenant": "…"},
//      "body": { …any JSON; a string "{{field}}" is replaced by the field's typed value, and
//                "{{field}}" inside a longer string by its text… },
//      "values": {"channel": {"konbini": "CVS", …}, "certificate_type": {"juminhyo": "01", …}},
//      "status": {"ok": [200], "retry": [409], "refused": [400, 404, 422]},
//      "response": {"application_number": "/json/pointer", "certificate": "/json/pointer",
//                   "digest": "/json/pointer"},
//      "rename": {"氏名": "name", …}   // keys renamed anywhere inside the certificate
//    },
//    "update": {                        // POST /v1/residents/{resident_id}/changes
//      "method": "POST", "path": "/api/…/{{resident_id}}/…", "headers": {…},
//      "body": {"…": "{{change_id}}", "…": "{{kind}}", "…": "{{fields}}"},
//      "values": {"kind": {"move": "…", …}},
//      "field_names": {"address": "…", …},  // top-level keys of `fields`, reference → vendor
//      "status": {"ok": [200], "retry": [409], "refused": [400, 404]},
//      "response": {"version": "/json/pointer"}  // optional: the version the server produced
//    },
//    "reflection_batch": {              // POST /v1/reflection/batch
//      "method", "path", "headers", "body": {"…": "{{batch_id}}", "…": "{{changes}}"},
//      "change": { …one element of {{changes}}, with the placeholders of `update`… },
//      "values", "field_names", "status",
//      "response": {"versions": "/pointer to an array in request order",
//                   "version": "/pointer inside each element (absent: the element itself)"}
//    },
//    "maintenance": {                   // POST /v1/admin/maintenance
//      "method", "path", "headers": {"X-Admin": "{{admin_token}}"},
//      "body": {"…": "{{duration_ms}}"}, "status": {…}
//    }}
//
// Placeholders, in bodies, paths and header values (a typo fails at load, not mid-run):
//   issue: application_number, channel, certificate_type, card_serial, resident_id, scope,
//          household (bool), honseki, zokugara, mynumber (bools);
//   update and a batch's change: resident_id, change_id, version (the version the change produces
//          if it succeeds), kind, fields (the reference fields object, keys renamed);
//   reflection_batch body: batch_id, changes (array of filled `change`), size;
//   maintenance: duration_ms, admin_token.
// `values` tables map reference values to the vendor's; the issue answer's certificate `type` is
// mapped back through `values.certificate_type`. In paths, substituted text is percent-encoded.
//
// Outcomes, so that the history means what docs/history.md says whatever the vendor:
//   issue: a status in ok → "ok", retry → "retry", refused → "refused", any other → "error".
//   update / batch: ok → "ok" (acknowledged); retry or refused → "failed" (the server said no:
//          the version is aborted); any other status → "unknown" with an `error` naming the status
//          (the profile cannot say whether it was applied, so the driver retires the resident).
//   maintenance: ok / retry / refused / error, recorded on the event.
// The optional `export` section declares the vendor's import format for the population
// (`kofu population export`; population_export.hpp, docs/profiles.md).
// A status listed in two classes is a load error. `update`, `reflection_batch` and `maintenance`
// are optional: without one, that request is sent in the reference shape (a vendor that speaks
// the reference protocol for it).
// Immutable after loading; safe to share between worker threads.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include "kofu/common/error.hpp"
#include "kofu/driver/jq_expression.hpp"
#include "kofu/driver/profile_template.hpp"
#include "kofu/driver/wire_protocol.hpp"
#include "kofu/verify/certificate.hpp"
#include "kofu/verify/replay.hpp"
#include "kofu/verify/resident_model.hpp"

namespace kofu::driver {

class population_export;  // population_export.hpp

struct mapped_answer {
  std::string outcome;  // ok, retry, refused, error
  nlohmann::json body;  // ok: {"application_number", "certificate", "digest"} in reference shape
  std::string error;    // when the answer could not be mapped
};

struct mapped_change_answer {
  std::string outcome;  // ok, failed, unknown (docs/history.md)
  // ok: the version each change produced, in request order, where the answer says it.
  std::vector<std::optional<std::uint32_t>> versions;
  nlohmann::json body;  // not ok: the vendor's answer (parsed, or its text)
  std::string error;    // unknown because of an unmapped status: says so
};

// A place in a vendor's answer: a JSON pointer, relative to the node it is read from, or a jq
// program run on that node ({"jq": "…"}). Unset: the answer does not carry the value.
struct answer_locator {
  std::optional<std::string> pointer;  // as written
  std::vector<std::string> tokens;     // the pointer's reference tokens, unescaped
  std::optional<jq_expression> jq;
  bool is_set() const { return pointer.has_value() || jq.has_value(); }
  std::string describe() const { return pointer ? *pointer : jq ? "jq " + jq->program() : "-"; }

  // A value found in a node: in place for a pointer, owned for a jq program's output.
  struct found {
    const nlohmann::json* in_place = nullptr;
    std::optional<nlohmann::json> owned;
    const nlohmann::json* get() const { return owned ? &*owned : in_place; }
    explicit operator bool() const { return get() != nullptr; }
    const nlohmann::json& operator*() const { return *get(); }
    const nlohmann::json* operator->() const { return get(); }
  };
  // The value, or nothing when absent (or null). A pointer's value is not copied.
  found read(const nlohmann::json& node) const;
};

// Outcomes coded in the body (a result code under HTTP 200): the value at `code`, looked up in
// the classes. Applies to answers whose HTTP status is in the section's `ok` class.
struct outcome_rule {
  answer_locator code;
  std::map<std::string, std::string> classes;  // code → ok, retry, refused
};

class vendor_profile {
 public:
  using request = boost::beast::http::request<boost::beast::http::string_body>;

  // Loads and checks a profile; errors name the file and the JSON path.
  static result<vendor_profile> load(const std::filesystem::path& path);
  static result<vendor_profile> parse(const nlohmann::json& document, const std::string& source);

  const std::string& name() const { return name_; }
  // The profile as loaded (kept in the history header, so that `kofu verify` maps answers the
  // same way without the file).
  const nlohmann::json& document() const { return document_; }

  // What the vendor offers: requests and updates outside it are never sent.
  bool supports_type(std::string_view certificate_type) const;
  bool supports_household_scope() const { return household_scope_; }
  bool supports_update_kind(std::string_view kind) const;

  // The adapter of the answers into the certificate model (DESIGN §5a) and the renderings of
  // expected values: null for a profile that only renames keys into the reference shape (then
  // answers are decoded as the reference protocol's, after renaming).
  std::shared_ptr<const verify::answer_decoder> decoder() const { return decoder_; }
  std::shared_ptr<const verify::record_rendering> rendering() const { return rendering_; }

  // The vendor's import format for the population (the optional `export` section,
  // population_export.hpp); null when the profile has none.
  const population_export* export_format() const { return export_.get(); }

  request issue_request(const issue_fields& fields) const;
  mapped_answer map_issue_answer(unsigned status, const std::string& body) const;
  // The outcome of an issue answer by the profile's status classes and body-coded outcome
  // (ok, retry, refused, error); `error` names why an answer fits no class.
  std::string classify_issue(unsigned status, const nlohmann::json& body, std::string& error) const;

  // The result code of an issue or update answer where the profile's `outcome` reads one
  // (nullopt when it has no body-coded outcome or the answer carries no code): for display.
  std::optional<std::string> issue_result_code(const nlohmann::json& body) const;
  std::optional<std::string> update_result_code(const nlohmann::json& body) const;

  // Whether the profile maps these requests (otherwise they go in the reference shape).
  bool maps_updates() const { return update_.has_value(); }
  bool maps_reflection_batches() const { return batch_.has_value(); }
  bool maps_maintenance() const { return maintenance_.has_value(); }

  // Only when the matching maps_…() is true.
  request update_request(const change_fields& change) const;
  mapped_change_answer map_update_answer(unsigned status, const std::string& body) const;
  request batch_request(const std::string& batch_id,
                        const std::vector<change_fields>& changes) const;
  mapped_change_answer map_batch_answer(unsigned status, const std::string& body,
                                        std::size_t changes) const;
  request maintenance_request(std::uint32_t duration_ms, const std::string& admin_token) const;
  // ok, retry, refused, error (by status and the body-coded outcome).
  std::string map_maintenance_status(unsigned status, const std::string& body) const;

  // One mapped request kind; public only so that the implementation's helpers can name it.
  struct operation {
    std::string section;  // "/update", … (for messages)
    std::string method = "POST";
    std::string path;
    std::map<std::string, std::string> headers;
    nlohmann::json body;
    nlohmann::json change;  // reflection_batch: the template of one element of {{changes}}
    std::map<std::string, std::map<std::string, std::string>> values;
    std::map<std::string, std::string> field_names;
    std::set<unsigned> ok, retry, refused;
    std::map<std::string, std::string> response;  // reference name → JSON pointer
    std::optional<outcome_rule> outcome;          // body-coded outcomes
    // update / batch change: per reference kind, the vendor's alternatives (the first whose
    // `when` holds on the change is taken): kind name and `fields` template.
    struct kind_choice {
      std::optional<jq_expression> when;
      std::string kind;
      nlohmann::json fields;
    };
    std::map<std::string, std::vector<kind_choice>> kinds;
  };

  struct answer_map;  // issue.answer (vendor_profile.cpp)
  struct render_map;  // render (vendor_profile.cpp)

 private:
  mapped_change_answer classify_change(const operation& op, unsigned status,
                                       const std::string& body) const;

  // The class of an answer with a body-coded outcome: ok, retry, refused, or error with `error`.
  std::string body_class(const operation& op, const std::string& status_class,
                         const nlohmann::json& body, std::string& error) const;

  std::string name_;
  nlohmann::json document_;
  std::set<std::string> types_;  // supported certificate types (reference names)
  std::set<std::string> update_kinds_;
  bool household_scope_ = true;
  std::shared_ptr<const verify::answer_decoder> decoder_;
  std::shared_ptr<const verify::record_rendering> rendering_;
  operation issue_;
  std::map<std::string, std::string> rename_;
  std::optional<operation> update_;
  std::optional<operation> batch_;
  std::optional<operation> maintenance_;
  std::shared_ptr<const population_export> export_;
};

// The answer protocol a history header names: the vendor profile kept in it
// (`target.profile_document`), or the reference protocol (nothing to adapt). For
// verify::replay_options::protocol; errors name the header's JSON path.
result<verify::answer_protocol> answer_protocol_from_header(const nlohmann::json& header);

}  // namespace kofu::driver
