#include "kofu/verify/finding.hpp"

#include <fmt/format.h>

namespace kofu::verify {
namespace {

std::string seconds(std::int64_t ns) {
  return fmt::format("{:.3f} s", static_cast<double>(ns) / 1e9);
}

std::string time_text(std::int64_t ns) {
  if (ns == std::numeric_limits<std::int64_t>::min()) return "before the run";
  if (ns == std::numeric_limits<std::int64_t>::max()) return "never";
  return seconds(ns);
}

std::string first_diff_en(const finding& f) {
  if (f.diffs.empty()) return {};
  const field_diff& d = f.diffs.front();
  std::string s = fmt::format(" The field {} reads \"{}\"", d.path, d.printed);
  if (!d.expected.empty()) s += fmt::format(" where \"{}\" was expected", d.expected);
  if (!d.source.empty()) s += fmt::format(" (source: {})", d.source);
  s += '.';
  if (f.diffs.size() > 1) s += fmt::format(" {} more field(s) differ.", f.diffs.size() - 1);
  return s;
}

std::string first_diff_ja(const finding& f) {
  if (f.diffs.empty()) return {};
  const field_diff& d = f.diffs.front();
  std::string s = fmt::format("項目 {} は「{}」", d.path, d.printed);
  if (!d.expected.empty()) s += fmt::format("（正しくは「{}」）", d.expected);
  if (!d.source.empty()) s += fmt::format("、出所: {}", d.source);
  s += "。";
  if (f.diffs.size() > 1) s += fmt::format("ほか {} 項目が異なります。", f.diffs.size() - 1);
  return s;
}

}  // namespace

std::string_view to_string(finding_kind kind) {
  switch (kind) {
    case finding_kind::wrong_person:
      return "WRONG_PERSON";
    case finding_kind::foreign_data:
      return "FOREIGN_DATA";
    case finding_kind::torn:
      return "TORN";
    case finding_kind::aborted:
      return "ABORTED";
    case finding_kind::stale:
      return "STALE";
    case finding_kind::phantom:
      return "PHANTOM";
    case finding_kind::wrong_document:
      return "WRONG_DOCUMENT";
    case finding_kind::not_issuable:
      return "NOT_ISSUABLE";
    case finding_kind::tag_mismatch:
      return "TAG_MISMATCH";
    case finding_kind::duplicate:
      return "DUPLICATE";
    case finding_kind::digest_invalid:
      return "DIGEST_INVALID";
    case finding_kind::malformed:
      return "MALFORMED";
  }
  return "MALFORMED";
}

std::optional<finding_kind> parse_finding_kind(std::string_view name) {
  for (const finding_kind k : all_finding_kinds) {
    if (to_string(k) == name) return k;
  }
  return std::nullopt;
}

void explain(finding& f) {
  const std::string head_en = fmt::format(
      "Request {} ({}) for resident {} was sent at {} and answered at {}.", f.application_number,
      f.certificate_type, f.requested_resident, seconds(f.sent_ns), seconds(f.received_ns));
  const std::string head_ja = fmt::format(
      "申請番号 {}（{}、住民 {}）は {} に送信され、{} に応答されました。", f.application_number,
      f.certificate_type, f.requested_resident, seconds(f.sent_ns), seconds(f.received_ns));
  std::string en;
  std::string ja;
  std::string victim_req_en;
  std::string victim_req_ja;
  if (f.victim_request_id && f.victim_request_preceded) {
    victim_req_en = fmt::format(
        " That data belonged to request {} ({}), answered before this one was sent without "
        "receiving it (a shift).",
        f.victim_application_number, *f.victim_request_id);
    victim_req_ja = fmt::format(
        "このデータは、本申請の送信前に応答され自分の証明書を受け取れなかった申請 {}（{}）のもの"
        "です（ずれ）。",
        f.victim_application_number, *f.victim_request_id);
  } else if (f.victim_request_id) {
    victim_req_en = fmt::format(
        " That data belonged to request {} ({}), which was in progress at the same time.",
        f.victim_application_number, *f.victim_request_id);
    victim_req_ja = fmt::format("このデータは同時に処理中だった申請 {}（{}）のものです。",
                                f.victim_application_number, *f.victim_request_id);
  } else if (f.victim_request_candidates >= 2 && f.kind != finding_kind::tag_mismatch &&
             f.kind != finding_kind::duplicate) {
    victim_req_en = fmt::format(
        " {} requests for that resident could have been its source; the timing does not tell "
        "which.",
        f.victim_request_candidates);
    victim_req_ja =
        fmt::format("その住民の申請 {} 件のどれがこのデータの出所かは、時刻からは特定できません。",
                    f.victim_request_candidates);
  }
  switch (f.kind) {
    case finding_kind::wrong_person:
      en = fmt::format(
          " The certificate handed out is resident {}'s, not the requester's; that "
          "resident's data was {}.{}",
          f.victim_resident, f.victim_data_current ? "current" : "not even current", victim_req_en);
      ja = fmt::format(
          "交付された証明書は申請者本人ではなく住民 {} のものでした（そのデータは{}）。{}",
          f.victim_resident, f.victim_data_current ? "最新" : "最新ではありません", victim_req_ja);
      break;
    case finding_kind::foreign_data:
      en = fmt::format(
          " The certificate is the requester's, but part of it comes from another "
          "resident{}.{}",
          f.victim_resident.empty() ? "" : " (" + f.victim_resident + ")", victim_req_en);
      ja = fmt::format("証明書は本人のものですが、一部が別の住民{}のデータです。{}",
                       f.victim_resident.empty() ? "" : "（" + f.victim_resident + "）",
                       victim_req_ja);
      break;
    case finding_kind::torn:
      en = " The certificate mixes fields from different versions of the same record, so it shows "
           "a state that never existed.";
      ja = "同じ住民記録の異なる版の項目が混在しており、実在しなかった状態を証明しています。";
      break;
    case finding_kind::aborted:
      en = " The certificate shows a change that the registry rejected (a failed update).";
      ja = "証明書に、失敗して反映されなかった異動の内容が印字されています。";
      break;
    case finding_kind::stale:
      en = fmt::format(
          " The certificate shows an old version: it was replaced {} before the request "
          "was sent ({} version(s) behind), beyond the allowed delay.",
          seconds(f.lag_ns), f.lag_versions);
      ja = fmt::format(
          "証明書は古い版の内容です。申請の {} 前に更新済みで（{} "
          "版遅れ）、許容範囲を超えています。",
          seconds(f.lag_ns), f.lag_versions);
      break;
    case finding_kind::phantom:
      en = " The certificate shows a version or value that no update had produced by then, or "
           "that exists in no record.";
      ja = "証明書に、その時点でまだ存在しない版、またはどの記録にも存在しない値が印字されています"
           "。";
      break;
    case finding_kind::wrong_document:
      en = " The document is not what was asked for (type, scope or optional items differ).";
      ja = "請求と異なる証明書です（種類・範囲・記載事項の選択が違います）。";
      break;
    case finding_kind::not_issuable:
      en = " A certificate was issued although the record forbade it at that time (seal "
           "cancelled or resident removed).";
      ja = "その時点で交付できない記録（印鑑登録廃止・消除など）にもかかわらず証明書が交付されまし"
           "た。";
      break;
    case finding_kind::tag_mismatch:
      en = fmt::format(" The answer carries another application number{}.",
                       f.victim_request_id
                           ? fmt::format(" (it belongs to request {})", *f.victim_request_id)
                           : std::string());
      ja = fmt::format("応答の申請番号が本申請のものではありません{}。",
                       f.victim_request_id ? fmt::format("（申請 {} のもの）", *f.victim_request_id)
                                           : std::string());
      break;
    case finding_kind::duplicate:
      en = fmt::format(" The same certificate serial or application number was answered twice{}.",
                       f.victim_request_id
                           ? fmt::format(" (also to request {})", *f.victim_request_id)
                           : std::string());
      ja = fmt::format("同じ証明書番号または申請番号が二度応答されました{}。",
                       f.victim_request_id ? fmt::format("（申請 {} にも）", *f.victim_request_id)
                                           : std::string());
      break;
    case finding_kind::digest_invalid:
      en = " The digest does not match the certificate's content: it was altered or assembled "
           "from different pieces.";
      ja = "ダイジェストが証明書の内容と一致しません。内容が改変されたか、別々の部品から組み立てら"
           "れています。";
      break;
    case finding_kind::malformed:
      en = fmt::format(" The answer cannot be read as a certificate ({}).", f.detail);
      ja = fmt::format("応答を証明書として読み取れません（{}）。", f.detail);
      break;
  }
  f.explanation_en = head_en + en + first_diff_en(f);
  f.explanation_ja = head_ja + ja + first_diff_ja(f);
}

nlohmann::json to_json(const finding& f) {
  nlohmann::json diffs = nlohmann::json::array();
  for (const auto& d : f.diffs) {
    diffs.push_back(
        {{"path", d.path}, {"printed", d.printed}, {"expected", d.expected}, {"source", d.source}});
  }
  nlohmann::json versions = nlohmann::json::array();
  for (const auto& v : f.expected_versions) {
    versions.push_back({{"resident_id", v.resident_id},
                        {"version", v.version},
                        {"visible_from", time_text(v.visible_from_ns)},
                        {"superseded_at", time_text(v.superseded_ns)},
                        {"allowed", v.allowed}});
  }
  nlohmann::json evidence = {
      {"request",
       {{"id", f.request_id},
        {"application_number", f.application_number},
        {"resident_id", f.requested_resident},
        {"certificate_type", f.certificate_type},
        {"channel", f.channel},
        {"worker", f.worker},
        {"conn", f.conn},
        {"sent_ns", f.sent_ns},
        {"received_ns", f.received_ns}}},
      {"answer", f.answer},
      {"expected_versions", versions},
      {"diff", diffs},
      {"detail", f.detail},
  };
  nlohmann::json j = {{"kind", to_string(f.kind)},
                      {"application_number", f.application_number},
                      {"requested_resident", f.requested_resident},
                      {"request_id", f.request_id},
                      {"evidence", evidence},
                      {"explanation", {{"en", f.explanation_en}, {"ja", f.explanation_ja}}}};
  if (!f.victim_resident.empty()) {
    j["victim_resident"] = f.victim_resident;
    if (f.kind == finding_kind::wrong_person) j["victim_data_current"] = f.victim_data_current;
  }
  if (f.victim_request_id) {
    j["victim_request"] = {{"id", *f.victim_request_id},
                           {"application_number", f.victim_application_number}};
    if (f.kind == finding_kind::wrong_person || f.kind == finding_kind::foreign_data) {
      j["victim_request"]["preceded"] = f.victim_request_preceded;
    }
  }
  if (f.victim_request_candidates >= 2) {
    j["victim_request_candidates"] = f.victim_request_candidates;
  }
  if (f.kind == finding_kind::stale) {
    j["lag"] = {{"versions", f.lag_versions}, {"ms", static_cast<double>(f.lag_ns) / 1e6}};
  }
  return j;
}

}  // namespace kofu::verify
