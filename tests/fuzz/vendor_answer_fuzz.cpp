// libFuzzer target: a vendor's answer body through everything the driver and the verifier do with
// it under the vendor-ja profile (scenarios/profiles/vendor-ja.json, loaded once): the issue
// answer's classification (status classes and the body-coded result code) and mapping, the
// adapter into the certificate model (decoder()->decode) with its evidence copy and the report's
// bounding, and the update, reflection batch and maintenance answer mappings. As in the driver,
// a body nested deeper than max_answer_depth is withheld and never parsed.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "kofu/common/json_depth.hpp"
#include "kofu/driver/vendor_profile.hpp"
#include "kofu/reports/report_json.hpp"
#include "kofu/verify/certificate.hpp"

namespace {

using nlohmann::json;

const kofu::driver::vendor_profile& profile() {
  static const kofu::driver::vendor_profile loaded = [] {
    auto p =
        kofu::driver::vendor_profile::load(KOFU_SOURCE_DIR "/scenarios/profiles/vendor-ja.json");
    if (!p) {
      std::fprintf(stderr, "fuzz_vendor_answer: %s\n", p.error().message.c_str());
      std::abort();
    }
    return *std::move(p);
  }();
  return loaded;
}

void bound(const json& evidence, const std::string& detail) {
  json finding = {{"kind", "MALFORMED"}, {"evidence", {{"answer", evidence}, {"detail", detail}}}};
  kofu::reports::bound_evidence(finding);
  (void)finding.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& p = profile();
  const std::string body(reinterpret_cast<const char*>(data), size);
  if (!kofu::json_depth_within(body, kofu::max_answer_depth)) return 0;  // withheld, not parsed
  const auto doc = json::parse(body, nullptr, false);
  const json& parsed = doc.is_discarded() ? json(body) : doc;
  for (const unsigned status : {200u, 400u, 409u, 503u, 299u}) {
    std::string error;
    const auto outcome = p.classify_issue(status, parsed, error);
    (void)p.issue_result_code(parsed);
    (void)p.map_issue_answer(status, body);
    if (outcome == "ok" && !doc.is_discarded()) {
      const auto answer = p.decoder()->decode(doc, true);
      bound(answer.evidence(), answer.malformed ? *answer.malformed : error);
    }
    if (p.maps_updates()) {
      (void)p.map_update_answer(status, body);
      (void)p.update_result_code(parsed);
    }
    if (p.maps_reflection_batches()) (void)p.map_batch_answer(status, body, 3);
    if (p.maps_maintenance()) (void)p.map_maintenance_status(status, body);
  }
  return 0;
}
