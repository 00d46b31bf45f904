#include "kofu/print/pdf_reader.hpp"

#include <fmt/format.h>
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <cmath>
#include <memory>
#include <mutex>

#include "kofu/common/sha256.hpp"
#include "print/image_collector.hpp"
#include "print/poppler_errors.hpp"

namespace kofu::print {

using nlohmann::json;

namespace {

// A PDF ends with `%%EOF` (and perhaps a line end). poppler rebuilds the cross-reference table of
// a cut file and may show the pages that survived; a truncated answer must still be named as
// such, so the end marker is checked first.
bool has_end_marker(std::string_view bytes) {
  const std::size_t tail = bytes.size() > 1024 ? bytes.size() - 1024 : 0;
  return bytes.find("%%EOF", tail) != std::string_view::npos;
}

std::string utf8_of(const poppler::ustring& text) {
  const auto bytes = text.to_utf8();
  return std::string(bytes.begin(), bytes.end());
}

double rounded(double v) { return std::round(v * 100.0) / 100.0; }

printed_page read_page(const poppler::page& page, int number) {
  printed_page out;
  out.number = number;
  const auto media = page.page_rect(poppler::media_box);
  out.width = media.width();
  out.height = media.height();
  for (const auto& word : page.text_list()) {
    const auto box = word.bbox();
    out.runs.push_back(text_run{utf8_of(word.text()), box.x(), box.y(), box.width(), box.height(),
                                word.has_space_after()});
  }
  return out;
}

// The first error poppler reported while reading, to name the damage.
std::string with_detail(std::string reason, const poppler_error_capture& errors) {
  if (errors.first().empty()) return reason;
  return fmt::format("{} ({})", reason, errors.first());
}

}  // namespace

pdf_reading read_pdf(std::string_view bytes) {
  pdf_reading out;
  out.size = bytes.size();
  out.sha256 = sha256_hex(bytes);
  if (!bytes.starts_with("%PDF-")) {
    out.malformed = "corrupt: not a PDF (no %PDF- header)";
    return out;
  }
  if (!has_end_marker(bytes)) {
    out.malformed = "truncated: the PDF has no %%EOF end marker";
    return out;
  }
  poppler_error_capture errors;
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (!doc) {
    out.malformed = with_detail("corrupt: poppler cannot open the PDF", errors);
    return out;
  }
  if (doc->is_locked()) {
    out.malformed = "encrypted: the PDF needs a password to be read";
    return out;
  }
  const int pages = doc->pages();
  if (pages <= 0) {
    out.malformed = with_detail("corrupt: the PDF has no pages", errors);
    return out;
  }
  for (int i = 0; i < pages; ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) {
      out.malformed = with_detail(fmt::format("corrupt: page {} cannot be read", i + 1), errors);
      return out;
    }
    out.pages.push_back(read_page(*page, i + 1));
  }
  // The images, through poppler's core renderer (poppler-cpp does not expose them). The cpp
  // document stays open meanwhile: it holds poppler's global parameters that the core needs.
  if (auto images = collect_images(bytes, pages)) {
    for (std::size_t i = 0; i < out.pages.size(); ++i)
      out.pages[i].images = std::move((*images)[i]);
  } else {
    out.malformed = with_detail(images.error().message, errors);
    return out;
  }
  for (const auto& page : out.pages) {
    if (page.runs.empty()) {
      out.malformed = fmt::format("no text layer: page {} has no text to read", page.number);
      return out;
    }
  }
  return out;
}

json to_json(const pdf_reading& reading) {
  json pages = json::array();
  for (const auto& p : reading.pages) {
    json runs = json::array();
    for (const auto& r : p.runs) {
      runs.push_back(json::array(
          {r.text, rounded(r.x), rounded(r.y), rounded(r.w), rounded(r.h), r.space_after}));
    }
    json images = json::array();
    for (const auto& i : p.images) {
      images.push_back(
          {{"sha256", i.pixels_sha256},
           {"width", i.width},
           {"height", i.height},
           {"box", json::array({rounded(i.x), rounded(i.y), rounded(i.w), rounded(i.h)})}});
    }
    pages.push_back({{"page", p.number},
                     {"width", rounded(p.width)},
                     {"height", rounded(p.height)},
                     {"runs", std::move(runs)},
                     {"images", std::move(images)}});
  }
  json out{{"format", "pdf"},
           {"size", reading.size},
           {"sha256", reading.sha256},
           {"pages", std::move(pages)}};
  if (reading.malformed) out["malformed"] = *reading.malformed;
  return out;
}

namespace {

struct bad_print {
  std::string what;
};

const json& member(const json& o, const char* key, std::string_view where) {
  const auto it = o.find(key);
  if (it == o.end()) throw bad_print{fmt::format("{}: '{}' is missing", where, key)};
  return *it;
}

double number_at(const json& a, std::size_t i, std::string_view where) {
  if (!a.is_array() || i >= a.size() || !a[i].is_number()) {
    throw bad_print{fmt::format("{}: element {} is not a number", where, i)};
  }
  return a[i].get<double>();
}

printed_page page_from_json(const json& p, std::size_t index) {
  const std::string where = fmt::format("pages/{}", index);
  if (!p.is_object()) throw bad_print{where + ": not an object"};
  printed_page out;
  const json& number = member(p, "page", where);
  if (!number.is_number_integer()) throw bad_print{where + "/page: not an integer"};
  out.number = number.get<int>();
  out.width = member(p, "width", where).is_number() ? p["width"].get<double>() : 0.0;
  out.height = member(p, "height", where).is_number() ? p["height"].get<double>() : 0.0;
  const json& runs = member(p, "runs", where);
  if (!runs.is_array()) throw bad_print{where + "/runs: not an array"};
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const json& r = runs[i];
    const std::string at = fmt::format("{}/runs/{}", where, i);
    if (!r.is_array() || r.size() != 6 || !r[0].is_string() || !r[5].is_boolean()) {
      throw bad_print{at + ": not [text, x, y, w, h, space_after]"};
    }
    out.runs.push_back(text_run{r[0].get<std::string>(), number_at(r, 1, at), number_at(r, 2, at),
                                number_at(r, 3, at), number_at(r, 4, at), r[5].get<bool>()});
  }
  if (const auto images = p.find("images"); images != p.end() && images->is_array()) {
    for (std::size_t i = 0; i < images->size(); ++i) {
      const json& im = (*images)[i];
      const std::string at = fmt::format("{}/images/{}", where, i);
      if (!im.is_object()) throw bad_print{at + ": not an object"};
      const json& box = member(im, "box", at);
      page_image image;
      image.pixels_sha256 =
          member(im, "sha256", at).is_string() ? im["sha256"].get<std::string>() : std::string();
      image.width = im.value("width", 0);
      image.height = im.value("height", 0);
      image.x = number_at(box, 0, at + "/box");
      image.y = number_at(box, 1, at + "/box");
      image.w = number_at(box, 2, at + "/box");
      image.h = number_at(box, 3, at + "/box");
      out.images.push_back(std::move(image));
    }
  }
  return out;
}

}  // namespace

result<pdf_reading> from_json(const json& print) {
  try {
    if (!print.is_object()) throw bad_print{"not an object"};
    pdf_reading out;
    out.size = print.value("size", std::size_t{0});
    out.sha256 = print.value("sha256", std::string());
    if (const auto m = print.find("malformed"); m != print.end() && m->is_string()) {
      out.malformed = m->get<std::string>();
    }
    const json& pages = member(print, "pages", "print");
    if (!pages.is_array()) throw bad_print{"pages: not an array"};
    for (std::size_t i = 0; i < pages.size(); ++i) out.pages.push_back(page_from_json(pages[i], i));
    return out;
  } catch (const bad_print& e) {
    return make_error(errc::invalid_field, "print: " + e.what);
  } catch (const json::exception& e) {
    return make_error(errc::invalid_field, std::string("print: ") + e.what());
  }
}

}  // namespace kofu::print
