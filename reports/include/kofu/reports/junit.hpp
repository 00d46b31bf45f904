#pragma once
// junit.xml (DESIGN §8): the run as one JUnit test suite, for Jenkins, GitLab and any reader of
// the common JUnit schema (testsuites/testsuite/testcase/failure, tests/failures/errors/skipped/
// time attributes).
//
// One <testsuite> named after the scenario (report `run.scenario`), with properties verdict,
// seed, scenario_sha256; one <testcase> "verdict" (fails unless the verdict is pass, so that the
// suite is red exactly when kofu exits non-zero); one per threshold (a failed one carries
// <failure message="DETAIL">); one per finding kind, all twelve listed (a kind with findings
// fails with the count and its first few findings: application number, requested resident,
// whose data).

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace kofu::reports {

// The whole document, UTF-8. Never throws on odd report content: a value of the wrong type
// reads as absent.
std::string render_junit(const nlohmann::json& report);

// Text made fit for XML 1.0 character data and attribute values: & < > " ' as entities; tab,
// newline and carriage return as character references; every other character XML 1.0 forbids
// (C0 controls, U+FFFE, U+FFFF) as the visible text "\uXXXX"; each byte of invalid UTF-8 as
// U+FFFD. The result is always well-formed UTF-8.
std::string xml_escape(std::string_view text);

}  // namespace kofu::reports
