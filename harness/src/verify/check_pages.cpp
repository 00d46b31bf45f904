// The pages of print data (a PDF answer, issue 12): every page must carry the request's
// application number and the certificate's serial, and say where it stands ("2/3" on the second
// of three pages). A page that carries another request's number is another certificate's page
// (the Tokushima case: page 2 of a 3-page 戸籍 certificate was someone else's): FOREIGN_DATA
// naming the page and, when the number is one this run issued, the request and resident it
// belongs to. A page out of place or missing makes the document incomplete: MALFORMED.
// The persons printed on each page are checked as every person is (check_request.cpp), except
// that a foreign page's persons are not held to this document's fields (check_document.cpp) nor
// taken for its subject.

#include <fmt/format.h>

#include <functional>
#include <string_view>

#include "checker_internal.hpp"

namespace kofu::verify {

void request_checker::check_pages() {
  const printed_certificate& c = answer_.certificate;
  const auto total = static_cast<std::int64_t>(c.pages.size());
  for (const page_footer& page : c.pages) {
    const std::string at = fmt::format("page {}", page.page);
    bool foreign = false;
    // Page 1's number is the certificate's (TAG_MISMATCH when it is not the request's).
    if (page.page > 1 && page.application_number != inv_.application_number) {
      foreign = true;
      field_diff d{at + ".application_number", page.application_number, inv_.application_number,
                   "issued to no request of this run"};
      std::optional<std::uint32_t> source;
      // The checker's fingerprint of an application number (checker.cpp).
      if (const auto* owner = c_.find_tag(std::hash<std::string_view>{}(page.application_number));
          owner != nullptr && c_.application_number(*owner) == page.application_number) {
        d.source = fmt::format("request {} for R{}", owner->id, c_.resident_id(*owner));
        if (owner->resident != checker::no_resident) source = owner->resident;
      }
      add(finding_kind::foreign_data, std::move(d), source);
    }
    if (page.page > 1 && page.serial != c.serial) {
      foreign = true;
      add(finding_kind::foreign_data,
          {at + ".serial", page.serial, c.serial, "another certificate's serial"});
    }
    if (foreign) foreign_pages_.push_back(page.page);
    // A foreign page numbers itself within its own certificate: only ours are judged here.
    if (!foreign && (page.printed_number != page.page || page.printed_total != total)) {
      add(finding_kind::malformed,
          {at + ".page_number", page.page_label.empty() ? "(none)" : page.page_label,
           fmt::format("{}/{}", page.page, total), "the document's pages out of place or missing"});
    }
  }
}

}  // namespace kofu::verify
