#include "kofu/reports/junit.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <vector>

#include "kofu/verify/finding.hpp"
#include "text.hpp"

namespace kofu::reports {

using detail::count_of;
using detail::member;
using detail::text_of;
using nlohmann::json;

namespace {

// How many findings a failed finding kind names one by one.
constexpr std::size_t junit_findings_named = 5;

struct test_case {
  std::string classname;
  std::string name;
  bool failed = false;
  std::string failure_type = {};
  std::string failure_message = {};
  std::string failure_text = {};
};

// XML Schema's dateTime without a zone, as the common JUnit schema wants (the run's UTC time).
std::string junit_timestamp(const std::string& started_at) {
  if (started_at.size() == 20 && started_at.back() == 'Z') return started_at.substr(0, 19);
  return {};
}

std::vector<test_case> threshold_cases(const json& report, const std::string& prefix) {
  std::vector<test_case> cases;
  const json& thresholds = member(report, "thresholds");
  if (!thresholds.is_array()) return cases;
  for (const json& t : thresholds) {
    test_case c{prefix + ".thresholds", text_of(t, "name", "?")};
    const json& passed = member(t, "passed");
    c.failed = !(passed.is_boolean() && passed.get<bool>());
    if (c.failed) {
      c.failure_type = "threshold";
      const std::string detail = text_of(t, "detail");
      c.failure_message = detail.empty() ? "threshold " + c.name + " failed" : detail;
      c.failure_text = c.failure_message;
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

std::vector<test_case> finding_cases(const json& report, const std::string& prefix) {
  std::vector<test_case> cases;
  const json& by_kind = member(report, "findings_by_kind");
  const json& findings = member(report, "findings");
  // Every kind, in the verifier's order, whether the report counts it or not.
  for (const auto k : verify::all_finding_kinds) {
    const std::string kind(verify::to_string(k));
    test_case c{prefix + ".findings", kind};
    const std::uint64_t count = count_of(by_kind, kind);
    if (count > 0) {
      c.failed = true;
      c.failure_type = kind;
      c.failure_message = fmt::format("{} {} finding{}", count, kind, count == 1 ? "" : "s");
      std::string text = c.failure_message + "\n";
      std::size_t named = 0;
      if (findings.is_array()) {
        for (const json& f : findings) {
          if (text_of(f, "kind") != kind) continue;
          if (++named > junit_findings_named) break;
          text += fmt::format("application {}: requested {}", text_of(f, "application_number"),
                              text_of(f, "requested_resident"));
          const std::string victim = text_of(f, "victim_resident");
          if (!victim.empty()) text += fmt::format(", printed the data of {}", victim);
          const std::string en = text_of(member(f, "explanation"), "en");
          if (!en.empty()) text += " — " + en;
          text += '\n';
        }
      }
      if (count > junit_findings_named) {
        text += fmt::format("… and {} more (report.json)\n", count - junit_findings_named);
      }
      c.failure_text = std::move(text);
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  detail::for_each_code_point(text, [&out](char32_t cp) {
    switch (cp) {
      case '&':
        out += "&amp;";
        return;
      case '<':
        out += "&lt;";
        return;
      case '>':
        out += "&gt;";
        return;
      case '"':
        out += "&quot;";
        return;
      case '\'':
        out += "&apos;";
        return;
      case '\t':
        out += "&#9;";
        return;
      case '\n':
        out += "&#10;";
        return;
      case '\r':
        out += "&#13;";
        return;
      default:
        break;
    }
    // XML 1.0 has no way to write these at all, not even as a character reference.
    if (cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF) {
      out += fmt::format("\\u{:04X}", static_cast<std::uint32_t>(cp));
      return;
    }
    detail::append_utf8(out, cp);
  });
  return out;
}

std::string render_junit(const json& report) {
  const json& run = member(report, "run");
  std::string scenario = text_of(run, "scenario");
  if (scenario.empty()) scenario = "kofu";
  const std::string prefix = "kofu." + scenario;
  const std::string verdict = text_of(report, "verdict", "unknown");

  std::vector<test_case> cases;
  test_case verdict_case{prefix, "verdict"};
  if (verdict != "pass") {
    verdict_case.failed = true;
    verdict_case.failure_type = "verdict";
    verdict_case.failure_message = "verdict: " + verdict;
    verdict_case.failure_text = verdict == "unknown"
                                    ? "the run proves nothing either way (see the thresholds)"
                                    : "the run failed (see the thresholds and findings)";
  }
  cases.push_back(std::move(verdict_case));
  for (auto& c : threshold_cases(report, prefix)) cases.push_back(std::move(c));
  for (auto& c : finding_cases(report, prefix)) cases.push_back(std::move(c));

  std::size_t failures = 0;
  for (const auto& c : cases) failures += c.failed ? 1 : 0;
  const json& elapsed = member(run, "elapsed_s");
  const double seconds = elapsed.is_number() ? elapsed.get<double>() : 0.0;
  const std::string time = fmt::format("{:.3f}", seconds);

  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += fmt::format(
      "<testsuites name=\"kofu\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{}\">\n",
      cases.size(), failures, time);
  x += fmt::format(
      "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" "
      "time=\"{}\"",
      xml_escape(scenario), cases.size(), failures, time);
  if (const auto stamp = junit_timestamp(text_of(run, "started_at")); !stamp.empty()) {
    x += fmt::format(" timestamp=\"{}\"", xml_escape(stamp));
  }
  x += ">\n    <properties>\n";
  const auto property = [&x](std::string_view name, const std::string& value) {
    x += fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", name, xml_escape(value));
  };
  property("verdict", verdict);
  property("seed", text_of(run, "seed"));
  property("scenario_sha256", text_of(run, "scenario_sha256"));
  property("answered", fmt::format("{}", count_of(report, "answered")));
  property("kofu_version", text_of(report, "kofu_version"));
  x += "    </properties>\n";
  for (const auto& c : cases) {
    x += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
                     xml_escape(c.classname), xml_escape(c.name));
    if (!c.failed) {
      x += "/>\n";
      continue;
    }
    x += fmt::format(">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
                     xml_escape(c.failure_message), xml_escape(c.failure_type),
                     xml_escape(c.failure_text));
  }
  x += "  </testsuite>\n</testsuites>\n";
  return x;
}

}  // namespace kofu::reports
