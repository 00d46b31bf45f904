#include "kofu/driver/reference_request.hpp"

#include <fmt/format.h>

#include "kofu/history/writer.hpp"

namespace kofu::driver {

namespace http = boost::beast::http;

std::string reference_issue_options(const issue_fields& f) {
  return fmt::format(R"({{"scope":"{}","honseki":{},"zokugara":{},"mynumber":{}}})",
                     f.household_scope ? "household" : "individual", f.honseki, f.zokugara,
                     f.mynumber);
}

http_request reference_issue_request(const issue_fields& f) {
  http_request req{http::verb::post, "/v1/issue", 11};
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "application/json");
  req.body() = fmt::format(
      R"({{"application_number":"{}","channel":"{}","certificate_type":"{}","subject":{{"card_serial":"{}"}},"options":{}}})",
      f.application_number, f.channel, f.certificate_type, f.card_serial,
      reference_issue_options(f));
  return req;
}

http_request reference_update_request(const change_fields& c) {
  http_request req{http::verb::post, fmt::format("/v1/residents/{}/changes", c.resident_id), 11};
  req.set(http::field::content_type, "application/json");
  req.body() = history::to_line(
      nlohmann::json{{"change_id", c.change_id}, {"kind", c.kind}, {"fields", c.fields}});
  return req;
}

}  // namespace kofu::driver
