#pragma once
// Evidence a person can read for findings on PDF answers (issue 12 item 4): the page the finding
// names, rendered as a PNG beside the PDF the run kept (`print/<sha256>.pdf`), both referenced
// from the finding's evidence in report.json:
//
//   "evidence": {…, "print": {"pdf": "print/<sha256>.pdf",
//                             "pages": [{"page": 2, "png": "print/<sha256>-p2.png"}]}}
//
// The pages are those the finding's diff names ("page 2.application_number", "page 2:
// persons[3]"), else page 1. A PDF the run did not keep (over the budget) gets
// {"pdf": null, "sha256": …}: the history still holds what was read of it.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>

namespace kofu::print {

// Adds `print` to the evidence of each finding on a PDF answer in `report` (at most
// `max_findings` of them get pictures), rendering the PNGs into `dir`/print. Never fails: a page
// that cannot be rendered is listed with "error".
void attach_print_evidence(const std::filesystem::path& dir, nlohmann::json& report,
                           std::size_t max_findings = 100);

}  // namespace kofu::print
