#include "kofu/scenario/loader.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using kofu::scenario::parse_text;

constexpr const char* minimal = R"({"name": "t", "phases": [{"duration_s": 1}]})";

// Inserts `member` (a JSON member text like `"seed": -1`) into the minimal scenario.
std::string with(const std::string& member) {
  return std::string(R"({"name": "t", "phases": [{"duration_s": 1}], )") + member + "}";
}

TEST(ScenarioLoaderTest, FillsDefaultsFromTheSchema) {
  auto s = parse_text(minimal, "min.json");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(s->target.embedded);
  EXPECT_EQ(s->target.profile, "reference");
  EXPECT_TRUE(s->target.tls.verify);
  EXPECT_EQ(s->population.residents, 1000u);
  EXPECT_EQ(s->load.connections, 16u);
  EXPECT_EQ(s->load.timeout_ms, 5000u);
  ASSERT_EQ(s->phases.size(), 1u);
  EXPECT_EQ(s->phases[0].model, kofu::scenario::load_model::open);
  EXPECT_DOUBLE_EQ(s->phases[0].rate, 100);
  EXPECT_FALSE(s->phases[0].ramp_to.has_value());
  EXPECT_DOUBLE_EQ(s->mix.certificate_types[0], 6);  // juminhyo
  EXPECT_DOUBLE_EQ(s->mix.channels[0], 8);           // konbini
  EXPECT_DOUBLE_EQ(s->updates.kinds[0], 4);          // move
  EXPECT_EQ(s->history.flush_ms, 200u);
  // The document as loaded carries every default, for the history header.
  EXPECT_EQ(s->document.at("load").at("timeout_ms"), 5000);
  EXPECT_EQ(s->document.at("phases").at(0).at("users"), 16);
  EXPECT_EQ(s->source_sha256.size(), 64u);
}

TEST(ScenarioLoaderTest, ReadsEveryPart) {
  auto s = parse_text(R"({
    "name": "full", "seed": 7,
    "target": {"kind": "urls", "urls": ["https://a.example:8443", "https://b.example:8443"],
               "tls": {"ca_file": "ca.pem", "client_cert": "c.pem", "client_key": "k.pem"}},
    "population": {"residents": 50, "seed": 3},
    "load": {"workers": 2, "connections": 4, "timeout_ms": 100},
    "phases": [{"duration_s": 2, "rate": 10, "ramp_to": 20, "spikes": [{"at_s": 1, "duration_s": 0.5, "rate": 100}]},
               {"duration_s": 3, "model": "closed", "users": 5, "think_time_ms": 10}],
    "mix": {"certificate_types": {"inkan": 1}, "channels": {"window": 2}},
    "updates": {"rate": 3, "kinds": {"tax": 1}},
    "events": [{"at_s": 1, "kind": "maintenance", "duration_ms": 500},
               {"at_s": 2, "kind": "exec", "command": ["echo", "hi"], "every_s": 1}],
    "thresholds": {"max_p99_ms": 250}
  })",
                      "full.json");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_FALSE(s->target.embedded);
  EXPECT_EQ(s->target.urls.size(), 2u);
  EXPECT_EQ(s->target.tls.client_key, "k.pem");
  EXPECT_EQ(s->load.workers, 2u);
  ASSERT_EQ(s->phases.size(), 2u);
  EXPECT_EQ(*s->phases[0].ramp_to, 20);
  ASSERT_EQ(s->phases[0].spikes.size(), 1u);
  EXPECT_EQ(s->phases[1].model, kofu::scenario::load_model::closed);
  EXPECT_EQ(s->phases[1].users, 5u);
  EXPECT_DOUBLE_EQ(s->total_duration_s(), 5);
  EXPECT_DOUBLE_EQ(s->mix.certificate_types[2], 1);  // inkan
  EXPECT_DOUBLE_EQ(s->mix.certificate_types[0], 0);  // juminhyo not named: weight 0
  ASSERT_EQ(s->events.size(), 2u);
  EXPECT_EQ(s->events[1].command, (std::vector<std::string>{"echo", "hi"}));
  EXPECT_EQ(*s->events[1].every_s, 1);
  EXPECT_EQ(*s->limits.max_p99_ms, 250);
}

struct bad_case {
  const char* rule;
  std::string text;
  std::vector<std::string> expected;  // substrings of the message, each must appear
};

class ScenarioSchemaTest : public ::testing::TestWithParam<bad_case> {};

TEST_P(ScenarioSchemaTest, RejectsWithPath) {
  const auto& c = GetParam();
  auto s = parse_text(c.text, "bad.json");
  ASSERT_FALSE(s) << c.rule;
  for (const auto& want : c.expected) {
    EXPECT_NE(s.error().message.find(want), std::string::npos)
        << c.rule << ": expected '" << want << "' in:\n"
        << s.error().message;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rules, ScenarioSchemaTest,
    ::testing::Values(
        bad_case{"unknown top-level key", with(R"("sed": 1)"), {"bad.json: /sed: unknown key"}},
        bad_case{"unknown nested key",
                 with(R"("load": {"conections": 4})"),
                 {"/load/conections: unknown key"}},
        bad_case{"missing name", R"({"phases": [{"duration_s": 1}]})", {"bad.json: /", "name"}},
        bad_case{"missing phases", R"({"name": "x"})", {"phases"}},
        bad_case{"empty phases", R"({"name": "x", "phases": []})", {"/phases"}},
        bad_case{"wrong type", with(R"("seed": "one")"), {"/seed"}},
        bad_case{"negative rate",
                 R"({"name": "x", "phases": [{"duration_s": 1, "rate": -3}]})",
                 {"/phases/0/rate"}},
        bad_case{"zero duration",
                 R"({"name": "x", "phases": [{"duration_s": 0}]})",
                 {"/phases/0/duration_s"}},
        bad_case{"bad model",
                 R"({"name": "x", "phases": [{"duration_s": 1, "model": "half"}]})",
                 {"/phases/0/model"}},
        bad_case{"unknown certificate type",
                 with(R"("mix": {"certificate_types": {"jumin": 1}})"),
                 {"/mix/certificate_types"}},
        bad_case{"unknown defect",
                 with(R"("target": {"defects": ["everything"]})"),
                 {"/target/defects/0"}},
        bad_case{"urls target without urls", with(R"("target": {"kind": "urls"})"), {"/target"}},
        bad_case{"malformed url",
                 with(R"("target": {"kind": "urls", "urls": ["ftp://x"]})"),
                 {"/target/urls/0"}},
        bad_case{"exec without command",
                 with(R"("events": [{"at_s": 0, "kind": "exec"}])"),
                 {"/events/0"}},
        bad_case{"share above one",
                 with(R"("concentration": {"hot_share": 1.5})"),
                 {"/concentration/hot_share"}},
        bad_case{"flush slower than a second",
                 with(R"("history": {"flush_ms": 5000})"),
                 {"/history/flush_ms"}},
        bad_case{"ramp in closed model",
                 R"({"name": "x", "phases": [{"duration_s": 1, "model": "closed", "ramp_to": 5}]})",
                 {"/phases/0/ramp_to: a ramp needs the open model"}},
        bad_case{
            "spike after the phase",
            R"({"name": "x", "phases": [{"duration_s": 1, "spikes": [{"at_s": 2, "duration_s": 1, "rate": 1}]}]})",
            {"/phases/0/spikes/0/at_s"}},
        bad_case{"all weights zero",
                 with(R"("mix": {"channels": {"konbini": 0}})"),
                 {"/mix/channels: no channel"}},
        bad_case{"event after the run",
                 with(R"("events": [{"at_s": 5, "kind": "maintenance"}])"),
                 {"/events/0/at_s: the run ends before it"}},
        bad_case{"client cert without key",
                 with(R"("target": {"tls": {"client_cert": "c.pem"}})"),
                 {"/target/tls: client_cert and client_key go together"}},
        bad_case{"invalid JSON", R"({"name": )", {"bad.json: invalid JSON"}},
        // Issue 15: every number has a maximum, and the message states the allowed range.
        bad_case{
            "maintenance longer than 2^32 ms",
            with(R"("events": [{"at_s": 0, "kind": "maintenance", "duration_ms": 5000000000}])"),
            {"bad.json: /events/0/duration_ms: 5000000000 is out of range: allowed from 1 "
             "to 604800000"}},
        bad_case{"rate beyond any sender",
                 R"({"name": "x", "phases": [{"duration_s": 1, "rate": 1e9}]})",
                 {"/phases/0/rate: 1000000000 is out of range: allowed from 0 to 1000000"}},
        bad_case{
            "think time of days",
            R"({"name": "x", "phases": [{"duration_s": 1, "model": "closed", "think_time_ms": 1e12}]})",
            {"/phases/0/think_time_ms: 1000000000000 is out of range: allowed from 0 to "
             "3600000"}},
        bad_case{"integer beyond 64 bits",
                 with(R"("seed": 123456789012345678901234567890)"),
                 {"/seed: ", "is out of range: allowed from 0 to 9007199254740991"}},
        bad_case{"zero connections",
                 with(R"("load": {"connections": 0})"),
                 {"/load/connections: 0 is out of range: allowed from 1 to 100000"}},
        bad_case{"exclusive minimum",
                 R"({"name": "x", "phases": [{"duration_s": 0}]})",
                 {"/phases/0/duration_s: 0 is out of range: allowed above 0 up to 604800"}},
        bad_case{"weight beyond range",
                 with(R"("mix": {"channels": {"konbini": 1e7}})"),
                 {"/mix/channels/konbini: 10000000 is out of range: allowed from 0 to 1000000"}},
        // Issue 14 items 3 and 4.
        bad_case{"phase sized by zero requests",
                 R"({"name": "x", "phases": [{"duration_s": 1, "requests": 0}]})",
                 {"/phases/0/requests: 0 is out of range"}},
        bad_case{"deadline header without a name",
                 with(R"("target": {"deadline_header": {"format": "grpc"}})"),
                 {"/target/deadline_header"}},
        bad_case{"deadline header name with a space",
                 with(R"("target": {"deadline_header": {"name": "X Timeout"}})"),
                 {"/target/deadline_header/name"}},
        bad_case{"answer class with an unknown outcome",
                 with(R"("target": {"answer_classes": [{"status": 503, "outcome": "fine"}]})"),
                 {"/target/answer_classes/0/outcome"}},
        bad_case{"answer class code at a broken pointer",
                 with(R"("target": {"answer_classes": [{"status": 503, "error": "busy",
                      "error_field": "/a~2", "outcome": "retry"}]})"),
                 {"/target/answer_classes/0/error_field: '/a~2' is not a JSON pointer"}},
        bad_case{"unknown group kind to synchronise",
                 with(R"("concentration": {"last_byte_sync": {"street": true}})"),
                 {"/concentration/last_byte_sync/street: unknown key"}}));

// Sizing, deadlines, safe refusals and group synchronisation (issue 14 items 3, 4): the defaults
// count the protocol's safe refusals as retries and synchronise every group kind.
TEST(ScenarioLoaderTest, ReadsLoadShapeSettingsAndTheirDefaults) {
  auto d = parse_text(minimal, "min.json");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_FALSE(d->target.deadline.has_value());
  EXPECT_FALSE(d->phases[0].requests.has_value());
  EXPECT_TRUE(d->concentration.last_byte_sync_household);
  EXPECT_TRUE(d->concentration.last_byte_sync_koseki);
  ASSERT_EQ(d->target.answer_classes.size(), 3u);
  EXPECT_EQ(d->target.answer_classes[0].status, 409u);
  EXPECT_FALSE(d->target.answer_classes[0].error.has_value());
  EXPECT_EQ(d->target.answer_classes[1].error, "print_timeout");
  EXPECT_EQ(d->target.answer_classes[2].error, "busy");
  EXPECT_EQ(d->target.answer_classes[2].error_field, "/error");
  EXPECT_EQ(d->target.answer_classes[2].outcome, "retry");

  auto s = parse_text(R"({"name": "t", "phases": [{"duration_s": 9, "requests": 500}],
      "target": {"deadline_header": {"name": "grpc-timeout", "format": "grpc"},
                 "answer_classes": [{"status": 200, "error": "E503", "error_field": "/result/code",
                                     "outcome": "retry"}]},
      "concentration": {"last_byte_sync": {"koseki": false}}})",
                      "s.json");
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(s->target.deadline.has_value());
  EXPECT_EQ(s->target.deadline->name, "grpc-timeout");
  EXPECT_EQ(s->target.deadline->unit, kofu::scenario::deadline_header::format::grpc);
  EXPECT_EQ(s->phases[0].requests, 500u);
  EXPECT_TRUE(s->concentration.last_byte_sync_household);
  EXPECT_FALSE(s->concentration.last_byte_sync_koseki);
  ASSERT_EQ(s->target.answer_classes.size(), 1u);  // listing rules replaces the default
  EXPECT_EQ(s->target.answer_classes[0].error_field, "/result/code");
  EXPECT_EQ(s->target.answer_classes[0].status, 200u);
}

// No number the loader accepts can wrap when it is converted (issue 15: duration_ms above 2^32).
TEST(ScenarioLoaderTest, AcceptedMaximaConvertExactly) {
  auto s = parse_text(
      R"({"name": "x", "seed": 9007199254740991, "phases": [{"duration_s": 604800}],
          "events": [{"at_s": 0, "kind": "maintenance", "duration_ms": 604800000}]})",
      "max.json");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->seed, 9007199254740991u);
  EXPECT_EQ(s->events.at(0).duration_ms, 604800000u);
}

TEST(ScenarioLoaderTest, ReportsEveryProblemAtOnce) {
  auto s = parse_text(R"({"name": "x", "phases": [{"duration_s": -1, "rat": 3}],
                          "load": {"workers": "many"}, "colour": "red"})",
                      "many.json");
  ASSERT_FALSE(s);
  const auto& m = s.error().message;
  EXPECT_NE(m.find("many.json: /phases/0/duration_s"), std::string::npos) << m;
  EXPECT_NE(m.find("many.json: /phases/0/rat: unknown key"), std::string::npos) << m;
  EXPECT_NE(m.find("many.json: /load/workers"), std::string::npos) << m;
  EXPECT_NE(m.find("many.json: /colour: unknown key"), std::string::npos) << m;
}

TEST(ScenarioLoaderTest, LoadFileNamesTheFileAndResolvesPaths) {
  kofu::test::temp_dir dir;
  kofu::test::write_file(
      dir / "s.json",
      R"({"name": "x", "phases": [{"duration_s": 1}], "population": {"file": "p.jsonl"}})");
  auto s = kofu::scenario::load_file(dir / "s.json");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->resolve(s->population.file), dir.path() / "p.jsonl");
  auto missing = kofu::scenario::load_file(dir / "nope.json");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, kofu::errc::io);
  EXPECT_NE(missing.error().message.find("nope.json"), std::string::npos);
}

// Every scenario shipped in scenarios/ and scenarios/catalogue/ loads; each of the catalogue
// carries a Japanese and an English description.
TEST(ScenarioLoaderTest, ShippedScenariosAreValid) {
  const auto root = kofu::test::source_dir() / "scenarios";
  int count = 0;
  int catalogue = 0;
  for (const auto& folder : {root, root / "catalogue"}) {
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
      if (entry.path().extension() != ".json" || entry.path().filename() == "schema.json") continue;
      auto s = kofu::scenario::load_file(entry.path());
      EXPECT_TRUE(s) << (s ? "" : s.error().message);
      ++count;
      if (folder == root / "catalogue") {
        ++catalogue;
        if (!s) continue;
        EXPECT_FALSE(s->description.empty()) << entry.path();
        EXPECT_FALSE(s->description_ja.empty()) << entry.path();
        EXPECT_EQ(s->name, entry.path().stem().string());
      }
    }
  }
  EXPECT_GT(count, 0);
  EXPECT_EQ(catalogue, 12);
}

// A description is one text or {ja, en}; anything else is refused with its path.
TEST(ScenarioLoaderTest, DescriptionIsTextOrJapaneseAndEnglish) {
  auto both = parse_text(with(R"("description": {"ja": "窓口", "en": "window"})"), "d.json");
  ASSERT_TRUE(both) << both.error().message;
  EXPECT_EQ(both->description, "window");
  EXPECT_EQ(both->description_ja, "窓口");
  auto one = parse_text(with(R"("description": "plain")"), "d.json");
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ(one->description, "plain");
  EXPECT_TRUE(one->description_ja.empty());
  for (const char* bad :
       {R"("description": {"ja": "窓口"})", R"("description": {"ja": "a", "en": "b", "fr": "c"})",
        R"("description": 3)"}) {
    auto s = parse_text(with(bad), "d.json");
    ASSERT_FALSE(s) << bad;
    EXPECT_NE(s.error().message.find("/description"), std::string::npos) << s.error().message;
  }
}

// A number beyond double (nlohmann throws out_of_range) and absurd nesting are errors.
TEST(ScenarioLoaderTest, HostileTextIsAnErrorNotAnException) {
  for (const std::string& text : {std::string(R"({"name":"x","seed":1E999})"),
                                  std::string(100000, '[') + std::string(100000, ']')}) {
    const auto s = parse_text(text, "s.json");
    ASSERT_FALSE(s.has_value());
    EXPECT_NE(s.error().message.find("s.json: invalid JSON"), std::string::npos)
        << s.error().message;
  }
}

}  // namespace
