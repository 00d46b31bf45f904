// The history's encoder against its decoder: every event type written with every field set to a
// value that is not its default, read back, and compared field by field — through the strict
// reader (parse_history_line) and the DOM reader (parse_history_event). A field the encoder drops
// or the decoder ignores comes back as its default and fails here. Also: the bytes of the lines
// the driver wrote before the encoder existed, so that old and new histories read alike.
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "kofu/history/decoder.hpp"
#include "kofu/history/encoder.hpp"
#include "kofu/verify/certificate.hpp"

namespace kofu::history {
namespace {

using nlohmann::json;

// A new event type needs a round trip below.
static_assert(std::variant_size_v<history_event> == 6);

// Both readers of a line; they must agree and succeed.
template <typename Event>
Event read_back(const std::string& line) {
  SCOPED_TRACE(line);
  auto strict = parse_history_line(line, "test:1");
  EXPECT_TRUE(strict) << (strict ? "" : strict.error().message);
  auto dom = parse_history_event(json::parse(line), "test:1");
  EXPECT_TRUE(dom) << (dom ? "" : dom.error().message);
  if (!strict || !dom) return Event{};
  EXPECT_TRUE(std::holds_alternative<Event>(*strict));
  EXPECT_TRUE(std::holds_alternative<Event>(*dom));
  if (!std::holds_alternative<Event>(*strict) || !std::holds_alternative<Event>(*dom)) {
    return Event{};
  }
  return std::get<Event>(*strict);
}

issue_invoke sample_invoke() {
  issue_invoke e;
  e.id = 41;
  e.t = 1'234'567;
  e.application_number = "A-7-41";
  e.resident_id = "R0000042";
  e.card_serial = "CS-9";
  e.certificate_type = "juminhyo";
  e.channel = "kiosk";
  e.options = {"household", true, true, true};
  e.worker = 3;
  e.conn = (std::uint64_t{3} << 40) | (std::uint64_t{5} << 24) | 7;
  return e;
}

void expect_same(const issue_invoke& a, const issue_invoke& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.t, b.t);
  EXPECT_EQ(a.application_number, b.application_number);
  EXPECT_EQ(a.resident_id, b.resident_id);
  EXPECT_EQ(a.card_serial, b.card_serial);
  EXPECT_EQ(a.certificate_type, b.certificate_type);
  EXPECT_EQ(a.channel, b.channel);
  EXPECT_EQ(a.options.scope, b.options.scope);
  EXPECT_EQ(a.options.honseki, b.options.honseki);
  EXPECT_EQ(a.options.zokugara, b.options.zokugara);
  EXPECT_EQ(a.options.mynumber, b.options.mynumber);
  EXPECT_EQ(a.worker, b.worker);
  EXPECT_EQ(a.conn, b.conn);
}

TEST(HistoryEncoderTest, IssueInvokeRoundTrips) {
  const issue_invoke e = sample_invoke();
  expect_same(e, read_back<issue_invoke>(issue_invoke_line(e, 1'200'000)));
}

TEST(HistoryEncoderTest, IssueInvokeEscapesWhatNeedsIt) {
  issue_invoke e = sample_invoke();
  e.application_number = "A \"quoted\" \\ 申請";
  e.channel = "line\nbreak";
  const std::string line = issue_invoke_line(e, 0);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  expect_same(e, read_back<issue_invoke>(line));
}

TEST(HistoryEncoderTest, IssueInvokeKeepsTheDriversBytes) {
  // The line the driver wrote with one fmt::format before the encoder (commit 45c6844).
  EXPECT_EQ(issue_invoke_line(sample_invoke(), 1'200'000),
            R"({"type":"invoke","op":"issue","id":41,"t":1234567,"intended":1200000,"worker":3,)"
            R"("conn":3298618769415,"application_number":"A-7-41","resident_id":"R0000042",)"
            R"("card_serial":"CS-9","certificate_type":"juminhyo","channel":"kiosk","options":)"
            R"({"scope":"household","honseki":true,"zokugara":true,"mynumber":true}})");
}

issue_complete sample_complete(issue_outcome outcome) {
  issue_complete e;
  e.id = 41;
  e.t = 2'345'678;
  e.status = outcome == issue_outcome::ok ? 200 : 409;
  e.outcome = outcome;
  return e;
}

void expect_same_head(const issue_complete& a, const issue_complete& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.t, b.t);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.outcome, b.outcome);
}

TEST(HistoryEncoderTest, IssueCompleteWithAnAnswerRoundTrips) {
  const std::string body =
      R"({"application_number":"A-7-41","certificate":{"serial":"S-1","type":"juminhyo"},)"
      R"("digest":"0000"})";
  const issue_complete e = sample_complete(issue_outcome::ok);
  issue_record kept;
  kept.body = body;
  const auto got = read_back<issue_complete>(issue_complete_line(e, kept));
  expect_same_head(e, got);
  ASSERT_NE(got.answer, nullptr);
  // The answer comes back as decode_answer reads the body: the same model and evidence.
  const verify::decoded_answer expected = verify::decode_answer(json::parse(body));
  EXPECT_EQ(got.answer->malformed, expected.malformed);
  EXPECT_EQ(got.answer->certificate.serial, expected.certificate.serial);
  EXPECT_EQ(got.answer->certificate.application_number, expected.certificate.application_number);
  EXPECT_EQ(got.answer->digest_printed, expected.digest_printed);
  EXPECT_EQ(got.answer->digest_valid, expected.digest_valid);
  EXPECT_EQ(got.answer->evidence(), json::parse(body));
}

TEST(HistoryEncoderTest, EveryIssueOutcomeRoundTrips) {
  for (const auto outcome : {issue_outcome::ok, issue_outcome::retry, issue_outcome::refused,
                             issue_outcome::error, issue_outcome::timeout}) {
    SCOPED_TRACE(std::string(to_string(outcome)));
    issue_complete e = sample_complete(outcome);
    issue_record kept;
    if (outcome == issue_outcome::timeout) {
      e.status = 0;  // no answer: no status, the client's error instead
      kept.error = "read: timed out";
    }
    kept.body = R"({"error":"data_changed_retry"})";
    const auto got = read_back<issue_complete>(issue_complete_line(e, kept));
    expect_same_head(e, got);
    EXPECT_EQ(issue_outcome_of(to_string(outcome)), outcome);
  }
}

TEST(HistoryEncoderTest, AnAnswerThatIsNotJsonComesBackMalformed) {
  const issue_complete e = sample_complete(issue_outcome::ok);
  issue_record kept;
  kept.body = "<html>busy</html>";
  kept.content_type = "text/html";
  const std::string line = issue_complete_line(e, kept);
  EXPECT_NE(line.find(R"("content_type":"text/html")"), std::string::npos);
  const auto got = read_back<issue_complete>(line);
  expect_same_head(e, got);
  ASSERT_NE(got.answer, nullptr);
  EXPECT_EQ(got.answer->malformed, "the answer is not JSON");
}

TEST(HistoryEncoderTest, AWithheldAnswerComesBackMalformedWithItsReason) {
  const issue_complete e = sample_complete(issue_outcome::ok);
  const json withheld{{"reason", "the answer nests deeper than 64 levels"}, {"size", 9000}};
  issue_record kept;
  kept.body_withheld = &withheld;
  const auto got = read_back<issue_complete>(issue_complete_line(e, kept));
  expect_same_head(e, got);
  ASSERT_NE(got.answer, nullptr);
  EXPECT_EQ(got.answer->malformed, "the answer nests deeper than 64 levels");
}

TEST(HistoryEncoderTest, IssueCompleteKeepsTheDriversBytes) {
  // As the driver wrote a 409 before the encoder: status, outcome, error, body.
  issue_record kept;
  kept.error = "E409";
  kept.body = R"({"error":"data_changed_retry"})";
  EXPECT_EQ(issue_complete_line(sample_complete(issue_outcome::retry), kept),
            R"({"type":"complete","op":"issue","id":41,"t":2345678,"status":409,)"
            R"("outcome":"retry","error":"E409","body":{"error":"data_changed_retry"}})");
}

resident_change sample_change(std::uint64_t change_id) {
  return {"R0000042", change_id, static_cast<std::uint32_t>(change_id + 1), "move",
          json{{"address", {{"city", "豊島区"}}}}};
}

void expect_same(const update_invoke& a, const update_invoke& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.t, b.t);
  EXPECT_EQ(a.batch, b.batch);
  EXPECT_EQ(a.batch_id, b.batch_id);
  ASSERT_EQ(a.changes.size(), b.changes.size());
  for (std::size_t i = 0; i < a.changes.size(); ++i) {
    EXPECT_EQ(a.changes[i].resident_id, b.changes[i].resident_id);
    EXPECT_EQ(a.changes[i].change_id, b.changes[i].change_id);
    EXPECT_EQ(a.changes[i].version, b.changes[i].version);
    EXPECT_EQ(a.changes[i].kind, b.changes[i].kind);
    EXPECT_EQ(a.changes[i].fields, b.changes[i].fields);
  }
}

TEST(HistoryEncoderTest, UpdateInvokeRoundTrips) {
  update_invoke e;
  e.id = 77;
  e.t = 3'000'001;
  e.changes.push_back(sample_change(12));
  expect_same(e, read_back<update_invoke>(update_invoke_line(e)));
}

TEST(HistoryEncoderTest, BatchInvokeRoundTrips) {
  update_invoke e;
  e.id = 78;
  e.t = 3'000'002;
  e.batch = true;
  e.batch_id = "B-78";
  e.changes = {sample_change(13), sample_change(14)};
  expect_same(e, read_back<update_invoke>(update_invoke_line(e)));
}

void expect_same(const update_complete& a, const update_complete& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.t, b.t);
  EXPECT_EQ(a.outcome, b.outcome);
  EXPECT_EQ(a.versions, b.versions);
}

TEST(HistoryEncoderTest, UpdateCompleteRoundTripsForEveryOutcome) {
  for (const auto outcome : {update_outcome::ok, update_outcome::failed, update_outcome::unknown}) {
    SCOPED_TRACE(std::string(to_string(outcome)));
    update_complete e;
    e.id = 77;
    e.t = 3'100'000;
    e.outcome = outcome;
    if (outcome == update_outcome::ok) e.versions = {13};
    expect_same(e, read_back<update_complete>(update_complete_line(e, false, {{"status", 200}})));
    EXPECT_EQ(update_outcome_of(to_string(outcome)), outcome);
  }
}

TEST(HistoryEncoderTest, AnUpdateWithoutItsVersionSaysSo) {
  update_complete e;
  e.id = 77;
  e.t = 3'100'000;
  e.versions = {std::nullopt};  // ok, but the server gave no number
  const std::string line = update_complete_line(e, false);
  EXPECT_NE(line.find(R"("version":null)"), std::string::npos);
  expect_same(e, read_back<update_complete>(line));
}

TEST(HistoryEncoderTest, BatchCompleteRoundTrips) {
  update_complete e;
  e.id = 78;
  e.t = 3'100'001;
  e.versions = {14, std::nullopt, 16};
  expect_same(e, read_back<update_complete>(update_complete_line(e, true)));
  // The server's own list, when the line has it, is what is written and read.
  const auto listed =
      read_back<update_complete>(update_complete_line(e, true, {{"versions", {20, 21, 22}}}));
  EXPECT_EQ(listed.versions, (std::vector<std::optional<std::uint32_t>>{20, 21, 22}));
}

TEST(HistoryEncoderTest, MarkerRoundTrips) {
  const marker_event e{4'000'000, "maintenance", "start", json{{"duration_ms", 1500}}, {}};
  const auto got = read_back<marker_event>(marker_line(e));
  EXPECT_EQ(got.t, e.t);
  EXPECT_EQ(got.name, e.name);
  EXPECT_EQ(got.phase, e.phase);
  EXPECT_EQ(got.detail, e.detail);
  EXPECT_EQ(got.ended_at, "");
}

TEST(HistoryEncoderTest, FooterRoundTrips) {
  const marker_event e{5'000'000, "footer", "interrupted", json{{"sent", 1000}, {"ok", 990}},
                       "2026-12-07T15:00:00Z"};
  const std::string line = footer_line(e, {{"signal", "SIGINT"}});
  EXPECT_NE(line.find(R"("signal":"SIGINT")"), std::string::npos);
  const auto got = read_back<marker_event>(line);
  EXPECT_EQ(got.t, e.t);
  EXPECT_EQ(got.name, "footer");
  EXPECT_EQ(got.phase, e.phase);
  EXPECT_EQ(got.detail, e.detail);
  EXPECT_EQ(got.ended_at, e.ended_at);
}

TEST(HistoryEncoderTest, HeaderRoundTrips) {
  const history_header e{json{{"format", "kofu-history/1"}, {"seed", 7}, {"run_number", 12}}};
  const auto got = read_back<history_header>(header_line(e));
  json expected = e.raw;
  expected["type"] = "header";
  EXPECT_EQ(got.raw, expected);
}

}  // namespace
}  // namespace kofu::history
