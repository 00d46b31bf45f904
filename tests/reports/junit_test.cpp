// junit.xml parsed back with libxml2 and validated against the common JUnit schema
// (tests/reports/junit.xsd): structure, counts, properties, failure texts, and escaping of
// markup, control characters and invalid UTF-8.

#include "kofu/reports/junit.hpp"

#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "report_fixture.hpp"
#include "test_support.hpp"

namespace {

using nlohmann::json;

struct doc_free {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using doc_ptr = std::unique_ptr<xmlDoc, doc_free>;

// Parses strictly: any well-formedness error (or a warning) fails the parse.
doc_ptr parse(const std::string& xml) {
  return doc_ptr(xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "junit.xml", nullptr,
                               XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
}

bool valid_against_schema(xmlDoc* doc) {
  const std::string xsd = (kofu::test::source_dir() / "tests/reports/junit.xsd").string();
  xmlSchemaParserCtxt* pctx = xmlSchemaNewParserCtxt(xsd.c_str());
  xmlSchema* schema = xmlSchemaParse(pctx);
  xmlSchemaFreeParserCtxt(pctx);
  if (schema == nullptr) {
    ADD_FAILURE() << "cannot read " << xsd;
    return false;
  }
  xmlSchemaValidCtxt* vctx = xmlSchemaNewValidCtxt(schema);
  const int rc = xmlSchemaValidateDoc(vctx, doc);
  xmlSchemaFreeValidCtxt(vctx);
  xmlSchemaFree(schema);
  return rc == 0;
}

std::string attr(xmlNode* node, const char* name) {
  xmlChar* v = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
  if (v == nullptr) return "<absent>";
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

std::string text(xmlNode* node) {
  xmlChar* v = xmlNodeGetContent(node);
  std::string s(v == nullptr ? "" : reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

std::vector<xmlNode*> children(xmlNode* node, const char* name) {
  std::vector<xmlNode*> out;
  for (xmlNode* c = node->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE &&
        std::string(reinterpret_cast<const char*>(c->name)) == name) {
      out.push_back(c);
    }
  }
  return out;
}

struct parsed_case {
  std::string classname;
  bool failed = false;
  std::string message;
  std::string failure_text;
};

struct parsed_suite {
  std::string name, tests, failures, errors, time;
  std::map<std::string, std::string> properties;
  std::map<std::string, parsed_case> cases;  // by name
  std::vector<std::string> order;
};

parsed_suite read_suite(xmlDoc* doc) {
  parsed_suite s;
  xmlNode* root = xmlDocGetRootElement(doc);
  EXPECT_STREQ(reinterpret_cast<const char*>(root->name), "testsuites");
  const auto suites = children(root, "testsuite");
  EXPECT_EQ(suites.size(), 1u);
  if (suites.empty()) return s;
  xmlNode* suite = suites.front();
  s.name = attr(suite, "name");
  s.tests = attr(suite, "tests");
  s.failures = attr(suite, "failures");
  s.errors = attr(suite, "errors");
  s.time = attr(suite, "time");
  for (xmlNode* props : children(suite, "properties")) {
    for (xmlNode* p : children(props, "property")) s.properties[attr(p, "name")] = attr(p, "value");
  }
  for (xmlNode* c : children(suite, "testcase")) {
    parsed_case pc;
    pc.classname = attr(c, "classname");
    const auto failures = children(c, "failure");
    if (!failures.empty()) {
      pc.failed = true;
      pc.message = attr(failures.front(), "message");
      pc.failure_text = text(failures.front());
    }
    s.order.push_back(attr(c, "name"));
    s.cases[attr(c, "name")] = pc;
  }
  return s;
}

TEST(JunitTest, FailingReportParsesValidatesAndNamesTheFindings) {
  const std::string xml = kofu::reports::render_junit(kofu::test::failing_report());
  const doc_ptr doc = parse(xml);
  ASSERT_TRUE(doc) << xml;
  EXPECT_TRUE(valid_against_schema(doc.get())) << xml;
  const parsed_suite s = read_suite(doc.get());
  EXPECT_EQ(s.name, "demo <slot> & \"quotes\"");
  // verdict + 2 thresholds + 12 finding kinds.
  EXPECT_EQ(s.tests, "15");
  EXPECT_EQ(s.failures, "4");  // verdict, max_findings, WRONG_PERSON, STALE
  EXPECT_EQ(s.errors, "0");
  EXPECT_EQ(s.time, "25.000");
  EXPECT_EQ(s.properties.at("verdict"), "fail");
  EXPECT_EQ(s.properties.at("seed"), "7");
  EXPECT_EQ(s.properties.at("scenario_sha256"), "ab12cd34");
  ASSERT_EQ(s.order.size(), 15u);
  EXPECT_EQ(s.order[0], "verdict");
  EXPECT_EQ(s.order[3], "WRONG_PERSON");  // the verifier's order, every kind listed
  EXPECT_EQ(s.order[14], "MALFORMED");
  EXPECT_TRUE(s.cases.at("verdict").failed);
  const auto& threshold = s.cases.at("max_findings");
  EXPECT_TRUE(threshold.failed);
  // Markup kept as text; control characters XML cannot carry shown as \uXXXX.
  EXPECT_EQ(threshold.message, "4 findings (limit 0) <b>&amp;</b>\\u0001\\u001F");
  EXPECT_FALSE(s.cases.at("min_overlapping_requests").failed);
  const auto& wrong = s.cases.at("WRONG_PERSON");
  EXPECT_TRUE(wrong.failed);
  EXPECT_EQ(wrong.message, "3 WRONG_PERSON findings");
  EXPECT_NE(wrong.failure_text.find("application A-000017: requested R 48213906575, printed the "
                                    "data of R 11111111111 — another resident's 住民票"),
            std::string::npos)
      << wrong.failure_text;
  // The invalid byte became U+FFFD; "]]>" and "<" are plain text again once parsed.
  EXPECT_NE(wrong.failure_text.find("application A-0\\u0002<]]>|x\xEF\xBF\xBD"
                                    "2: requested R "
                                    "22222222222, printed the data of R 33333333333"),
            std::string::npos)
      << wrong.failure_text;
  EXPECT_NE(wrong.failure_text.find("A-000103"), std::string::npos);
  EXPECT_EQ(wrong.failure_text.find("A-000099"), std::string::npos) << "a STALE finding listed";
  EXPECT_TRUE(s.cases.at("STALE").failed);
  EXPECT_EQ(s.cases.at("STALE").message, "1 STALE finding");
  EXPECT_FALSE(s.cases.at("TORN").failed);
  EXPECT_EQ(s.cases.at("TORN").classname, "kofu.demo <slot> & \"quotes\".findings");
}

TEST(JunitTest, PassingReportHasNoFailures) {
  const std::string xml = kofu::reports::render_junit(kofu::test::passing_report());
  const doc_ptr doc = parse(xml);
  ASSERT_TRUE(doc) << xml;
  EXPECT_TRUE(valid_against_schema(doc.get())) << xml;
  const parsed_suite s = read_suite(doc.get());
  EXPECT_EQ(s.name, "campaign");
  EXPECT_EQ(s.tests, "15");
  EXPECT_EQ(s.failures, "0");
  for (const auto& [name, c] : s.cases) EXPECT_FALSE(c.failed) << name;
}

// Whatever a report holds, the document stays well-formed: every byte value and every string
// type in every place a report's text reaches the XML.
TEST(JunitTest, AnyBytesInAnyFieldStayWellFormed) {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes += static_cast<char>(b);
  all_bytes += "\xED\xA0\x80\xF4\x90\x80\x80\xC0\xAF\xEF\xBF\xBE";  // surrogate, >U+10FFFF, …
  json r = kofu::test::failing_report();
  r["run"]["scenario"] = all_bytes;
  r["run"]["seed"] = all_bytes;
  r["thresholds"][0]["name"] = all_bytes;
  r["thresholds"][0]["detail"] = all_bytes;
  r["findings"][0]["application_number"] = all_bytes;
  r["findings"][0]["victim_resident"] = all_bytes;
  r["findings"][0]["explanation"]["en"] = all_bytes;
  const std::string xml = kofu::reports::render_junit(r);
  const doc_ptr doc = parse(xml);
  ASSERT_TRUE(doc);
  EXPECT_TRUE(valid_against_schema(doc.get()));
  // A report of the wrong shape renders too (fields read as absent).
  const doc_ptr odd = parse(kofu::reports::render_junit(json::array({1, 2})));
  ASSERT_TRUE(odd);
  EXPECT_TRUE(valid_against_schema(odd.get()));
}

TEST(JunitTest, XmlEscapeTable) {
  using kofu::reports::xml_escape;
  EXPECT_EQ(xml_escape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
  EXPECT_EQ(xml_escape("\t\n\r"), "&#9;&#10;&#13;");
  EXPECT_EQ(xml_escape(std::string("\x00\x7f", 2)), "\\u0000\x7f");
  EXPECT_EQ(xml_escape("\xEF\xBF\xBF"), "\\uFFFF");
  EXPECT_EQ(xml_escape("住民票"), "住民票");
  EXPECT_EQ(xml_escape("\xE4\xBD"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // cut sequence: one U+FFFD a byte
  EXPECT_EQ(xml_escape("\xC0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong NUL
}

}  // namespace
