#include "kofu/driver/vendor_profile.hpp"

#include <fstream>
#include <functional>

#include <fmt/format.h>

namespace kofu::driver {
namespace {
using json = nlohmann::json;
namespace http = boost::beast::http;
using operation = vendor_profile::operation;
using lookup = std::function<json(const std::string&)>;

const std::set<std::string> issue_placeholders = {
    "application_number", "channel", "certificate_type", "card_serial", "resident_id", "scope",
    "household",          "honseki", "zokugara",         "mynumber"};
const std::set<std::string> change_placeholders = {"resident_id", "change_id", "version", "kind",
                                                   "fields"};
const std::set<std::string> batch_placeholders = {"batch_id", "changes", "size"};
const std::set<std::string> maintenance_placeholders = {"duration_ms", "admin_token"};

std::string text_of(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string percent_encoded(const std::string& s) {
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

json mapped_value(const operation& op, const std::string& table, const std::string& value) {
  const auto t = op.values.find(table);
  if (t != op.values.end()) {
    const auto it = t->second.find(value);
    if (it != t->second.end()) return it->second;
  }
  return value;
}

// Every "{{name}}" in the template must be a known field: a typo fails at load, not mid-run.
void check_placeholders(const json& node, const std::string& path,
                        const std::set<std::string>& known, std::vector<std::string>& problems) {
  if (node.is_object()) {
    for (const auto& [k, v] : node.items()) check_placeholders(v, path + "/" + k, known, problems);
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      check_placeholders(node[i], fmt::format("{}/{}", path, i), known, problems);
  } else if (node.is_string()) {
    const auto& s = node.get_ref<const std::string&>();
    for (std::size_t open = s.find("{{"); open != std::string::npos;
         open = s.find("{{", open + 2)) {
      const auto close = s.find("}}", open);
      if (close == std::string::npos) {
        problems.push_back(path + ": unclosed '{{'");
        break;
      }
      const auto name = s.substr(open + 2, close - open - 2);
      if (!known.count(name))
        problems.push_back(fmt::format("{}: unknown field '{{{{{}}}}}'", path, name));
    }
  }
}

// Text with every "{{name}}" replaced by the field's text (`encode` for paths).
std::string fill_text(const std::string& s, const lookup& value, bool encode) {
  std::string out;
  std::size_t pos = 0;
  for (std::size_t open = s.find("{{"); open != std::string::npos; open = s.find("{{", pos)) {
    const auto close = s.find("}}", open);
    out += s.substr(pos, open - pos);
    const auto text = text_of(value(s.substr(open + 2, close - open - 2)));
    out += encode ? percent_encoded(text) : text;
    pos = close + 2;
  }
  out += s.substr(pos);
  return out;
}

json fill(const json& node, const lookup& value) {
  if (node.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : node.items()) out[k] = fill(v, value);
    return out;
  }
  if (node.is_array()) {
    json out = json::array();
    for (const auto& v : node) out.push_back(fill(v, value));
    return out;
  }
  if (!node.is_string()) return node;
  const auto& s = node.get_ref<const std::string&>();
  if (s.size() > 4 && s.starts_with("{{") && s.ends_with("}}") &&
      s.find("{{", 2) == std::string::npos) {
    return value(s.substr(2, s.size() - 4));  // typed: booleans stay booleans
  }
  return fill_text(s, value, false);
}

http::request<http::string_body> make_request(const operation& op, const lookup& value) {
  http::request<http::string_body> req{http::string_to_verb(op.method),
                                       fill_text(op.path, value, true), 11};
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "application/json");
  for (const auto& [k, v] : op.headers) req.set(k, fill_text(v, value, false));
  req.body() = fill(op.body, value).dump(-1, ' ', false, json::error_handler_t::replace);
  return req;
}

lookup change_lookup(const operation& op, const change_fields& c) {
  return [&op, &c](const std::string& name) -> json {
    if (name == "resident_id") return c.resident_id;
    if (name == "change_id") return c.change_id;
    if (name == "version") return c.version;
    if (name == "kind") return mapped_value(op, "kind", c.kind);
    if (name == "fields") {
      if (!c.fields.is_object()) return c.fields;
      json out = json::object();
      for (const auto& [k, v] : c.fields.items()) {
        const auto it = op.field_names.find(k);
        out[it == op.field_names.end() ? k : it->second] = v;
      }
      return out;
    }
    return nullptr;
  };
}

std::string status_class(const operation& op, unsigned status) {
  if (op.ok.count(status)) return "ok";
  if (op.retry.count(status)) return "retry";
  if (op.refused.count(status)) return "refused";
  return "error";
}

std::optional<std::uint32_t> version_at(const json& node, const std::string& pointer) {
  const json* v = &node;
  if (!pointer.empty()) {
    const json::json_pointer p(pointer);
    if (!node.contains(p)) return std::nullopt;
    v = &node.at(p);
  }
  if (!v->is_number_integer() || v->get<std::int64_t>() < 0 ||
      v->get<std::int64_t>() > std::int64_t{UINT32_MAX}) {
    return std::nullopt;
  }
  return v->get<std::uint32_t>();
}

// Reads one section of the profile; every problem is named by its JSON path.
class section_reader {
 public:
  section_reader(const json& section, std::string path, std::vector<std::string>& problems)
      : section_(section), path_(std::move(path)), problems_(problems) {}

  void allow(const std::set<std::string>& keys) {
    for (const auto& [k, v] : section_.items()) {
      if (!keys.count(k)) problems_.push_back(fmt::format("{}/{}: unknown key", path_, k));
    }
  }

  // The member, or null (missing: a problem when required; wrong type: always a problem).
  const json* get(const char* key, json::value_t type, bool required) {
    if (!section_.contains(key)) {
      if (required) problems_.push_back(fmt::format("{}: missing '{}'", path_, key));
      return nullptr;
    }
    const json& v = section_.at(key);
    if (v.type() != type) {
      problems_.push_back(fmt::format("{}/{}: wrong type", path_, key));
      return nullptr;
    }
    return &v;
  }

  std::map<std::string, std::string> string_map(const char* key) {
    std::map<std::string, std::string> out;
    if (const json* m = get(key, json::value_t::object, false)) {
      for (const auto& [k, v] : m->items()) {
        if (v.is_string())
          out[k] = v.get<std::string>();
        else
          problems_.push_back(fmt::format("{}/{}/{}: expected a string", path_, key, k));
      }
    }
    return out;
  }

  // method, path, headers, body, values, status: what every section has.
  void common(operation& op, const std::set<std::string>& placeholders) {
    op.section = path_;
    if (const json* m = get("method", json::value_t::string, false)) {
      op.method = m->get<std::string>();
      if (http::string_to_verb(op.method) == http::verb::unknown)
        problems_.push_back(fmt::format("{}/method: not an HTTP method", path_));
    }
    if (const json* p = get("path", json::value_t::string, true)) {
      op.path = p->get<std::string>();
      if (!op.path.starts_with("/"))
        problems_.push_back(fmt::format("{}/path: must start with '/'", path_));
      check_placeholders(*p, path_ + "/path", placeholders, problems_);
    }
    op.headers = string_map("headers");
    for (const auto& [k, v] : op.headers)
      check_placeholders(json(v), fmt::format("{}/headers/{}", path_, k), placeholders, problems_);
    if (const json* b = get("body", json::value_t::object, true)) {
      op.body = *b;
      check_placeholders(*b, path_ + "/body", placeholders, problems_);
    }
    if (const json* v = get("values", json::value_t::object, false)) {
      for (const auto& [table, entries] : v->items()) {
        if (!entries.is_object()) {
          problems_.push_back(fmt::format("{}/values/{}: expected an object", path_, table));
          continue;
        }
        for (const auto& [from, to] : entries.items()) {
          if (to.is_string())
            op.values[table][from] = to.get<std::string>();
          else
            problems_.push_back(
                fmt::format("{}/values/{}/{}: expected a string", path_, table, from));
        }
      }
    }
    if (const json* st = get("status", json::value_t::object, true)) {
      std::map<unsigned, std::string> seen;
      for (const auto& [k, codes] : st->items()) {
        std::set<unsigned>* set = k == "ok"        ? &op.ok
                                  : k == "retry"   ? &op.retry
                                  : k == "refused" ? &op.refused
                                                   : nullptr;
        if (set == nullptr) {
          problems_.push_back(fmt::format("{}/status/{}: unknown key", path_, k));
          continue;
        }
        if (!codes.is_array()) {
          problems_.push_back(fmt::format("{}/status/{}: expected an array", path_, k));
          continue;
        }
        for (std::size_t i = 0; i < codes.size(); ++i) {
          const auto& code = codes[i];
          if (!code.is_number_integer() || code.get<std::int64_t>() < 100 ||
              code.get<std::int64_t>() > 599) {
            problems_.push_back(
                fmt::format("{}/status/{}/{}: expected an HTTP status code", path_, k, i));
            continue;
          }
          const auto c = code.get<unsigned>();
          if (const auto [it, fresh] = seen.emplace(c, k); !fresh) {
            problems_.push_back(
                fmt::format("{}/status/{}/{}: {} is already in '{}'", path_, k, i, c, it->second));
            continue;
          }
          set->insert(c);
        }
      }
      if (op.ok.empty())
        problems_.push_back(fmt::format("{}/status/ok: at least one status code", path_));
    }
  }

  // response: reference name → JSON pointer (`required` ones must be present).
  void response(operation& op, const std::set<std::string>& allowed,
                const std::set<std::string>& required) {
    const json* r = get("response", json::value_t::object, !required.empty());
    if (r == nullptr) return;
    for (const auto& [k, ptr] : r->items()) {
      if (!allowed.count(k)) {
        problems_.push_back(fmt::format("{}/response/{}: unknown key", path_, k));
        continue;
      }
      if (!ptr.is_string()) {
        problems_.push_back(fmt::format("{}/response/{}: wrong type", path_, k));
        continue;
      }
      try {
        (void)json::json_pointer(ptr.get<std::string>());
        op.response[k] = ptr.get<std::string>();
      } catch (const json::exception&) {
        problems_.push_back(fmt::format("{}/response/{}: not a JSON pointer", path_, k));
      }
    }
    for (const auto& k : required) {
      if (!r->contains(k)) problems_.push_back(fmt::format("{}/response: missing '{}'", path_, k));
    }
  }

 private:
  const json& section_;
  std::string path_;
  std::vector<std::string>& problems_;
};

}  // namespace

result<vendor_profile> vendor_profile::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return make_error(errc::io, fmt::format("{}: cannot open the profile", path.string()));
  auto doc = json::parse(in, nullptr, false);
  if (doc.is_discarded())
    return make_error(errc::parse, fmt::format("{}: invalid JSON", path.string()));
  return parse(doc, path.string());
}

result<vendor_profile> vendor_profile::parse(const json& d, const std::string& source) {
  std::vector<std::string> problems;
  vendor_profile p;
  if (!d.is_object()) {
    return make_error(errc::invalid_field, source + ": : expected an object");
  }
  section_reader top(d, "", problems);
  top.allow({"name", "description", "issue", "update", "reflection_batch", "maintenance"});
  if (const json* n = top.get("name", json::value_t::string, true)) p.name_ = n->get<std::string>();
  (void)top.get("description", json::value_t::string, false);

  if (const json* issue = top.get("issue", json::value_t::object, true)) {
    section_reader s(*issue, "/issue", problems);
    s.allow({"method", "path", "headers", "body", "values", "status", "response", "rename"});
    s.common(p.issue_, issue_placeholders);
    s.response(p.issue_, {"application_number", "certificate", "digest"},
               {"application_number", "certificate", "digest"});
    p.rename_ = s.string_map("rename");
  }
  if (const json* update = top.get("update", json::value_t::object, false)) {
    section_reader s(*update, "/update", problems);
    s.allow({"method", "path", "headers", "body", "values", "field_names", "status", "response"});
    operation op;
    s.common(op, change_placeholders);
    op.field_names = s.string_map("field_names");
    s.response(op, {"version"}, {});
    p.update_ = std::move(op);
  }
  if (const json* batch = top.get("reflection_batch", json::value_t::object, false)) {
    section_reader s(*batch, "/reflection_batch", problems);
    s.allow({"method", "path", "headers", "body", "change", "values", "field_names", "status",
             "response"});
    operation op;
    s.common(op, batch_placeholders);
    if (const json* c = s.get("change", json::value_t::object, true)) {
      op.change = *c;
      check_placeholders(*c, "/reflection_batch/change", change_placeholders, problems);
    }
    op.field_names = s.string_map("field_names");
    s.response(op, {"versions", "version"}, {});
    if (op.response.count("version") && !op.response.count("versions"))
      problems.push_back("/reflection_batch/response/version: needs 'versions' (the array)");
    p.batch_ = std::move(op);
  }
  if (const json* maintenance = top.get("maintenance", json::value_t::object, false)) {
    section_reader s(*maintenance, "/maintenance", problems);
    s.allow({"method", "path", "headers", "body", "status"});
    operation op;
    s.common(op, maintenance_placeholders);
    p.maintenance_ = std::move(op);
  }
  if (!problems.empty()) {
    std::string message;
    for (const auto& pr : problems) message += (message.empty() ? "" : "\n") + source + ": " + pr;
    return make_error(errc::invalid_field, message);
  }
  return p;
}

json vendor_profile::rename(const json& node) const {
  if (node.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : node.items()) {
      const auto it = rename_.find(k);
      out[it == rename_.end() ? k : it->second] = rename(v);
    }
    return out;
  }
  if (node.is_array()) {
    json out = json::array();
    for (const auto& v : node) out.push_back(rename(v));
    return out;
  }
  return node;
}

vendor_profile::request vendor_profile::issue_request(const issue_fields& f) const {
  const auto& op = issue_;
  return make_request(op, [&](const std::string& name) -> json {
    if (name == "application_number") return f.application_number;
    if (name == "channel") return mapped_value(op, "channel", f.channel);
    if (name == "certificate_type") return mapped_value(op, "certificate_type", f.certificate_type);
    if (name == "card_serial") return f.card_serial;
    if (name == "resident_id") return f.resident_id;
    if (name == "scope")
      return mapped_value(op, "scope", f.household_scope ? "household" : "individual");
    if (name == "household") return f.household_scope;
    if (name == "honseki") return f.honseki;
    if (name == "zokugara") return f.zokugara;
    if (name == "mynumber") return f.mynumber;
    return nullptr;
  });
}

mapped_answer vendor_profile::map_issue_answer(unsigned status, const std::string& body) const {
  mapped_answer a;
  a.outcome = status_class(issue_, status);
  auto doc = json::parse(body, nullptr, false);
  if (a.outcome != "ok") {
    a.body = doc.is_discarded() ? json(body) : doc;
    if (a.outcome == "error" && status < 500) {
      // A 5xx is a server error in any API; anything else unlisted means the mapping is wrong.
      a.error = fmt::format("profile '{}': status {} is not in /issue/status (ok, retry, refused)",
                            name_, status);
    }
    return a;
  }
  if (doc.is_discarded()) {
    a.error = "profile: the answer is not JSON";
    return a;
  }
  json out = json::object();
  for (const auto& [key, ptr] : issue_.response) {
    const json::json_pointer pointer(ptr);
    if (!doc.contains(pointer)) continue;
    if (key != "certificate") {
      out[key] = doc.at(pointer);
      continue;
    }
    json certificate = rename(doc.at(pointer));
    // The certificate type comes back in the vendor's code: map it through the same table.
    const auto table = issue_.values.find("certificate_type");
    if (table != issue_.values.end() && certificate.is_object() && certificate.contains("type") &&
        certificate["type"].is_string()) {
      for (const auto& [reference, vendor] : table->second) {
        if (certificate["type"] == vendor) {
          certificate["type"] = reference;
          break;
        }
      }
    }
    out[key] = std::move(certificate);
  }
  a.body = std::move(out);
  return a;
}

mapped_change_answer vendor_profile::classify_change(const operation& op, unsigned status,
                                                     const std::string& body) const {
  mapped_change_answer a;
  const auto cls = status_class(op, status);
  if (cls == "ok") {
    a.outcome = "ok";
    return a;
  }
  auto doc = json::parse(body, nullptr, false);
  a.body = doc.is_discarded() ? json(body) : doc;
  if (cls == "retry" || cls == "refused") {
    a.outcome = "failed";
  } else {
    a.outcome = "unknown";
    if (status < 500) {
      // A 5xx is a server error in any API; anything else unlisted means the mapping is wrong.
      a.error = fmt::format("profile '{}': status {} is not in {}/status (ok, retry, refused)",
                            name_, status, op.section);
    }
  }
  return a;
}

vendor_profile::request vendor_profile::update_request(const change_fields& change) const {
  return make_request(*update_, change_lookup(*update_, change));
}

mapped_change_answer vendor_profile::map_update_answer(unsigned status,
                                                       const std::string& body) const {
  auto a = classify_change(*update_, status, body);
  if (a.outcome != "ok") return a;
  a.versions.resize(1);
  const auto ptr = update_->response.find("version");
  if (ptr != update_->response.end()) {
    const auto doc = json::parse(body, nullptr, false);
    if (!doc.is_discarded()) a.versions[0] = version_at(doc, ptr->second);
  }
  return a;
}

vendor_profile::request vendor_profile::batch_request(
    const std::string& batch_id, const std::vector<change_fields>& changes) const {
  const auto& op = *batch_;
  return make_request(op, [&](const std::string& name) -> json {
    if (name == "batch_id") return batch_id;
    if (name == "size") return changes.size();
    if (name == "changes") {
      json out = json::array();
      for (const auto& c : changes) out.push_back(fill(op.change, change_lookup(op, c)));
      return out;
    }
    return nullptr;
  });
}

mapped_change_answer vendor_profile::map_batch_answer(unsigned status, const std::string& body,
                                                      std::size_t changes) const {
  auto a = classify_change(*batch_, status, body);
  if (a.outcome != "ok") return a;
  a.versions.resize(changes);
  const auto array_ptr = batch_->response.find("versions");
  if (array_ptr == batch_->response.end()) return a;
  const auto doc = json::parse(body, nullptr, false);
  const json::json_pointer pointer(array_ptr->second);
  if (doc.is_discarded() || !doc.contains(pointer) || !doc.at(pointer).is_array()) return a;
  const auto& list = doc.at(pointer);
  const auto element = batch_->response.find("version");
  for (std::size_t i = 0; i < list.size() && i < changes; ++i) {
    a.versions[i] = version_at(list[i], element == batch_->response.end() ? "" : element->second);
  }
  return a;
}

vendor_profile::request vendor_profile::maintenance_request(std::uint32_t duration_ms,
                                                            const std::string& admin_token) const {
  return make_request(*maintenance_, [&](const std::string& name) -> json {
    if (name == "duration_ms") return duration_ms;
    if (name == "admin_token") return admin_token;
    return nullptr;
  });
}

std::string vendor_profile::map_maintenance_status(unsigned status) const {
  return status_class(*maintenance_, status);
}

}  // namespace kofu::driver
