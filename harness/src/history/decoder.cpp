#include "kofu/history/decoder.hpp"

#include <fmt/format.h>

#include <limits>
#include <optional>

#include "kofu/common/json_depth.hpp"
#include "verify/strict_json.hpp"

namespace kofu::history {
namespace {

// The certificate model and its strict reader (kofu_harness_answer).
using verify::decode_answer;
using verify::decoded_answer;
using verify::malformed_answer;
namespace detail = verify::detail;

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

std::uint64_t opt_u64(const json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_unsigned()) return 0;
  return it->get<std::uint64_t>();
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

history_event parse(const json& e, const parse_options& options) {
  if (!e.is_object()) throw bad_field{"expected a JSON object"};
  const std::string type = need_string(e, "type");
  if (type == "header") return history_header{e};
  if (type == "event" || type == "footer") {
    marker_event m;
    m.t = need_time(e, "t");
    m.name = type == "footer" ? "footer" : need_string(e, "name");
    m.phase = opt_string(e, type == "footer" ? "reason" : "phase");
    if (const auto it = e.find("detail"); it != e.end()) m.detail = *it;
    if (type == "footer") {
      if (const auto it = e.find("stats"); it != e.end() && it->is_object()) m.detail = *it;
      m.ended_at = opt_string(e, "ended_at");
    }
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
    inv.conn = opt_u64(e, "conn");
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
    if (const auto o = issue_outcome_of(outcome))
      c.outcome = *o;
    else
      throw bad_field{fmt::format("field 'outcome': unknown value '{}'", outcome)};
    if (c.outcome == issue_outcome::ok) {
      if (const auto it = e.find("body"); it != e.end() && options.decoder != nullptr) {
        c.answer =
            std::make_shared<const decoded_answer>(options.decoder->decode(*it, options.keep_body));
      } else if (it != e.end()) {
        auto answer = decode_answer(*it, options.keep_body);
        if (!options.compute_digest) answer.digest_valid = true;
        c.answer = std::make_shared<const decoded_answer>(std::move(answer));
      } else if (const auto w = e.find("body_withheld"); w != e.end() && w->is_object()) {
        // The driver did not keep an oversized or too deeply nested answer (docs/history.md).
        decoded_answer withheld;
        withheld.malformed = w->value("reason", std::string("the answer was not kept"));
        withheld.body = *w;
        c.answer = std::make_shared<const decoded_answer>(std::move(withheld));
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
    if (const auto o = update_outcome_of(outcome))
      c.outcome = *o;
    else
      throw bad_field{fmt::format("field 'outcome': unknown value '{}'", outcome)};
    const auto number = [](const json& v) -> std::optional<std::uint32_t> {
      if (!v.is_number_unsigned() || v.get<std::uint64_t>() > 0xFFFFFFFFu) return std::nullopt;
      return v.get<std::uint32_t>();
    };
    if (const auto it = e.find("versions"); it != e.end() && it->is_array()) {
      for (const auto& v : *it) c.versions.push_back(number(v));
    } else if (const auto one = e.find("version"); one != e.end()) {
      c.versions.push_back(number(*one));
    }
    return c;
  }
  throw bad_field{fmt::format("unknown event type '{}' op '{}'", type, op)};
}

using detail::for_each_member;
using detail::is_key;
using detail::strict_json_cursor;

// The lines the driver writes for issue requests (most of a history) read in the strict subset of
// strict_json.hpp, without a DOM. Returns false for any line outside that subset or whose meaning
// is not plain (a duplicate member, a value of an unexpected type, an unknown outcome): the caller
// then reads it with nlohmann through parse(), which stays the reference for values and errors.
// Unknown members are skipped as parse() ignores them. The cursor checks UTF-8 in strings, and
// only strings may hold non-ASCII bytes, so a line read to its end is well-formed UTF-8.
bool parse_strict(std::string_view line, const parse_options& options, history_event& out) {
  strict_json_cursor c(line);
  std::string_view type, op, outcome, application_number, resident_id, card_serial,
      certificate_type, channel, scope;
  std::int64_t id = -1, t = 0, status = 0, worker = 0, conn = 0;
  bool have_t = false, have_status = false, have_options = false;
  bool honseki = false, zokugara = false, mynumber = false;
  std::uint32_t seen = 0;  // one bit per member read, to refuse duplicates
  constexpr std::uint32_t type_bit = 1u << 0, op_bit = 1u << 1, outcome_bit = 1u << 12;
  const char* body_start = nullptr;
  const char* body_end = nullptr;
  std::shared_ptr<decoded_answer> answer;
  detail::answer_text answer_text;
  auto once = [&](std::uint32_t bit) {
    if ((seen & bit) != 0) return false;
    seen |= bit;
    return true;
  };
  auto small_uint = [&](std::int64_t& v) {
    return c.integer(v) && v >= 0 && v <= std::numeric_limits<std::uint32_t>::max();
  };
  const bool ok = for_each_member(c, false, [&](std::string_view key) {
    if (is_key(key, "type")) return once(type_bit) && c.string(type);
    if (is_key(key, "op")) return once(op_bit) && c.string(op);
    if (is_key(key, "id")) return once(1u << 2) && c.integer(id) && id >= 0;
    if (is_key(key, "t")) return once(1u << 3) && (have_t = c.integer(t));
    if (is_key(key, "application_number")) return once(1u << 4) && c.string(application_number);
    if (is_key(key, "resident_id")) return once(1u << 5) && c.string(resident_id);
    if (is_key(key, "card_serial")) return once(1u << 6) && c.string(card_serial);
    if (is_key(key, "certificate_type")) return once(1u << 7) && c.string(certificate_type);
    if (is_key(key, "channel")) return once(1u << 8) && c.string(channel);
    if (is_key(key, "worker")) return once(1u << 9) && small_uint(worker);
    // 64 bits: the driver numbers connections (worker << 40) | (slot << 24) | serial.
    if (is_key(key, "conn")) return once(1u << 10) && c.integer(conn) && conn >= 0;
    if (is_key(key, "status")) {
      return once(1u << 11) && (have_status = c.integer(status)) && status >= 0 &&
             status <= std::numeric_limits<int>::max();
    }
    if (is_key(key, "outcome")) return once(outcome_bit) && c.string(outcome);
    if (is_key(key, "options")) {
      if (!once(1u << 13)) return false;
      have_options = true;
      std::uint32_t seen_option = 0;
      return for_each_member(c, false, [&](std::string_view k) {
        auto flag = [&](std::uint32_t bit, bool& target) {
          if ((seen_option & bit) != 0) return false;
          seen_option |= bit;
          return c.boolean(target);
        };
        if (is_key(k, "scope")) {
          if ((seen_option & 1u) != 0) return false;
          seen_option |= 1u;
          return c.string(scope) && !scope.empty();
        }
        if (is_key(k, "honseki")) return flag(1u << 1, honseki);
        if (is_key(k, "zokugara")) return flag(1u << 2, zokugara);
        if (is_key(k, "mynumber")) return flag(1u << 3, mynumber);
        return c.skip_value(false);
      });
    }
    if (is_key(key, "body")) {
      if (!once(1u << 14)) return false;
      body_start = c.position();
      // The answer of an ok issue is decoded in this pass. The driver writes type, op and outcome
      // first; a writer that sorts keys puts the body first: then the body is read as an answer
      // unless what is known already rules that out, and one that is not an answer in the strict
      // subset is skipped instead (the line then goes to the reference path if it is an ok issue).
      const bool may_be_answer = options.decoder == nullptr &&
                                 ((seen & type_bit) == 0 || is_key(type, "complete")) &&
                                 ((seen & op_bit) == 0 || is_key(op, "issue")) &&
                                 ((seen & outcome_bit) == 0 || is_key(outcome, "ok"));
      if (may_be_answer) {
        auto decoded = std::make_shared<decoded_answer>();
        if (detail::decode_answer_strict(c, *decoded, answer_text)) {
          answer = std::move(decoded);
          body_end = c.position();
          return true;
        }
        c.rewind(body_start);
      }
      if (!c.skip_value(false)) return false;
      body_end = c.position();
      return true;
    }
    if (is_key(key, "body_text") || is_key(key, "body_withheld")) {
      return false;  // rare: read by the reference path
    }
    return c.skip_value(false);
  });
  if (!ok || !c.at_end() || (seen & (type_bit | op_bit)) != (type_bit | op_bit) || id < 0 ||
      !have_t) {
    return false;
  }
  if (is_key(type, "invoke") && is_key(op, "issue")) {
    if ((seen & (1u << 4)) == 0 || (seen & (1u << 5)) == 0 || (seen & (1u << 7)) == 0) {
      return false;
    }
    issue_invoke& inv = out.emplace<issue_invoke>();
    inv.id = static_cast<std::uint64_t>(id);
    inv.t = t;
    inv.application_number.assign(application_number);
    inv.resident_id.assign(resident_id);
    inv.card_serial.assign(card_serial);
    inv.certificate_type.assign(certificate_type);
    inv.channel.assign(channel);
    inv.worker = static_cast<std::uint32_t>(worker);
    inv.conn = static_cast<std::uint64_t>(conn);
    if (have_options) {
      if (!scope.empty()) inv.options.scope.assign(scope);
      inv.options.honseki = honseki;
      inv.options.zokugara = zokugara;
      inv.options.mynumber = mynumber;
    }
    return true;
  }
  if (is_key(type, "complete") && is_key(op, "issue")) {
    const auto known = issue_outcome_of(outcome);
    if (!known) return false;
    const issue_outcome result = *known;
    if (result == issue_outcome::ok) {
      // A vendor's answer is decoded by its adapter, on the reference path.
      if (options.decoder != nullptr) return false;
      if (body_start == nullptr) return false;  // no body: the reference path says so
      // A body read in the pass above whenever this is an ok issue; not an answer there means
      // outside the strict subset (or MALFORMED): the reference path decides.
      if (!answer) return false;
      if (options.compute_digest) detail::check_digest_strict(answer_text, *answer);
      if (options.keep_body) {
        answer->body_json.assign(body_start, static_cast<std::size_t>(body_end - body_start));
      }
    }
    issue_complete& done = out.emplace<issue_complete>();
    done.id = static_cast<std::uint64_t>(id);
    done.t = t;
    if (have_status) done.status = static_cast<int>(status);
    done.outcome = result;
    if (result == issue_outcome::ok) done.answer = std::move(answer);
    return true;
  }
  // Update and batch completes (a few in a hundred lines) are left to the DOM reader, which
  // also reads the numbers the server gave their changes.
  return false;
}

}  // namespace

result<history_event> parse_history_event(const nlohmann::json& event, std::string_view where) {
  return parse_history_event(event, where, parse_options{});
}

result<history_event> parse_history_event(const nlohmann::json& event, std::string_view where,
                                          const parse_options& options) {
  try {
    return parse(event, options);
  } catch (const bad_field& e) {
    return make_error(errc::invalid_field, fmt::format("{}: {}", where, e.message));
  } catch (const json::exception& e) {
    return make_error(errc::invalid_field, fmt::format("{}: {}", where, e.what()));
  }
}

result<history_event> parse_history_line(std::string_view line, std::string_view where) {
  return parse_history_line(line, where, parse_options{});
}

result<history_event> parse_history_line(std::string_view line, std::string_view where,
                                         const parse_options& options) {
  {
    history_event fast;
    if (parse_strict(line, options, fast)) return fast;
  }
  // nlohmann parses without recursion, but copying and printing a document recurse per level.
  if (!json_depth_within(line, max_history_line_depth)) {
    return make_error(errc::parse, fmt::format("{}: nested deeper than {} levels", where,
                                               max_history_line_depth));
  }
  json e = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (e.is_discarded()) {
    return make_error(errc::parse, fmt::format("{}: not a JSON object (truncated line?)", where));
  }
  return parse_history_event(e, where, options);
}

}  // namespace kofu::history
