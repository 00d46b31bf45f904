#include "kofu/driver/vendor_profile.hpp"

#include <fstream>
#include <functional>

#include <fmt/format.h>

#include "driver/vendor_answer.hpp"
#include "kofu/driver/pdf_answer.hpp"
#include "kofu/driver/population_export.hpp"

namespace kofu::driver {
namespace {
using json = nlohmann::json;
namespace http = boost::beast::http;
using operation = vendor_profile::operation;
using lookup = std::function<json(const std::string&)>;

const std::set<std::string> issue_placeholders = {
    "application_number", "channel", "certificate_type", "card_serial", "resident_id", "scope",
    "household",          "honseki", "zokugara",         "mynumber"};
const std::set<std::string> change_placeholders = {"resident_id", "change_id", "version",
                                                   "kind",        "fields",    "idempotency_key"};
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
      const auto inner = s.substr(open + 2, close - open - 2);
      const auto name = inner.substr(0, inner.find_first_of(".|"));
      if (!known.count(name))
        problems.push_back(fmt::format("{}: unknown field '{{{{{}}}}}'", path, inner));
    }
  }
}

// The value at a dotted path: the root by `value`, then members ("fields.address.postal_code").
json value_at(const std::string& path, const lookup& value) {
  const auto dot = path.find('.');
  json v = value(path.substr(0, dot));
  for (std::size_t pos = dot; pos != std::string::npos && !v.is_null();) {
    const auto next = path.find('.', pos + 1);
    const auto key = path.substr(pos + 1, next == std::string::npos ? next : next - pos - 1);
    v = v.is_object() && v.contains(key) ? json(v.at(key)) : json(nullptr);
    pos = next;
  }
  return v;
}

// Text with every "{{path|filters}}" replaced by the value's text (`encode` for paths).
std::string fill_text(const std::string& s, const lookup& value, bool encode,
                      const value_tables& tables = {}) {
  std::vector<std::string> ignored;
  const auto t = text_template::parse(
      s, "", [](std::string_view) { return true; }, tables, ignored);
  return t.render(
      [&](std::string_view path) -> std::optional<std::string> {
        const json v = value_at(std::string(path), value);
        if (v.is_null()) return std::nullopt;
        const auto text = text_of(v);
        return encode ? percent_encoded(text) : text;
      },
      tables);
}

json fill(const json& node, const lookup& value, const value_tables& tables = {}) {
  if (node.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : node.items()) out[k] = fill(v, value, tables);
    return out;
  }
  if (node.is_array()) {
    json out = json::array();
    for (const auto& v : node) out.push_back(fill(v, value, tables));
    return out;
  }
  if (!node.is_string()) return node;
  const auto& s = node.get_ref<const std::string&>();
  if (s.size() > 4 && s.starts_with("{{") && s.ends_with("}}") &&
      s.find("{{", 2) == std::string::npos && s.find('|') == std::string::npos) {
    return value_at(s.substr(2, s.size() - 4), value);  // typed: booleans stay booleans
  }
  return fill_text(s, value, false, tables);
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

// The change as the `when` programs of update kinds see it.
json change_document(const change_fields& c) {
  return {{"resident_id", c.resident_id},
          {"change_id", c.change_id},
          {"version", c.version},
          {"kind", c.kind},
          {"fields", c.fields}};
}

// The vendor's kind for a change: the first alternative whose `when` holds (or has none).
const operation::kind_choice* choose_kind(const operation& op, const change_fields& c) {
  const auto it = op.kinds.find(c.kind);
  if (it == op.kinds.end()) return nullptr;
  std::optional<json> doc;
  for (const auto& choice : it->second) {
    if (!choice.when) return &choice;
    if (!doc) doc = change_document(c);
    const auto v = choice.when->first(*doc);
    if (v && *v != false) return &choice;
  }
  return nullptr;
}

lookup change_lookup(const operation& op, const change_fields& c) {
  return [&op, &c](const std::string& name) -> json {
    if (name == "resident_id") return c.resident_id;
    if (name == "change_id") return c.change_id;
    if (name == "version") return c.version;
    if (name == "idempotency_key") return fmt::format("kofu-{}-{}", c.resident_id, c.change_id);
    if (name == "kind") {
      if (const auto* choice = choose_kind(op, c)) return choice->kind;
      return mapped_value(op, "kind", c.kind);
    }
    if (name == "fields" && !op.kinds.empty()) {
      const auto* choice = choose_kind(op, c);
      if (choice == nullptr) return json::object();
      // The kind's template sees the reference change: {{fields.…}} are the reference fields.
      const lookup reference = [&c](const std::string& n) -> json {
        if (n == "fields") return c.fields;
        if (n == "resident_id") return c.resident_id;
        if (n == "change_id") return c.change_id;
        if (n == "version") return c.version;
        return nullptr;
      };
      return fill(choice->fields, reference, op.values);
    }
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

  // outcome: {"code": locator, "ok": [codes], "retry": [...], "refused": [...]}.
  void outcome(operation& op) {
    const json* o = get("outcome", json::value_t::object, false);
    if (o == nullptr) return;
    outcome_rule rule;
    const std::string at = path_ + "/outcome";
    for (const auto& [k, v] : o->items()) {
      if (k == "code") {
        rule.code = detail::parse_locator(v, at + "/code", problems_);
        continue;
      }
      if (k != "ok" && k != "retry" && k != "refused") {
        problems_.push_back(fmt::format("{}/{}: unknown key", at, k));
        continue;
      }
      if (!v.is_array()) {
        problems_.push_back(fmt::format("{}/{}: expected an array of result codes", at, k));
        continue;
      }
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_string() && !v[i].is_number_integer()) {
          problems_.push_back(fmt::format("{}/{}/{}: expected a result code", at, k, i));
          continue;
        }
        const std::string code = text_of(v[i]);
        if (const auto [it, fresh] = rule.classes.emplace(code, k); !fresh) {
          problems_.push_back(
              fmt::format("{}/{}/{}: '{}' is already in '{}'", at, k, i, code, it->second));
        }
      }
    }
    if (!rule.code.is_set()) problems_.push_back(at + ": missing 'code'");
    op.outcome = std::move(rule);
  }

  // kinds: reference kind → {"kind", "fields", "when"?} or a list of them (first that holds).
  void kinds(operation& op) {
    const json* k = get("kinds", json::value_t::object, false);
    if (k == nullptr) return;
    static const std::set<std::string> reference = {"move", "name", "seal", "household", "tax"};
    for (const auto& [kind, spec] : k->items()) {
      const std::string at = path_ + "/kinds/" + kind;
      if (!reference.count(kind)) {
        problems_.push_back(at + ": not a reference kind (move, name, seal, household, tax)");
        continue;
      }
      const json list = spec.is_array() ? spec : json::array({spec});
      for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string where = spec.is_array() ? fmt::format("{}/{}", at, i) : at;
        const json& c = list[i];
        if (!c.is_object() || !c.contains("kind") || !c["kind"].is_string()) {
          problems_.push_back(where + ": expected {\"kind\": \"…\", \"fields\": {…}}");
          continue;
        }
        operation::kind_choice choice;
        choice.kind = c["kind"].get<std::string>();
        for (const auto& [key, v] : c.items()) {
          if (key != "kind" && key != "fields" && key != "when")
            problems_.push_back(fmt::format("{}/{}: unknown key", where, key));
        }
        if (c.contains("fields")) {
          choice.fields = c["fields"];
          check_placeholders(choice.fields, where + "/fields", change_placeholders, problems_);
        } else {
          choice.fields = json::object();
        }
        if (c.contains("when")) {
          std::string error;
          if (!c["when"].is_string())
            problems_.push_back(where + "/when: expected a jq program");
          else if (!(choice.when = jq_expression::compile(c["when"].get<std::string>(), error)))
            problems_.push_back(where + "/when: " + error);
        }
        op.kinds[kind].push_back(std::move(choice));
      }
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

namespace {

json rename_keys(const json& node, const std::map<std::string, std::string>& rename) {
  if (node.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : node.items()) {
      const auto it = rename.find(k);
      out[it == rename.end() ? k : it->second] = rename_keys(v, rename);
    }
    return out;
  }
  if (node.is_array()) {
    json out = json::array();
    for (const auto& v : node) out.push_back(rename_keys(v, rename));
    return out;
  }
  return node;
}

// A renaming profile's answer in the reference shape: the pointers of `response`, keys renamed
// inside the certificate, and the type mapped back through the certificate_type table.
json reference_shape(const json& doc, const operation& issue,
                     const std::map<std::string, std::string>& rename) {
  json out = json::object();
  for (const auto& [key, ptr] : issue.response) {
    const json::json_pointer pointer(ptr);
    if (!doc.contains(pointer)) continue;
    if (key != "certificate") {
      out[key] = doc.at(pointer);
      continue;
    }
    json certificate = rename_keys(doc.at(pointer), rename);
    const auto table = issue.values.find("certificate_type");
    if (table != issue.values.end() && certificate.is_object() && certificate.contains("type") &&
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
  return out;
}

// The adapter of a renaming profile: its answers are the reference protocol's under other keys.
class renamed_decoder final : public verify::answer_decoder {
 public:
  renamed_decoder(operation issue, std::map<std::string, std::string> rename)
      : issue_(std::move(issue)), rename_(std::move(rename)) {}
  verify::decoded_answer decode(const json& body, bool keep_body) const override {
    auto out = verify::decode_answer(reference_shape(body, issue_, rename_), false);
    if (keep_body) out.body = body;
    return out;
  }
  const verify::answer_capabilities& capabilities() const override { return caps_; }

 private:
  operation issue_;
  std::map<std::string, std::string> rename_;
  verify::answer_capabilities caps_;
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
  top.allow({"name", "description", "issue", "update", "reflection_batch", "maintenance", "render",
             "supports", "export", "print"});
  p.document_ = d;
  // `print`: where the fields stand in the vendor's PDF print data (pdf_answer.hpp), checked here
  // so that a wrong label fails at load like every other part of the profile.
  if (const auto print = d.find("print"); print != d.end()) {
    if (auto layout = print_layout::parse(*print, "/print"); !layout) {
      problems.push_back(layout.error().message);
    }
  }
  if (const json* n = top.get("name", json::value_t::string, true)) p.name_ = n->get<std::string>();
  (void)top.get("description", json::value_t::string, false);

  if (const json* issue = top.get("issue", json::value_t::object, true)) {
    section_reader s(*issue, "/issue", problems);
    s.allow({"method", "path", "headers", "body", "values", "status", "outcome", "response",
             "rename", "answer"});
    s.common(p.issue_, issue_placeholders);
    s.outcome(p.issue_);
    if (const json* answer = s.get("answer", json::value_t::object, false)) {
      // The certificate model read from the vendor's own shape (DESIGN §5a).
      if (issue->contains("response") || issue->contains("rename"))
        problems.push_back(
            "/issue: 'answer' replaces 'response' and 'rename': give one or the other");
      const json* render = d.contains("render") && d["render"].is_object() ? &d["render"] : nullptr;
      if (d.contains("render") && render == nullptr)
        problems.push_back("/render: expected an object");
      auto adapter = detail::parse_vendor_adapter(*answer, render, p.issue_.values, problems);
      p.decoder_ = std::move(adapter.decoder);
      p.rendering_ = std::move(adapter.rendering);
    } else {
      // Keys renamed into the reference shape: decoded as the reference protocol's answers.
      s.response(p.issue_, {"application_number", "certificate", "digest"},
                 {"application_number", "certificate", "digest"});
      p.rename_ = s.string_map("rename");
      if (d.contains("render")) problems.push_back("/render: needs /issue/answer");
    }
    for (const auto& [type, code] : p.issue_.values["certificate_type"]) p.types_.insert(type);
  }
  if (const json* update = top.get("update", json::value_t::object, false)) {
    section_reader s(*update, "/update", problems);
    s.allow({"method", "path", "headers", "body", "values", "field_names", "status", "outcome",
             "kinds", "response"});
    operation op;
    s.common(op, change_placeholders);
    s.outcome(op);
    s.kinds(op);
    op.field_names = s.string_map("field_names");
    s.response(op, {"version"}, {});
    for (const auto& [kind, choices] : op.kinds) p.update_kinds_.insert(kind);
    for (const auto& [kind, vendor] : op.values["kind"]) p.update_kinds_.insert(kind);
    p.update_ = std::move(op);
  }
  if (const json* batch = top.get("reflection_batch", json::value_t::object, false)) {
    section_reader s(*batch, "/reflection_batch", problems);
    s.allow({"method", "path", "headers", "body", "change", "values", "field_names", "status",
             "outcome", "kinds", "response"});
    operation op;
    s.common(op, batch_placeholders);
    s.outcome(op);
    s.kinds(op);
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
    s.allow({"method", "path", "headers", "body", "status", "outcome"});
    operation op;
    s.common(op, maintenance_placeholders);
    s.outcome(op);
    p.maintenance_ = std::move(op);
  }
  if (const json* supports = top.get("supports", json::value_t::object, false)) {
    section_reader s(*supports, "/supports", problems);
    s.allow({"certificate_types", "update_kinds", "household_scope"});
    auto names = [&](const char* key, std::set<std::string>& target) {
      if (const json* list = s.get(key, json::value_t::array, false)) {
        target.clear();
        for (std::size_t i = 0; i < list->size(); ++i) {
          if ((*list)[i].is_string())
            target.insert((*list)[i].get<std::string>());
          else
            problems.push_back(fmt::format("/supports/{}/{}: expected a string", key, i));
        }
      }
    };
    names("certificate_types", p.types_);
    names("update_kinds", p.update_kinds_);
    if (const json* h = s.get("household_scope", json::value_t::boolean, false))
      p.household_scope_ = h->get<bool>();
  }
  if (d.contains("export")) {
    p.export_ = std::make_shared<const population_export>(
        population_export::parse(d["export"], p.issue_.values, p.rendering_, problems));
  }
  if (!p.decoder_) p.decoder_ = std::make_shared<renamed_decoder>(p.issue_, p.rename_);
  if (p.decoder_->capabilities().versions == verify::version_semantics::global_counter) {
    // Each change's number comes from its answer: without it no version could be placed.
    if (!p.update_ || p.update_->response.count("version") == 0)
      problems.push_back(
          "/update/response/version: 'versions' is global_counter: each update's answer must "
          "give the counter it made");
    if (p.batch_ && p.batch_->response.count("versions") == 0)
      problems.push_back(
          "/reflection_batch/response/versions: 'versions' is global_counter: each batch's "
          "answer must give the counter of each change");
  }
  if (!problems.empty()) {
    std::string message;
    for (const auto& pr : problems) message += (message.empty() ? "" : "\n") + source + ": " + pr;
    return make_error(errc::invalid_field, message);
  }
  return p;
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
  auto doc = json::parse(body, nullptr, false);
  a.outcome = classify_issue(status, doc.is_discarded() ? json(body) : doc, a.error);
  if (a.outcome != "ok") {
    a.body = doc.is_discarded() ? json(body) : doc;
    return a;
  }
  if (doc.is_discarded()) {
    a.error = "profile: the answer is not JSON";
    return a;
  }
  a.body = rendering_ ? doc : reference_shape(doc, issue_, rename_);
  return a;
}

bool vendor_profile::supports_type(std::string_view type) const {
  return types_.empty() || types_.count(std::string(type)) != 0;
}

bool vendor_profile::supports_update_kind(std::string_view kind) const {
  if (!update_) return true;  // updates go in the reference shape
  return update_kinds_.empty() || update_kinds_.count(std::string(kind)) != 0;
}

std::string vendor_profile::body_class(const operation& op, const std::string& status_class,
                                       const json& body, std::string& error) const {
  if (status_class != "ok" || !op.outcome) return status_class;
  const auto code = op.outcome->code.read(body);
  if (!code) {
    error = fmt::format("profile '{}': no result code at {} ({}/outcome/code)", name_,
                        op.outcome->code.describe(), op.section);
    return "error";
  }
  const auto it = op.outcome->classes.find(text_of(*code));
  if (it == op.outcome->classes.end()) {
    error = fmt::format("profile '{}': result code '{}' is not in {}/outcome (ok, retry, refused)",
                        name_, text_of(*code), op.section);
    return "error";
  }
  return it->second;
}

namespace {
std::optional<std::string> result_code_of(const vendor_profile::operation* op, const json& body) {
  if (op == nullptr || !op->outcome) return std::nullopt;
  const auto code = op->outcome->code.read(body);
  if (!code) return std::nullopt;
  return text_of(*code);
}
}  // namespace

std::optional<std::string> vendor_profile::issue_result_code(const json& body) const {
  return result_code_of(&issue_, body);
}

std::optional<std::string> vendor_profile::update_result_code(const json& body) const {
  return result_code_of(update_ ? &*update_ : nullptr, body);
}

std::string vendor_profile::classify_issue(unsigned status, const json& body,
                                           std::string& error) const {
  const std::string cls = status_class(issue_, status);
  if (cls == "error") {
    if (status < 500) {
      // A 5xx is a server error in any API; anything else unlisted means the mapping is wrong.
      error = fmt::format("profile '{}': status {} is not in /issue/status (ok, retry, refused)",
                          name_, status);
    }
    return cls;
  }
  return body_class(issue_, cls, body, error);
}

mapped_change_answer vendor_profile::classify_change(const operation& op, unsigned status,
                                                     const std::string& body) const {
  mapped_change_answer a;
  auto doc = json::parse(body, nullptr, false);
  std::string code_error;
  const auto cls =
      body_class(op, status_class(op, status), doc.is_discarded() ? json(body) : doc, code_error);
  if (cls == "ok") {
    a.outcome = "ok";
    return a;
  }
  a.body = doc.is_discarded() ? json(body) : doc;
  if (!code_error.empty()) {
    // A 2xx whose result code the profile does not know: the change may or may not be applied.
    a.outcome = "unknown";
    a.error = code_error;
    return a;
  }
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

std::string vendor_profile::map_maintenance_status(unsigned status, const std::string& body) const {
  std::string error;
  const auto doc = json::parse(body, nullptr, false);
  return body_class(*maintenance_, status_class(*maintenance_, status),
                    doc.is_discarded() ? json(body) : doc, error);
}

result<verify::answer_protocol> answer_protocol_from_header(const json& header) {
  const auto target = header.find("target");
  if (target == header.end() || !target->is_object()) return verify::answer_protocol{};
  const auto doc = target->find("profile_document");
  if (doc == target->end() || doc->is_null()) return with_print(header, verify::answer_protocol{});
  auto profile = vendor_profile::parse(*doc, "history header /target/profile_document");
  if (!profile) return profile.error();
  return with_print(header, verify::answer_protocol{profile->decoder(), profile->rendering()});
}

}  // namespace kofu::driver
