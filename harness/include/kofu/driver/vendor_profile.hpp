#pragma once
// A vendor profile (DESIGN §5, issue 4 item 3): how the reference issuance request maps onto a
// vendor's API, and how the vendor's answer maps back to the reference fields the verifier reads.
// The reference protocol itself needs no profile (the driver's built-in fast path); a profile file
// is JSON:
//
//   {"name": "…",
//    "issue": {
//      "method": "POST", "path": "/api/v3/…", "headers": {"X-Tenant": "…"},
//      "body": { …any JSON; a string "{{field}}" is replaced by the field's typed value, and
//                "{{field}}" inside a longer string by its text… },
//      "values": {"channel": {"konbini": "CVS", …}, "certificate_type": {"juminhyo": "01", …}},
//      "status": {"ok": [200], "retry": [409], "refused": [400, 404, 422]},
//      "response": {"application_number": "/json/pointer", "certificate": "/json/pointer",
//                   "digest": "/json/pointer"},
//      "rename": {"氏名": "name", …}   // keys renamed anywhere inside the certificate
//    }}
//
// Fields: application_number, channel, certificate_type, card_serial, resident_id, scope,
// household (bool), honseki, zokugara, mynumber (bools). Updates and events still use the
// reference paths (see the report: profile mapping for them is not done yet).
// Immutable after loading; safe to share between worker threads.

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include "kofu/common/error.hpp"

namespace kofu::driver {

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

struct mapped_answer {
  std::string outcome;  // ok, retry, refused, error
  nlohmann::json body;  // ok: {"application_number", "certificate", "digest"} in reference shape
  std::string error;    // when the answer could not be mapped
};

class vendor_profile {
 public:
  // Loads and checks a profile; errors name the file and the JSON path.
  static result<vendor_profile> load(const std::filesystem::path& path);
  static result<vendor_profile> parse(const nlohmann::json& document, const std::string& source);

  const std::string& name() const { return name_; }
  boost::beast::http::request<boost::beast::http::string_body> issue_request(
      const issue_fields& fields) const;
  mapped_answer map_issue_answer(unsigned status, const std::string& body) const;

 private:
  nlohmann::json fill(const nlohmann::json& node, const issue_fields& f) const;
  nlohmann::json rename(const nlohmann::json& node) const;

  std::string name_;
  std::string method_ = "POST";
  std::string path_;
  std::map<std::string, std::string> headers_;
  nlohmann::json body_;
  std::map<std::string, std::map<std::string, std::string>> values_;
  std::set<unsigned> ok_, retry_, refused_;
  std::string ptr_application_number_, ptr_certificate_, ptr_digest_;
  std::map<std::string, std::string> rename_;
};

}  // namespace kofu::driver
