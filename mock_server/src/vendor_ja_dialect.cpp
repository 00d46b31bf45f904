#include "vendor_ja_dialect.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <span>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <nlohmann/json.hpp>

#include "issue_request.hpp"
#include "kofu/mock/registry.hpp"
#include "paper_renderings.hpp"
#include "sha256.hpp"
#include "wareki.hpp"

namespace kofu::mock {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using nlohmann::json;
using vendor_json = nlohmann::ordered_json;  // vendor answers keep the key order of the spec

using paper::address_line;
using paper::base64_decode;
using paper::full_width_spaces;
using paper::sex;
using paper::text;
using paper::wareki_date;

namespace {

constexpr std::string_view kIssuePath = "/api/koufu/v2/shinsei";
constexpr std::string_view kIdoPath = "/api/jukiren/v1/ido";
constexpr std::string_view kBatchPath = "/api/jukiren/v1/ido/ikkatsu";
constexpr std::string_view kMaintenancePath = "/api/kanri/v1/hoshu";

// ---------------------------------------------------------------------------------------------
// Answers

http_reply vendor_reply(unsigned status, const vendor_json& j) {
  return {status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
          "application/json"};
}

// {"処理結果": {"コード", "メッセージ"?}} followed by `rest`'s members, under HTTP `status`.
http_reply result(std::string_view code, std::string_view message, vendor_json rest = {},
                  unsigned status = 200) {
  vendor_json head = {{"コード", code}};
  if (!message.empty()) head["メッセージ"] = message;
  vendor_json out = {{"処理結果", std::move(head)}};
  if (rest.is_object()) {
    for (auto it = rest.begin(); it != rest.end(); ++it) out[it.key()] = std::move(it.value());
  }
  return vendor_reply(status, out);
}

// A body that is not JSON at all keeps the reference status (docs/vendor-ja.md).
http_reply not_json() { return result("E400", "本文がJSONではありません", {}, 400); }

// "項目 'path': reason" — every E400 names the field.
std::string field_error(std::string_view path, std::string_view reason) {
  return fmt::format("項目 '{}': {}", path, reason);
}

// ---------------------------------------------------------------------------------------------
// Value tables

struct code_pair {
  std::string_view vendor;
  std::string_view reference;
};
constexpr std::array<code_pair, 3> kChannels = {{
    {"CVS", "konbini"},
    {"MADO", "window"},
    {"KIOSK", "kiosk"},
}};
// juminhyo_kisai is not offered.
constexpr std::array<code_pair, 6> kTypes = {{
    {"11", "juminhyo"},
    {"21", "inkan"},
    {"31", "koseki_zenbu"},
    {"32", "koseki_kojin"},
    {"33", "koseki_fuhyo"},
    {"41", "kazei"},
}};

std::optional<std::string_view> to_reference(std::span<const code_pair> table,
                                             std::string_view vendor) {
  for (const auto& p : table) {
    if (p.vendor == vendor) return p.reference;
  }
  return std::nullopt;
}

std::optional<std::string_view> to_vendor(std::span<const code_pair> table,
                                          std::string_view reference) {
  for (const auto& p : table) {
    if (p.reference == reference) return p.vendor;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Renderings of the reference certificate (docs/vendor-ja.md, "Renderings")

// The string at `key`, or "" when it is missing or not a string.
// "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) → the same instant as "…+09:00" (JST); any other text as is.
std::string jst(const std::string& utc) {
  const auto field = [&](std::size_t at, std::size_t n, int& out) {
    auto [p, ec] = std::from_chars(utc.data() + at, utc.data() + at + n, out);
    return ec == std::errc() && p == utc.data() + at + n;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
  if (utc.size() != 24 || utc[4] != '-' || utc[7] != '-' || utc[10] != 'T' || utc[13] != ':' ||
      utc[16] != ':' || utc[19] != '.' || utc[23] != 'Z' || !field(0, 4, y) || !field(5, 2, mo) ||
      !field(8, 2, d) || !field(11, 2, h) || !field(14, 2, mi) || !field(17, 2, s) ||
      !field(20, 3, ms)) {
    return utc;
  }
  namespace chr = std::chrono;
  const chr::year_month_day date{chr::year{y}, chr::month{static_cast<unsigned>(mo)},
                                 chr::day{static_cast<unsigned>(d)}};
  if (!date.ok()) return utc;
  const auto local = chr::sys_days{date} + chr::hours{h + 9} + chr::minutes{mi} + chr::seconds{s};
  const auto local_day = chr::floor<chr::days>(local);
  const chr::year_month_day ld{local_day};
  const chr::hh_mm_ss time_of_day{local - local_day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+09:00", static_cast<int>(ld.year()),
                     static_cast<unsigned>(ld.month()), static_cast<unsigned>(ld.day()),
                     time_of_day.hours().count(), time_of_day.minutes().count(),
                     time_of_day.seconds().count(), ms);
}

// One entry of 記載者 from a reference person: exactly the fields the reference printed.
vendor_json person_entry(const json& p) {
  vendor_json out;
  out["頁"] = p.value("page", 1);
  out["住民票コード"] = text(p, "resident_id");
  const auto& name = p.contains("name") ? p["name"] : json();
  out["氏名"] = paper::kanji_name(name);
  out["氏名カナ"] = paper::kana_name(name);
  out["生年月日"] = wareki_date(text(p, "birth_date"));
  out["性別"] = sex(text(p, "sex"));
  if (p.contains("address")) out["住所"] = address_line(p["address"]);
  if (p.contains("moved_in_date")) out["住民となった日"] = wareki_date(text(p, "moved_in_date"));
  if (p.contains("household_head")) out["世帯主"] = full_width_spaces(text(p, "household_head"));
  if (p.contains("relationship")) out["続柄"] = text(p, "relationship");
  if (p.contains("honseki")) out["本籍"] = text(p, "honseki");
  if (p.contains("hittousha")) out["筆頭者"] = full_width_spaces(text(p, "hittousha"));
  if (p.contains("mynumber")) out["個人番号"] = text(p, "mynumber");
  if (p.contains("koseki_relationship")) out["戸籍上の続柄"] = text(p, "koseki_relationship");
  return out;
}

// The 0000 result from a reference 200 answer (the print data as printed).
http_reply issued(const json& answer) {
  const auto& cert = answer["certificate"];
  const auto type = text(cert, "type");
  vendor_json c;
  // Every type the pipeline prints has a code, except juminhyo_kisai, which only an instance
  // speaking the reference protocol can have spooled: it keeps its reference name.
  c["種別"] = to_vendor(kTypes, type).value_or(type);
  c["交付番号"] = text(cert, "serial");
  c["交付日時"] = jst(text(cert, "issued_at"));
  // 版数: the highest version among the records printed, not the subject's.
  std::int64_t version = cert.value("source_version", std::int64_t{0});
  vendor_json persons = vendor_json::array();
  if (cert.contains("persons") && cert["persons"].is_array()) {
    for (const auto& p : cert["persons"]) {
      version = std::max(version, p.value("source_version", std::int64_t{0}));
      persons.push_back(person_entry(p));
    }
  }
  c["版数"] = version;
  c["記載者"] = std::move(persons);
  if (cert.contains("seal")) {
    c["印鑑登録番号"] = text(cert["seal"], "registration_number");
    c["印影画像"] = text(cert["seal"], "image_png_base64");
  }
  if (cert.contains("tax")) {
    static constexpr std::array<std::pair<const char*, const char*>, 5> kTax = {{
        {"年度", "fiscal_year"},
        {"所得金額", "income"},
        {"課税標準額", "taxable_income"},
        {"市町村民税額", "municipal_tax"},
        {"道府県民税額", "prefectural_tax"},
    }};
    vendor_json tax = vendor_json::object();
    for (const auto& [vendor, reference] : kTax) {
      if (cert["tax"].contains(reference)) tax[vendor] = cert["tax"][reference];
    }
    c["課税"] = std::move(tax);
  }
  if (cert.contains("koseki")) {
    c["戸籍"] = {{"本籍", text(cert["koseki"], "honseki")},
                 {"筆頭者", full_width_spaces(text(cert["koseki"], "hittousha"))}};
  }
  return result("0000", "正常終了",
                {{"申請番号", text(answer, "application_number")}, {"証明書", std::move(c)}});
}

// ---------------------------------------------------------------------------------------------
// Request parsing

// A string of 1 to 128 bytes at `key` of `obj`, or the E400 message.
std::variant<std::string, std::string> required_text(const json& obj, const char* key,
                                                     const std::string& path,
                                                     std::size_t max = 128) {
  auto it = obj.find(key);
  if (it == obj.end())
    return std::variant<std::string, std::string>(std::in_place_index<1>,
                                                  field_error(path, "必須です"));
  if (!it->is_string() || it->get_ref<const std::string&>().empty() ||
      it->get_ref<const std::string&>().size() > max) {
    return std::variant<std::string, std::string>(
        std::in_place_index<1>,
        field_error(path, fmt::format("1〜{}バイトの文字列で指定してください", max)));
  }
  return std::variant<std::string, std::string>(std::in_place_index<0>, it->get<std::string>());
}

// The first key of `obj` not in `allowed`, as an E400 message; empty when there is none.
std::string unknown_key(const json& obj, std::initializer_list<std::string_view> allowed,
                        const std::string& prefix) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      return field_error(prefix + it.key(), "未定義の項目です");
    }
  }
  return {};
}

// The body of /shinsei as the pipeline's request, or the E400 message.
std::variant<issue_request, std::string> parse_shinsei(const json& j) {
  using out = std::variant<issue_request, std::string>;
  const auto fail = [](std::string message) {
    return out(std::in_place_index<1>, std::move(message));
  };
  if (!j.is_object()) return fail("本文はJSONオブジェクトで指定してください");
  if (auto e = unknown_key(j, {"申請番号", "受付区分", "証明書種別", "本人確認", "記載指定"}, "");
      !e.empty()) {
    return fail(e);
  }
  issue_request req;
  {
    auto v = required_text(j, "申請番号", "申請番号");
    if (v.index() == 1) return fail(std::get<1>(v));
    req.application_number = std::get<0>(std::move(v));
  }
  {
    auto v = required_text(j, "受付区分", "受付区分");
    if (v.index() == 1) return fail(std::get<1>(v));
    const auto channel = to_reference(kChannels, std::get<0>(v));
    if (!channel) {
      return fail(field_error(
          "受付区分",
          fmt::format("'{}' は受付区分にありません（CVS, MADO, KIOSK）", std::get<0>(v))));
    }
    req.channel = *channel;
  }
  {
    auto v = required_text(j, "証明書種別", "証明書種別");
    if (v.index() == 1) return fail(std::get<1>(v));
    const auto type = to_reference(kTypes, std::get<0>(v));
    if (!type) {
      return fail(
          field_error("証明書種別",
                      fmt::format("'{}' は取り扱っていない証明書種別です（11, 21, 31, 32, 33, 41）",
                                  std::get<0>(v))));
    }
    req.type = static_cast<std::size_t>(
        std::find(kCertificateTypes.begin(), kCertificateTypes.end(), *type) -
        kCertificateTypes.begin());
  }
  {
    auto subject = j.find("本人確認");
    if (subject == j.end()) return fail(field_error("本人確認", "必須です"));
    if (!subject->is_object()) {
      return fail(field_error("本人確認", "オブジェクトで指定してください"));
    }
    if (auto e = unknown_key(*subject, {"カードシリアル"}, "本人確認."); !e.empty()) return fail(e);
    auto v = required_text(*subject, "カードシリアル", "本人確認.カードシリアル");
    if (v.index() == 1) return fail(std::get<1>(v));
    req.card_serial = std::get<0>(std::move(v));
  }
  if (auto options = j.find("記載指定"); options != j.end()) {
    if (!options->is_object()) {
      return fail(field_error("記載指定", "オブジェクトで指定してください"));
    }
    if (auto e = unknown_key(*options, {"世帯全員", "本籍筆頭者", "続柄", "個人番号"}, "記載指定.");
        !e.empty()) {
      return fail(e);
    }
    for (auto it = options->begin(); it != options->end(); ++it) {
      if (!it->is_boolean()) {
        return fail(field_error("記載指定." + it.key(), "真偽値で指定してください"));
      }
      const bool on = it->get<bool>();
      if (it.key() == "世帯全員") req.household = on;
      if (it.key() == "本籍筆頭者") req.columns.honseki = on;
      if (it.key() == "続柄") req.columns.zokugara = on;
      if (it.key() == "個人番号") req.columns.mynumber = on;
    }
  }
  // Optional columns exist only on the 住民票の写し (as in parse_issue_request).
  if (req.type != kJuminhyo) req.columns = {};
  return req;
}

// The seal on record for a resident as the translation of 印鑑廃止 needs it: nullopt for an
// unknown resident, JSON null for none, else the seal object.
using seal_lookup = std::function<std::optional<json>(const std::string& resident_id)>;

// One 異動 (a /ido body, or an element of 異動一覧 at `path`) as the reflection service's change,
// or the E400 message naming the field.
std::variant<resident_change, std::string> parse_ido(const json& j, const std::string& path,
                                                     const seal_lookup& current_seal) {
  using out = std::variant<resident_change, std::string>;
  const auto fail = [](std::string message) {
    return out(std::in_place_index<1>, std::move(message));
  };
  const auto at = [&](std::string_view key) {
    return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
  };
  if (!j.is_object()) {
    return fail(path.empty() ? std::string("本文はJSONオブジェクトで指定してください")
                             : field_error(path, "オブジェクトで指定してください"));
  }
  if (auto e = unknown_key(j, {"住民票コード", "異動連番", "異動種別", "異動内容"}, at(""));
      !e.empty()) {
    // at("") ends in '.' for an element, is empty for the body.
    return fail(e);
  }
  resident_change c;
  {
    auto v = required_text(j, "住民票コード", at("住民票コード"));
    if (v.index() == 1) return fail(std::get<1>(v));
    c.resident_id = std::get<0>(std::move(v));
  }
  {
    auto it = j.find("異動連番");
    if (it == j.end()) return fail(field_error(at("異動連番"), "必須です"));
    const bool positive =
        (it->is_number_unsigned() && it->get<std::uint64_t>() >= 1 &&
         it->get<std::uint64_t>() <=
             static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) ||
        (it->is_number_integer() && !it->is_number_unsigned() && it->get<std::int64_t>() >= 1);
    if (!positive) return fail(field_error(at("異動連番"), "正の整数で指定してください"));
    c.change_id = it->get<std::int64_t>();
  }
  std::string kind;
  {
    auto v = required_text(j, "異動種別", at("異動種別"));
    if (v.index() == 1) return fail(std::get<1>(v));
    kind = std::get<0>(std::move(v));
  }
  auto content_it = j.find("異動内容");
  if (content_it == j.end()) return fail(field_error(at("異動内容"), "必須です"));
  const json& content = *content_it;
  const auto content_path = at("異動内容");
  if (!content.is_object()) {
    return fail(field_error(content_path, "オブジェクトで指定してください"));
  }
  // Every listed member of `obj` (at `obj_path`) present as a string, and no other member.
  const auto strings = [&](const json& obj, const std::string& obj_path,
                           std::initializer_list<std::string_view> keys,
                           std::initializer_list<std::string_view> objects = {}) -> std::string {
    std::vector<std::string_view> all(keys);
    all.insert(all.end(), objects.begin(), objects.end());
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (std::find(all.begin(), all.end(), it.key()) == all.end()) {
        return field_error(fmt::format("{}.{}", obj_path, it.key()),
                           fmt::format("異動種別 '{}' にない項目です", kind));
      }
    }
    for (const auto k : all) {
      const auto key = std::string(k);
      const auto p = fmt::format("{}.{}", obj_path, key);
      auto it = obj.find(key);
      if (it == obj.end()) return field_error(p, "必須です");
      const bool object = std::find(objects.begin(), objects.end(), k) != objects.end();
      if (object && !it->is_object()) return field_error(p, "オブジェクトで指定してください");
      if (!object && !it->is_string()) return field_error(p, "文字列で指定してください");
    }
    return {};
  };
  const auto non_empty = [&](const std::string& key) -> std::string {
    if (content[key].get_ref<const std::string&>().empty()) {
      return field_error(fmt::format("{}.{}", content_path, key), "空にはできません");
    }
    return {};
  };
  json fields;
  if (kind == "転居") {
    c.kind = "move";
    if (auto e = strings(content, content_path, {"住民となった日"}, {"住所"}); !e.empty()) {
      return fail(e);
    }
    const auto address_path = content_path + ".住所";
    const auto& a = content["住所"];
    if (auto e =
            strings(a, address_path, {"郵便番号", "都道府県", "市区町村", "町域", "番地", "方書"});
        !e.empty()) {
      return fail(e);
    }
    // The token is the last word of 方書 (ASCII or full-width space between words).
    std::string building = a["方書"].get<std::string>();
    std::string token = building;
    for (const std::string_view sep : {std::string_view(" "), paper::kFullWidthSpace}) {
      if (auto k = token.rfind(sep); k != std::string::npos) token = token.substr(k + sep.size());
    }
    if (token.empty()) {
      return fail(field_error(address_path + ".方書", "最後の語（住所トークン）がありません"));
    }
    const auto moved_in = wareki::to_iso(content["住民となった日"].get<std::string>());
    if (!moved_in) {
      return fail(field_error(content_path + ".住民となった日",
                              "和暦の日付（例: 令和元年5月1日）で指定してください"));
    }
    fields = {{"address",
               {{"postal_code", a["郵便番号"]},
                {"prefecture", a["都道府県"]},
                {"city", a["市区町村"]},
                {"town", a["町域"]},
                {"banchi", a["番地"]},
                {"building", building},
                {"token", token}}},
              {"moved_in_date", *moved_in}};
  } else if (kind == "氏名変更") {
    c.kind = "name";
    if (auto e = strings(content, content_path, {"氏", "名", "氏カナ", "名カナ"}); !e.empty()) {
      return fail(e);
    }
    fields = {{"name",
               {{"family_kanji", content["氏"]},
                {"given_kanji", content["名"]},
                {"family_kana", content["氏カナ"]},
                {"given_kana", content["名カナ"]}}}};
  } else if (kind == "印鑑登録") {
    c.kind = "seal";
    if (auto e = strings(content, content_path, {"登録番号", "印影画像"}); !e.empty())
      return fail(e);
    if (auto e = non_empty("登録番号"); !e.empty()) return fail(e);
    const auto& image = content["印影画像"].get_ref<const std::string&>();
    const auto png = base64_decode(image);
    if (!png) {
      return fail(field_error(content_path + ".印影画像", "base64で指定してください"));
    }
    const auto digest = sha256_hex_of_parts({*png});
    fields = {{"seal",
               {{"registration_number", content["登録番号"]},
                {"status", "registered"},
                {"image_png_base64", image},
                {"image_sha256", std::string(digest.data(), digest.size())}}}};
  } else if (kind == "印鑑廃止") {
    // The registration stays on record, cancelled: the seal as registered, with its new status.
    c.kind = "seal";
    if (auto e = strings(content, content_path, {"登録番号"}); !e.empty()) return fail(e);
    if (auto e = non_empty("登録番号"); !e.empty()) return fail(e);
    const auto& number = content["登録番号"].get_ref<const std::string&>();
    const auto seal = current_seal(c.resident_id);
    json cancelled = {{"registration_number", number},
                      {"status", "cancelled"},
                      {"image_png_base64", ""},
                      {"image_sha256", ""}};
    if (seal) {  // an unknown resident is refused by the writer (E404)
      if (!seal->is_object()) {
        return fail(field_error(content_path + ".登録番号", "印鑑登録がありません"));
      }
      if (text(*seal, "registration_number") != number) {
        return fail(field_error(content_path + ".登録番号",
                                fmt::format("登録されている印鑑の登録番号（{}）と一致しません",
                                            text(*seal, "registration_number"))));
      }
      cancelled = *seal;
      cancelled["status"] = "cancelled";
    }
    fields = {{"seal", std::move(cancelled)}};
  } else if (kind == "世帯変更") {
    c.kind = "household";
    if (auto e = strings(content, content_path, {"世帯番号", "続柄"}); !e.empty()) return fail(e);
    if (auto e = non_empty("世帯番号"); !e.empty()) return fail(e);
    if (auto e = non_empty("続柄"); !e.empty()) return fail(e);
    fields = {{"household_id", content["世帯番号"]}, {"relationship", content["続柄"]}};
  } else {
    return fail(field_error(
        at("異動種別"),
        fmt::format(
            "'{}' は取り扱っていない異動種別です（転居, 氏名変更, 印鑑登録, 印鑑廃止, 世帯変更）",
            kind)));
  }
  // The reference validation of the fields, as a last guard: what passes above passes here.
  auto checked =
      parse_change({{"change_id", c.change_id}, {"kind", c.kind}, {"fields", fields}}, false, "");
  if (auto* e = std::get_if<std::string>(&checked)) return fail(field_error(content_path, *e));
  c.fields = std::move(fields);
  return c;
}

// The reference error of a writer or the pipeline: {"error", "detail"}.
std::pair<std::string, std::string> reference_error(const http_reply& reply) {
  const auto j = json::parse(reply.body, nullptr, false);
  return {text(j, "error"), text(j, "detail")};
}

// An answer the dialect has no result code for (a 5xx of the pipeline, e.g. a print failure):
// the HTTP status stays, as for HTTP-level faults.
http_reply internal_error(const http_reply& reply) {
  const auto [code, detail] = reference_error(reply);
  return result(fmt::format("E{}", reply.status),
                fmt::format("処理中に障害が発生しました（{}: {}）", code, detail), {},
                reply.status);
}

// "field 'changes[3].change_id': …" → 3; nullopt when the detail names no element.
std::optional<std::size_t> element_of(std::string_view detail) {
  constexpr std::string_view kPrefix = "changes[";
  const auto at = detail.find(kPrefix);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t i = 0;
  const auto* begin = detail.data() + at + kPrefix.size();
  auto [p, ec] = std::from_chars(begin, detail.data() + detail.size(), i);
  if (ec != std::errc() || p == begin) return std::nullopt;
  return i;
}

}  // namespace

http_reply vendor_ja_dialect::http_fault(const http_reply& reference_error_reply) {
  std::string_view message;
  switch (reference_error_reply.status) {
    case 400:
      message = "HTTP要求が不正です";
      break;
    case 404:
      message = "該当するAPIがありません";
      break;
    case 405:
      message = "このAPIでは使えないメソッドです";
      break;
    case 408:
      message = "要求を時間内に受信できませんでした";
      break;
    case 413:
      message = "要求本文が大きすぎます";
      break;
    case 415:
      message = "Content-Type は application/json で指定してください";
      break;
    case 431:
      message = "要求ヘッダが大きすぎます";
      break;
    default:
      message = "要求を処理できません";
  }
  const auto [code, detail] = reference_error(reference_error_reply);
  return result(fmt::format("E{}", reference_error_reply.status),
                detail.empty() ? std::string(message) : fmt::format("{}（{}）", message, detail),
                {}, reference_error_reply.status);
}

asio::awaitable<std::optional<http_reply>> vendor_ja_dialect::handle(const request_type& request,
                                                                     std::string_view target,
                                                                     std::string& endpoint) {
  if (target == kIssuePath) {
    endpoint = "issue";
  } else if (target == kIdoPath) {
    endpoint = "changes";
  } else if (target == kBatchPath) {
    endpoint = "reflection_batch";
  } else if (target == kMaintenancePath) {
    endpoint = "maintenance";
  } else {
    co_return std::nullopt;
  }
  // Every vendor endpoint is a JSON POST (the same checks, in the same order, as the reference).
  if (request.method() != http::verb::post) {
    co_return http_fault(
        json_error(405, "method_not_allowed", fmt::format("{} accepts POST only", target)));
  }
  const auto content_type = request[http::field::content_type];
  if (!is_json_content_type(std::string_view(content_type.data(), content_type.size()))) {
    co_return http_fault(json_error(415, "unsupported_media_type",
                                    "header 'Content-Type': must be application/json"));
  }
  const std::string_view body = request.body();
  if (target == kIssuePath) {
    auto op = issue(body);
    http_reply reply = co_await std::move(op);
    co_return reply;
  }
  if (target == kIdoPath) {
    auto op = ido(request);
    http_reply reply = co_await std::move(op);
    co_return reply;
  }
  if (target == kBatchPath) {
    auto op = ikkatsu(body);
    http_reply reply = co_await std::move(op);
    co_return reply;
  }
  auto op = hoshu(request);
  http_reply reply = co_await std::move(op);
  co_return reply;
}

asio::awaitable<http_reply> vendor_ja_dialect::issue(std::string_view body) {
  const auto j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) co_return not_json();
  // The 申請番号 of the request, echoed on every result that is not a certificate.
  vendor_json echo = vendor_json::object();
  if (j.is_object() && j.contains("申請番号") && j["申請番号"].is_string()) {
    echo["申請番号"] = j["申請番号"];
  }
  auto parsed = parse_shinsei(j);
  if (auto* message = std::get_if<std::string>(&parsed)) {
    co_return result("E400", *message, std::move(echo));
  }
  auto op = pipeline_.issue(std::get<issue_request>(std::move(parsed)));
  const http_reply reply = co_await std::move(op);

  if (reply.status == 200 && reply.content_type == "application/pdf") {
    co_return reply;  // --print-format pdf: the PDF is the certificate (docs/print-data.md)
  }
  if (reply.status == 200) {
    // The print data, whoever's it is: translated as printed.
    const auto answer = json::parse(reply.body, nullptr, false);
    if (!answer.is_object() || !answer.contains("certificate")) {
      co_return result("E500", "印刷データを読めません", std::move(echo), 500);
    }
    co_return issued(answer);
  }
  const auto [code, detail] = reference_error(reply);
  if (reply.status == 409 && code == "data_changed_retry") {
    ctx_.stats.retry_answered();
    co_return result("W409", "処理中に記録が更新されました。再申請してください", std::move(echo));
  }
  if (reply.status == 503 && code == "print_timeout") {
    co_return result("W503", "印刷が時間内に終わらず、交付しませんでした。再申請してください",
                     std::move(echo));
  }
  if (reply.status == 503 && code == "busy") {
    co_return result("W504", "混雑しています。再申請してください", std::move(echo));
  }
  if (reply.status == 404 && code == "unknown_card") {
    co_return result("E404", fmt::format("カードが登録されていません（{}）", detail),
                     std::move(echo));
  }
  if (reply.status == 422 && code == "not_issuable") {
    co_return result("E422", fmt::format("交付できません（{}）", detail), std::move(echo));
  }
  if (reply.status == 400) co_return result("E400", detail, std::move(echo));
  co_return internal_error(reply);
}

asio::awaitable<http_reply> vendor_ja_dialect::ido(const request_type& request) {
  const auto header = request.find("Idempotency-Key");
  const std::string key = header == request.end()
                              ? std::string()
                              : std::string(header->value().data(), header->value().size());
  const bool printable = std::all_of(key.begin(), key.end(), [](char ch) {
    return static_cast<unsigned char>(ch) >= 0x20 && static_cast<unsigned char>(ch) <= 0x7e;
  });
  if (key.empty() || key.size() > 128 || !printable) {
    co_return result("E400",
                     "ヘッダ 'Idempotency-Key': 1〜128文字の印字可能なASCII文字で指定してください");
  }
  const auto digest = sha256_hex_of_parts({request.body()});
  // A request with the same key and body still in flight is waited for (bounded), then replayed.
  auto claim = keys_.begin(key, digest);
  const auto wait_until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (claim.kind == idempotency_keys::claim_kind::in_flight &&
         std::chrono::steady_clock::now() < wait_until) {
    asio::steady_timer tick(co_await asio::this_coro::executor, std::chrono::milliseconds(1));
    co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
    claim = keys_.begin(key, digest);
  }
  switch (claim.kind) {
    case idempotency_keys::claim_kind::replay:
      co_return claim.answer;
    case idempotency_keys::claim_kind::conflict:
      co_return result(
          "E409",
          fmt::format("ヘッダ 'Idempotency-Key': '{}' は別の内容の異動に使われています", key));
    case idempotency_keys::claim_kind::in_flight:
      co_return result("E409",
                       fmt::format("ヘッダ 'Idempotency-Key': '{}' の異動がまだ処理中です", key));
    case idempotency_keys::claim_kind::fresh:
      break;
  }
  // The key is ours: answer and remember the answer, or give the key up if cut off.
  struct key_guard {
    idempotency_keys& keys;
    const std::string& key;
    bool answered = false;
    ~key_guard() {
      if (!answered) keys.abandon(key);
    }
  } guard{keys_, key};
  auto op = ido_once(request.body());
  http_reply reply = co_await std::move(op);
  keys_.finish(key, reply);
  guard.answered = true;
  co_return reply;
}

asio::awaitable<http_reply> vendor_ja_dialect::ido_once(std::string_view body) {
  const auto j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) co_return not_json();
  const seal_lookup lookup = [this](const std::string& id) -> std::optional<json> {
    auto r = ctx_.residents.find(id);
    if (!r) return std::nullopt;
    return r->seal;
  };
  auto parsed = parse_ido(j, "", lookup);
  if (auto* message = std::get_if<std::string>(&parsed)) co_return result("E400", *message);
  auto change = std::get<resident_change>(std::move(parsed));
  const auto resident_id = change.resident_id;
  const auto change_id = change.change_id;
  auto op = reflection_.change(std::move(change));
  const http_reply reply = co_await std::move(op);
  if (reply.status == 200) {
    const auto answer = json::parse(reply.body, nullptr, false);
    co_return result(
        "0000", "",
        {{"住民票コード", resident_id}, {"反映後版数", answer.value("version", std::int64_t{0})}});
  }
  const auto [code, detail] = reference_error(reply);
  if (code == "unknown_resident") {
    co_return result("E404",
                     fmt::format("住民票コード '{}' の住民は登録されていません", resident_id));
  }
  if (code == "non_monotonic_change_id") {
    co_return result(
        "E409",
        fmt::format("項目 '異動連番': {} は住民 {} の受け付け済みの異動連番より大きくありません",
                    change_id, resident_id));
  }
  if (reply.status == 400) co_return result("E400", detail);
  co_return internal_error(reply);
}

asio::awaitable<http_reply> vendor_ja_dialect::ikkatsu(std::string_view body) {
  const auto j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) co_return not_json();
  if (!j.is_object()) co_return result("E400", "本文はJSONオブジェクトで指定してください");
  if (auto e = unknown_key(j, {"一括番号", "異動一覧"}, ""); !e.empty())
    co_return result("E400", e);
  auto id = required_text(j, "一括番号", "一括番号");
  if (id.index() == 1) co_return result("E400", std::get<1>(id));
  const auto list = j.find("異動一覧");
  if (list == j.end() || !list->is_array() || list->empty()) {
    co_return result("E400", field_error("異動一覧", "1件以上の配列で指定してください"));
  }
  // 印鑑廃止 names only the registration number: an earlier element of the same batch may have
  // registered it, so the batch's own seals come before the registry's.
  std::map<std::string, json> batch_seals;
  const seal_lookup lookup = [&](const std::string& resident_id) -> std::optional<json> {
    if (auto it = batch_seals.find(resident_id); it != batch_seals.end()) return it->second;
    auto r = ctx_.residents.find(resident_id);
    if (!r) return std::nullopt;
    return r->seal;
  };
  std::vector<resident_change> changes;
  changes.reserve(list->size());
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto parsed = parse_ido((*list)[i], fmt::format("異動一覧[{}]", i), lookup);
    if (auto* message = std::get_if<std::string>(&parsed)) co_return result("E400", *message);
    auto& c = std::get<resident_change>(parsed);
    if (c.kind == "seal") batch_seals[c.resident_id] = c.fields["seal"];
    changes.push_back(std::move(c));
  }
  const auto batch_id = std::get<0>(id);
  auto op = reflection_.batch(batch_id, std::move(changes));
  const http_reply reply = co_await std::move(op);
  if (reply.status == 200) {
    const auto answer = json::parse(reply.body, nullptr, false);
    vendor_json versions = vendor_json::array();
    for (const auto& v : answer.value("versions", json::array())) {
      versions.push_back({{"住民票コード", text(v, "resident_id")},
                          {"反映後版数", v.value("version", std::int64_t{0})}});
    }
    co_return result("0000", "", {{"一括番号", batch_id}, {"反映結果", std::move(versions)}});
  }
  const auto [code, detail] = reference_error(reply);
  if (reply.status == 400) {
    // The writer's refusals name "changes[i].resident_id" or "changes[i].change_id".
    const auto i = element_of(detail);
    if (i && detail.find(".resident_id") != std::string::npos) {
      co_return result("E400", field_error(fmt::format("異動一覧[{}].住民票コード", *i),
                                           "住民が登録されていません"));
    }
    if (i && detail.find(".change_id") != std::string::npos) {
      co_return result("E400", field_error(fmt::format("異動一覧[{}].異動連番", *i),
                                           "受け付け済みの異動連番より大きくありません"));
    }
    co_return result("E400", detail);
  }
  co_return internal_error(reply);
}

asio::awaitable<http_reply> vendor_ja_dialect::hoshu(const request_type& request) {
  // X-Kanri-Token carries the admin token itself; the check is the reference one.
  const auto header = request.find("X-Kanri-Token");
  const std::string authorization =
      header == request.end()
          ? std::string()
          : "Bearer " + std::string(header->value().data(), header->value().size());
  if (auto refused = reflection_.admin_refusal(authorization)) {
    co_return result(fmt::format("E{}", refused->status),
                     refused->status == 403
                         ? "管理機能は無効です（kofu-mock を --admin-token 付きで起動してください）"
                         : "ヘッダ 'X-Kanri-Token': 管理トークンが正しくありません",
                     {}, refused->status);
  }
  const auto j = json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) co_return not_json();
  if (!j.is_object()) co_return result("E400", "本文はJSONオブジェクトで指定してください");
  if (auto e = unknown_key(j, {"保守時間ミリ秒"}, ""); !e.empty()) co_return result("E400", e);
  const auto d = j.find("保守時間ミリ秒");
  if (d == j.end() || !d->is_number_integer() ||
      (d->is_number_unsigned() && d->get<std::uint64_t>() > 3'600'000) ||
      d->get<std::int64_t>() < 1 || d->get<std::int64_t>() > 3'600'000) {
    co_return result("E400", field_error("保守時間ミリ秒", "1〜3600000の整数で指定してください"));
  }
  auto op = reflection_.maintenance(d->get<std::int64_t>());
  const http_reply reply = co_await std::move(op);
  if (reply.status != 202) co_return internal_error(reply);
  const auto answer = json::parse(reply.body, nullptr, false);
  co_return result("0000", "", {{"終了予定", answer.value("until_ms", std::int64_t{0})}});
}

}  // namespace kofu::mock
