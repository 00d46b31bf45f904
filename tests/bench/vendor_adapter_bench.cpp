// Cost per answer of reading a vendor's answer into the certificate model (issue 11): the
// vendor-ja profile's adapter (JSON pointers; one variant with jq programs) beside the reference
// protocol's decoder, on the same kind of certificate, plus the renderings the model needs.
//
//   BM_ReferenceDecodeText   decode_answer_text on a canonical reference answer (no digest)
//   BM_VendorParseAndDecode  nlohmann parse of a vendor-ja answer + the profile's decoder
//   BM_VendorDecode          the profile's decoder on an already parsed answer
//   BM_VendorDecodeJq        the same with the result code, serial and version read by jq
//   BM_VendorClassify        the body-coded outcome (result code) of an answer
//   BM_RenderRecord          rendering one record the vendor's way (model build, per version)
// Figures: docs/decisions.md (vendor adapter). Run from a release build.

#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "kofu/driver/vendor_profile.hpp"
#include "kofu/population/generator.hpp"
#include "kofu/verify/canonical_json.hpp"

namespace {

using json = nlohmann::json;
using kofu::driver::vendor_profile;
using kofu::population::resident;

const std::vector<resident>& pop() {
  static const auto p = [] {
    kofu::population::generator g({200, 3, 0.2});
    std::vector<resident> out;
    while (g.next_group(out)) {
    }
    return out;
  }();
  return p;
}

vendor_profile load(bool jq) {
  auto p = vendor_profile::load(KOFU_SOURCE_DIR "/scenarios/profiles/vendor-ja.json");
  if (!p) std::abort();
  if (!jq) return *p;
  json doc = p->document();
  doc["issue"]["outcome"]["code"] = json{{"jq", ".[\"処理結果\"][\"コード\"]"}};
  doc["issue"]["answer"]["serial"] = json{{"jq", ".[\"交付番号\"]"}};
  doc["issue"]["answer"]["version"] = json{{"jq", ".[\"版数\"]"}};
  auto q = vendor_profile::parse(doc, "bench");
  if (!q) std::abort();
  return *q;
}

std::string wide(const std::string& a, const std::string& b) { return a + "\u3000" + b; }

json vendor_answer(const resident& r) {
  const auto& a = r.address;
  return {
      {"処理結果", {{"コード", "0000"}, {"メッセージ", "正常終了"}}},
      {"申請番号", "KOFU-000001-0000000042"},
      {"証明書",
       {{"種別", "11"},
        {"交付番号", "C-1-000000000123"},
        {"交付日時", "2026-12-07T15:00:00.000+09:00"},
        {"版数", 3},
        {"記載者", json::array({{{"頁", 1},
                                 {"住民票コード", r.resident_id},
                                 {"氏名", wide(r.name.family_kanji, r.name.given_kanji)},
                                 {"氏名カナ", wide(r.name.family_kana, r.name.given_kana)},
                                 {"生年月日", "昭和53年3月14日"},
                                 {"性別", "女"},
                                 {"住所", "〒" + a.postal_code + "\u3000" + a.prefecture + a.city +
                                              a.town + a.banchi + "\u3000" + a.building},
                                 {"住民となった日", "平成23年6月15日"},
                                 {"世帯主", "髙橋\u3000健一"}}})}}}};
}

std::string reference_answer(const resident& r) {
  json cert = {{"type", "juminhyo"},
               {"serial", "C-1-000000000123"},
               {"issued_at", "2026-12-07T06:00:00.000Z"},
               {"subject", {{"resident_id", r.resident_id}, {"card_serial", r.card_serial}}},
               {"source_version", 3},
               {"persons", json::array({{{"resident_id", r.resident_id},
                                         {"source_version", 3},
                                         {"page", 1},
                                         {"name",
                                          {{"family_kanji", r.name.family_kanji},
                                           {"given_kanji", r.name.given_kanji},
                                           {"family_kana", r.name.family_kana},
                                           {"given_kana", r.name.given_kana}}},
                                         {"birth_date", r.birth_date},
                                         {"sex", "female"},
                                         {"address",
                                          {{"postal_code", r.address.postal_code},
                                           {"prefecture", r.address.prefecture},
                                           {"city", r.address.city},
                                           {"town", r.address.town},
                                           {"banchi", r.address.banchi},
                                           {"building", r.address.building},
                                           {"token", r.address.token}}},
                                         {"moved_in_date", r.moved_in_date},
                                         {"household_head", "髙橋 健一"}}})}};
  json body = {
      {"application_number", "KOFU-000001-0000000042"}, {"certificate", cert}, {"digest", "00"}};
  return kofu::verify::canonical_json(body);
}

void BM_ReferenceDecodeText(benchmark::State& state) {
  const std::string text = reference_answer(pop()[5]);
  for (auto _ : state) {
    auto a = kofu::verify::decode_answer_text(text, false, false);
    benchmark::DoNotOptimize(a);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}

void BM_VendorParseAndDecode(benchmark::State& state) {
  const auto p = load(false);
  const std::string text = vendor_answer(pop()[5]).dump();
  for (auto _ : state) {
    auto body = json::parse(text);
    auto a = p.decoder()->decode(body, false);
    benchmark::DoNotOptimize(a);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}

void BM_VendorDecode(benchmark::State& state) {
  const auto p = load(state.range(0) != 0);
  const json body = vendor_answer(pop()[5]);
  for (auto _ : state) {
    auto a = p.decoder()->decode(body, false);
    if (a.malformed || !a.missing.empty()) state.SkipWithError("the answer did not decode");
    benchmark::DoNotOptimize(a);
  }
}

void BM_VendorClassify(benchmark::State& state) {
  const auto p = load(state.range(0) != 0);
  const json body = vendor_answer(pop()[5]);
  std::string error;
  for (auto _ : state) {
    auto outcome = p.classify_issue(200, body, error);
    if (outcome != "ok") state.SkipWithError("not ok");
    benchmark::DoNotOptimize(outcome);
  }
}

void BM_RenderRecord(benchmark::State& state) {
  const auto p = load(false);
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = p.rendering()->render(pop()[i++ % pop().size()]);
    benchmark::DoNotOptimize(r);
  }
}

}  // namespace

BENCHMARK(BM_ReferenceDecodeText);
BENCHMARK(BM_VendorParseAndDecode);
BENCHMARK(BM_VendorDecode)->Arg(0)->Arg(1)->ArgNames({"jq"});
BENCHMARK(BM_VendorClassify)->Arg(0)->Arg(1)->ArgNames({"jq"});
BENCHMARK(BM_RenderRecord);
