// Cost of kofu-mock's PDF print data (--print-format pdf, docs/print-data.md) against the JSON
// answer it is drawn from, on the same certificates (names with 髙, 𠮷 and an IVS):
//
//   BM_DumpAnswerJson      the JSON answer text (nlohmann dump of the parsed answer): the baseline
//   BM_LayOutCertificate   answer → positioned pages (no drawing)
//   BM_WritePdf/1          one page: a one-person 住民票, shaped, drawn, fonts subset and embedded
//   BM_WritePdf/3          a three-person household 住民票 (two pages)
//   BM_WritePdfSeal        印鑑登録証明書: one page, the seal image drawn and attached
//   ->Threads(2)           the same on two threads at once (rendering is thread-safe)
// Figures: docs/decisions.md (PDF print data). Run from a release build.

#include <benchmark/benchmark.h>

#include <variant>

#include <nlohmann/json.hpp>

#include "certificate_pages.hpp"
#include "pdf_writer.hpp"

namespace {

using nlohmann::json;

constexpr const char* kSealPng =
    "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAATElEQVR4nGP4TyJgoI6GAwICEERYA1wpMsKpAaupaIIM+"
    "FVjSqFowKoaTZaBoPFoCuimgWQ/4LcEeyjh0oMzHpCliY1pTG2YUiSnVgCuQo87Ym7YiAAAAABJRU5ErkJggg==";

json person(int i) {
  static const char* kGiven[] = {"健一", "辻\U000E0100子", "翔太"};
  return {{"resident_id", "4821390657" + std::to_string(i)},
          {"source_version", 3},
          {"page", 1},
          {"name",
           {{"family_kanji", "葛\U000E0100西"},
            {"given_kanji", kGiven[i % 3]},
            {"family_kana", "カサイ"},
            {"given_kana", "ケンイチ"}}},
          {"birth_date", "1978-03-14"},
          {"sex", i % 2 == 0 ? "male" : "female"},
          {"address",
           {{"postal_code", "100-0001"},
            {"prefecture", "東京都"},
            {"city", "架空市"},
            {"town", "桜町三丁目"},
            {"banchi", "12番地3"},
            {"building", "コーポ𠮷髙 A0K4F2M9QX"},
            {"token", "A0K4F2M9QX"}}},
          {"moved_in_date", "2011-06-15"},
          {"household_head", "葛\U000E0100西 健一"}};
}

json answer(const std::string& type, int persons) {
  json certificate = {{"type", type},
                      {"serial", "C-1-000000000123"},
                      {"issued_at", "2026-11-22T05:30:00.123Z"},
                      {"subject", {{"resident_id", "48213906570"}, {"card_serial", "9F3A"}}},
                      {"source_version", 3},
                      {"persons", json::array()}};
  for (int i = 0; i < persons; ++i) certificate["persons"].push_back(person(i));
  if (type == "inkan") {
    certificate["persons"][0].erase("moved_in_date");
    certificate["persons"][0].erase("household_head");
    certificate["seal"] = {{"registration_number", "IN00001000"},
                           {"image_png_base64", kSealPng},
                           {"image_sha256", "-"}};
  }
  return {{"application_number", "KOFU-000001-0000000042"},
          {"certificate", certificate},
          {"digest", "-"}};
}

kofu::mock::print_document lay_out(const json& a) {
  auto laid_out = kofu::mock::lay_out_certificate(a);
  if (!std::holds_alternative<kofu::mock::print_document>(laid_out)) std::abort();
  return std::get<kofu::mock::print_document>(std::move(laid_out));
}

void BM_DumpAnswerJson(benchmark::State& state) {
  const auto a = answer("juminhyo", static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(a.dump());
}
BENCHMARK(BM_DumpAnswerJson)->Arg(1)->Arg(3);

void BM_LayOutCertificate(benchmark::State& state) {
  const auto a = answer("juminhyo", static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(kofu::mock::lay_out_certificate(a));
}
BENCHMARK(BM_LayOutCertificate)->Arg(1)->Arg(3);

void BM_WritePdf(benchmark::State& state) {
  const auto document = lay_out(answer("juminhyo", static_cast<int>(state.range(0))));
  kofu::mock::load_print_fonts();
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto pdf = kofu::mock::write_pdf(document);
    if (!pdf.error.empty()) state.SkipWithError(pdf.error.c_str());
    bytes = pdf.bytes.size();
  }
  state.counters["pdf_bytes"] = static_cast<double>(bytes);
  state.counters["pages"] = static_cast<double>(document.pages.size());
}
BENCHMARK(BM_WritePdf)->Arg(1)->Arg(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WritePdf)->Arg(1)->Unit(benchmark::kMillisecond)->Threads(2)->UseRealTime();

void BM_WritePdfSeal(benchmark::State& state) {
  const auto document = lay_out(answer("inkan", 1));
  kofu::mock::load_print_fonts();
  for (auto _ : state) {
    auto pdf = kofu::mock::write_pdf(document);
    if (!pdf.error.empty()) state.SkipWithError(pdf.error.c_str());
  }
}
BENCHMARK(BM_WritePdfSeal)->Unit(benchmark::kMillisecond);

}  // namespace
