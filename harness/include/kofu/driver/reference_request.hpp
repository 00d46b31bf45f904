#pragma once
// The requests of the reference protocol (docs/protocol.md), as the driver sends them when no
// vendor profile maps them: `POST /v1/issue` and `POST /v1/residents/{id}/changes`. Pure
// functions; thread-safe.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "kofu/driver/vendor_profile.hpp"

namespace kofu::driver {

using http_request = boost::beast::http::request<boost::beast::http::string_body>;

// The `options` object of an issue request as one line of JSON (also written to the history).
std::string reference_issue_options(const issue_fields& fields);
http_request reference_issue_request(const issue_fields& fields);
// `change.fields` are the reference fields; `change.version` is not sent.
http_request reference_update_request(const change_fields& change);

}  // namespace kofu::driver
