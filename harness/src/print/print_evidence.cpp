#include "kofu/print/print_evidence.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <set>

#include "kofu/print/pdf_reader.hpp"

namespace kofu::print {

using nlohmann::json;

namespace {

// The pages a finding's diff names: paths that start with "page N".
std::set<int> pages_named(const json& evidence) {
  static const std::regex page_path(R"(^page (\d+))");
  std::set<int> pages;
  if (const auto diff = evidence.find("diff"); diff != evidence.end() && diff->is_array()) {
    for (const auto& d : *diff) {
      const std::string path = d.is_object() ? d.value("path", "") : "";
      std::smatch m;
      if (std::regex_search(path, m, page_path)) pages.insert(std::stoi(m[1].str()));
    }
  }
  if (pages.empty()) pages.insert(1);
  return pages;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

void attach_print_evidence(const std::filesystem::path& dir, json& report,
                           std::size_t max_findings) {
  const auto findings = report.find("findings");
  if (findings == report.end() || !findings->is_array()) return;
  std::size_t pictured = 0;
  for (auto& f : *findings) {
    if (!f.is_object() || !f.contains("evidence")) continue;
    json& evidence = f["evidence"];
    const json* answer = evidence.contains("answer") ? &evidence["answer"] : nullptr;
    if (answer == nullptr || !answer->is_object() || !answer->contains("print")) continue;
    const json& print = (*answer)["print"];
    if (!print.is_object()) continue;
    const std::string kept = print.value("kept", "");
    if (kept.empty() || !std::filesystem::exists(dir / kept)) {
      evidence["print"] = {{"pdf", nullptr}, {"sha256", print.value("sha256", "")}};
      continue;
    }
    json pages = json::array();
    if (pictured++ < max_findings) {
      const std::string pdf = read_file(dir / kept);
      const std::string stem = std::filesystem::path(kept).stem().string();
      for (const int page : pages_named(evidence)) {
        const std::string png = fmt::format("print/{}-p{}.png", stem, page);
        json entry{{"page", page}, {"png", png}};
        if (!std::filesystem::exists(dir / png)) {
          if (auto drawn = render_page_png(pdf, page, dir / png); !drawn) {
            entry = {{"page", page}, {"error", drawn.error().message}};
          }
        }
        pages.push_back(std::move(entry));
      }
    }
    evidence["print"] = {{"pdf", kept}, {"pages", std::move(pages)}};
  }
}

}  // namespace kofu::print
