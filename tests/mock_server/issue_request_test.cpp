// The issue request parser: its fast path answers only for plain valid bodies and then exactly as
// the full (DOM) parser does; everything else, every error included, is the full parser's.
#include "issue_request.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kofu::mock {
namespace {

bool same(const issue_request& a, const issue_request& b) {
  return a.application_number == b.application_number && a.channel == b.channel &&
         a.type == b.type && a.card_serial == b.card_serial && a.household == b.household &&
         a.columns.zokugara == b.columns.zokugara && a.columns.honseki == b.columns.honseki &&
         a.columns.mynumber == b.columns.mynumber;
}

struct parse_case {
  std::string body;
  bool fast;  // the fast path answers
};

const std::string kCore =
    R"("application_number":"APP-1","channel":"konbini","certificate_type":"juminhyo",)"
    R"("subject":{"card_serial":"A9028773398795C2"})";

std::vector<parse_case> cases() {
  return {
      {"{" + kCore + "}", true},
      {"{" + kCore + R"(,"options":{}})", true},
      {"{" + kCore +
           R"(,"options":{"scope":"household","honseki":true,"zokugara":false,"mynumber":true}})",
       true},
      {" \t\r\n{ " + kCore + " } \n", true},
      {R"({"subject" : {"card_serial" : "C1"}, "certificate_type" : "koseki_zenbu",)"
       R"( "channel" : "window", "application_number" : "Z", "options" : {"mynumber" : true}})",
       true},
      {R"({"application_number":"A","channel":"kiosk","certificate_type":"kazei",)"
       R"("subject":{"card_serial":"C"}})",
       true},
      {"{" + kCore + R"(,"options":{"scope":"individual"}})", true},
      {R"({"application_number":")" + std::string(128, 'x') +
           R"(","channel":"konbini","certificate_type":"inkan","subject":{"card_serial":"C"}})",
       true},
      // Left to the full parser: what it reads differently, or rejects.
      {R"({"application_number":")" + std::string(129, 'x') +
           R"(","channel":"konbini","certificate_type":"inkan","subject":{"card_serial":"C"}})",
       false},
      {"", false},
      {"{", false},
      {"[]", false},
      {"null", false},
      {"\xef\xbb\xbf{" + kCore + "}", false},  // BOM
      {"{" + kCore + "} x", false},
      {"{" + kCore + "}{}", false},
      {"{" + kCore + ",}", false},
      {"{" + kCore + R"(,"channel":"window"})", false},  // duplicate: the last one counts
      {"{" + kCore + R"(,"options":{"honseki":true,"honseki":false}})", false},
      {"{" + kCore + R"(,"options":{"scope":"all"}})", false},
      {"{" + kCore + R"(,"options":{"honseki":1}})", false},
      {"{" + kCore + R"(,"options":{"honseki":"true"}})", false},
      {"{" + kCore + R"(,"options":{"honseki":tru}})", false},
      {"{" + kCore + R"(,"options":{"honseki":truex}})", false},
      {"{" + kCore + R"(,"options":{"other":true}})", false},
      {"{" + kCore + R"(,"options":[]})", false},
      {"{" + kCore + R"(,"extra":1})", false},
      {R"({"channel":"konbini"})", false},
      {R"({"application_number":"","channel":"konbini","certificate_type":"juminhyo",)"
       R"("subject":{"card_serial":"C"}})",
       false},
      {R"({"application_number":"A","channel":"fax","certificate_type":"juminhyo",)"
       R"("subject":{"card_serial":"C"}})",
       false},
      {R"({"application_number":"A","channel":"konbini","certificate_type":"passport",)"
       R"("subject":{"card_serial":"C"}})",
       false},
      {R"({"application_number":"A","channel":"konbini","certificate_type":"juminhyo",)"
       R"("subject":{}})",
       false},
      {R"({"application_number":"A","channel":"konbini","certificate_type":"juminhyo",)"
       R"("subject":{"card_serial":"C","x":1}})",
       false},
      {R"({"application_number":"A","channel":"konbini","certificate_type":"juminhyo",)"
       R"("subject":"C"})",
       false},
      {R"({"application_number":"A\u0041","channel":"konbini","certificate_type":"juminhyo",)"
       R"("subject":{"card_serial":"C"}})",
       false},  // escape
      {R"({"application_number":"申請-1","channel":"konbini","certificate_type":"juminhyo",)"
       R"("subject":{"card_serial":"C"}})",
       false},  // non-ASCII
      {"{\"application_number\":\"\xff\",\"channel\":\"konbini\",\"certificate_type\":"
       "\"juminhyo\",\"subject\":{\"card_serial\":\"C\"}}",
       false},  // not UTF-8
      {R"({"application_number":"A" "channel":"konbini"})", false},
      {R"({"application_number":1,"channel":"konbini","certificate_type":"juminhyo",)"
       R"("subject":{"card_serial":"C"}})",
       false},
  };
}

TEST(IssueRequestTest, FastPathAnswersOnlyAsTheFullParserDoes) {
  for (const auto& c : cases()) {
    const auto full = parse_issue_request_with_dom(c.body);
    const auto fast = parse_issue_request_fast(c.body);
    EXPECT_EQ(fast.has_value(), c.fast) << c.body;
    if (fast) {
      ASSERT_TRUE(std::holds_alternative<issue_request>(full)) << c.body;
      EXPECT_TRUE(same(*fast, std::get<issue_request>(full))) << c.body;
    }
  }
}

TEST(IssueRequestTest, ParserGivesTheFullParsersAnswer) {
  for (const auto& c : cases()) {
    const auto full = parse_issue_request_with_dom(c.body);
    const auto got = parse_issue_request(c.body);
    ASSERT_EQ(got.index(), full.index()) << c.body;
    if (const auto* req = std::get_if<issue_request>(&got)) {
      EXPECT_TRUE(same(*req, std::get<issue_request>(full))) << c.body;
    } else {
      const auto& a = std::get<http_reply>(got);
      const auto& b = std::get<http_reply>(full);
      EXPECT_EQ(a.status, b.status) << c.body;
      EXPECT_EQ(a.body, b.body) << c.body;
    }
  }
}

TEST(IssueRequestTest, OptionalColumnsOnlyOnTheJuminhyo) {
  const auto body = std::string(R"({"application_number":"A","channel":"konbini",)") +
                    R"("certificate_type":"juminhyo_kisai","subject":{"card_serial":"C"},)" +
                    R"("options":{"honseki":true,"zokugara":true,"mynumber":true}})";
  const auto fast = parse_issue_request_fast(body);
  ASSERT_TRUE(fast.has_value());
  EXPECT_FALSE(fast->columns.honseki || fast->columns.zokugara || fast->columns.mynumber);
  EXPECT_EQ(fast->type, kJuminhyoKisai);
}

}  // namespace
}  // namespace kofu::mock
