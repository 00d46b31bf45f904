// The cost of reading PDF print data (issue 12, "Proof and speed"): one page read with poppler
// (words with boxes and the images' pixel hashes: what the driver does on each PDF answer), and
// the mapping of the recorded reading into the certificate model (what the verifier does).
//
// The PDF is KOFU_BENCH_PDF when set — a certificate kofu-mock printed, e.g. one a run kept in
// its folder's print/ — otherwise a built-in A4 page of 60 labelled rows in a standard font,
// which has no embedded CJK fonts and so reads faster than a real certificate page. Per page
// figures divide by the document's page count.

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "kofu/driver/pdf_answer.hpp"
#include "kofu/print/pdf_reader.hpp"

namespace {

std::string builtin_page() {
  std::string content;
  for (int row = 0; row < 60; ++row) {
    content +=
        fmt::format("BT /F1 10.5 Tf 56 {} Td (Label{}) Tj 114 0 Td (Value {} of row) Tj ET\n",
                    800 - row * 12, row, row);
  }
  const std::vector<std::string> objects{
      "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
      "/Resources << /Font << /F1 5 0 R >> >> >>",
      fmt::format("<< /Length {} >>\nstream\n{}\nendstream", content.size(), content),
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"};
  std::string out = "%PDF-1.4\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(out.size());
    out += fmt::format("{} 0 obj\n{}\nendobj\n", i + 1, objects[i]);
  }
  const std::size_t xref = out.size();
  out += fmt::format("xref\n0 {}\n0000000000 65535 f \n", objects.size() + 1);
  for (const auto o : offsets) out += fmt::format("{:010} 00000 n \n", o);
  out += fmt::format("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{}\n%%EOF\n",
                     objects.size() + 1, xref);
  return out;
}

const std::string& bench_pdf() {
  static const std::string pdf = [] {
    if (const char* path = std::getenv("KOFU_BENCH_PDF")) {
      std::ifstream in(path, std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), {});
    }
    return builtin_page();
  }();
  return pdf;
}

void BM_ReadPdf(benchmark::State& state) {
  const std::string& pdf = bench_pdf();
  std::size_t pages = 0;
  for (auto _ : state) {
    auto reading = kofu::print::read_pdf(pdf);
    pages = reading.pages.size();
    benchmark::DoNotOptimize(reading);
  }
  state.counters["pages"] = static_cast<double>(pages);
  state.counters["per_page_us"] =
      benchmark::Counter(static_cast<double>(state.iterations()) *
                             static_cast<double>(std::max<std::size_t>(pages, 1)),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * pdf.size()));
}
BENCHMARK(BM_ReadPdf)->Unit(benchmark::kMicrosecond);

void BM_MapRecordedPages(benchmark::State& state) {
  const auto body =
      nlohmann::json{{"print", kofu::print::to_json(kofu::print::read_pdf(bench_pdf()))}};
  const auto decoder =
      kofu::driver::make_print_decoder(kofu::driver::print_layout::reference(), nullptr);
  for (auto _ : state) {
    auto decoded = decoder->decode(body, false);
    benchmark::DoNotOptimize(decoded);
  }
}
BENCHMARK(BM_MapRecordedPages)->Unit(benchmark::kMicrosecond);

}  // namespace
