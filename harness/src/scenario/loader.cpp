#include "kofu/scenario/loader.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "kofu/common/json_depth.hpp"
#include "kofu/common/sha256.hpp"

namespace kofu::scenario {
namespace {

constexpr unsigned char schema_bytes[] = {
#include "scenario_schema_bytes.inc"
};

using json = nlohmann::json;

// The compiled schema, built once. valijson's Schema is immutable after parsing, and
// Validator::validate only reads it, so sharing it between threads is safe.
struct compiled_schema {
  json document;
  valijson::Schema schema;

  compiled_schema() {
    document = json::parse(std::string(reinterpret_cast<const char*>(schema_bytes),  // NOLINT
                                       sizeof(schema_bytes)));
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(document);
    parser.populateSchema(adapter, schema);
  }
};

const compiled_schema& compiled() {
  static const compiled_schema instance;
  return instance;
}

// valijson names a location as {"<root>", "[phases]", "[0]", "[rate]"}; we print a JSON pointer.
std::string to_pointer(const std::vector<std::string>& context) {
  std::string pointer;
  for (const auto& part : context) {
    if (part == "<root>") continue;
    std::string name = part;
    if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
      name = name.substr(1, name.size() - 2);
    }
    // RFC 6901 escaping.
    std::string escaped;
    for (char c : name) {
      if (c == '~')
        escaped += "~0";
      else if (c == '/')
        escaped += "~1";
      else
        escaped += c;
    }
    pointer += '/';
    pointer += escaped;
  }
  return pointer.empty() ? "/" : pointer;
}

struct problem {
  std::vector<std::string> context;
  std::string message;
};

bool is_proper_prefix(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return a.size() < b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// valijson reports a failure at every level from the root to the leaf ("Failed to validate item
// #0 in array", then the leaf's reason). Users want the leaf: drop every problem whose location
// is a proper prefix of another problem's location, and the generic wrapper messages.
std::vector<problem> leaf_problems(const valijson::ValidationResults& results) {
  std::vector<problem> all;
  for (const auto& e : results) all.push_back({e.context, e.description});
  std::vector<problem> leaves;
  for (const auto& p : all) {
    const bool has_deeper = std::any_of(all.begin(), all.end(), [&](const problem& q) {
      return is_proper_prefix(p.context, q.context);
    });
    const bool wrapper = p.message.rfind("Failed to validate against", 0) == 0 ||
                         p.message.rfind("Failed to validate item", 0) == 0 ||
                         p.message.rfind("Failed to validate against child schema", 0) == 0;
    if (has_deeper && wrapper) continue;
    if (has_deeper && p.message.find("could not be validated") == std::string::npos) continue;
    leaves.push_back(p);
  }
  // Keep one line per (location, message).
  std::vector<problem> unique;
  for (auto& p : leaves) {
    const bool seen = std::any_of(unique.begin(), unique.end(), [&](const problem& q) {
      return q.context == p.context && q.message == p.message;
    });
    if (!seen) unique.push_back(std::move(p));
  }
  return unique;
}

// Turns valijson's wording for an unknown key into ours, naming the key in the path.
std::string describe(problem& p) {
  const std::string marker = "could not be validated using 'properties' or 'additionalProperties'";
  if (p.message.find(marker) != std::string::npos) {
    const auto open = p.message.rfind(": '");
    if (open != std::string::npos) {
      std::string key = p.message.substr(open + 3);
      if (!key.empty() && key.back() == '.') key.pop_back();
      if (!key.empty() && key.back() == '\'') key.pop_back();
      p.context.push_back("[" + key + "]");
    }
    return "unknown key (not allowed by the schema)";
  }
  // A failure valijson reports only at the parent (propertyNames, allOf): name the child.
  const std::string wrapper = "Failed to validate against schema associated with property name '";
  if (p.message.rfind(wrapper, 0) == 0) {
    const auto end = p.message.find('\'', wrapper.size());
    p.context.push_back("[" + p.message.substr(wrapper.size(), end - wrapper.size()) + "]");
    return "not allowed by the schema (an unknown name or a value out of range)";
  }
  return p.message;
}

const json* resolve_ref(const json& root, const json& node) {
  const json* current = &node;
  // Follow $ref chains ("#/definitions/x") and one level of allOf (used for weights).
  for (int hops = 0; hops < 8; ++hops) {
    const auto ref = current->find("$ref");
    if (ref == current->end() || !ref->is_string()) break;
    const std::string pointer = ref->get<std::string>();
    if (pointer.rfind("#", 0) != 0) break;
    current = &root.at(json::json_pointer(pointer.substr(1)));
  }
  return current;
}

void fill_with(const json& root, const json& subschema_in, json& value) {
  const json& subschema = *resolve_ref(root, subschema_in);
  if (value.is_object()) {
    const auto props = subschema.find("properties");
    if (props != subschema.end() && props->is_object()) {
      for (const auto& [key, prop_schema] : props->items()) {
        if (!value.contains(key)) {
          const auto def = prop_schema.find("default");
          if (def != prop_schema.end()) value[key] = *def;
        }
        if (value.contains(key)) fill_with(root, prop_schema, value[key]);
      }
    }
  } else if (value.is_array()) {
    const auto items = subschema.find("items");
    if (items != subschema.end() && items->is_object()) {
      for (auto& element : value) fill_with(root, *items, element);
    }
  }
}

// A number as the user would write it: integers without a fraction, others as short as exact.
std::string number_text(const json& n) {
  if (n.is_number_integer()) return n.dump();
  const double v = n.get<double>();
  if (std::abs(v) < 1e15 && v == std::floor(v)) return fmt::format("{:.0f}", v);
  return fmt::format("{}", v);
}

// The schema's bounds on a number, as one phrase ("from 1 to 600000", "above 0 up to 604800").
std::string range_text(const json& schema) {
  std::string lower, upper;
  if (const auto it = schema.find("minimum"); it != schema.end()) {
    lower = "from " + number_text(*it);
  } else if (const auto ex = schema.find("exclusiveMinimum"); ex != schema.end()) {
    lower = "above " + number_text(*ex);
  }
  if (const auto it = schema.find("maximum"); it != schema.end()) {
    upper = (lower.empty() ? "at most " : (lower.rfind("above", 0) == 0 ? "up to " : "to ")) +
            number_text(*it);
  }
  if (lower.empty()) return upper;
  if (upper.empty()) return lower;
  return lower + " " + upper;
}

// Every number outside its schema's bounds, with its JSON path and the allowed range (issue 15:
// a value beyond range was reported as "must be ≥ 1", and a duration above 2^32 wrapped). Walks
// the document beside the schema as fill_with does, also through allOf and additionalProperties.
// The values are compared as doubles: a value too large for any integer type is still caught.
void range_problems(const json& root, const json& subschema_in, const json& value,
                    const std::string& pointer,
                    std::vector<std::pair<std::string, std::string>>& out) {
  const json& subschema = *resolve_ref(root, subschema_in);
  if (const auto all = subschema.find("allOf"); all != subschema.end() && all->is_array()) {
    for (const auto& part : *all) range_problems(root, part, value, pointer, out);
  }
  if (value.is_number()) {
    const bool has_bounds = subschema.contains("minimum") || subschema.contains("maximum") ||
                            subschema.contains("exclusiveMinimum");
    if (!has_bounds) return;
    const double v = value.get<double>();
    bool outside = false;
    if (const auto it = subschema.find("minimum"); it != subschema.end() && it->is_number()) {
      outside = outside || v < it->get<double>();
    }
    if (const auto it = subschema.find("exclusiveMinimum");
        it != subschema.end() && it->is_number()) {
      outside = outside || v <= it->get<double>();
    }
    if (const auto it = subschema.find("maximum"); it != subschema.end() && it->is_number()) {
      outside = outside || v > it->get<double>();
    }
    if (outside) {
      out.emplace_back(
          pointer.empty() ? "/" : pointer,
          fmt::format("{} is out of range: allowed {}", number_text(value), range_text(subschema)));
    }
  } else if (value.is_object()) {
    const auto props = subschema.find("properties");
    const auto extra = subschema.find("additionalProperties");
    for (const auto& [key, child] : value.items()) {
      std::string child_pointer = pointer + "/";
      for (const char c : key)
        child_pointer += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
      if (props != subschema.end() && props->is_object() && props->contains(key)) {
        range_problems(root, props->at(key), child, child_pointer, out);
      } else if (extra != subschema.end() && extra->is_object()) {
        range_problems(root, *extra, child, child_pointer, out);
      }
    }
  } else if (value.is_array()) {
    const auto items = subschema.find("items");
    if (items != subschema.end() && items->is_object()) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        range_problems(root, *items, value[i], fmt::format("{}/{}", pointer, i), out);
      }
    }
  }
}

template <class Enum, std::size_t N>
Enum enum_from(const std::string& text, const std::array<Enum, N>& values) {
  for (const auto v : values) {
    if (to_string(v) == text) return v;
  }
  throw std::invalid_argument("unexpected enum value " + text);  // the schema rules it out
}

template <class Enum, std::size_t N>
std::array<double, N> weights_from(const json& object, const std::array<Enum, N>& values) {
  std::array<double, N> weights{};
  for (std::size_t i = 0; i < N; ++i) {
    const auto it = object.find(std::string(to_string(values[i])));
    if (it != object.end()) weights[i] = it->get<double>();
  }
  return weights;
}

constexpr std::array<certificate_type, certificate_type_count> all_types = {
    certificate_type::juminhyo,     certificate_type::juminhyo_kisai,
    certificate_type::inkan,        certificate_type::koseki_zenbu,
    certificate_type::koseki_kojin, certificate_type::koseki_fuhyo,
    certificate_type::kazei};
constexpr std::array<channel, channel_count> all_channels = {channel::konbini, channel::window,
                                                             channel::kiosk};
constexpr std::array<update_kind, update_kind_count> all_kinds = {
    update_kind::move, update_kind::name, update_kind::seal, update_kind::household,
    update_kind::tax};
constexpr std::array<load_model, 2> all_models = {load_model::open, load_model::closed};
constexpr std::array<event_kind, 3> all_event_kinds = {
    event_kind::maintenance, event_kind::reflection_batch, event_kind::exec};

std::optional<double> optional_number(const json& value) {
  if (value.is_null()) return std::nullopt;
  return value.get<double>();
}

thresholds read_thresholds(const json& th) {
  thresholds t;
  t.max_findings = th.at("max_findings").get<std::uint64_t>();
  t.min_answered = th.at("min_answered").get<std::uint64_t>();
  t.max_error_rate = th.at("max_error_rate").get<double>();
  t.max_p99_ms = optional_number(th.at("max_p99_ms"));
  t.min_overlapping_requests = th.at("min_overlapping_requests").get<std::uint64_t>();
  return t;
}

// Reads the validated, default-filled document into the model. Every key exists (defaults) and
// has the schema's type, so plain get<> is safe here.
scenario to_model(const json& d) {
  scenario s;
  s.name = d.at("name").get<std::string>();
  if (const json& text = d.at("description"); text.is_object()) {
    s.description = text.at("en").get<std::string>();
    s.description_ja = text.at("ja").get<std::string>();
  } else {
    s.description = text.get<std::string>();
  }
  s.seed = d.at("seed").get<std::uint64_t>();

  const json& t = d.at("target");
  s.target.embedded = t.at("kind").get<std::string>() == "embedded";
  s.target.urls = t.at("urls").get<std::vector<std::string>>();
  s.target.defects = t.at("defects").get<std::vector<std::string>>();
  s.target.mock_args = t.at("mock_args").get<std::vector<std::string>>();
  s.target.admin_token = t.at("admin_token").get<std::string>();
  s.target.profile = t.at("profile").get<std::string>();
  s.target.print_format = t.at("print").at("format").get<std::string>();
  s.target.keep_pdf_bytes = t.at("print").at("keep_pdf_bytes").get<std::uint64_t>();
  const json& tls = t.at("tls");
  s.target.tls.ca_file = tls.at("ca_file").get<std::string>();
  s.target.tls.server_name = tls.at("server_name").get<std::string>();
  s.target.tls.client_cert = tls.at("client_cert").get<std::string>();
  s.target.tls.client_key = tls.at("client_key").get<std::string>();
  s.target.tls.verify = tls.at("verify").get<bool>();
  if (const json& dh = t.at("deadline_header"); !dh.is_null()) {
    s.target.deadline =
        deadline_header{dh.at("name").get<std::string>(),
                        dh.at("format").get<std::string>() == "grpc" ? deadline_header::format::grpc
                                                                     : deadline_header::format::ms};
  }
  for (const json& rule : t.at("answer_classes")) {
    answer_class out;
    out.status = rule.at("status").get<unsigned>();
    if (rule.contains("error")) out.error = rule.at("error").get<std::string>();
    out.error_field = rule.at("error_field").get<std::string>();
    out.outcome = rule.at("outcome").get<std::string>();
    s.target.answer_classes.push_back(std::move(out));
  }

  const json& p = d.at("population");
  s.population.residents = p.at("residents").get<std::uint64_t>();
  s.population.seed = p.at("seed").get<std::uint64_t>();
  s.population.confusable_share = p.at("confusable_share").get<double>();
  s.population.file = p.at("file").get<std::string>();

  const json& l = d.at("load");
  s.load.workers = l.at("workers").get<unsigned>();
  s.load.connections = l.at("connections").get<unsigned>();
  s.load.timeout_ms = l.at("timeout_ms").get<std::uint32_t>();
  s.load.max_backlog = l.at("max_backlog").get<std::uint64_t>();
  s.load.max_body_bytes = l.at("max_body_bytes").get<std::uint64_t>();

  for (const json& ph : d.at("phases")) {
    phase out;
    out.name = ph.at("name").get<std::string>();
    out.duration_s = ph.at("duration_s").get<double>();
    out.model = enum_from(ph.at("model").get<std::string>(), all_models);
    out.rate = ph.at("rate").get<double>();
    out.ramp_to = optional_number(ph.at("ramp_to"));
    out.users = ph.at("users").get<unsigned>();
    out.think_time_ms = ph.at("think_time_ms").get<double>();
    out.warmup = ph.at("warmup").get<bool>();
    for (const json& sp : ph.at("spikes")) {
      out.spikes.push_back({sp.at("at_s").get<double>(), sp.at("duration_s").get<double>(),
                            sp.at("rate").get<double>()});
    }
    if (const json& n = ph.at("requests"); !n.is_null()) out.requests = n.get<std::uint64_t>();
    s.phases.push_back(std::move(out));
  }

  const json& m = d.at("mix");
  s.mix.certificate_types = weights_from(m.at("certificate_types"), all_types);
  s.mix.channels = weights_from(m.at("channels"), all_channels);
  s.mix.household_scope_share = m.at("household_scope_share").get<double>();
  s.mix.honseki_share = m.at("honseki_share").get<double>();
  s.mix.zokugara_share = m.at("zokugara_share").get<double>();
  s.mix.mynumber_share = m.at("mynumber_share").get<double>();

  const json& c = d.at("concentration");
  s.concentration.hot_residents = c.at("hot_residents").get<std::uint64_t>();
  s.concentration.hot_share = c.at("hot_share").get<double>();
  s.concentration.group_share = c.at("group_share").get<double>();
  s.concentration.group_size = c.at("group_size").get<unsigned>();
  const json& sync = c.at("last_byte_sync");
  s.concentration.last_byte_sync_household = sync.at("household").get<bool>();
  s.concentration.last_byte_sync_koseki = sync.at("koseki").get<bool>();

  const json& u = d.at("updates");
  s.updates.rate = u.at("rate").get<double>();
  s.updates.concurrency = u.at("concurrency").get<unsigned>();
  s.updates.kinds = weights_from(u.at("kinds"), all_kinds);
  s.updates.seal_cancel_share = u.at("seal_cancel_share").get<double>();
  s.updates.hot_share = u.at("hot_share").get<double>();

  for (const json& e : d.at("events")) {
    event out;
    out.at_s = e.at("at_s").get<double>();
    out.kind = enum_from(e.at("kind").get<std::string>(), all_event_kinds);
    out.every_s = optional_number(e.at("every_s"));
    out.duration_ms = e.at("duration_ms").get<std::uint32_t>();
    out.size = e.at("size").get<std::uint32_t>();
    out.command = e.at("command").get<std::vector<std::string>>();
    out.timeout_s = e.at("timeout_s").get<double>();
    s.events.push_back(std::move(out));
  }

  const json& v = d.at("verification");
  s.verification.staleness_ms = v.at("staleness_ms").get<std::uint64_t>();
  s.verification.require_application_number_echo =
      v.at("require_application_number_echo").get<bool>();
  s.verification.check_digest = v.at("check_digest").get<bool>();

  s.limits = read_thresholds(d.at("thresholds"));

  const json& h = d.at("history");
  s.history.compress = h.at("compress").get<bool>();
  s.history.flush_ms = h.at("flush_ms").get<std::uint32_t>();
  s.history.keep_body = h.at("keep_body").get<bool>();
  return s;
}

bool any_positive(const json& weights) {
  return std::any_of(weights.begin(), weights.end(),
                     [](const json& w) { return w.get<double>() > 0; });
}

// Rules a JSON Schema cannot state (or states only with unreadable messages).
std::vector<std::string> semantic_problems(const json& d) {
  std::vector<std::string> problems;
  double total = 0;
  const json& phases = d.at("phases");
  for (std::size_t i = 0; i < phases.size(); ++i) {
    const json& ph = phases[i];
    const double duration = ph.at("duration_s").get<double>();
    total += duration;
    const bool closed = ph.at("model").get<std::string>() == "closed";
    const auto path = fmt::format("/phases/{}", i);
    if (closed && !ph.at("ramp_to").is_null()) {
      problems.push_back(path + "/ramp_to: a ramp needs the open model (model: open)");
    }
    if (closed && !ph.at("spikes").empty()) {
      problems.push_back(path + "/spikes: spikes need the open model (model: open)");
    }
    const json& spikes = ph.at("spikes");
    for (std::size_t k = 0; k < spikes.size(); ++k) {
      if (spikes[k].at("at_s").get<double>() >= duration) {
        problems.push_back(fmt::format("{}/spikes/{}/at_s: starts after the phase ends ({} s)",
                                       path, k, duration));
      }
    }
  }
  const json& m = d.at("mix");
  if (!any_positive(m.at("certificate_types"))) {
    problems.push_back("/mix/certificate_types: no certificate type has a positive weight");
  }
  if (!any_positive(m.at("channels"))) {
    problems.push_back("/mix/channels: no channel has a positive weight");
  }
  if (!any_positive(d.at("updates").at("kinds"))) {
    problems.push_back("/updates/kinds: no update kind has a positive weight");
  }
  const json& events = d.at("events");
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].at("at_s").get<double>() >= total) {
      problems.push_back(fmt::format(
          "/events/{}/at_s: the run ends before it (phases last {} s in all)", i, total));
    }
  }
  const json& t = d.at("target");
  if (t.at("kind").get<std::string>() == "urls" && !t.at("defects").empty()) {
    problems.push_back("/target/defects: defects apply only to the embedded reference server");
  }
  const json& classes = t.at("answer_classes");
  for (std::size_t i = 0; i < classes.size(); ++i) {
    const auto field = classes[i].at("error_field").get<std::string>();
    try {
      (void)json::json_pointer(field);
    } catch (const json::exception&) {
      problems.push_back(fmt::format(
          "/target/answer_classes/{}/error_field: '{}' is not a JSON pointer ('~' must be "
          "followed by 0 or 1)",
          i, field));
    }
  }
  const json& tls = t.at("tls");
  if (tls.at("client_cert").get<std::string>().empty() !=
      tls.at("client_key").get<std::string>().empty()) {
    problems.push_back("/target/tls: client_cert and client_key go together (mutual TLS)");
  }
  return problems;
}

}  // namespace

const nlohmann::json& schema() { return compiled().document; }

void fill_defaults(nlohmann::json& document) {
  const json& root = schema();
  fill_with(root, root, document);
}

namespace {

// The scenario the schema's defaults alone make.
const json& default_document() {
  static const json filled = [] {
    json d = json::object();
    fill_defaults(d);
    return d;
  }();
  return filled;
}

}  // namespace

const thresholds& default_thresholds() {
  static const thresholds defaults = read_thresholds(default_document().at("thresholds"));
  return defaults;
}

std::uint64_t default_findings_per_kind() {
  return default_document().at("report").at("findings_per_kind").get<std::uint64_t>();
}

result<scenario> parse_json(const nlohmann::json& document, std::string_view source) {
  const compiled_schema& cs = compiled();
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter adapter(document);
  std::vector<std::pair<std::string, std::string>> out_of_range;
  range_problems(cs.document, cs.document, document, "", out_of_range);
  if (!validator.validate(cs.schema, adapter, &results) || !out_of_range.empty()) {
    std::string message;
    for (const auto& [pointer, what] : out_of_range) {
      if (!message.empty()) message += '\n';
      message += fmt::format("{}: {}: {}", source, pointer, what);
    }
    auto problems = leaf_problems(results);
    for (auto& p : problems) {
      const std::string what = describe(p);
      const std::string pointer = to_pointer(p.context);
      // valijson's words for the same bound ("must be ≥ 1") add nothing to ours.
      const bool said = std::any_of(out_of_range.begin(), out_of_range.end(),
                                    [&](const auto& r) { return r.first == pointer; });
      if (said) continue;
      if (!message.empty()) message += '\n';
      message += fmt::format("{}: {}: {}", source, pointer, what);
    }
    return make_error(errc::schema, message);
  }
  json filled = document;
  fill_defaults(filled);
  const auto problems = semantic_problems(filled);
  if (!problems.empty()) {
    std::string message;
    for (const auto& p : problems) {
      if (!message.empty()) message += '\n';
      message += fmt::format("{}: {}", source, p);
    }
    return make_error(errc::schema, message);
  }
  scenario s = to_model(filled);
  s.document = std::move(filled);
  return s;
}

result<scenario> parse_text(std::string_view text, std::string_view source) {
  // Schema validation and defaults walk the document recursively: refuse absurd nesting first.
  if (!json_depth_within(text, max_answer_depth)) {
    return make_error(errc::parse, fmt::format("{}: invalid JSON: nested deeper than {} levels",
                                               source, max_answer_depth));
  }
  json document;
  try {
    document = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {  // parse_error, and out_of_range for "1E999"
    return make_error(errc::parse, fmt::format("{}: invalid JSON: {}", source, e.what()));
  }
  auto s = parse_json(document, source);
  if (s) s->source_sha256 = sha256_hex(text);
  return s;
}

result<scenario> load_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(errc::io, fmt::format("{}: cannot open the scenario", path.string()));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return make_error(errc::io, fmt::format("{}: read error", path.string()));
  auto s = parse_text(text, path.string());
  if (s) s->source_path = path;
  return s;
}

}  // namespace kofu::scenario
