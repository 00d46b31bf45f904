#include "kofu/driver/reference_wire.hpp"

#include <fmt/format.h>

#include "kofu/history/writer.hpp"

namespace kofu::driver {

namespace http = boost::beast::http;
using json = nlohmann::json;

namespace {

json parsed_or_text(const std::string& body) {
  auto doc = json::parse(body, nullptr, false);
  return doc.is_discarded() ? json(body) : doc;
}

http_request json_post(std::string target, std::string body) {
  http_request req{http::verb::post, std::move(target), 11};
  req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  return req;
}

}  // namespace

std::string reference_issue_options(const issue_fields& f) {
  return fmt::format(R"({{"scope":"{}","honseki":{},"zokugara":{},"mynumber":{}}})",
                     f.household_scope ? "household" : "individual", f.honseki, f.zokugara,
                     f.mynumber);
}

std::string reference_issue_outcome(unsigned status) {
  if (status == 200) return "ok";
  if (status == 409) return "retry";
  if (status >= 400 && status < 500) return "refused";
  return "error";
}

const std::string& reference_wire::name() const {
  static const std::string reference = "reference";
  return reference;
}

http_request reference_wire::issue_request(const issue_fields& f) const {
  auto req = json_post(
      "/v1/issue",
      fmt::format(
          R"({{"application_number":"{}","channel":"{}","certificate_type":"{}","subject":{{"card_serial":"{}"}},"options":{}}})",
          f.application_number, f.channel, f.certificate_type, f.card_serial,
          reference_issue_options(f)));
  req.set(http::field::accept, "application/json");
  return req;
}

issue_answer reference_wire::classify_issue(unsigned status, const std::string&,
                                            std::string_view) const {
  return {reference_issue_outcome(status), {}, std::nullopt, std::nullopt};
}

verify::decoded_answer reference_wire::decode_issue(unsigned, const std::string& body) const {
  return verify::decode_answer_text(body, false);
}

http_request reference_wire::update_request(const change_fields& c) const {
  return json_post(
      fmt::format("/v1/residents/{}/changes", c.resident_id),
      history::to_line(json{{"change_id", c.change_id}, {"kind", c.kind}, {"fields", c.fields}}));
}

change_answer reference_wire::classify_update(unsigned status, const std::string& body) const {
  change_answer a;
  if (status == 200) {
    a.outcome = "ok";
    const auto doc = json::parse(body, nullptr, false);
    if (doc.is_object() && doc.contains("version") && doc["version"].is_number_unsigned()) {
      a.versions.push_back(doc["version"].get<std::uint32_t>());
    }
    return a;
  }
  a.outcome = status >= 400 && status < 500 ? "failed" : "unknown";
  a.body = parsed_or_text(body);
  return a;
}

http_request reference_wire::batch_request(const std::string& batch_id,
                                           const std::vector<change_fields>& changes) const {
  json listed = json::array();
  for (const auto& c : changes) {
    listed.push_back({{"resident_id", c.resident_id},
                      {"change_id", c.change_id},
                      {"kind", c.kind},
                      {"fields", c.fields}});
  }
  return json_post("/v1/reflection/batch",
                   history::to_line(json{{"batch_id", batch_id}, {"changes", std::move(listed)}}));
}

change_answer reference_wire::classify_batch(unsigned status, const std::string& body,
                                             const std::vector<change_fields>& changes) const {
  change_answer a;
  if (status == 200) {
    a.outcome = "ok";
    a.versions.resize(changes.size());
    const auto doc = json::parse(body, nullptr, false);
    if (doc.is_object() && doc.contains("versions") && doc["versions"].is_array()) {
      const auto& v = doc["versions"];
      for (std::size_t i = 0; i < v.size() && i < changes.size(); ++i) {
        if (v[i].is_object() && v[i].contains("version") && v[i]["version"].is_number_unsigned()) {
          a.versions[i] = v[i]["version"].get<std::uint32_t>();
        }
      }
      a.listed_versions = v;
    }
    return a;
  }
  if (status >= 400 && status < 500) {
    a.outcome = "failed";
    a.body = parsed_or_text(body);
  } else {
    a.outcome = "unknown";
  }
  return a;
}

http_request reference_wire::maintenance_request(std::uint32_t duration_ms,
                                                 const std::string& admin_token) const {
  auto req =
      json_post("/v1/admin/maintenance", fmt::format(R"({{"duration_ms":{}}})", duration_ms));
  req.set(http::field::authorization, "Bearer " + admin_token);
  return req;
}

maintenance_answer reference_wire::classify_maintenance(unsigned status, const std::string&) const {
  return {std::nullopt, status >= 300};
}

}  // namespace kofu::driver
