#pragma once
// Reports as make_report writes them (DESIGN §8 keys), for the writers' tests: one that failed
// with WRONG_PERSON findings whose texts hold what XML and Markdown must escape, one that passed.

#include <nlohmann/json.hpp>

#include <string>

namespace kofu::test {

// clang-format off
inline nlohmann::json passing_report() {
  return nlohmann::json::parse(R"json({
    "format": "kofu-report/1", "kofu_version": "0.1.0", "verdict": "pass", "answered": 48213,
    "findings_by_kind": {"WRONG_PERSON": 0, "FOREIGN_DATA": 0, "TORN": 0, "ABORTED": 0,
      "STALE": 0, "PHANTOM": 0, "WRONG_DOCUMENT": 0, "NOT_ISSUABLE": 0, "TAG_MISMATCH": 0,
      "DUPLICATE": 0, "DIGEST_INVALID": 0, "MALFORMED": 0},
    "findings": [],
    "exposure": {"requests": 50000, "overlapped_other_resident": 31000, "peak_in_flight": 32},
    "upper_bound_95": 6.21e-05,
    "latency_ms": {"count": 50000, "p50": 1.2, "p90": 3.4, "p99": 8.75, "p999": 20.1, "max": 40.0},
    "thresholds": [
      {"name": "max_findings", "passed": true, "detail": "0 findings (limit 0)"},
      {"name": "min_overlapping_requests", "passed": true, "detail": "31000 (needed 1000)"}],
    "verification": {"staleness_ms": 0.0},
    "history_integrity": {"status": "intact"},
    "run_end": {"reason": "completed", "interrupted": false},
    "run": {"scenario": "campaign", "scenario_sha256": "ab12cd34", "seed": 7,
            "started_at": "2026-12-07T10:00:00Z", "population": {"residents": 100000},
            "target": {"kind": "embedded", "profile": "reference", "defects": []},
            "elapsed_s": 25.0, "sent": 50000}
  })json");
}
// clang-format on

// Failed: max_findings, three WRONG_PERSON findings (one application number with markup,
// control characters and an invalid UTF-8 byte), one STALE.
inline nlohmann::json failing_report() {
  nlohmann::json r = passing_report();
  r["verdict"] = "fail";
  r["run"]["scenario"] = "demo <slot> & \"quotes\"";
  r["run"]["target"]["defects"] = {"channel-slot"};
  r["findings_by_kind"]["WRONG_PERSON"] = 3;
  r["findings_by_kind"]["STALE"] = 1;
  r["thresholds"][0] = {{"name", "max_findings"},
                        {"passed", false},
                        {"detail", "4 findings (limit 0) <b>&amp;</b>\x01\x1f"}};
  r["findings"] = nlohmann::json::array();
  r["findings"].push_back({{"kind", "WRONG_PERSON"},
                           {"application_number", "A-000017"},
                           {"requested_resident", "R 48213906575"},
                           {"victim_resident", "R 11111111111"},
                           {"explanation", {{"en", "another resident's 住民票"}}}});
  r["findings"].push_back({{"kind", "WRONG_PERSON"},
                           {"application_number", std::string("A-0\x02<]]>|x\xff") + "2"},
                           {"requested_resident", "R 22222222222"},
                           {"victim_resident", "R 33333333333"}});
  r["findings"].push_back({{"kind", "STALE"},
                           {"application_number", "A-000099"},
                           {"requested_resident", "R 44444444444"}});
  r["findings"].push_back({{"kind", "WRONG_PERSON"},
                           {"application_number", "A-000103"},
                           {"requested_resident", "R 55555555555"},
                           {"victim_resident", "R 66666666666"}});
  return r;
}

}  // namespace kofu::test
