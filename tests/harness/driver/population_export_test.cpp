// `kofu population export` (issue 11): the population in a vendor's import format. The files are
// written by the real `kofu` binary and read back here with a CSV reader and iconv of the test's
// own; expected values are derived from the population file by the test (和暦 at the era
// boundaries written out by hand), never by the code under test.

#include "kofu/driver/population_export.hpp"

#include <gtest/gtest.h>
#include <iconv.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kofu/driver/vendor_profile.hpp"
#include "test_support.hpp"

namespace {

using nlohmann::json;
using nlohmann::ordered_json;
namespace test = kofu::test;

// --- the test's own readers -------------------------------------------------------------------

// RFC 4180: records end with CRLF; fields are quoted when they hold '"', ',', CR or LF, with
// '"' doubled inside. A bare LF outside quotes is a failure.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, after_quote = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c != '"') {
        field += c;
      } else if (i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else {
        quoted = false;
        after_quote = true;
      }
      continue;
    }
    if (c == '"' && field.empty() && !after_quote) {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      after_quote = false;
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      after_quote = false;
      ++i;
    } else {
      EXPECT_NE(c, '\n') << "bare LF at byte " << i;
      EXPECT_FALSE(after_quote) << "text after a closing quote at byte " << i;
      field += c;
    }
  }
  EXPECT_TRUE(row.empty() && field.empty()) << "the last record has no CRLF";
  return rows;
}

std::vector<json> read_jsonl(const std::filesystem::path& path) {
  std::vector<json> out;
  for (const auto& line : test::split_lines(test::read_file(path)))
    out.push_back(json::parse(line));
  return out;
}

void write_jsonl(const std::filesystem::path& path, const std::vector<json>& records) {
  std::string text;
  for (const auto& r : records) text += r.dump(-1, ' ', false) + "\n";
  test::write_file(path, text);
}

// `from` → `to` with iconv, failing the test on any character it cannot convert.
std::string convert(const std::string& in, const char* from, const char* to) {
  iconv_t cd = iconv_open(to, from);
  EXPECT_NE(cd, reinterpret_cast<iconv_t>(-1));
  std::string out(in.size() * 4 + 16, '\0');
  char* in_ptr = const_cast<char*>(in.data());
  std::size_t in_left = in.size();
  char* out_ptr = out.data();
  std::size_t out_left = out.size();
  EXPECT_NE(iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left), static_cast<std::size_t>(-1))
      << "at byte " << (in.size() - in_left);
  iconv_close(cd);
  out.resize(out.size() - out_left);
  return out;
}

// --- what the test expects ----------------------------------------------------------------------

std::string wareki(const std::string& iso) {
  const int y = std::stoi(iso.substr(0, 4)), m = std::stoi(iso.substr(5, 2)),
            d = std::stoi(iso.substr(8, 2));
  const int key = y * 10000 + m * 100 + d;
  struct era {
    const char* name;
    int first_day, first_year;
  };
  for (const era& e : {era{"令和", 20190501, 2019}, era{"平成", 19890108, 1989},
                       era{"昭和", 19261225, 1926}, era{"大正", 19120730, 1912}}) {
    if (key < e.first_day) continue;
    const int year = y - e.first_year + 1;
    return std::string(e.name) + (year == 1 ? "元" : std::to_string(year)) + "年" +
           std::to_string(m) + "月" + std::to_string(d) + "日";
  }
  return "?";
}

std::string text(const json& v) {
  if (v.is_null()) return "";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string wide_spaces(std::string s) {
  for (std::size_t p = s.find(' '); p != std::string::npos; p = s.find(' ', p))
    s.replace(p, 1, "\u3000");
  return s;
}

// Every value of a record, by path, as a vendor file is expected to hold it.
const std::vector<std::string> record_paths = {"resident_id",
                                               "card_serial",
                                               "mynumber",
                                               "household_id",
                                               "relationship",
                                               "name.family_kanji",
                                               "name.given_kanji",
                                               "name.family_kana",
                                               "name.given_kana",
                                               "birth_date",
                                               "sex",
                                               "address.postal_code",
                                               "address.prefecture",
                                               "address.city",
                                               "address.town",
                                               "address.banchi",
                                               "address.building",
                                               "address.token",
                                               "moved_in_date",
                                               "honseki",
                                               "hittousha",
                                               "koseki_id",
                                               "koseki_relationship",
                                               "seal.registration_number",
                                               "seal.status",
                                               "seal.image_png_base64",
                                               "seal.image_sha256",
                                               "tax.fiscal_year",
                                               "tax.income",
                                               "tax.taxable_income",
                                               "tax.municipal_tax",
                                               "tax.prefectural_tax",
                                               "status",
                                               "version"};

// The export section of the round trip: every record path as itself, then the renderings.
json round_trip_export(const char* format) {
  json columns = json::array();
  for (const auto& p : record_paths) columns.push_back({{"name", p}, {"value", "{{" + p + "}}"}});
  const std::vector<std::pair<const char*, const char*>> rendered = {
      {"生年月日", "{{birth_date|wareki}}"},
      {"氏名", "{{render.name}}"},
      {"性別", "{{render.sex}}"},
      {"住所", "{{render.address}}"},
      {"住民となった日", "{{render.moved_in_date}}"},
      {"筆頭者", "{{render.hittousha}}"},
      {"印鑑登録状態", "{{seal.status|table:seal_status}}"},
      {"区分", "種別{{sex|table:sex_code}}"}};
  for (const auto& [name, value] : rendered) columns.push_back({{"name", name}, {"value", value}});
  json e = {{"format", format},
            {"encoding", "utf-8"},
            {"values",
             {{"seal_status", {{"registered", "登録"}, {"cancelled", "廃止"}}},
              {"sex_code", {{"male", "1"}, {"female", "2"}}}}},
            {"columns", columns}};
  if (std::string(format) == "csv") e["header"] = true;
  return e;
}

std::map<std::string, std::string> expected_row(const json& r) {
  std::map<std::string, std::string> out;
  for (const auto& p : record_paths) {
    const auto dot = p.find('.');
    const json& v = dot == std::string::npos ? r.at(p)
                    : r.at(p.substr(0, dot)).is_null()
                        ? r.at(p.substr(0, dot))
                        : r.at(p.substr(0, dot)).at(p.substr(dot + 1));
    out[p] = text(v);
  }
  const auto& a = r.at("address");
  out["生年月日"] = wareki(r.at("birth_date"));
  out["氏名"] = text(r["name"]["family_kanji"]) + "\u3000" + text(r["name"]["given_kanji"]);
  out["性別"] = r.at("sex") == "male" ? "男" : "女";
  out["住所"] = "〒" + text(a["postal_code"]) + "\u3000" + text(a["prefecture"]) + text(a["city"]) +
                text(a["town"]) + text(a["banchi"]) + "\u3000" + text(a["building"]);
  out["住民となった日"] = wareki(r.at("moved_in_date"));
  out["筆頭者"] = wide_spaces(r.at("hittousha"));
  out["印鑑登録状態"] = r.at("seal").is_null()                ? ""
                        : r["seal"]["status"] == "registered" ? "登録"
                                                              : "廃止";
  out["区分"] = r.at("sex") == "male" ? "種別1" : "種別2";
  return out;
}

// The shipped vendor-ja profile with another export section (or none), written to `path`.
std::filesystem::path profile_with(const test::temp_dir& dir, const std::string& name,
                                   const json* export_section) {
  json doc = json::parse(test::read_file(test::source_dir() / "scenarios/profiles/vendor-ja.json"));
  if (export_section != nullptr)
    doc["export"] = *export_section;
  else
    doc.erase("export");
  const auto path = dir / name;
  test::write_file(path, doc.dump(2, ' ', false));
  return path;
}

std::filesystem::path generate(const test::temp_dir& dir, const std::string& seed, double share) {
  const auto path = dir / ("pop-" + seed + ".jsonl");
  const auto r = test::run_command({test::kofu_binary(), "population", "generate", "--residents",
                                    "300", "--seed", seed, "--confusable-share",
                                    std::to_string(share), "--out", path.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return path;
}

test::command_result run_export(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {test::kofu_binary(), "population", "export"};
  argv.insert(argv.end(), args.begin(), args.end());
  return test::run_command(argv);
}

// Characters CP932 must refuse: beyond the BMP (𠮷), variation selectors (IVS), and WAVE DASH
// (which CP932 reads back as U+FF5E).
bool refused_in_cp932(char32_t c) {
  return c >= 0x10000 || c == 0x301C;  // U+E0100… are beyond the BMP too
}

std::vector<char32_t> code_points(const std::string& s) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const std::size_t n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    char32_t c = n == 1 ? b : b & (0x7FU >> n);
    for (std::size_t k = 1; k < n; ++k)
      c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3FU);
    out.push_back(c);
    i += n;
  }
  return out;
}

// --- tests --------------------------------------------------------------------------------------

TEST(PopulationExportTest, RoundTripsEveryFieldThroughCsvAndJsonLines) {
  test::temp_dir dir;
  auto records = read_jsonl(generate(dir, "11", 0.05));
  ASSERT_EQ(records.size(), 300U);
  // Era boundaries, written out by hand, and a field that needs RFC 4180 quoting.
  records[0]["birth_date"] = "1989-01-07";
  records[0]["moved_in_date"] = "2019-04-30";
  records[1]["birth_date"] = "1989-01-08";
  records[1]["moved_in_date"] = "2019-05-01";
  records[2]["birth_date"] = "1926-12-25";
  records[2]["moved_in_date"] = "2020-01-01";
  const std::string token = records[3]["address"]["token"];
  records[3]["address"]["building"] = "コーポ\"桜\",A棟 " + token;
  const std::array<std::array<const char*, 2>, 3> by_hand = {
      {{"昭和64年1月7日", "平成31年4月30日"},
       {"平成元年1月8日", "令和元年5月1日"},
       {"昭和元年12月25日", "令和2年1月1日"}}};
  const auto population = dir / "pop.jsonl";
  write_jsonl(population, records);
  bool some_seal = false, no_seal = false, cancelled = false;
  for (const auto& r : records) {
    (r["seal"].is_null() ? no_seal : some_seal) = true;
    cancelled = cancelled || (!r["seal"].is_null() && r["seal"]["status"] == "cancelled");
  }
  EXPECT_TRUE(some_seal && no_seal && cancelled)
      << "the population should exercise every seal case";

  for (const char* format : {"csv", "jsonl"}) {
    SCOPED_TRACE(format);
    const json section = round_trip_export(format);
    const auto profile = profile_with(dir, std::string("p-") + format + ".json", &section);
    const auto out = dir / (std::string("out.") + format);
    const auto r = run_export({"--profile", profile.string(), "--population", population.string(),
                               "--out", out.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("wrote 300 residents"), std::string::npos) << r.out;

    std::vector<std::string> names;
    for (const auto& c : section["columns"]) names.push_back(c["name"]);
    std::vector<std::map<std::string, std::string>> rows;
    const std::string file = test::read_file(out);
    if (std::string(format) == "csv") {
      auto table = parse_csv(file);
      ASSERT_EQ(table.size(), 301U);
      EXPECT_EQ(table[0], names);
      for (std::size_t i = 1; i < table.size(); ++i) {
        ASSERT_EQ(table[i].size(), names.size()) << "line " << i + 1;
        std::map<std::string, std::string> row;
        for (std::size_t c = 0; c < names.size(); ++c) row[names[c]] = table[i][c];
        rows.push_back(std::move(row));
      }
      EXPECT_NE(file.find("\"コーポ\"\"桜\"\",A棟 "), std::string::npos);
    } else {
      EXPECT_EQ(file.find('\r'), std::string::npos);
      for (const auto& line : test::split_lines(file)) {
        const auto object = ordered_json::parse(line);
        std::vector<std::string> keys;
        std::map<std::string, std::string> row;
        for (const auto& [k, v] : object.items()) {
          keys.push_back(k);
          EXPECT_TRUE(v.is_string()) << k;
          row[k] = v.get<std::string>();
        }
        EXPECT_EQ(keys, names);
        rows.push_back(std::move(row));
      }
      ASSERT_EQ(rows.size(), 300U);
    }
    for (std::size_t i = 0; i < records.size(); ++i) {
      const auto expected = expected_row(records[i]);
      for (const auto& name : names) {
        EXPECT_EQ(rows[i].at(name), expected.at(name))
            << "resident " << records[i]["resident_id"] << ", column " << name;
      }
    }
    for (std::size_t i = 0; i < by_hand.size(); ++i) {
      EXPECT_EQ(rows[i].at("生年月日"), by_hand[i][0]);
      EXPECT_EQ(rows[i].at("住民となった日"), by_hand[i][1]);
    }
  }
}

TEST(PopulationExportTest, Cp932ExportDecodesBackToTheSameText) {
  test::temp_dir dir;
  // Confusable names CP932 holds (髙 﨑 邊 邉) stay; those it cannot (𠮷, IVS) are left out.
  std::vector<json> kept;
  std::size_t confusable = 0;
  for (const auto& r : read_jsonl(generate(dir, "5", 0.3))) {
    const std::string all = r.dump(-1, ' ', false);
    const auto points = code_points(all);
    if (std::any_of(points.begin(), points.end(), refused_in_cp932)) continue;
    if (all.find("髙") != std::string::npos || all.find("﨑") != std::string::npos) ++confusable;
    kept.push_back(r);
  }
  ASSERT_GT(confusable, 5U) << "the population should hold names with 髙 or 﨑";
  kept[0]["honseki"] = "見本県架空市～町1番地";  // U+FF5E FULLWIDTH TILDE: CP932 0x8160
  const auto population = dir / "pop.jsonl";
  write_jsonl(population, kept);

  // The shipped profile (CP932) and the same export in UTF-8.
  const auto shipped = test::source_dir() / "scenarios/profiles/vendor-ja.json";
  json section = json::parse(test::read_file(shipped))["export"];
  ASSERT_EQ(section["encoding"], "cp932");
  section["encoding"] = "utf-8";
  const auto utf8_profile = profile_with(dir, "utf8.json", &section);

  const auto cp932_out = dir / "cp932.csv", utf8_out = dir / "utf8.csv";
  auto r = run_export({"--profile", shipped.string(), "--population", population.string(), "--out",
                       cp932_out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_export({"--profile", utf8_profile.string(), "--population", population.string(), "--out",
                  utf8_out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const std::string bytes = test::read_file(cp932_out), utf8 = test::read_file(utf8_out);
  EXPECT_NE(bytes, utf8);
  EXPECT_NE(bytes.find("\xFB\xFC"), std::string::npos) << "髙 is 0xFBFC in CP932";
  EXPECT_EQ(convert(bytes, "CP932", "UTF-8"), utf8);
  const auto rows = parse_csv(utf8);
  ASSERT_EQ(rows.size(), kept.size() + 1);
  EXPECT_EQ(rows[0][0], "住民票コード");
  EXPECT_EQ(rows[1][9], "見本県架空市～町1番地");
}

TEST(PopulationExportTest, Cp932RefusesEveryCharacterItCannotHoldAndWritesNothing) {
  test::temp_dir dir;
  const auto records = read_jsonl(generate(dir, "5", 0.3));
  // A plain resident, the first with 𠮷, the first with an IVS, and one with a WAVE DASH.
  const auto has = [](const json& r, const std::string& needle) {
    return r.dump(-1, ' ', false).find(needle) != std::string::npos;
  };
  std::vector<json> plain, chosen;
  for (const auto& r : records) {
    if (!has(r, "𠮷") && !has(r, "\xF3\xA0\x84")) plain.push_back(r);
  }
  ASSERT_GE(plain.size(), 2U);
  chosen.push_back(plain[0]);
  for (const char* needle : {"𠮷", "\xF3\xA0\x84"}) {
    for (const auto& r : records) {
      if (has(r, needle)) {
        chosen.push_back(r);
        break;
      }
    }
  }
  ASSERT_EQ(chosen.size(), 3U) << "the generator's confusable share should give 𠮷 and IVS names";
  chosen.push_back(plain[1]);
  chosen[3]["honseki"] = "見本県架空市〜町1番地";  // U+301C WAVE DASH
  const auto population = dir / "pop.jsonl";
  write_jsonl(population, chosen);

  // Every refusal the test expects, from the record itself: columns of the shipped profile that
  // hold names and 本籍 (氏名, 本籍, 筆頭者), in column order, lines counting the header.
  std::vector<std::string> expected;
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    const json& r = chosen[i];
    const std::vector<std::pair<std::string, std::string>> columns = {
        {"氏名", text(r["name"]["family_kanji"]) + text(r["name"]["given_kanji"])},
        {"本籍", r["honseki"]},
        {"筆頭者", r["hittousha"]}};
    for (const auto& [column, value] : columns) {
      for (const char32_t c : code_points(value)) {
        if (!refused_in_cp932(c)) continue;
        char hex[16];
        std::snprintf(hex, sizeof hex, "U+%04X", static_cast<unsigned>(c));
        expected.push_back("line " + std::to_string(i + 2) + ", column " + column + ", resident " +
                           text(r["resident_id"]) + ": " + hex);
      }
    }
  }
  ASSERT_GE(expected.size(), 4U);

  const auto out = dir / "import.csv";
  test::write_file(out, "previous file\r\n");
  const auto r =
      run_export({"--profile", (test::source_dir() / "scenarios/profiles/vendor-ja.json").string(),
                  "--population", population.string(), "--out", out.string()});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  std::vector<std::string> listed;
  for (const auto& line : test::split_lines(r.err))
    if (line.starts_with("line ")) listed.push_back(line);
  ASSERT_EQ(listed.size(), expected.size()) << r.err;
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_TRUE(listed[i].starts_with(expected[i])) << listed[i] << "\nexpected " << expected[i];
  EXPECT_NE(r.err.find("U+20BB7 '𠮷'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("U+E01"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("U+301C '〜' (CP932 would read it back as U+FF5E '～')"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("nothing written to " + out.string()), std::string::npos) << r.err;
  // The previous file is untouched and no temporary file is left behind.
  EXPECT_EQ(test::read_file(out), "previous file\r\n");
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    files.insert(entry.path().filename().string());
  EXPECT_EQ(files, (std::set<std::string>{"import.csv", "pop.jsonl", "pop-5.jsonl"}));
}

TEST(PopulationExportTest, EncoderRefusesRatherThanReplaces) {
  kofu::driver::cp932_encoder encoder;
  struct encoder_case {
    const char* text;
    std::vector<char32_t> refused;  // empty: encodes
    std::vector<char32_t> read_back;
  };
  const std::vector<encoder_case> cases = {
      {"ABC 123", {}, {}},
      {"髙橋　﨑山 邊邉", {}, {}},
      {"～〒①", {}, {}},
      {"𠮷田", {0x20BB7}, {0}},
      {"葛\xF3\xA0\x84\x80城", {0xE0100}, {0}},
      {"〜−‖", {0x301C, 0x2212, 0x2016}, {0xFF5E, 0xFF0D, 0x2225}},
      {"𠮷𠮷", {0x20BB7, 0x20BB7}, {0, 0}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    std::string out;
    std::vector<kofu::driver::cp932_encoder::refusal> refused;
    EXPECT_EQ(encoder.encode(c.text, out, refused), c.refused.empty());
    ASSERT_EQ(refused.size(), c.refused.size());
    for (std::size_t i = 0; i < refused.size(); ++i) {
      EXPECT_EQ(refused[i].code_point, c.refused[i]);
      EXPECT_EQ(refused[i].read_back, c.read_back[i]);
    }
    if (c.refused.empty()) {
      EXPECT_EQ(convert(out, "CP932", "UTF-8"), c.text);
    }
  }
}

TEST(PopulationExportTest, BadExportSectionsFailAtLoadNamingThePath) {
  const json good =
      json::parse(test::read_file(test::source_dir() / "scenarios/profiles/vendor-ja.json"));
  ASSERT_TRUE(kofu::driver::vendor_profile::parse(good, "vendor-ja.json"));
  struct broken_case {
    const char* pointer;
    json value;
    const char* expected;
  };
  const std::vector<broken_case> cases = {
      {"/export/colour", "red", "/export/colour: unknown key"},
      {"/export/format", "xlsx", "/export/format: \"xlsx\" is not offered (csv, jsonl)"},
      {"/export/encoding", "shift_jis", "/export/encoding: \"shift_jis\" is not offered"},
      {"/export/header", "yes", "/export/header: expected true or false"},
      {"/export/columns", json::array(), "/export/columns: expected a non-empty array"},
      {"/export/columns/1/value", "{{household}}",
       "/export/columns/1/value: unknown field '{{household}}'"},
      {"/export/columns/3/value", "{{name.middle_kanji}}",
       "/export/columns/3/value: unknown field '{{name.middle_kanji}}'"},
      {"/export/columns/6/value", "{{render.gender}}",
       "/export/columns/6/value: unknown field '{{render.gender}}'"},
      {"/export/columns/16/value", "{{seal.status|table:seal_state}}",
       "/export/columns/16/value: no value table 'seal_state'"},
      {"/export/columns/5/value", "{{birth_date|heisei}}",
       "/export/columns/5/value: unknown filter 'heisei'"},
      {"/export/columns/2/width", 8, "/export/columns/2/width: unknown key"},
      {"/export/columns/2/name", "氏名",
       "/export/columns/3/name: '氏名' is already a column's name"},
      {"/export/columns/0/name", "𠮷コード",
       "/export/columns/0/name: U+20BB7 '𠮷' cannot be written in CP932"},
      {"/export/values/seal_status/registered", 1,
       "/export/values/seal_status/registered: expected a string"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.pointer);
    json doc = good;
    doc[json::json_pointer(c.pointer)] = c.value;
    const auto p = kofu::driver::vendor_profile::parse(doc, "vendor-ja.json");
    ASSERT_FALSE(p);
    EXPECT_NE(p.error().message.find(std::string("vendor-ja.json: ") + c.expected),
              std::string::npos)
        << p.error().message;
  }
  // JSON Lines have no header row.
  json doc = good;
  doc["export"]["format"] = "jsonl";
  auto p = kofu::driver::vendor_profile::parse(doc, "x.json");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("/export/header: JSON Lines have no header row"),
            std::string::npos);
  doc["export"].erase("header");
  EXPECT_TRUE(kofu::driver::vendor_profile::parse(doc, "x.json"));
  // `render.…` needs the profile's renderings (/issue/answer).
  json renaming =
      json::parse(test::read_file(test::source_dir() / "scenarios/profiles/mirai-gyosei-v3.json"));
  renaming["export"] = {{"format", "csv"},
                        {"columns", {{{"name", "氏名"}, {"value", "{{render.name}}"}}}}};
  p = kofu::driver::vendor_profile::parse(renaming, "m.json");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("m.json: /export/columns/0/value: unknown field "
                                   "'{{render.name}}'"),
            std::string::npos)
      << p.error().message;
}

TEST(PopulationExportTest, CommandSaysWhatIsMissing) {
  test::temp_dir dir;
  const auto out = dir / "x.csv";
  auto r = run_export({"--residents", "5", "--seed", "1", "--out", out.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--profile is required"), std::string::npos) << r.err;

  const auto without = profile_with(dir, "none.json", nullptr);
  r = run_export(
      {"--profile", without.string(), "--residents", "5", "--seed", "1", "--out", out.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("none.json: the profile has no `export` section"), std::string::npos)
      << r.err;

  const auto shipped = (test::source_dir() / "scenarios/profiles/vendor-ja.json").string();
  r = run_export({"--profile", shipped, "--out", out.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("give either --population FILE or --residents N --seed S"),
            std::string::npos)
      << r.err;
  r = run_export({"--profile", shipped, "--residents", "5", "--out", out.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--residents and --seed go together"), std::string::npos) << r.err;

  json bad = {{"format", "xml"}};
  const auto broken = profile_with(dir, "broken.json", &bad);
  r = run_export(
      {"--profile", broken.string(), "--residents", "5", "--seed", "1", "--out", out.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("broken.json: /export/format: \"xml\" is not offered"), std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));

  // Generated on the fly, without unencodable names: written.
  r = run_export({"--profile", shipped, "--residents", "50", "--seed", "2", "--confusable-share",
                  "0", "--out", out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(parse_csv(convert(test::read_file(out), "CP932", "UTF-8")).size(), 51U);
}

}  // namespace
