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

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "../harness/print/mini_pdf.hpp"
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
  return kofu::print::test::pages_pdf({content});
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
  state.counters["s_per_page"] =
      benchmark::Counter(static_cast<double>(state.iterations()) *
                             static_cast<double>(std::max<std::size_t>(pages, 1)),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(pdf.size()));
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
