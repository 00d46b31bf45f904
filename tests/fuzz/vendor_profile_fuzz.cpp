// libFuzzer target: a vendor profile document through the loader (vendor_profile::parse on the
// JSON, as vendor_profile::load reads a file: sections, status classes, templates with their
// filters, JSON pointers and jq programs), and, when it loads, one issue request and one update
// request built (templates filled, `when` programs run on the change) and one answer classified
// and decoded. Any input must end as a profile or an error value: no crash, no hang (the loader
// refuses jq programs that could loop: jq_expression.hpp), no sanitizer report.

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "kofu/driver/vendor_profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using nlohmann::json;
  const auto doc = json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded()) return 0;
  const auto p = kofu::driver::vendor_profile::parse(doc, "fuzz.json");
  if (!p) return 0;
  (void)p->issue_request({"KOFU-000001-0000000007", "konbini", "juminhyo", "ABCDEF0123456789",
                          "48213906575", true, false, true, false});
  if (p->maps_updates()) {
    const kofu::driver::change_fields seal{
        "48213906575", 7, 3, "seal",
        json{{"seal", {{"status", "cancelled"}, {"registration_number", "IN00000001"}}}}};
    (void)p->update_request(seal);
  }
  const std::string answer =
      R"({"処理結果":{"コード":"0000"},"申請番号":"A-1","application_number":"A-1",)"
      R"("証明書":{"種別":"11","交付番号":"C-1","版数":2,"記載者":[{"頁":1,"住民票コード":)"
      R"("48213906575","氏名":"髙橋　花子","生年月日":"昭和53年3月14日"}]},)"
      R"("certificate":{"type":"juminhyo","version":2},"digest":"sha256:00"})";
  const auto mapped = p->map_issue_answer(200, answer);
  if (mapped.outcome == "ok" && p->decoder()) (void)p->decoder()->decode(json::parse(answer), true);
  return 0;
}
