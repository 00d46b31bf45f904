#include "kofu/history/encoder.hpp"

#include <fmt/format.h>

#include <iterator>

#include "kofu/history/json_check.hpp"
#include "kofu/history/writer.hpp"

namespace kofu::history {
namespace {

using json = nlohmann::json;

// A JSON string: the common case (printable ASCII without quote or backslash: the numbers and
// names kofu generates) copied as is, anything else escaped by nlohmann (invalid UTF-8 replaced).
void append_string(std::string& line, std::string_view text) {
  bool plain = true;
  for (const char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte < 0x20 || byte >= 0x7F || ch == '"' || ch == '\\') {
      plain = false;
      break;
    }
  }
  if (!plain) {
    line += to_line(json(std::string(text)));
    return;
  }
  line += '"';
  line += text;
  line += '"';
}

// Appends the answer's body to a history line: spliced as is when it is one line of valid JSON
// (the common case: no re-serialisation on the hot path), otherwise re-serialised, or kept as
// "body_text" when it is not JSON at all.
void append_body(std::string& line, std::string_view body, std::string_view content_type) {
  const bool one_line = body.find_first_of("\r\n") == std::string_view::npos;
  if (one_line && !body.empty() && body.front() == '{' && is_valid_json(body)) {
    line += ",\"body\":";
    line += body;
    return;
  }
  auto parsed = json::parse(body, nullptr, false);
  if (!parsed.is_discarded()) {
    line += ",\"body\":";
    line += to_line(parsed);
    return;
  }
  line += ",\"body_text\":";
  line += to_line(json(std::string(body)));
  if (!content_type.empty()) {
    line += ",\"content_type\":";
    line += to_line(json(std::string(content_type)));
  }
}

json change_json(const resident_change& c) {
  return json{{"resident_id", c.resident_id},
              {"change_id", c.change_id},
              {"kind", c.kind},
              {"fields", c.fields},
              {"version", c.version}};
}

}  // namespace

std::string issue_invoke_line(const issue_invoke& e, std::int64_t intended) {
  std::string line = fmt::format(
      R"({{"type":"invoke","op":"issue","id":{},"t":{},"intended":{},"worker":{},"conn":{},"application_number":)",
      e.id, e.t, intended, e.worker, e.conn);
  append_string(line, e.application_number);
  line += ",\"resident_id\":";
  append_string(line, e.resident_id);
  line += ",\"card_serial\":";
  append_string(line, e.card_serial);
  line += ",\"certificate_type\":";
  append_string(line, e.certificate_type);
  line += ",\"channel\":";
  append_string(line, e.channel);
  line += ",\"options\":{\"scope\":";
  append_string(line, e.options.scope);
  fmt::format_to(std::back_inserter(line), R"(,"honseki":{},"zokugara":{},"mynumber":{}}}}})",
                 e.options.honseki, e.options.zokugara, e.options.mynumber);
  return line;
}

std::string issue_complete_line(const issue_complete& e, const issue_record& kept) {
  std::string line = fmt::format(R"({{"type":"complete","op":"issue","id":{},"t":{})", e.id, e.t);
  if (e.status != 0) fmt::format_to(std::back_inserter(line), R"(,"status":{})", e.status);
  fmt::format_to(std::back_inserter(line), R"(,"outcome":"{}")", to_string(e.outcome));
  if (kept.body_withheld != nullptr) line += ",\"body_withheld\":" + to_line(*kept.body_withheld);
  if (kept.error) line += ",\"error\":" + to_line(json(std::string(*kept.error)));
  if (kept.body) append_body(line, *kept.body, kept.content_type);
  line += '}';
  return line;
}

std::string update_invoke_line(const update_invoke& e) {
  json line{{"type", "invoke"}, {"op", e.batch ? "batch" : "update"}, {"id", e.id}, {"t", e.t}};
  if (e.batch) {
    json changes = json::array();
    for (const auto& c : e.changes) changes.push_back(change_json(c));
    line["batch_id"] = e.batch_id;
    line["changes"] = std::move(changes);
  } else if (!e.changes.empty()) {
    line.update(change_json(e.changes.front()));
  }
  return to_line(line);
}

std::string update_complete_line(const update_complete& e, bool batch, json extra) {
  json line = extra.is_object() ? std::move(extra) : json::object();
  line["type"] = "complete";
  line["op"] = batch ? "batch" : "update";
  line["id"] = e.id;
  line["t"] = e.t;
  const auto number = [](const std::optional<std::uint32_t>& v) {
    return v ? json(*v) : json(nullptr);
  };
  if (!batch && e.outcome == update_outcome::ok) {
    line["version"] = e.versions.empty() ? json(nullptr) : number(e.versions.front());
  }
  if (batch && !line.contains("versions") && !e.versions.empty()) {
    json versions = json::array();
    for (const auto& v : e.versions) versions.push_back(number(v));
    line["versions"] = std::move(versions);
  }
  line["outcome"] = std::string(to_string(e.outcome));
  return to_line(line);
}

std::string marker_line(const marker_event& e) {
  return to_line(json{
      {"type", "event"}, {"name", e.name}, {"phase", e.phase}, {"t", e.t}, {"detail", e.detail}});
}

std::string header_line(const history_header& e) {
  json line = e.raw.is_object() ? e.raw : json::object();
  line["type"] = "header";
  return to_line(line);
}

std::string footer_line(const marker_event& e, json extra) {
  json line = extra.is_object() ? std::move(extra) : json::object();
  line["type"] = "footer";
  line["t"] = e.t;
  line["reason"] = e.phase;
  line["ended_at"] = e.ended_at;
  line["stats"] = e.detail;
  return to_line(line);
}

}  // namespace kofu::history
