#pragma once
// The pages of a certificate's print data (docs/print-data.md): every text and image positioned on
// an A4 page, laid out from the reference answer the printer gave back. pdf_writer.hpp draws them.
// Pure functions; safe from any thread.

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace kofu::mock {

// A4 portrait in PDF points.
inline constexpr double kPageWidth = 595.28;
inline constexpr double kPageHeight = 841.89;

struct text_item {
  double x = 0;     // left edge, or the centre when `centred`
  double top = 0;   // top of the text, from the top of the page
  double size = 0;  // font size in points
  std::string text;
  bool centred = false;
};

struct image_item {
  double x = 0, top = 0, width = 0, height = 0;
  std::string png;  // PNG file bytes
};

struct printed_page {
  std::vector<text_item> texts;
  std::optional<image_item> image;
};

struct print_document {
  std::vector<printed_page> pages;
  std::string attached_png;  // 印鑑登録証明書: the seal PNG, attached as "seal.png"; else empty
};

// Lays out the certificate of a reference 200 answer ({application_number, certificate, digest})
// as pages. A message naming what is missing when the answer holds no certificate.
std::variant<print_document, std::string> lay_out_certificate(const nlohmann::json& answer);

// The text a store copier whose resident fonts are JIS X 0208 only prints for `text`: 髙→高,
// 﨑→崎, 𠮷→吉, and variation selectors dropped (the font-fallback defect's substitution table,
// covering the characters the synthetic population uses outside JIS X 0208).
std::string fold_to_jis_x0208(std::string_view text);

}  // namespace kofu::mock
