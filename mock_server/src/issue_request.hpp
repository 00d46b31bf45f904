#pragma once
// The body of POST /v1/issue (docs/protocol.md) as the pipeline uses it, and its parser.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "http_reply.hpp"
#include "layout_templates.hpp"

namespace kofu::mock {

// Certificate types by index (the index the layouts use), with their protocol names.
inline constexpr std::array<std::string_view, layout_templates::kTypes> kCertificateTypes = {
    "juminhyo", "juminhyo_kisai", "inkan", "koseki_zenbu", "koseki_kojin", "koseki_fuhyo", "kazei"};
enum certificate_type_index : std::size_t {
  kJuminhyo,
  kJuminhyoKisai,
  kInkan,
  kKosekiZenbu,
  kKosekiKojin,
  kKosekiFuhyo,
  kKazei
};

struct issue_request {
  std::string application_number;
  std::string channel;  // konbini | window | kiosk
  std::size_t type = kJuminhyo;
  std::string card_serial;
  bool household = false;
  print_columns columns;  // all off unless the type is juminhyo
};

// Parses and validates a body. Either the request or the 400 answer naming the first bad field
// (malformed JSON first, then unknown fields in key order, then each field in protocol order).
std::variant<issue_request, http_reply> parse_issue_request(std::string_view body);

// The full parser on its own: the JSON document, then each field (what parse_issue_request falls
// back to, and what tests hold the fast path to).
std::variant<issue_request, http_reply> parse_issue_request_with_dom(std::string_view body);

// The fast path of parse_issue_request: a plain scanner for the common, valid body (ASCII strings
// without escapes, each field once, every value valid). It answers only when the full parser
// would give exactly this request; for anything else — including every invalid body — it returns
// nullopt and the full parser decides, so errors are always reported by one piece of code.
std::optional<issue_request> parse_issue_request_fast(std::string_view body);

}  // namespace kofu::mock
