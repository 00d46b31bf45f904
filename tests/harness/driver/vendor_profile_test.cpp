#include "kofu/driver/vendor_profile.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <optional>
#include <regex>

#include "kofu/driver/driver.hpp"
#include "kofu/driver/profile_wire.hpp"
#include "kofu/history/reader.hpp"
#include "kofu/population/generator.hpp"
#include "kofu/population/reader.hpp"
#include "kofu/scenario/loader.hpp"
#include "mock_process.hpp"
#include "test_server.hpp"
#include "test_support.hpp"

namespace {

using nlohmann::json;
using namespace kofu::driver;

kofu::history::writer_options history_options(const std::filesystem::path& path) {
  kofu::history::writer_options o;
  o.path = path;
  o.flush_interval = std::chrono::milliseconds(50);
  return o;
}

vendor_profile example_profile() {
  auto p =
      vendor_profile::load(kofu::test::source_dir() / "scenarios/profiles/mirai-gyosei-v3.json");
  EXPECT_TRUE(p) << (p ? "" : p.error().message);
  return *p;
}

TEST(VendorProfileTest, MapsTheRequestWithTypedPlaceholders) {
  const auto p = example_profile();
  const auto req = p.issue_request({"KOFU-000001-0000000007", "window", "inkan", "ABCDEF0123456789",
                                    "12345678901", true, false, true, false});
  EXPECT_EQ(req.target(), "/api/v3/shomeisho/hakko");
  EXPECT_EQ(req["X-Jichitai-Code"], "999999");
  const auto body = json::parse(req.body());
  EXPECT_EQ(body["申請番号"], "KOFU-000001-0000000007");
  EXPECT_EQ(body["窓口区分"], "MADO");
  EXPECT_EQ(body["証明書種別"], "03");
  EXPECT_EQ(body["本人確認"]["カード証明書シリアル"], "ABCDEF0123456789");
  EXPECT_EQ(body["記載事項"]["世帯全員"], true);
  EXPECT_EQ(body["記載事項"]["個人番号"], false);
}

TEST(VendorProfileTest, MapsTheAnswerBackToReferenceFields) {
  const auto p = example_profile();
  const auto a = p.map_issue_answer(200, R"({"受付": {"申請番号": "A-1"}, "ダイジェスト": "ff",
      "証明書": {"種別": "01", "記載者": [{"氏名": {"氏": "髙橋", "名": "美咲"}, "頁": 1}]}})");
  EXPECT_EQ(a.outcome, "ok");
  EXPECT_EQ(a.body["application_number"], "A-1");
  EXPECT_EQ(a.body["digest"], "ff");
  EXPECT_EQ(a.body["certificate"]["persons"][0]["name"]["family_kanji"], "髙橋");
  EXPECT_EQ(a.body["certificate"]["persons"][0]["page"], 1);
  EXPECT_EQ(p.map_issue_answer(423, "{}").outcome, "retry");
  EXPECT_EQ(p.map_issue_answer(404, "{}").outcome, "refused");
  EXPECT_EQ(p.map_issue_answer(500, "{}").outcome, "error");
  EXPECT_FALSE(p.map_issue_answer(200, "<html>").error.empty());
}

TEST(VendorProfileTest, RejectsUnknownPlaceholdersAndKeys) {
  auto p = vendor_profile::parse(json::parse(R"({"name": "x", "colour": 1, "issue": {"path": "/a",
      "body": {"a": "{{card_serail}}"}, "status": {"ok": [200]},
      "response": {"application_number": "/a", "certificate": "/b", "digest": "c"}}})"),
                                 "p.json");
  ASSERT_FALSE(p);
  const auto& m = p.error().message;
  EXPECT_NE(m.find("p.json: /colour: unknown key"), std::string::npos) << m;
  EXPECT_NE(m.find("p.json: /issue/body/a: unknown field '{{card_serail}}'"), std::string::npos)
      << m;
  EXPECT_NE(m.find("/issue/response/digest: not a JSON pointer"), std::string::npos) << m;
}

// A small server speaking the invented vendor API: answers in its own field names and codes.
kofu::test::test_answer vendor_api(const kofu::test::seen_request& r) {
  if (r.target != "/api/v3/shomeisho/hakko") return {404, R"({"エラー":"not found"})"};
  const auto req = json::parse(r.body, nullptr, false);
  if (req.is_discarded() || !req.contains("本人確認")) return {400, R"({"エラー":"bad"})"};
  json answer{
      {"受付", {{"申請番号", req["申請番号"]}}},
      {"証明書",
       {{"種別", req["証明書種別"]},
        {"対象者", {{"カード証明書シリアル", req["本人確認"]["カード証明書シリアル"]}}},
        {"記載者", json::array({{{"氏名", {{"氏", "架空"}, {"名", "太郎"}}}, {"頁", 1}}})}}},
      {"ダイジェスト", "00"}};
  return {200, answer.dump()};
}

// The history keeps the vendor's answer as the vendor wrote it (the evidence); the profile maps
// it into the reference shape when `kofu verify` reads it.
TEST(VendorProfileTest, DriverSpeaksTheVendorApiAndKeepsTheVendorsAnswer) {
  kofu::test::test_server server(vendor_api);
  kofu::test::temp_dir dir;
  auto sc = kofu::scenario::parse_text(
      R"({"name": "vendor", "target": {"kind": "urls", "urls": ["http://127.0.0.1:1"]},
      "load": {"workers": 1, "connections": 2}, "phases": [{"duration_s": 0.5, "rate": 40}],
      "updates": {"rate": 0}})",
      "vendor.json");
  ASSERT_TRUE(sc);
  std::vector<kofu::population::resident> residents;
  kofu::population::generator g({30, 2, 0.05});
  while (g.next_group(residents)) {
  }
  const population_index pop(std::move(residents), 3, 1);
  const auto profile = example_profile();
  auto writer = kofu::history::writer::open(history_options(dir / "history.jsonl"));
  ASSERT_TRUE(writer);
  run_settings rs;
  rs.scenario = &*sc;
  rs.population = &pop;
  rs.targets = {*parse_endpoint(server.url())};
  rs.history = writer->get();
  rs.anchor = clock_type::now();
  rs.wire = std::make_shared<profile_wire>(std::make_shared<const vendor_profile>(profile));
  const auto result = run(rs);
  ASSERT_TRUE((*writer)->close());
  EXPECT_GT(result.issue.ok, 10u);
  EXPECT_EQ(result.issue.ok, result.issue.sent);
  auto reader = kofu::history::reader::open(dir.path());
  ASSERT_TRUE(reader);
  std::map<std::uint64_t, json> invokes;
  int checked = 0;
  for (;;) {
    auto rec = reader->next();
    ASSERT_TRUE(rec);
    if (!*rec) break;
    const json& e = (*rec)->event;
    if (e["type"] == "invoke") invokes[e["id"]] = e;
    if (e["type"] == "complete" && e["outcome"] == "ok") {
      const json& inv = invokes.at(e["id"]);
      EXPECT_EQ(e["body"]["受付"]["申請番号"], inv["application_number"]);
      const auto mapped = profile.map_issue_answer(200, e["body"].dump());
      EXPECT_EQ(mapped.body["application_number"], inv["application_number"]);
      EXPECT_EQ(mapped.body["certificate"]["subject"]["card_serial"], inv["card_serial"]);
      EXPECT_EQ(mapped.body["certificate"]["persons"][0]["name"]["given_kanji"], "太郎");
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(result.issue.ok));
  // The server saw the vendor's field names, never the reference ones.
  for (const auto& seen : server.requests()) {
    EXPECT_EQ(seen.body.find("application_number"), std::string::npos);
    EXPECT_NE(seen.body.find("申請番号"), std::string::npos);
  }
}

// ---- Updates, reflection batches and maintenance through the profile ---------------------------

TEST(VendorProfileTest, MapsUpdatesBatchesAndMaintenance) {
  const auto p = example_profile();
  ASSERT_TRUE(p.maps_updates() && p.maps_reflection_batches() && p.maps_maintenance());
  const change_fields move{
      "12345678901", 7, 3, "move",
      json{{"address", {{"token", "M00000001"}}}, {"moved_in_date", "2026-11-29"}}};
  const auto req = p.update_request(move);
  EXPECT_EQ(req.target(), "/api/v3/jumin/12345678901/ido");
  EXPECT_EQ(req["X-Jichitai-Code"], "999999");
  const auto body = json::parse(req.body());
  EXPECT_EQ(body["異動番号"], 7);  // typed: a number stays a number
  EXPECT_EQ(body["異動区分"], "転居");
  EXPECT_EQ(body["異動内容"]["住所"]["token"], "M00000001");
  EXPECT_EQ(body["異動内容"]["住定日"], "2026-11-29");
  EXPECT_FALSE(body["異動内容"].contains("address"));

  auto ok = p.map_update_answer(200, R"({"受付結果": {"版": 4}})");
  EXPECT_EQ(ok.outcome, "ok");
  ASSERT_EQ(ok.versions.size(), 1u);
  EXPECT_EQ(ok.versions[0], 4u);
  EXPECT_FALSE(p.map_update_answer(200, "{}").versions[0].has_value());
  EXPECT_EQ(p.map_update_answer(409, "{}").outcome, "failed");
  EXPECT_EQ(p.map_update_answer(422, "{}").outcome, "failed");
  const auto server_error = p.map_update_answer(500, "oops");
  EXPECT_EQ(server_error.outcome, "unknown");
  EXPECT_TRUE(server_error.error.empty());
  EXPECT_EQ(server_error.body, "oops");
  const auto unmapped = p.map_update_answer(201, "{}");
  EXPECT_EQ(unmapped.outcome, "unknown");
  EXPECT_NE(unmapped.error.find("status 201 is not in /update/status"), std::string::npos)
      << unmapped.error;

  const change_fields tax{"10987654321", 9, 2, "tax", json{{"tax", {{"income", 100000123}}}}};
  const auto batch = p.batch_request("B-5", {move, tax});
  EXPECT_EQ(batch.target(), "/api/v3/jumin/ido/ikkatsu");
  const auto bb = json::parse(batch.body());
  EXPECT_EQ(bb["一括番号"], "B-5");
  EXPECT_EQ(bb["件数"], 2);
  ASSERT_EQ(bb["異動一覧"].size(), 2u);
  EXPECT_EQ(bb["異動一覧"][1]["住民票コード"], "10987654321");
  EXPECT_EQ(bb["異動一覧"][1]["異動区分"], "課税更正");
  EXPECT_EQ(bb["異動一覧"][1]["異動内容"]["課税"]["income"], 100000123);
  const auto ba = p.map_batch_answer(200, R"({"処理結果": [{"版": 4}, {"版": 3}]})", 2);
  EXPECT_EQ(ba.outcome, "ok");
  ASSERT_EQ(ba.versions.size(), 2u);
  EXPECT_EQ(ba.versions[1], 3u);
  EXPECT_EQ(p.map_batch_answer(400, "{}", 2).outcome, "failed");

  const auto m = p.maintenance_request(2000, "s3cret");
  EXPECT_EQ(m.target(), "/api/v3/kanri/hoshu");
  EXPECT_EQ(m["X-Kanri-Token"], "s3cret");
  EXPECT_EQ(json::parse(m.body())["保守時間ミリ秒"], 2000);
  EXPECT_EQ(p.map_maintenance_status(202, ""), "ok");
  EXPECT_EQ(p.map_maintenance_status(401, ""), "refused");
  EXPECT_EQ(p.map_maintenance_status(200, ""), "error");
}

TEST(VendorProfileTest, PathPlaceholdersArePercentEncoded) {
  auto p = vendor_profile::parse(json::parse(R"({"name": "x",
      "issue": {"path": "/i", "body": {}, "status": {"ok": [200]},
                "response": {"application_number": "/a", "certificate": "/c", "digest": "/d"}},
      "update": {"path": "/r/{{resident_id}}/{{kind}}", "body": {}, "status": {"ok": [200]},
                 "values": {"kind": {"move": "転 居"}}}})"),
                                 "p.json");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->update_request({"1/2", 1, 2, "move", json::object()}).target(),
            "/r/1%2F2/%E8%BB%A2%20%E5%B1%85");
}

// Each broken profile must be rejected with a message naming the file and the JSON path.
TEST(VendorProfileTest, ParsingErrorsNameFileAndJsonPath) {
  const json good = json::parse(
      kofu::test::read_file(kofu::test::source_dir() / "scenarios/profiles/mirai-gyosei-v3.json"));
  struct broken_case {
    const char* pointer;  // where to put the bad value (JSON pointer into the good profile)
    json value;
    const char* expected;
  };
  const std::vector<broken_case> cases = {
      {"/update/path", json(nullptr), "/update/path: wrong type"},
      {"/update/body/異動番号", "{{change}}", "/update/body/異動番号: unknown field '{{change}}'"},
      {"/update/path", "/api/{{resident}}/ido", "/update/path: unknown field '{{resident}}'"},
      {"/update/status/refused", json::array({409}),
       "/update/status/retry/0: 409 is already in 'refused'"},
      {"/update/status/ok", json::array(), "/update/status/ok: at least one status code"},
      {"/update/status/ok", "200", "/update/status/ok: expected an array"},
      {"/update/status/ok", json::array({42}), "/update/status/ok/0: expected an HTTP status code"},
      {"/update/status/maybe", json::array({200}), "/update/status/maybe: unknown key"},
      {"/update/response/version", "no-slash", "/update/response/version: not a JSON pointer"},
      {"/update/response/change", "/a", "/update/response/change: unknown key"},
      {"/update/field_names/address", 5, "/update/field_names/address: expected a string"},
      {"/update/colour", "red", "/update/colour: unknown key"},
      {"/update/method", "FETCH", "/update/method: not an HTTP method"},
      {"/reflection_batch/change/異動区分", "{{batch_id}}",
       "/reflection_batch/change/異動区分: unknown field '{{batch_id}}'"},
      {"/reflection_batch/body/異動一覧", "{{fields}}",
       "/reflection_batch/body/異動一覧: unknown field '{{fields}}'"},
      {"/reflection_batch/response", json{{"version", "/v"}},
       "/reflection_batch/response/version: needs 'versions'"},
      {"/reflection_batch/values/kind", "move",
       "/reflection_batch/values/kind: expected an object"},
      {"/maintenance/headers/X-Kanri-Token", "{{token}}",
       "/maintenance/headers/X-Kanri-Token: unknown field '{{token}}'"},
      {"/maintenance/body", json::array(), "/maintenance/body: wrong type"},
      {"/maintenance/status", json(nullptr), "/maintenance/status: wrong type"},
  };
  for (const auto& c : cases) {
    json broken = good;
    broken[json::json_pointer(c.pointer)] = c.value;
    auto p = vendor_profile::parse(broken, "mirai.json");
    ASSERT_FALSE(p) << c.pointer;
    EXPECT_NE(p.error().message.find(std::string("mirai.json: ") + c.expected), std::string::npos)
        << c.pointer << ":\n"
        << p.error().message;
  }
  // A missing section member, and the file name from load().
  json no_path = good;
  no_path["maintenance"].erase("path");
  kofu::test::temp_dir dir;
  kofu::test::write_file(dir / "broken.json", no_path.dump());
  auto loaded = vendor_profile::load(dir / "broken.json");
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find((dir / "broken.json").string() +
                                        ": /maintenance: missing 'path'"),
            std::string::npos)
      << loaded.error().message;
  // The good one loads, and sections are optional.
  EXPECT_TRUE(vendor_profile::parse(good, "mirai.json"));
  json issue_only = good;
  issue_only.erase("update");
  issue_only.erase("reflection_batch");
  issue_only.erase("maintenance");
  auto minimal = vendor_profile::parse(issue_only, "mirai.json");
  ASSERT_TRUE(minimal);
  EXPECT_FALSE(minimal->maps_updates());
}

// ---- みらい行政システム v3 in front of a real kofu-mock
// ------------------------------------------
//
// The vendor's own server, as the test imagines it: it speaks the invented API and, behind it,
// translates every call to the reference protocol of a real kofu-mock and the answer back. Its
// name tables are written here independently of the profile, so a profile that maps a field
// wrongly makes the run's history wrong (and the verifier says so).

const std::vector<std::pair<std::string, std::string>>& certificate_names() {
  static const std::vector<std::pair<std::string, std::string>> names = {
      {"type", "種別"},
      {"serial", "証明書番号"},
      {"issued_at", "発行日時"},
      {"subject", "対象者"},
      {"source_version", "版"},
      {"persons", "記載者"},
      {"resident_id", "住民票コード"},
      {"card_serial", "カード証明書シリアル"},
      {"page", "頁"},
      {"name", "氏名"},
      {"family_kanji", "氏"},
      {"given_kanji", "名"},
      {"family_kana", "氏カナ"},
      {"given_kana", "名カナ"},
      {"birth_date", "生年月日"},
      {"sex", "性別"},
      {"address", "住所"},
      {"moved_in_date", "住民となった日"},
      {"household_head", "世帯主"},
      {"relationship", "続柄"},
      {"honseki", "本籍"},
      {"hittousha", "筆頭者"},
      {"mynumber", "個人番号"},
      {"seal", "印鑑"},
      {"tax", "課税"},
      {"koseki", "戸籍"}};
  return names;
}

json to_vendor_names(const json& node) {
  if (node.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : node.items()) {
      std::string name = k;
      for (const auto& [reference, vendor] : certificate_names()) {
        if (reference == k) name = vendor;
      }
      out[name] = to_vendor_names(v);
    }
    return out;
  }
  if (node.is_array()) {
    json out = json::array();
    for (const auto& v : node) out.push_back(to_vendor_names(v));
    return out;
  }
  return node;
}

const std::map<std::string, std::string> vendor_kinds = {{"転居", "move"},
                                                         {"氏名変更", "name"},
                                                         {"印鑑登録", "seal"},
                                                         {"世帯変更", "household"},
                                                         {"課税更正", "tax"}};
const std::map<std::string, std::string> vendor_change_fields = {
    {"住所", "address"},          {"住定日", "moved_in_date"}, {"氏名", "name"}, {"印鑑", "seal"},
    {"世帯番号", "household_id"}, {"続柄", "relationship"},    {"課税", "tax"}};
const std::map<std::string, std::string> vendor_types = {
    {"01", "juminhyo"},     {"02", "juminhyo_kisai"}, {"03", "inkan"}, {"04", "koseki_zenbu"},
    {"05", "koseki_kojin"}, {"06", "koseki_fuhyo"},   {"07", "kazei"}};
const std::map<std::string, std::string> vendor_channels = {
    {"CVS", "konbini"}, {"MADO", "window"}, {"KIOSK", "kiosk"}};

std::string lookup(const std::map<std::string, std::string>& table, const json& v) {
  const auto it = v.is_string() ? table.find(v.get<std::string>()) : table.end();
  return it == table.end() ? "?" : it->second;
}

json reference_change(const json& vendor_change, const std::string& resident_id) {
  json fields = json::object();
  const json vendor_fields = vendor_change.value("異動内容", json::object());
  for (const auto& [k, v] : vendor_fields.items()) {
    const auto it = vendor_change_fields.find(k);
    fields[it == vendor_change_fields.end() ? k : it->second] = v;
  }
  json out{{"change_id", vendor_change.value("異動番号", json(0))},
           {"kind", lookup(vendor_kinds, vendor_change.value("異動区分", json()))},
           {"fields", fields}};
  if (!resident_id.empty()) out["resident_id"] = resident_id;
  return out;
}

kofu::test::test_answer vendor_error(const kofu::test::test_answer& reference) {
  const auto b = json::parse(reference.body, nullptr, false);
  json out{{"エラー", b.is_object() ? b.value("error", json("?")) : json(reference.body)}};
  return {reference.status, out.dump()};
}

// One call of the gateway: what to ask kofu-mock, and how to turn its answer into the vendor's.
// (Plain functions: only the forwarding itself is a coroutine.)
struct upstream_call {
  std::optional<kofu::test::test_answer> immediate;  // answered without kofu-mock
  std::string method = "POST";
  std::string target;
  std::string body;
  std::map<std::string, std::string> headers;
  std::function<kofu::test::test_answer(const kofu::test::test_answer&)> translate;
};

upstream_call translate_issue(const json& req) {
  const json k = req.value("記載事項", json::object());
  const json identity = req.value("本人確認", json::object());
  const json reference{
      {"application_number", req.value("申請番号", json(""))},
      {"channel", lookup(vendor_channels, req.value("窓口区分", json()))},
      {"certificate_type", lookup(vendor_types, req.value("証明書種別", json()))},
      {"subject", {{"card_serial", identity.value("カード証明書シリアル", json(""))}}},
      {"options",
       {{"scope", k.value("世帯全員", false) ? "household" : "individual"},
        {"honseki", k.value("本籍筆頭者", false)},
        {"zokugara", k.value("続柄", false)},
        {"mynumber", k.value("個人番号", false)}}}};
  upstream_call call;
  call.target = "/v1/issue";
  call.body = reference.dump();
  call.translate = [](const kofu::test::test_answer& a) {
    if (a.status != 200) return vendor_error(a);
    const auto answer = json::parse(a.body);
    json certificate = to_vendor_names(answer["certificate"]);
    for (const auto& [code, type] : vendor_types) {
      if (answer["certificate"]["type"] == type) certificate["種別"] = code;
    }
    return kofu::test::test_answer{200, json{{"受付", {{"申請番号", answer["application_number"]}}},
                                             {"証明書", certificate},
                                             {"ダイジェスト", answer["digest"]}}
                                            .dump()};
  };
  return call;
}

upstream_call translate_update(const json& req, const std::string& id) {
  upstream_call call;
  call.target = "/v1/residents/" + id + "/changes";
  call.body = reference_change(req, "").dump();
  call.translate = [id](const kofu::test::test_answer& a) {
    if (a.status != 200) return vendor_error(a);
    const auto answer = json::parse(a.body);
    return kofu::test::test_answer{
        200, json{{"受付結果", {{"住民票コード", id}, {"版", answer["version"]}}}}.dump()};
  };
  return call;
}

upstream_call translate_batch(const json& req) {
  json reference{{"batch_id", req.value("一括番号", json(""))}, {"changes", json::array()}};
  const json changes = req.value("異動一覧", json::array());
  for (const auto& c : changes) {
    reference["changes"].push_back(reference_change(c, c.value("住民票コード", "")));
  }
  upstream_call call;
  call.target = "/v1/reflection/batch";
  call.body = reference.dump();
  call.translate = [batch_id = reference["batch_id"]](const kofu::test::test_answer& a) {
    if (a.status != 200) return vendor_error(a);
    json results = json::array();
    const auto answer = json::parse(a.body);
    for (const auto& v : answer["versions"]) {
      results.push_back({{"住民票コード", v["resident_id"]}, {"版", v["version"]}});
    }
    return kofu::test::test_answer{200, json{{"一括番号", batch_id}, {"処理結果", results}}.dump()};
  };
  return call;
}

upstream_call translate_maintenance(const json& req, const kofu::test::seen_request& r) {
  const auto token = r.headers.count("X-Kanri-Token") ? r.headers.at("X-Kanri-Token") : "";
  upstream_call call;
  call.target = "/v1/admin/maintenance";
  call.body = json{{"duration_ms", req.value("保守時間ミリ秒", json(0))}}.dump();
  call.headers = {{"Authorization", "Bearer " + token}};
  call.translate = [](const kofu::test::test_answer& a) {
    if (a.status != 202) return vendor_error(a);
    return kofu::test::test_answer{202, json{{"保守終了", json::parse(a.body)["until_ms"]}}.dump()};
  };
  return call;
}

upstream_call translate(const kofu::test::seen_request& r) {
  upstream_call call;
  if (r.method == "GET") {  // /version and /healthz, as they are
    call.method = "GET";
    call.target = r.target;
    call.translate = [](const kofu::test::test_answer& a) { return a; };
    return call;
  }
  const auto req = json::parse(r.body, nullptr, false);
  static const std::regex update_path(R"(^/api/v3/jumin/(\d{11})/ido$)");
  std::smatch m;
  if (req.is_discarded() || r.headers.count("X-Jichitai-Code") == 0) {
    call.immediate = kofu::test::test_answer{400, R"({"エラー":"bad request"})"};
  } else if (r.target == "/api/v3/shomeisho/hakko") {
    call = translate_issue(req);
  } else if (std::regex_match(r.target, m, update_path)) {
    call = translate_update(req, m[1].str());
  } else if (r.target == "/api/v3/jumin/ido/ikkatsu") {
    call = translate_batch(req);
  } else if (r.target == "/api/v3/kanri/hoshu") {
    call = translate_maintenance(req, r);
  } else {
    call.immediate = kofu::test::test_answer{404, R"({"エラー":"not found"})"};
  }
  return call;
}

struct mirai_gateway {
  unsigned short mock_port = 0;

  boost::asio::awaitable<kofu::test::test_answer> operator()(kofu::test::seen_request r) const {
    const upstream_call call = translate(r);
    if (call.immediate) co_return *call.immediate;
    const std::string host = "127.0.0.1";
    const auto answer = co_await kofu::test::forward(host, mock_port, call.method, call.target,
                                                     call.body, call.headers);
    co_return call.translate(answer);
  }
};

std::string vendor_scenario(const std::filesystem::path& profile, const std::string& url,
                            const std::filesystem::path& population) {
  json sc = json::parse(R"({
    "name": "vendor-mirai", "seed": 5,
    "target": {"kind": "urls", "admin_token": "s3cret"},
    "load": {"workers": 2, "connections": 4, "timeout_ms": 3000},
    "phases": [{"duration_s": 1.5, "rate": 120},
               {"duration_s": 1, "model": "closed", "users": 4}],
    "concentration": {"hot_residents": 10, "hot_share": 0.3, "group_share": 0.2},
    "updates": {"rate": 30, "concurrency": 2, "hot_share": 0.3},
    "events": [{"at_s": 0.5, "kind": "reflection_batch", "size": 8},
               {"at_s": 1.0, "kind": "maintenance", "duration_ms": 400}],
    "history": {"flush_ms": 100}})");
  sc["target"]["urls"] = json::array({url});
  sc["target"]["profile"] = profile.string();
  sc["population"] = {{"file", population.string()}};
  return sc.dump(2);
}

TEST(VendorProfileTest, KofuRunThroughTheVendorApiVerifiesClean) {
  if (!std::filesystem::exists(kofu::test::kofu_binary()) ||
      !std::filesystem::exists(kofu::test::mock_binary())) {
    GTEST_SKIP() << "kofu or kofu-mock not built";
  }
  kofu::test::temp_dir dir;
  kofu::test::mock_process mock(dir, 240, 11);
  ASSERT_NE(mock.port, 0) << "kofu-mock did not start";
  kofu::test::test_server gateway(mirai_gateway{mock.port});
  kofu::test::write_file(
      dir / "s.json",
      vendor_scenario(kofu::test::source_dir() / "scenarios/profiles/mirai-gyosei-v3.json",
                      gateway.url(), mock.population));
  const auto r =
      kofu::test::run_command({kofu::test::kofu_binary(), "run", (dir / "s.json").string(), "--out",
                               (dir / "out").string()},
                              std::chrono::seconds(90));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto report = json::parse(kofu::test::read_file(dir / "out/report.json"), nullptr, false);
  ASSERT_TRUE(report.is_object());
  EXPECT_EQ(report["verdict"], "pass") << report["findings_by_kind"].dump();
  EXPECT_GT(report["answered"].get<std::uint64_t>(), 50u);

  // Every kind of request went through the vendor API, none in the reference shape.
  std::map<std::string, int> paths;
  for (const auto& seen : gateway.requests()) {
    EXPECT_EQ(seen.target.rfind("/v1/", 0), std::string::npos) << seen.target;
    if (seen.method == "POST") {
      ++paths[std::regex_replace(seen.target, std::regex(R"(\d{11})"), "ID")];
    }
  }
  EXPECT_GT(paths["/api/v3/shomeisho/hakko"], 50);
  EXPECT_GT(paths["/api/v3/jumin/ID/ido"], 5);
  EXPECT_EQ(paths["/api/v3/jumin/ido/ikkatsu"], 1);
  EXPECT_EQ(paths["/api/v3/kanri/hoshu"], 1);

  // The history says what docs/history.md says, whatever the vendor's shapes.
  auto reader = kofu::history::reader::open(dir / "out");
  ASSERT_TRUE(reader) << reader.error().message;
  std::map<std::string, int> outcomes;
  for (;;) {
    auto rec = reader->next();
    ASSERT_TRUE(rec) << rec.error().message;
    if (!*rec) break;
    const json& e = (*rec)->event;
    if (e["type"] == "complete") {
      const std::string key = e["op"].get<std::string>() + "/" + e["outcome"].get<std::string>();
      ++outcomes[key];
      if (key == "update/ok") {
        EXPECT_TRUE(e["version"].is_number_unsigned()) << e.dump();
      }
      if (key == "batch/ok") {
        ASSERT_EQ(e["versions"].size(), 8u) << e.dump();
        for (const auto& v : e["versions"]) EXPECT_TRUE(v["version"].is_number_unsigned());
      }
    }
    if (e["type"] == "event" && e["name"] == "maintenance" && e["phase"] == "start") {
      EXPECT_EQ(e["detail"]["status"], 202);
      EXPECT_EQ(e["detail"]["outcome"], "ok");
      ++outcomes["maintenance"];
    }
  }
  std::string summary = "answered=" + report["answered"].dump();
  for (const auto& [k, n] : outcomes) summary += " " + k + "=" + std::to_string(n);
  RecordProperty("outcomes", summary);
  EXPECT_GT(outcomes["issue/ok"], 50);
  EXPECT_GT(outcomes["update/ok"], 5);
  EXPECT_EQ(outcomes["update/unknown"], 0);
  EXPECT_EQ(outcomes["batch/ok"], 1);
  EXPECT_EQ(outcomes["maintenance"], 1);
}

// A profile whose status classes do not match what the vendor answers: the run must say so, and
// the outcome must stay safe (an unmapped update answer is unknown: the resident retires).
TEST(VendorProfileTest, WrongStatusMappingIsDetected) {
  if (!std::filesystem::exists(kofu::test::mock_binary())) GTEST_SKIP() << "kofu-mock not built";
  kofu::test::temp_dir dir;
  kofu::test::mock_process mock(dir, 240, 11);
  ASSERT_NE(mock.port, 0) << "kofu-mock did not start";
  kofu::test::test_server gateway(mirai_gateway{mock.port});
  json doc = json::parse(
      kofu::test::read_file(kofu::test::source_dir() / "scenarios/profiles/mirai-gyosei-v3.json"));
  doc["update"]["status"]["ok"] = json::array({201});       // the vendor answers 200
  doc["maintenance"]["status"]["ok"] = json::array({200});  // … and 202
  auto profile = vendor_profile::parse(doc, "wrong.json");
  ASSERT_TRUE(profile) << profile.error().message;
  auto sc = kofu::scenario::parse_text(
      vendor_scenario("unused.json", gateway.url(), mock.population), "wrong-scenario.json");
  ASSERT_TRUE(sc) << sc.error().message;
  sc->phases.resize(1);
  sc->phases[0].duration_s = 1.2;
  std::erase_if(sc->events, [](const kofu::scenario::event& e) {
    return e.kind != kofu::scenario::event_kind::maintenance;
  });
  auto residents = kofu::population::load_file(mock.population);
  ASSERT_TRUE(residents);
  const population_index pop(std::move(*residents), 10, 5);
  auto writer = kofu::history::writer::open(history_options(dir / "history.jsonl"));
  ASSERT_TRUE(writer);
  run_settings rs;
  rs.scenario = &*sc;
  rs.population = &pop;
  rs.targets = {*parse_endpoint(gateway.url())};
  rs.history = writer->get();
  rs.anchor = clock_type::now();
  rs.wire = std::make_shared<profile_wire>(std::make_shared<const vendor_profile>(*profile));
  const auto result = run(rs);
  ASSERT_TRUE((*writer)->close());
  EXPECT_GT(result.issue.ok, 20u);  // issuance is mapped right
  EXPECT_GT(result.issue.updates_unknown, 3u);
  EXPECT_EQ(result.issue.updates_ok, 0u);
  EXPECT_EQ(result.retired_residents, result.issue.updates_unknown);

  auto reader = kofu::history::reader::open(dir.path());
  ASSERT_TRUE(reader);
  std::map<std::uint64_t, std::string> update_resident;
  std::set<std::string> retired;
  int flagged = 0;
  for (;;) {
    auto rec = reader->next();
    ASSERT_TRUE(rec);
    if (!*rec) break;
    const json& e = (*rec)->event;
    if (e["type"] == "invoke" && e["op"] == "update") {
      EXPECT_FALSE(retired.count(e["resident_id"])) << "update after an unknown outcome";
      update_resident[e["id"]] = e["resident_id"];
    }
    if (e["type"] == "complete" && e["op"] == "update") {
      EXPECT_EQ(e["outcome"], "unknown");
      EXPECT_EQ(e["status"], 200);
      EXPECT_NE(e.value("error", "").find("status 200 is not in /update/status"), std::string::npos)
          << e.dump();
      retired.insert(update_resident.at(e["id"]));
      ++flagged;
    }
    if (e["type"] == "event" && e["name"] == "maintenance" && e["phase"] == "start") {
      EXPECT_EQ(e["detail"]["status"], 202);
      EXPECT_EQ(e["detail"]["outcome"], "error");
    }
  }
  EXPECT_EQ(flagged, static_cast<int>(result.issue.updates_unknown));
}

}  // namespace
