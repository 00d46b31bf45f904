// libFuzzer target: the answer path — an HTTP answer's body decoded into the certificate model
// (decode_answer_text: strict reading, nlohmann fallback, digest), its evidence copy, and the
// report's bounding of a finding that carries it.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kofu/common/json_depth.hpp"
#include "kofu/reports/report_json.hpp"
#include "kofu/verify/certificate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)kofu::json_nesting_depth(body, kofu::max_answer_depth);
  const auto answer = kofu::verify::decode_answer_text(body, true, true);
  (void)kofu::verify::decode_answer_text(body, false, false);
  nlohmann::json finding = {{"kind", "MALFORMED"},
                            {"evidence", {{"answer", answer.evidence()}, {"detail", body}}}};
  if (answer.malformed) finding["evidence"]["detail"] = *answer.malformed;
  kofu::reports::bound_evidence(finding);
  (void)finding.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
