#include "kofu/driver/vendor_profile.hpp"

#include <fstream>

#include <fmt/format.h>

namespace kofu::driver {
namespace {
using json = nlohmann::json;
namespace http = boost::beast::http;

const std::set<std::string> known_fields = {
    "application_number", "channel", "certificate_type", "card_serial", "resident_id", "scope",
    "household",          "honseki", "zokugara",         "mynumber"};

json field_value(const std::string& name, const issue_fields& f,
                 const std::map<std::string, std::map<std::string, std::string>>& values) {
  auto mapped = [&](const std::string& key, const std::string& v) -> json {
    const auto table = values.find(key);
    if (table != values.end()) {
      const auto it = table->second.find(v);
      if (it != table->second.end()) return it->second;
    }
    return v;
  };
  if (name == "application_number") return f.application_number;
  if (name == "channel") return mapped("channel", f.channel);
  if (name == "certificate_type") return mapped("certificate_type", f.certificate_type);
  if (name == "card_serial") return f.card_serial;
  if (name == "resident_id") return f.resident_id;
  if (name == "scope") return mapped("scope", f.household_scope ? "household" : "individual");
  if (name == "household") return f.household_scope;
  if (name == "honseki") return f.honseki;
  if (name == "zokugara") return f.zokugara;
  if (name == "mynumber") return f.mynumber;
  return nullptr;
}

std::string text_of(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// Every "{{name}}" in the template must be a known field: a typo fails at load, not mid-run.
void check_placeholders(const json& node, const std::string& path,
                        std::vector<std::string>& problems) {
  if (node.is_object()) {
    for (const auto& [k, v] : node.items()) check_placeholders(v, path + "/" + k, problems);
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      check_placeholders(node[i], fmt::format("{}/{}", path, i), problems);
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
      if (!known_fields.count(name))
        problems.push_back(fmt::format("{}: unknown field '{{{{{}}}}}'", path, name));
    }
  }
}

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
  auto need = [&](const json& obj, const char* key, json::value_t type,
                  const std::string& path) -> const json* {
    if (!obj.is_object() || !obj.contains(key)) {
      problems.push_back(fmt::format("{}: missing '{}'", path, key));
      return nullptr;
    }
    const json& v = obj.at(key);
    if (v.type() != type && !(type == json::value_t::number_unsigned && v.is_number_integer())) {
      problems.push_back(fmt::format("{}/{}: wrong type", path, key));
      return nullptr;
    }
    return &v;
  };
  for (const auto& [k, v] : d.items()) {
    if (k != "name" && k != "issue" && k != "description")
      problems.push_back(fmt::format("/{}: unknown key", k));
  }
  if (const json* n = need(d, "name", json::value_t::string, "")) p.name_ = n->get<std::string>();
  const json* issue = need(d, "issue", json::value_t::object, "");
  if (issue != nullptr) {
    for (const auto& [k, v] : issue->items()) {
      static const std::set<std::string> keys = {"method", "path",   "headers",  "body",
                                                 "values", "status", "response", "rename"};
      if (!keys.count(k)) problems.push_back(fmt::format("/issue/{}: unknown key", k));
    }
    if (issue->contains("method")) p.method_ = issue->at("method").get<std::string>();
    if (const json* path = need(*issue, "path", json::value_t::string, "/issue"))
      p.path_ = path->get<std::string>();
    if (issue->contains("headers"))
      p.headers_ = issue->at("headers").get<std::map<std::string, std::string>>();
    if (const json* body = need(*issue, "body", json::value_t::object, "/issue")) {
      p.body_ = *body;
      check_placeholders(*body, "/issue/body", problems);
    }
    if (issue->contains("values")) p.values_ = issue->at("values").get<decltype(p.values_)>();
    if (const json* st = need(*issue, "status", json::value_t::object, "/issue")) {
      for (const char* k : {"ok", "retry", "refused"}) {
        if (st->contains(k)) {
          auto& set = std::string(k) == "ok"      ? p.ok_
                      : std::string(k) == "retry" ? p.retry_
                                                  : p.refused_;
          for (const auto& code : st->at(k)) set.insert(code.get<unsigned>());
        }
      }
      if (p.ok_.empty()) problems.push_back("/issue/status/ok: at least one status code");
    }
    if (const json* r = need(*issue, "response", json::value_t::object, "/issue/response")) {
      for (const auto& [k, ptr] :
           {std::pair<const char*, std::string*>{"application_number", &p.ptr_application_number_},
            {"certificate", &p.ptr_certificate_},
            {"digest", &p.ptr_digest_}}) {
        if (const json* v = need(*r, k, json::value_t::string, "/issue/response")) {
          *ptr = v->get<std::string>();
          try {
            (void)json::json_pointer(*ptr);
          } catch (const json::exception&) {
            problems.push_back(fmt::format("/issue/response/{}: not a JSON pointer", k));
          }
        }
      }
    }
    if (issue->contains("rename"))
      p.rename_ = issue->at("rename").get<std::map<std::string, std::string>>();
  }
  if (!problems.empty()) {
    std::string message;
    for (const auto& pr : problems) message += (message.empty() ? "" : "\n") + source + ": " + pr;
    return make_error(errc::invalid_field, message);
  }
  return p;
}

json vendor_profile::fill(const json& node, const issue_fields& f) const {
  if (node.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : node.items()) out[k] = fill(v, f);
    return out;
  }
  if (node.is_array()) {
    json out = json::array();
    for (const auto& v : node) out.push_back(fill(v, f));
    return out;
  }
  if (!node.is_string()) return node;
  const auto& s = node.get_ref<const std::string&>();
  if (s.size() > 4 && s.starts_with("{{") && s.ends_with("}}") &&
      s.find("{{", 2) == std::string::npos) {
    return field_value(s.substr(2, s.size() - 4), f, values_);  // typed: booleans stay booleans
  }
  std::string out;
  std::size_t pos = 0;
  for (std::size_t open = s.find("{{"); open != std::string::npos; open = s.find("{{", pos)) {
    const auto close = s.find("}}", open);
    out += s.substr(pos, open - pos);
    out += text_of(field_value(s.substr(open + 2, close - open - 2), f, values_));
    pos = close + 2;
  }
  out += s.substr(pos);
  return out;
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

http::request<http::string_body> vendor_profile::issue_request(const issue_fields& f) const {
  http::request<http::string_body> req{http::string_to_verb(method_), path_, 11};
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "application/json");
  for (const auto& [k, v] : headers_) req.set(k, v);
  req.body() = fill(body_, f).dump(-1, ' ', false, json::error_handler_t::replace);
  return req;
}

mapped_answer vendor_profile::map_issue_answer(unsigned status, const std::string& body) const {
  mapped_answer a;
  if (ok_.count(status))
    a.outcome = "ok";
  else if (retry_.count(status))
    a.outcome = "retry";
  else if (refused_.count(status))
    a.outcome = "refused";
  else
    a.outcome = "error";
  auto doc = json::parse(body, nullptr, false);
  if (a.outcome != "ok") {
    a.body = doc.is_discarded() ? json(body) : doc;
    return a;
  }
  if (doc.is_discarded()) {
    a.error = "profile: the answer is not JSON";
    return a;
  }
  json out = json::object();
  for (const auto& [key, ptr] :
       {std::pair<const char*, const std::string*>{"application_number", &ptr_application_number_},
        {"certificate", &ptr_certificate_},
        {"digest", &ptr_digest_}}) {
    const json::json_pointer pointer(*ptr);
    if (doc.contains(pointer))
      out[key] = std::string(key) == "certificate" ? rename(doc.at(pointer)) : doc.at(pointer);
  }
  a.body = std::move(out);
  return a;
}

}  // namespace kofu::driver
