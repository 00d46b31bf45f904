#pragma once
// How kofu speaks to a target (DESIGN §5a, issue 11): one interface for every kind of call the
// driver and `kofu profile check` make — build the request from the reference fields, and read
// the answer back into the reference outcomes the history records. The reference protocol
// (docs/protocol.md; reference_wire.hpp) is one implementation, a vendor profile
// (docs/profiles.md; profile_wire.hpp) another. The driver holds one wire_protocol and never asks
// which one it is.
//
// Outcomes mean what docs/history.md says whatever the protocol:
//   issue:  ok, retry, refused, error;
//   update and reflection batch: ok (acknowledged), failed (the server said no: the version is
//           aborted), unknown (it may or may not be applied: the driver retires the resident).
// Only answers that were read come here: timeouts, transport errors and answers kofu withholds
// (too large or too deep, issue 15 item 2) are the driver's to record.
//
// Implementations are immutable after construction and thread-safe: every worker thread calls
// the same instance.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include "kofu/verify/certificate.hpp"
#include "kofu/verify/resident_model.hpp"

namespace kofu::driver {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;

// The reference request's fields, as text and flags.
struct issue_fields {
  std::string application_number;
  std::string channel;           // reference value (konbini, window, kiosk)
  std::string certificate_type;  // reference value
  std::string card_serial;
  std::string resident_id;
  bool household_scope = false;
  bool honseki = false;
  bool zokugara = false;
  bool mynumber = false;
};

// One reference change (docs/protocol.md), for an update or one element of a reflection batch.
struct change_fields {
  std::string resident_id;
  std::uint64_t change_id = 0;
  std::uint32_t version = 0;  // the version the change produces if it succeeds
  std::string kind;           // reference value (move, name, seal, household, tax)
  nlohmann::json fields;      // reference field names
};

// An issue answer as the protocol reads it.
struct issue_answer {
  std::string outcome;  // ok, retry, refused, error
  std::string error;    // why the answer fits no class of the protocol ("" when it fits one)
  // The body parsed as JSON, when the protocol parsed it and it is JSON (the reference protocol
  // does not parse on this path: its verifier decodes the text).
  std::optional<nlohmann::json> document;
  // What the history keeps as the answer's `body` instead of the bytes received (one line of
  // JSON): print data read from a PDF answer (pdf_answer.hpp). nullopt: the bytes as received.
  std::optional<std::string> recorded_body;
};

// An update or reflection batch answer as the protocol reads it, with what the history keeps.
struct change_answer {
  std::string outcome;  // ok, failed, unknown
  // ok: the version each change produced, in request order, where the answer says it (for an
  // update at most one; for a batch at most one per change).
  std::vector<std::optional<std::uint32_t>> versions;
  // The history's `body` of the `complete` (the answer, parsed or as text); nullopt: none.
  std::optional<nlohmann::json> body;
  // A batch's history `versions` (ok); nullopt: none.
  std::optional<nlohmann::json> listed_versions;
  std::string error;  // unknown because the protocol cannot classify the answer: says why
};

// A maintenance call's answer, as the history's `maintenance` `start` event keeps it.
struct maintenance_answer {
  std::optional<std::string> outcome;  // ok, retry, refused, error; nullopt: not recorded
  bool keep_body = false;              // the event keeps the answer's text as `body`
};

// One answer judged for profile_fit (profile_fit.hpp): whether it mapped, and if not why.
struct fit_sample {
  bool mapped = true;
  std::string reason;
};

class wire_protocol {
 public:
  virtual ~wire_protocol() = default;

  // "reference", or the vendor profile's name (history header `profile_name`, messages).
  virtual const std::string& name() const = 0;
  // What the history header keeps so that `kofu verify` reads the answers the same way
  // (`target.profile_document`): the vendor profile as loaded, or null.
  virtual nlohmann::json header_document() const = 0;

  // What the target offers at all: requests and updates outside it are never sent.
  virtual bool offers_type(std::string_view certificate_type) const = 0;
  virtual bool offers_household_scope() const = 0;
  virtual bool offers_update_kind(std::string_view kind) const = 0;

  // The adapter of issued answers into the certificate model and the renderings of expected
  // values (verify::answer_protocol): both null for the reference protocol, whose answers the
  // verifier decodes itself.
  virtual std::shared_ptr<const verify::answer_decoder> decoder() const = 0;
  virtual std::shared_ptr<const verify::record_rendering> rendering() const = 0;

  // ---- Issuance ----
  virtual http_request issue_request(const issue_fields& fields) const = 0;
  virtual issue_answer classify_issue(unsigned status, const std::string& body,
                                      std::string_view content_type) const = 0;
  // The certificate model of an answer classified ok (`keep_body` false), for the fit check and
  // `kofu profile check`. A body that cannot be read is a MALFORMED answer saying why.
  virtual verify::decoded_answer decode_issue(unsigned status, const std::string& body) const = 0;
  // One of the first answers of a run, judged for profile_fit: nullopt when the answer says
  // nothing about whether the protocol fits the server (the reference protocol never samples).
  virtual std::optional<fit_sample> judge_fit(const issue_answer& answer, unsigned status,
                                              const std::string& body) const = 0;
  // The result code an issue or update answer carries where the protocol reads one (for
  // display); nullopt when it has none.
  virtual std::optional<std::string> issue_result_code(const nlohmann::json& body) const = 0;
  virtual std::optional<std::string> update_result_code(const nlohmann::json& body) const = 0;

  // ---- Updates, reflection batches, maintenance windows ----
  virtual http_request update_request(const change_fields& change) const = 0;
  virtual change_answer classify_update(unsigned status, const std::string& body) const = 0;
  virtual http_request batch_request(const std::string& batch_id,
                                     const std::vector<change_fields>& changes) const = 0;
  virtual change_answer classify_batch(unsigned status, const std::string& body,
                                       const std::vector<change_fields>& changes) const = 0;
  virtual http_request maintenance_request(std::uint32_t duration_ms,
                                           const std::string& admin_token) const = 0;
  virtual maintenance_answer classify_maintenance(unsigned status,
                                                  const std::string& body) const = 0;
};

}  // namespace kofu::driver
