#include "pdf_pages.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include <poppler-document.h>
#include <poppler-embedded-file.h>
#include <poppler-page.h>

namespace kofu::mock::test {
namespace {

struct word {
  double x, right, top;
  std::string text;
  bool space_after;
};

std::string utf8(const poppler::ustring& s) {
  const auto bytes = s.to_utf8();
  return {bytes.begin(), bytes.end()};
}

std::vector<std::string> segments_of(std::vector<word> line) {
  std::sort(line.begin(), line.end(), [](const word& a, const word& b) { return a.x < b.x; });
  std::vector<std::string> segments;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const double gap = i == 0 ? 1e9 : line[i].x - line[i - 1].right;
    if (gap >= 20) {
      segments.push_back(line[i].text);
      continue;
    }
    if (line[i - 1].space_after) {
      segments.back() += ' ';
    } else if (gap >= 5) {
      segments.back() += "\u3000";
    }
    segments.back() += line[i].text;
  }
  return segments;
}

pdf_page read_page(const poppler::page& page) {
  // Words grouped by their top edge (one baseline per row; the contract's rows are 16 pt apart).
  std::map<long, std::vector<word>> by_top;
  for (const auto& box : page.text_list()) {
    const auto r = box.bbox();
    by_top[std::lround(r.y())].push_back(
        {r.x(), r.x() + r.width(), r.y(), utf8(box.text()), box.has_space_after()});
  }
  // Merge tops within 1 pt of each other (a font change may shift the box by a fraction).
  std::vector<std::vector<word>> lines;
  long last_top = -100;
  for (auto& [top, words] : by_top) {
    if (!lines.empty() && top - last_top <= 1) {
      lines.back().insert(lines.back().end(), words.begin(), words.end());
    } else {
      lines.push_back(words);
    }
    last_top = top;
  }
  pdf_page out;
  for (auto& line : lines) {
    auto segments = segments_of(line);
    if (segments.size() == 2 || segments.size() == 4) {
      for (std::size_t i = 0; i + 1 < segments.size(); i += 2) {
        out.rows.emplace_back(segments[i], segments[i + 1]);
      }
    }
    out.lines.push_back(std::move(segments));
  }
  return out;
}

}  // namespace

std::optional<std::string> pdf_page::value(const std::string& label) const {
  for (const auto& [l, v] : rows) {
    if (l == label) return v;
  }
  return std::nullopt;
}

std::vector<std::string> pdf_page::values(const std::string& label) const {
  std::vector<std::string> out;
  for (const auto& [l, v] : rows) {
    if (l == label) out.push_back(v);
  }
  return out;
}

std::string pdf_page::page_number() const {
  for (const auto& line : lines) {
    if (line.size() == 1 && line[0].find('/') != std::string::npos &&
        line[0].find_first_not_of("0123456789/") == std::string::npos) {
      return line[0];
    }
  }
  return {};
}

std::string pdf_page::title() const { return lines.empty() || lines[0].empty() ? "" : lines[0][0]; }

pdf_read read_pdf(const std::string& bytes) {
  pdf_read out;
  std::unique_ptr<poppler::document> document(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (!document) {
    out.error = "poppler cannot load the document";
    return out;
  }
  for (int i = 0; i < document->pages(); ++i) {
    std::unique_ptr<poppler::page> page(document->create_page(i));
    if (!page) {
      out.error = "poppler cannot read page " + std::to_string(i + 1);
      return out;
    }
    out.pages.push_back(read_page(*page));
  }
  for (auto* file : document->embedded_files()) {
    if (file->name() == "seal.png") {
      const auto data = file->data();
      out.seal_png = std::string(data.begin(), data.end());
    }
  }
  return out;
}

}  // namespace kofu::mock::test
