#pragma once
// Hand-made PDFs for the reader's tests: small enough to read in full, built object by object
// with a correct cross-reference table, so that each test states exactly what the file holds.
// The print data kofu-mock renders is tested end to end elsewhere (tests/harness/driver).

#include <fmt/format.h>

#include <string>
#include <vector>

namespace kofu::print::test {

// A PDF of `objects` (object i + 1 is objects[i], without "N 0 obj"/"endobj"); object 1 is the
// catalog. `trailer_extra` is added to the trailer dictionary (an /Encrypt, an /ID).
inline std::string make_pdf(const std::vector<std::string>& objects,
                            const std::string& trailer_extra = "") {
  std::string out = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(out.size());
    out += fmt::format("{} 0 obj\n{}\nendobj\n", i + 1, objects[i]);
  }
  const std::size_t xref = out.size();
  out += fmt::format("xref\n0 {}\n0000000000 65535 f \n", objects.size() + 1);
  for (const auto o : offsets) out += fmt::format("{:010} 00000 n \n", o);
  out += fmt::format("trailer\n<< /Size {} /Root 1 0 R {}>>\nstartxref\n{}\n%%EOF\n",
                     objects.size() + 1, trailer_extra, xref);
  return out;
}

inline std::string stream_object(const std::string& dict, const std::string& data) {
  return fmt::format("<< {} /Length {} >>\nstream\n{}\nendstream", dict, data.size(), data);
}

// One page per entry of `contents` (a content stream), Helvetica as /F1, `image` (a stream
// object's text, or "") as /Im1.
inline std::string pages_pdf(const std::vector<std::string>& contents,
                             const std::string& image = "", const std::string& trailer_extra = "",
                             const std::vector<std::string>& extra_objects = {}) {
  // 1 catalog, 2 pages, 3 font, 4 image (or null), then per page: page, content.
  std::vector<std::string> objects{"<< /Type /Catalog /Pages 2 0 R >>", "",
                                   "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
                                   image.empty() ? "null" : image};
  std::string kids;
  for (std::size_t i = 0; i < contents.size(); ++i) {
    const std::size_t page = objects.size() + 1;
    kids += fmt::format("{} 0 R ", page);
    objects.push_back(
        fmt::format("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {} 0 R "
                    "/Resources << /Font << /F1 3 0 R >> {} >> >>",
                    page + 1, image.empty() ? "" : "/XObject << /Im1 4 0 R >>"));
    objects.push_back(stream_object("", contents[i]));
  }
  objects[1] = fmt::format("<< /Type /Pages /Kids [{}] /Count {} >>", kids, contents.size());
  for (const auto& o : extra_objects) objects.push_back(o);
  return make_pdf(objects, trailer_extra);
}

// A content stream that shows `text` at (x, y) from the page's bottom-left, 12 pt.
inline std::string show_text(double x, double y, const std::string& text) {
  return fmt::format("BT /F1 12 Tf {} {} Td ({}) Tj ET\n", x, y, text);
}

}  // namespace kofu::print::test
