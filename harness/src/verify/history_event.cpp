#include "kofu/verify/history_event.hpp"

#include <fmt/format.h>

namespace kofu::verify {
namespace {

using json = nlohmann::json;

struct bad_field {
  std::string message;
};

const json& need(const json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end()) throw bad_field{fmt::format("field '{}': missing", key)};
  return *it;
}

std::string need_string(const json& obj, const char* key) {
  const json& v = need(obj, key);
  if (!v.is_string()) throw bad_field{fmt::format("field '{}': expected a string", key)};
  return v.get<std::string>();
}

std::string opt_string(const json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::uint64_t need_uint(const json& obj, const char* key) {
  const json& v = need(obj, key);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
    throw bad_field{fmt::format("field '{}': expected an unsigned integer", key)};
  }
  return v.get<std::uint64_t>();
}

std::int64_t need_time(const json& obj, const char* key) {
  const json& v = need(obj, key);
  if (!v.is_number_integer()) throw bad_field{fmt::format("field '{}': expected an integer", key)};
  return v.get<std::int64_t>();
}

std::uint32_t opt_u32(const json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_unsigned()) return 0;
  return static_cast<std::uint32_t>(it->get<std::uint64_t>());
}

resident_change parse_change(const json& c) {
  resident_change ch;
  ch.resident_id = need_string(c, "resident_id");
  ch.change_id = need_uint(c, "change_id");
  ch.version = static_cast<std::uint32_t>(need_uint(c, "version"));
  ch.kind = need_string(c, "kind");
  ch.fields = need(c, "fields");
  return ch;
}

history_event parse(const json& e) {
  if (!e.is_object()) throw bad_field{"expected a JSON object"};
  const std::string type = need_string(e, "type");
  if (type == "header") return history_header{e};
  if (type == "event" || type == "footer") {
    marker_event m;
    m.t = need_time(e, "t");
    m.name = type == "footer" ? "footer" : need_string(e, "name");
    m.phase = opt_string(e, type == "footer" ? "reason" : "phase");
    if (const auto it = e.find("detail"); it != e.end()) m.detail = *it;
    return m;
  }
  const std::string op = need_string(e, "op");
  if (type == "invoke" && op == "issue") {
    issue_invoke inv;
    inv.id = need_uint(e, "id");
    inv.t = need_time(e, "t");
    inv.application_number = need_string(e, "application_number");
    inv.resident_id = need_string(e, "resident_id");
    inv.card_serial = opt_string(e, "card_serial");
    inv.certificate_type = need_string(e, "certificate_type");
    inv.channel = opt_string(e, "channel");
    inv.worker = opt_u32(e, "worker");
    inv.conn = opt_u32(e, "conn");
    if (const auto it = e.find("options"); it != e.end() && it->is_object()) {
      const json& o = *it;
      if (const auto s = o.find("scope"); s != o.end() && s->is_string()) {
        inv.options.scope = s->get<std::string>();
      }
      inv.options.honseki = o.value("honseki", false);
      inv.options.zokugara = o.value("zokugara", false);
      inv.options.mynumber = o.value("mynumber", false);
    }
    return inv;
  }
  if (type == "complete" && op == "issue") {
    issue_complete c;
    c.id = need_uint(e, "id");
    c.t = need_time(e, "t");
    if (const auto it = e.find("status"); it != e.end() && it->is_number_integer()) {
      c.status = it->get<int>();
    }
    const std::string outcome = need_string(e, "outcome");
    if (outcome == "ok")
      c.outcome = issue_outcome::ok;
    else if (outcome == "retry")
      c.outcome = issue_outcome::retry;
    else if (outcome == "refused")
      c.outcome = issue_outcome::refused;
    else if (outcome == "error")
      c.outcome = issue_outcome::error;
    else if (outcome == "timeout")
      c.outcome = issue_outcome::timeout;
    else
      throw bad_field{fmt::format("field 'outcome': unknown value '{}'", outcome)};
    if (c.outcome == issue_outcome::ok) {
      if (const auto it = e.find("body"); it != e.end()) {
        c.answer = std::make_shared<const decoded_answer>(decode_answer(*it));
      } else if (const auto t = e.find("body_text"); t != e.end() && t->is_string()) {
        c.answer = std::make_shared<const decoded_answer>(
            malformed_answer("the answer is not JSON", t->get<std::string>()));
      } else {
        c.answer = std::make_shared<const decoded_answer>(
            malformed_answer("the answer has no body", std::string()));
      }
    }
    return c;
  }
  if (type == "invoke" && (op == "update" || op == "batch")) {
    update_invoke u;
    u.id = need_uint(e, "id");
    u.t = need_time(e, "t");
    if (op == "update") {
      u.changes.push_back(parse_change(e));
    } else {
      u.batch = true;
      u.batch_id = opt_string(e, "batch_id");
      const json& changes = need(e, "changes");
      if (!changes.is_array()) throw bad_field{"field 'changes': expected an array"};
      for (const auto& c : changes) u.changes.push_back(parse_change(c));
    }
    return u;
  }
  if (type == "complete" && (op == "update" || op == "batch")) {
    update_complete c;
    c.id = need_uint(e, "id");
    c.t = need_time(e, "t");
    const std::string outcome = need_string(e, "outcome");
    if (outcome == "ok")
      c.outcome = update_outcome::ok;
    else if (outcome == "failed")
      c.outcome = update_outcome::failed;
    else if (outcome == "unknown")
      c.outcome = update_outcome::unknown;
    else
      throw bad_field{fmt::format("field 'outcome': unknown value '{}'", outcome)};
    return c;
  }
  throw bad_field{fmt::format("unknown event type '{}' op '{}'", type, op)};
}

}  // namespace

result<history_event> parse_history_event(const nlohmann::json& event, std::string_view where) {
  try {
    return parse(event);
  } catch (const bad_field& e) {
    return make_error(errc::invalid_field, fmt::format("{}: {}", where, e.message));
  } catch (const json::exception& e) {
    return make_error(errc::invalid_field, fmt::format("{}: {}", where, e.what()));
  }
}

result<history_event> parse_history_line(std::string_view line, std::string_view where) {
  json e = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (e.is_discarded()) {
    return make_error(errc::parse, fmt::format("{}: not a JSON object (truncated line?)", where));
  }
  return parse_history_event(e, where);
}

}  // namespace kofu::verify
