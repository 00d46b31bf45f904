#pragma once
// The images drawn on each page of a PDF, hashed by their pixels (pdf_reader.hpp page_image),
// through poppler's core output device interface: poppler-cpp reads text and renders pages but
// does not hand out images.
//
// Must be called while a poppler-cpp document is open on the calling thread: that document holds
// poppler's global parameters, which the core reader uses. Thread-safe otherwise.

#include <string_view>
#include <vector>

#include "kofu/common/error.hpp"
#include "kofu/print/pdf_reader.hpp"

namespace kofu::print {

// The images of pages 1..`pages`, one list a page. An error when the core reader cannot open
// the document poppler-cpp opened (then the PDF is corrupt in a way only one of them noticed).
result<std::vector<std::vector<page_image>>> collect_images(std::string_view pdf_bytes, int pages);

}  // namespace kofu::print
