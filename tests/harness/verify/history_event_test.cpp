// The strict history reader (history/decoder.cpp, certificate.cpp, strict_json.hpp) against the
// reference: nlohmann's DOM through parse_history_event. For every line, correct or mangled, both
// must give the same event (every decoded field, digest verdict and evidence) or the same error.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cctype>
#include <random>

#include "kofu/verify/checker.hpp"
#include "verify_fixture.hpp"

namespace kofu::verify {
namespace {

using population::resident;
using test::json;

// The reference reading of a line: DOM, then the same event builder.
result<history_event> reference(const std::string& line, std::string_view where) {
  json e = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (e.is_discarded()) {
    return make_error(errc::parse, fmt::format("{}: not a JSON object (truncated line?)", where));
  }
  return parse_history_event(e, where);
}

void expect_same_person(const printed_person& a, const printed_person& b) {
  EXPECT_EQ(a.resident_id, b.resident_id);
  EXPECT_EQ(a.source_version, b.source_version);
  EXPECT_EQ(a.page, b.page);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.birth_date, b.birth_date);
  EXPECT_EQ(a.sex, b.sex);
  EXPECT_EQ(a.address, b.address);
  EXPECT_EQ(a.moved_in_date, b.moved_in_date);
  EXPECT_EQ(a.household_head, b.household_head);
  EXPECT_EQ(a.relationship, b.relationship);
  EXPECT_EQ(a.honseki, b.honseki);
  EXPECT_EQ(a.hittousha, b.hittousha);
  EXPECT_EQ(a.mynumber, b.mynumber);
  EXPECT_EQ(a.koseki_relationship, b.koseki_relationship);
  EXPECT_EQ(a.unknown_keys, b.unknown_keys);
}

void expect_same_answer(const decoded_answer& a, const decoded_answer& b) {
  EXPECT_EQ(a.malformed, b.malformed);
  EXPECT_EQ(a.digest_valid, b.digest_valid);
  EXPECT_EQ(a.digest_printed, b.digest_printed);
  if (a.malformed) return;
  EXPECT_EQ(a.digest_computed, b.digest_computed);
  EXPECT_EQ(a.evidence(), b.evidence());
  const printed_certificate& x = a.certificate;
  const printed_certificate& y = b.certificate;
  EXPECT_EQ(x.application_number, y.application_number);
  EXPECT_EQ(x.type, y.type);
  EXPECT_EQ(x.serial, y.serial);
  EXPECT_EQ(x.subject_resident_id, y.subject_resident_id);
  EXPECT_EQ(x.subject_card_serial, y.subject_card_serial);
  EXPECT_EQ(x.source_version, y.source_version);
  ASSERT_EQ(x.persons.size(), y.persons.size());
  for (std::size_t i = 0; i < x.persons.size(); ++i) expect_same_person(x.persons[i], y.persons[i]);
  ASSERT_EQ(x.seal.has_value(), y.seal.has_value());
  if (x.seal) {
    EXPECT_EQ(x.seal->registration_number, y.seal->registration_number);
    EXPECT_EQ(x.seal->image_sha256, y.seal->image_sha256);
    EXPECT_EQ(x.seal->image_sha256_computed, y.seal->image_sha256_computed);
  }
  EXPECT_EQ(x.tax, y.tax);
  ASSERT_EQ(x.koseki.has_value(), y.koseki.has_value());
  if (x.koseki) {
    EXPECT_EQ(x.koseki->koseki_id, y.koseki->koseki_id);
    EXPECT_EQ(x.koseki->honseki, y.koseki->honseki);
    EXPECT_EQ(x.koseki->hittousha, y.koseki->hittousha);
  }
}

// Both readers agree on `line`. Returns whether the line parsed.
bool expect_agree(const std::string& line) {
  SCOPED_TRACE(line);
  const auto fast = parse_history_line(line, "h.jsonl:9");
  const auto ref = reference(line, "h.jsonl:9");
  EXPECT_EQ(fast.has_value(), ref.has_value());
  if (!fast || !ref) {
    if (!fast && !ref) {
      EXPECT_EQ(fast.error().code, ref.error().code);
      EXPECT_EQ(fast.error().message, ref.error().message);
      EXPECT_EQ(fast.error().message.rfind("h.jsonl:9: ", 0), 0u) << fast.error().message;
    }
    return false;
  }
  EXPECT_EQ(fast->index(), ref->index());
  if (fast->index() != ref->index()) return true;
  if (const auto* a = std::get_if<issue_invoke>(&*fast)) {
    const auto& b = std::get<issue_invoke>(*ref);
    EXPECT_EQ(a->id, b.id);
    EXPECT_EQ(a->t, b.t);
    EXPECT_EQ(a->application_number, b.application_number);
    EXPECT_EQ(a->resident_id, b.resident_id);
    EXPECT_EQ(a->card_serial, b.card_serial);
    EXPECT_EQ(a->certificate_type, b.certificate_type);
    EXPECT_EQ(a->channel, b.channel);
    EXPECT_EQ(a->options.scope, b.options.scope);
    EXPECT_EQ(a->options.honseki, b.options.honseki);
    EXPECT_EQ(a->options.zokugara, b.options.zokugara);
    EXPECT_EQ(a->options.mynumber, b.options.mynumber);
    EXPECT_EQ(a->worker, b.worker);
    EXPECT_EQ(a->conn, b.conn);
  } else if (const auto* c = std::get_if<issue_complete>(&*fast)) {
    const auto& d = std::get<issue_complete>(*ref);
    EXPECT_EQ(c->id, d.id);
    EXPECT_EQ(c->t, d.t);
    EXPECT_EQ(c->status, d.status);
    EXPECT_EQ(c->outcome, d.outcome);
    EXPECT_EQ(c->answer == nullptr, d.answer == nullptr);
    if (c->answer && d.answer) expect_same_answer(*c->answer, *d.answer);
  } else if (const auto* u = std::get_if<update_complete>(&*fast)) {
    const auto& v = std::get<update_complete>(*ref);
    EXPECT_EQ(u->id, v.id);
    EXPECT_EQ(u->t, v.t);
    EXPECT_EQ(u->outcome, v.outcome);
    EXPECT_EQ(u->versions, v.versions);
  }
  return true;
}

// The connection number the driver writes: (worker << 40) | (slot << 24) | reconnect serial,
// above 32 bits from worker 1 on.
std::uint64_t driver_conn(std::uint64_t id) { return ((id % 3) << 40) | ((id % 300) << 24) | 7; }

// Correct answers of every certificate type, as history lines (what the driver writes).
std::vector<std::string> sample_lines() {
  const auto pop = test::small_population(40, 11);
  std::vector<std::string> lines;
  std::uint64_t id = 0;
  const std::vector<std::pair<std::string, issue_options>> kinds = {
      {"juminhyo", {}},       {"juminhyo", {"household", true, true, true}},
      {"juminhyo_kisai", {}}, {"inkan", {}},
      {"koseki_zenbu", {}},   {"koseki_kojin", {}},
      {"koseki_fuhyo", {}},   {"kazei", {}}};
  for (std::size_t i = 0; i < 16; ++i) {
    const resident& r = pop[i * 2];
    for (const auto& [type, o] : kinds) {
      ++id;
      const std::string app = fmt::format("KOFU-000001-{:010}", id);
      const json options = {{"scope", o.scope},
                            {"honseki", o.honseki},
                            {"zokugara", o.zokugara},
                            {"mynumber", o.mynumber}};
      lines.push_back(fmt::format(
          R"({{"type":"invoke","op":"issue","id":{},"t":{},"intended":{},"worker":{},"conn":{},"application_number":"{}","resident_id":"{}","card_serial":"{}","certificate_type":"{}","channel":"konbini","options":{}}})",
          id, 1000 * id, 1000 * id - 5, id % 3, driver_conn(id), app, r.resident_id, r.card_serial,
          type, options.dump()));
      const json body = test::render(app, type, o, r, {r}, "世帯 主", fmt::format("C-{}", id));
      lines.push_back(fmt::format(
          R"({{"type":"complete","op":"issue","id":{},"t":{},"status":200,"outcome":"ok","body":{}}})",
          id, 1000 * id + 700, body.dump()));
    }
  }
  lines.push_back(
      R"({"type":"complete","op":"issue","id":3,"t":9,"status":409,"outcome":"retry","body":{"error":"data_changed_retry"}})");
  lines.push_back(
      R"({"type":"complete","op":"update","id":4,"t":9,"status":200,"outcome":"ok","version":2})");
  lines.push_back(
      R"({"type":"complete","op":"batch","id":5,"t":9,"status":200,"outcome":"failed","versions":[2,3]})");
  return lines;
}

// The numbers the server gave the changes (a global change counter is placed by them): an
// update's `version`, a batch's `versions` with null where the answer gave none.
TEST(HistoryEventTest, UpdateCompletesKeepTheServersNumbers) {
  struct numbers_case {
    const char* line;
    std::vector<std::optional<std::uint32_t>> versions;
  };
  const numbers_case cases[] = {
      {R"({"type":"complete","op":"update","id":4,"t":9,"status":200,"outcome":"ok","version":57})",
       {57u}},
      {R"({"type":"complete","op":"update","id":4,"t":9,"status":200,"outcome":"ok","version":null})",
       {std::nullopt}},
      {R"({"type":"complete","op":"update","id":4,"t":9,"status":409,"outcome":"failed"})", {}},
      {R"({"type":"complete","op":"batch","id":5,"t":9,"status":200,"outcome":"ok","versions":[61,null,4294967296]})",
       {61u, std::nullopt, std::nullopt}},
  };
  for (const auto& c : cases) {
    const auto ev = parse_history_line(c.line, "h.jsonl:3");
    ASSERT_TRUE(ev) << c.line << ": " << ev.error().message;
    const auto* done = std::get_if<update_complete>(&*ev);
    ASSERT_NE(done, nullptr) << c.line;
    EXPECT_EQ(done->versions, c.versions) << c.line;
  }
}

TEST(HistoryEventTest, StrictReaderAgreesWithDomOnDriverLines) {
  for (const auto& line : sample_lines()) EXPECT_TRUE(expect_agree(line));
}

// The connection number is kept whole: two requests of one worker on different slots must not
// look like one connection in the leak graph (a 32-bit copy kept only 8 bits of the slot).
TEST(HistoryEventTest, KeepsTheDriversSixtyFourBitConnectionNumber) {
  std::uint64_t invokes = 0;
  for (const auto& line : sample_lines()) {
    const auto ev = parse_history_line(line, "t");
    ASSERT_TRUE(ev) << ev.error().message;
    if (const auto* inv = std::get_if<issue_invoke>(&*ev)) {
      EXPECT_EQ(inv->conn, driver_conn(inv->id));
      ++invokes;
    }
  }
  EXPECT_GT(invokes, 100u);
}

TEST(HistoryEventTest, StrictReaderAgreesWithDomOnMangledLines) {
  // Every kind of damage a server or a killed run can cause: truncation, a changed byte,
  // whitespace, escapes, reordered keys, duplicates, numbers of other forms, bad UTF-8.
  const auto lines = sample_lines();
  std::mt19937_64 rng(5);
  const std::string alphabet =
      std::string("\"\\{}[],: \t0159-+.eEaxtfn\x01\x7f") + "\xc3\xa9\xff\xe3";
  std::uint64_t parsed = 0;
  std::uint64_t refused = 0;
  for (const auto& line : lines) {
    for (std::size_t cut = 0; cut < line.size(); cut += 1 + line.size() / 23) {
      (expect_agree(line.substr(0, cut)) ? parsed : refused)++;
    }
    for (int k = 0; k < 40; ++k) {
      std::string m = line;
      const std::size_t at = std::uniform_int_distribution<std::size_t>(0, m.size() - 1)(rng);
      const char c =
          alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
      switch (k % 3) {
        case 0:
          m[at] = c;
          break;
        case 1:
          m.insert(at, 1, c);
          break;
        default:
          m.erase(at, 1);
      }
      (expect_agree(m) ? parsed : refused)++;
    }
  }
  // Whole-line variants that stay valid JSON but leave the canonical form.
  for (const auto& line : lines) {
    const json e = json::parse(line);
    (expect_agree(e.dump(1)) ? parsed : refused)++;              // whitespace
    (expect_agree(e.dump(-1, ' ', true)) ? parsed : refused)++;  // \u escapes
    json reordered = json::parse(line);
    if (reordered.contains("body") && reordered["body"].is_object() &&
        reordered["body"].contains("certificate")) {
      // A duplicate key: nlohmann keeps the last one.
      std::string dup = line;
      dup.insert(dup.find("\"t\":") + 1, "t\":1,\"");
      (expect_agree(dup) ? parsed : refused)++;
      // An integer printed as a float, a negative zero, a leading zero.
      for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
               {"\"source_version\":1", "\"source_version\":1.0"},
               {"\"page\":1", "\"page\":-0"},
               {"\"status\":200", "\"status\":0200"},
               {"\"status\":200", "\"status\":2e2"}}) {
        std::string n = line;
        if (const auto pos = n.find(from); pos != std::string::npos) {
          n.replace(pos, from.size(), to);
          (expect_agree(n) ? parsed : refused)++;
        }
      }
      // A tampered digest and a tampered certificate: DIGEST_INVALID in both readers.
      std::string d = line;
      d[d.find("\"digest\":\"") + 10] = d[d.find("\"digest\":\"") + 10] == 'a' ? 'b' : 'a';
      (expect_agree(d) ? parsed : refused)++;
    }
  }
  // The mangling must have produced both outcomes, or the agreement says little.
  EXPECT_GT(parsed, 1000u);
  EXPECT_GT(refused, 1000u);
}

TEST(HistoryEventTest, StrictReaderAgreesWithDomOnSortedKeyLines) {
  // A writer that sorts keys (nlohmann's dump) puts "body" before "type", "op" and "outcome":
  // the strict reader then reads the body as an answer before it knows the line is an issue.
  std::uint64_t answers = 0;
  for (const auto& line : sample_lines()) {
    const json e = json::parse(line);
    EXPECT_TRUE(expect_agree(e.dump()));
    if (!e.contains("body")) continue;
    const auto fast = parse_history_line(e.dump(), "h.jsonl:9");
    ASSERT_TRUE(fast);
    if (const auto* c = std::get_if<issue_complete>(&*fast); c != nullptr && c->answer) {
      EXPECT_FALSE(c->answer->malformed.has_value());
      ++answers;
    }
    // The same body under an outcome or an op that is not an ok issue: no answer is kept.
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"outcome", "retry"}, {"op", "update"}, {"type", "invoke"}}) {
      json other = e;
      other[key] = value;
      expect_agree(other.dump());
    }
    // A body that is JSON but not an answer, before an ok outcome: MALFORMED in both readers.
    json odd = e;
    odd["body"] = json{{"certificate", json::array()}};
    EXPECT_TRUE(expect_agree(odd.dump()));
  }
  EXPECT_GT(answers, 100u);
}

TEST(HistoryEventTest, DigestMismatchKeepsBothDigests) {
  std::uint64_t checked = 0;
  for (const auto& line : sample_lines()) {
    const json e = json::parse(line);
    if (!e.contains("body") || !e["body"].contains("digest")) continue;
    const std::string good = e["body"]["digest"].get<std::string>();
    const auto valid = parse_history_line(line, "h.jsonl:9");
    ASSERT_TRUE(valid);
    const auto& answer = *std::get<issue_complete>(*valid).answer;
    EXPECT_TRUE(answer.digest_valid);
    EXPECT_EQ(answer.digest_printed, good);
    EXPECT_EQ(answer.digest_computed, good);
    std::string flipped = good;
    flipped[17] = flipped[17] == '0' ? '1' : '0';
    std::string upper = good;
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    for (const std::string& printed : {flipped, upper, good.substr(0, 63), good + "0",
                                       good.substr(0, 63) + "g", std::string()}) {
      if (printed == good) continue;  // an all-digit digest has no upper case
      for (const bool sorted : {false, true}) {
        json tampered = e;
        tampered["body"]["digest"] = printed;
        std::string text = line;
        text.replace(text.find(good), good.size(), printed);
        const std::string tampered_line = sorted ? tampered.dump() : text;
        EXPECT_TRUE(expect_agree(tampered_line));
        const auto fast = parse_history_line(tampered_line, "h.jsonl:9");
        ASSERT_TRUE(fast);
        const auto& bad = *std::get<issue_complete>(*fast).answer;
        EXPECT_FALSE(bad.digest_valid) << printed;
        EXPECT_EQ(bad.digest_printed, printed);
        EXPECT_EQ(bad.digest_computed, good);
        ++checked;
      }
    }
    // Without the digest check the answer is read the same and counts as valid.
    const auto unchecked = parse_history_line(line, "h.jsonl:9", parse_options{true, false});
    ASSERT_TRUE(unchecked);
    const auto& plain = *std::get<issue_complete>(*unchecked).answer;
    EXPECT_TRUE(plain.digest_valid);
    EXPECT_EQ(plain.digest_printed, good);
    EXPECT_TRUE(plain.digest_computed.empty());
  }
  EXPECT_GT(checked, 500u);
}

// Non-ASCII, ill-formed UTF-8, escapes and control characters at every offset of strings of
// every length up to 40 (so every position modulo 16 of the string scanner), in an invoke value,
// a key, a value inside the certificate and a value that ends the line: both readers agree.
TEST(HistoryEventTest, StrictReaderAgreesOnUtf8AndEscapesAtEveryOffset) {
  const auto lines = sample_lines();
  const std::string invoke = lines[0];
  const std::string complete = lines[1];
  ASSERT_NE(invoke.find("\"channel\":\"konbini\""), std::string::npos);
  ASSERT_NE(complete.find("\"serial\":\"C-1\""), std::string::npos);
  const std::vector<std::string> inserts = {
      "\xc3\xa9",          // é: two bytes
      "\xe3\x81\x82",      // あ: three bytes
      "\xf0\xa0\xae\xb7",  // 𠮷: four bytes
      "\x80",              // a lone continuation byte
      "\xc3",              // a lead byte cut short
      "\xc0\xaf",          // an overlong '/'
      "\xed\xa0\x80",      // a surrogate
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "\xe3\x81",          // a three-byte sequence cut short
      "\\n",               // an escape: valid JSON outside the strict subset
      "\\\"",              // an escaped quote
      "\x01",              // a raw control character: not JSON
      "\x7f",              // DEL: allowed raw
  };
  std::uint64_t parsed = 0;
  std::uint64_t lines_checked = 0;
  for (std::size_t length = 0; length <= 40; ++length) {
    for (std::size_t at = 0; at <= length; ++at) {
      for (const auto& insert : inserts) {
        std::string text(length, 'x');
        text.insert(at, insert);
        std::string a = invoke;
        a.replace(a.find("konbini"), 7, text);
        std::string b = complete;
        b.replace(b.find("\"serial\":\"C-1\"") + 10, 3, text);
        std::string k = invoke;
        k.replace(k.find("\"intended\""), 10, "\"" + text + "\"");
        // Last in the line: the scanner's shorter steps near the end of the text.
        std::string z = invoke;
        z.insert(z.size() - 1, ",\"zz\":\"" + text + "\"");
        for (const std::string* l : {&a, &b, &k, &z}) {
          if (expect_agree(*l)) ++parsed;
          ++lines_checked;
        }
      }
    }
  }
  EXPECT_GT(parsed, lines_checked / 3);
  EXPECT_LT(parsed, lines_checked);
  // The same damage in the text of a bare answer (decode_answer_text).
  const json body = json::parse(complete)["body"];
  const std::string text = body.dump();
  const std::size_t serial = text.find("\"serial\":\"C-1\"") + 10;
  for (std::size_t at = 0; at < 40; ++at) {
    for (const auto& insert : inserts) {
      std::string t = text;
      t.replace(serial, 3, std::string(at, 'y') + insert + std::string(40 - at, 'z'));
      const json parsed_body = json::parse(t, nullptr, /*allow_exceptions=*/false);
      SCOPED_TRACE(t);
      if (parsed_body.is_discarded()) {
        EXPECT_TRUE(decode_answer_text(t).malformed.has_value());
      } else {
        expect_same_answer(decode_answer_text(t), decode_answer(parsed_body));
      }
    }
  }
}

TEST(HistoryEventTest, BrokenLinesNameFileAndLine) {
  const std::string truncated =
      R"({"type":"complete","op":"issue","id":1,"t":2,"status":200,"outcome":"ok","body":{"certificate":)";
  const auto e = parse_history_line(truncated, "run/history.jsonl:17");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, errc::parse);
  EXPECT_EQ(e.error().message.rfind("run/history.jsonl:17: ", 0), 0u);
  // A line missing a field names the field.
  const auto missing =
      parse_history_line(R"({"type":"invoke","op":"issue","id":1,"t":2})", "h.jsonl:3");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("application_number"), std::string::npos);
  // JSON that is not a certificate is an answer (MALFORMED), not a history error.
  const auto odd = parse_history_line(
      R"({"type":"complete","op":"issue","id":1,"t":2,"status":200,"outcome":"ok","body":{"certificate":[]}})",
      "h.jsonl:4");
  ASSERT_TRUE(odd);
  const auto& done = std::get<issue_complete>(*odd);
  ASSERT_TRUE(done.answer);
  EXPECT_TRUE(done.answer->malformed.has_value());
}

TEST(HistoryEventTest, DecodeAnswerTextAgreesWithDecodeAnswer) {
  for (const auto& line : sample_lines()) {
    const json e = json::parse(line);
    if (!e.contains("body") || !e["body"].contains("certificate")) continue;
    const json& body = e["body"];
    expect_same_answer(decode_answer_text(body.dump()), decode_answer(body));
    expect_same_answer(decode_answer_text(body.dump(2)), decode_answer(body));
    json bad = body;
    bad["certificate"]["persons"][0]["name"]["given_kanji"] = "別人";
    expect_same_answer(decode_answer_text(bad.dump()), decode_answer(bad));
    EXPECT_FALSE(decode_answer_text(bad.dump()).digest_valid);
  }
  const auto not_json = decode_answer_text("<html>");
  EXPECT_TRUE(not_json.malformed.has_value());
}

// The same history through lines (strict reader) and through DOM-decoded events gives the same
// findings, answers with defects included.
TEST(HistoryEventTest, LinesAndEventsGiveTheSameFindings) {
  const auto pop = test::small_population(40, 11);
  std::vector<std::string> lines;
  const resident& a = pop[0];
  const resident& b = pop[5];
  auto add = [&](std::uint64_t id, const resident& asked, json body) {
    const std::string app = fmt::format("A-{}", id);  // what the body echoes may differ
    lines.push_back(fmt::format(
        R"({{"type":"invoke","op":"issue","id":{},"t":{},"worker":0,"conn":1,"application_number":"{}","resident_id":"{}","card_serial":"{}","certificate_type":"juminhyo","channel":"konbini","options":{{"scope":"individual"}}}})",
        id, id * 100, app, asked.resident_id, asked.card_serial));
    lines.push_back(fmt::format(
        R"({{"type":"complete","op":"issue","id":{},"t":{},"status":200,"outcome":"ok","body":{}}})",
        id, id * 100 + 50, body.dump()));
  };
  std::string head_a, head_b;
  for (const auto& r : pop) {
    if (r.relationship == "世帯主" && r.household_id == a.household_id)
      head_a = r.name.full_kanji();
    if (r.relationship == "世帯主" && r.household_id == b.household_id)
      head_b = r.name.full_kanji();
  }
  add(1, a, test::render("A-1", "juminhyo", {}, a, {a}, head_a, "S-1"));
  add(2, a, test::render("A-2", "juminhyo", {}, b, {b}, head_b, "S-2"));  // WRONG_PERSON
  json tampered = test::render("A-3", "juminhyo", {}, a, {a}, head_a, "S-3");
  tampered["digest"] = std::string(64, '0');  // DIGEST_INVALID
  add(3, a, tampered);
  add(4, a, test::render("A-4", "juminhyo", {}, a, {a}, head_a, "S-3"));  // DUPLICATE serial
  add(5, a, test::render("A-1", "juminhyo", {}, a, {a}, head_a, "S-5"));  // TAG_MISMATCH, DUPLICATE
  checker by_lines(resident_model(pop), checker_options{});
  checker by_events(resident_model(pop), checker_options{});
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string where = fmt::format("h.jsonl:{}", i + 1);
    ASSERT_TRUE(feed_history_line(by_lines, lines[i], where));
    auto ev = reference(lines[i], where);
    ASSERT_TRUE(ev);
    by_events.on_event(*ev);
  }
  by_lines.finish();
  by_events.finish();
  ASSERT_EQ(by_lines.findings().size(), by_events.findings().size());
  std::set<std::string> kinds;
  for (std::size_t i = 0; i < by_lines.findings().size(); ++i) {
    const finding& x = by_lines.findings()[i];
    const finding& y = by_events.findings()[i];
    EXPECT_EQ(to_json(x), to_json(y));
    kinds.insert(std::string(to_string(x.kind)));
  }
  for (const char* k : {"WRONG_PERSON", "DIGEST_INVALID", "DUPLICATE", "TAG_MISMATCH"}) {
    EXPECT_EQ(kinds.count(k), 1u) << k;
  }
}

}  // namespace
}  // namespace kofu::verify
