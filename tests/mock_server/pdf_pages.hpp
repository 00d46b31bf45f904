#pragma once
// Reads kofu-mock's PDF print data back with poppler-cpp, following docs/print-data.md: each
// page's text as rows of segments (words on one baseline, joined by the contract's rule), the
// label/value rows, the footer and the page number, and the embedded seal file. Independent of
// the renderer: it sees only the PDF bytes.

#include <optional>
#include <string>
#include <vector>

namespace kofu::mock::test {

struct pdf_page {
  // Each text line, top to bottom: its segments left to right (a segment is a run of words with
  // gaps under 20 pt, joined with ' ' after a word poppler marks as followed by a space, U+3000
  // for a gap of 5 pt or more, else nothing).
  std::vector<std::vector<std::string>> lines;
  // Every (label, value) line: a line of exactly two segments, or the footer's four.
  std::vector<std::pair<std::string, std::string>> rows;

  // The value of the first row with `label`, or nullopt.
  std::optional<std::string> value(const std::string& label) const;
  // Every value of rows with `label`, in page order.
  std::vector<std::string> values(const std::string& label) const;
  // The line that is a page number "k/N", or empty.
  std::string page_number() const;
  std::string title() const;  // the first line
};

struct pdf_read {
  std::string error;  // non-empty: poppler could not read the document
  std::vector<pdf_page> pages;
  std::optional<std::string> seal_png;  // the embedded file "seal.png"
};

pdf_read read_pdf(const std::string& bytes);

}  // namespace kofu::mock::test
