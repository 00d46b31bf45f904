#include "issue_request.hpp"

#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

namespace kofu::mock {
namespace {

using nlohmann::json;

http_reply bad_request(std::string_view code, std::string detail) {
  return json_error(400, code, detail);
}

std::variant<issue_request, http_reply> parse_dom(std::string_view body) {
  auto j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return bad_request("malformed_json", "the body is not valid UTF-8 JSON");
  if (!j.is_object()) return bad_request("invalid_type", "the body must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const auto& k = it.key();
    if (k != "application_number" && k != "channel" && k != "certificate_type" && k != "subject" &&
        k != "options") {
      return bad_request("unknown_field", fmt::format("field '{}': unknown field", k));
    }
  }
  const auto string_field = [&](const json& obj, const char* key,
                                const std::string& path) -> std::variant<std::string, http_reply> {
    auto it = obj.find(key);
    if (it == obj.end())
      return bad_request("missing_field", fmt::format("field '{}': missing", path));
    if (!it->is_string()) {
      return bad_request("invalid_type", fmt::format("field '{}': must be a string", path));
    }
    const auto& s = it->get_ref<const std::string&>();
    if (s.empty() || s.size() > 128) {
      return bad_request("invalid_value", fmt::format("field '{}': must be 1 to 128 bytes", path));
    }
    return s;
  };
  issue_request req;
  {
    auto v = string_field(j, "application_number", "application_number");
    if (auto* e = std::get_if<http_reply>(&v)) return *e;
    req.application_number = std::get<std::string>(v);
  }
  {
    auto v = string_field(j, "channel", "channel");
    if (auto* e = std::get_if<http_reply>(&v)) return *e;
    req.channel = std::get<std::string>(v);
    if (req.channel != "konbini" && req.channel != "window" && req.channel != "kiosk") {
      return bad_request(
          "invalid_value",
          fmt::format("field 'channel': unknown channel '{}' (konbini, window, kiosk)",
                      req.channel));
    }
  }
  {
    auto v = string_field(j, "certificate_type", "certificate_type");
    if (auto* e = std::get_if<http_reply>(&v)) return *e;
    const auto& type = std::get<std::string>(v);
    auto found = std::find(kCertificateTypes.begin(), kCertificateTypes.end(), type);
    if (found == kCertificateTypes.end()) {
      return bad_request("invalid_value",
                         fmt::format("field 'certificate_type': unknown type '{}'", type));
    }
    req.type = static_cast<std::size_t>(found - kCertificateTypes.begin());
  }
  {
    auto subject = j.find("subject");
    if (subject == j.end()) return bad_request("missing_field", "field 'subject': missing");
    if (!subject->is_object()) {
      return bad_request("invalid_type", "field 'subject': must be an object");
    }
    for (auto it = subject->begin(); it != subject->end(); ++it) {
      if (it.key() != "card_serial") {
        return bad_request("unknown_field",
                           fmt::format("field 'subject.{}': unknown field", it.key()));
      }
    }
    auto v = string_field(*subject, "card_serial", "subject.card_serial");
    if (auto* e = std::get_if<http_reply>(&v)) return *e;
    req.card_serial = std::get<std::string>(v);
  }
  if (auto options = j.find("options"); options != j.end()) {
    if (!options->is_object()) {
      return bad_request("invalid_type", "field 'options': must be an object");
    }
    for (auto it = options->begin(); it != options->end(); ++it) {
      const auto& k = it.key();
      const auto path = fmt::format("options.{}", k);
      if (k == "scope") {
        if (!it->is_string()) {
          return bad_request("invalid_type", fmt::format("field '{}': must be a string", path));
        }
        const auto& scope = it->get_ref<const std::string&>();
        if (scope != "individual" && scope != "household") {
          return bad_request("invalid_value",
                             fmt::format("field '{}': must be 'individual' or 'household'", path));
        }
        req.household = scope == "household";
      } else if (k == "honseki" || k == "zokugara" || k == "mynumber") {
        if (!it->is_boolean()) {
          return bad_request("invalid_type", fmt::format("field '{}': must be a boolean", path));
        }
        const bool on = it->get<bool>();
        if (k == "honseki") req.columns.honseki = on;
        if (k == "zokugara") req.columns.zokugara = on;
        if (k == "mynumber") req.columns.mynumber = on;
      } else {
        return bad_request("unknown_field", fmt::format("field '{}': unknown field", path));
      }
    }
  }
  // Optional columns exist only on the 住民票の写し.
  if (req.type != kJuminhyo) req.columns = {};
  return req;
}

// The scanner behind parse_issue_request_fast. Every method returns false as soon as the body
// leaves the plain shape it knows; nothing it accepts is read differently by the JSON parser.
class plain_scanner {
 public:
  explicit plain_scanner(std::string_view text) : text_(text) {}

  void skip_whitespace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool consume(char c) {
    skip_whitespace();
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  bool peek(char c) {
    skip_whitespace();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  bool at_end() {
    skip_whitespace();
    return pos_ == text_.size();
  }
  // A string of printable ASCII without escapes (anything else is left to the JSON parser).
  bool string(std::string_view& out) {
    if (!consume('"')) return false;
    const auto start = pos_;
    for (; pos_ < text_.size(); ++pos_) {
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        out = text_.substr(start, pos_ - start);
        ++pos_;
        return true;
      }
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
    }
    return false;
  }
  bool boolean(bool& out) {
    skip_whitespace();
    const auto rest = text_.substr(pos_);
    if (rest.starts_with("true")) {
      pos_ += 4;
      out = true;
      return true;
    }
    if (rest.starts_with("false")) {
      pos_ += 5;
      out = false;
      return true;
    }
    return false;
  }
  // An object: member(key) reads the value of each member; false when the shape is not an
  // object or member() returns false.
  template <class Member>
  bool object(Member member) {
    if (!consume('{')) return false;
    if (consume('}')) return true;
    for (;;) {
      std::string_view key;
      if (!string(key) || !consume(':') || !member(key)) return false;
      if (consume('}')) return true;
      if (!consume(',')) return false;
    }
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

// A field value the full parser accepts as is: 1 to 128 bytes.
bool plain_value(std::string_view s) { return !s.empty() && s.size() <= 128; }

}  // namespace

std::optional<issue_request> parse_issue_request_fast(std::string_view body) {
  plain_scanner scan(body);
  issue_request req;
  unsigned seen = 0;  // one bit per top-level field
  const auto first_time = [&](unsigned bit) {
    if ((seen & bit) != 0) return false;  // duplicate keys: the JSON parser keeps the last one
    seen |= bit;
    return true;
  };
  const auto top = [&](std::string_view key) {
    std::string_view value;
    if (key == "application_number") {
      if (!first_time(1) || !scan.string(value) || !plain_value(value)) return false;
      req.application_number = value;
      return true;
    }
    if (key == "channel") {
      if (!first_time(2) || !scan.string(value)) return false;
      if (value != "konbini" && value != "window" && value != "kiosk") return false;
      req.channel = value;
      return true;
    }
    if (key == "certificate_type") {
      if (!first_time(4) || !scan.string(value)) return false;
      const auto found = std::find(kCertificateTypes.begin(), kCertificateTypes.end(), value);
      if (found == kCertificateTypes.end()) return false;
      req.type = static_cast<std::size_t>(found - kCertificateTypes.begin());
      return true;
    }
    if (key == "subject") {
      if (!first_time(8)) return false;
      bool card = false;
      return scan.object([&](std::string_view k) {
        if (k != "card_serial" || card || !scan.string(value) || !plain_value(value)) return false;
        card = true;
        req.card_serial = value;
        return true;
      }) && card;
    }
    if (key == "options") {
      if (!first_time(16)) return false;
      unsigned options_seen = 0;
      return scan.object([&](std::string_view k) {
        unsigned bit = 0;
        bool* column = nullptr;
        if (k == "scope") {
          bit = 1;
        } else if (k == "honseki") {
          bit = 2;
          column = &req.columns.honseki;
        } else if (k == "zokugara") {
          bit = 4;
          column = &req.columns.zokugara;
        } else if (k == "mynumber") {
          bit = 8;
          column = &req.columns.mynumber;
        } else {
          return false;
        }
        if ((options_seen & bit) != 0) return false;
        options_seen |= bit;
        if (column != nullptr) return scan.boolean(*column);
        if (!scan.string(value)) return false;
        if (value != "individual" && value != "household") return false;
        req.household = value == "household";
        return true;
      });
    }
    return false;
  };
  if (!scan.object(top) || !scan.at_end() || (seen & 15) != 15) return std::nullopt;
  // Optional columns exist only on the 住民票の写し.
  if (req.type != kJuminhyo) req.columns = {};
  return req;
}

std::variant<issue_request, http_reply> parse_issue_request(std::string_view body) {
  if (auto req = parse_issue_request_fast(body)) return std::move(*req);
  return parse_dom(body);
}

std::variant<issue_request, http_reply> parse_issue_request_with_dom(std::string_view body) {
  return parse_dom(body);
}

}  // namespace kofu::mock
