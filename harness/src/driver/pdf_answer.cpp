#include "kofu/driver/pdf_answer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <optional>
#include <set>
#include <system_error>

#include "driver/vendor_answer.hpp"
#include "kofu/common/sha256.hpp"

namespace kofu::driver {

using nlohmann::json;
using print::pdf_reading;
using print::text_run;

// ---- The layout ------------------------------------------------------------------------------

print_layout print_layout::reference() {
  print_layout l;
  l.person = {{"住民票コード", "resident_id"},
              {"氏名", "name"},
              {"氏名カナ", "name_kana"},
              {"生年月日", "birth_date"},
              {"性別", "sex"},
              {"住所", "address"},
              {"住民となった日", "moved_in_date"},
              {"世帯主", "household_head"},
              {"続柄", "relationship"},
              {"本籍", "honseki"},
              {"筆頭者", "hittousha"},
              {"個人番号", "mynumber"},
              {"戸籍上の続柄", "koseki_relationship"}};
  l.koseki = {{"本籍", "honseki"}, {"筆頭者", "hittousha"}, {"戸籍番号", "koseki_id"}};
  l.tax = {{"年度", "fiscal_year"},
           {"所得金額", "income"},
           {"課税標準額", "taxable_income"},
           {"市町村民税額", "municipal_tax"},
           {"道府県民税額", "prefectural_tax"}};
  l.titles = {{"住民票の写し", "juminhyo"},
              {"住民票記載事項証明書", "juminhyo_kisai"},
              {"印鑑登録証明書", "inkan"},
              {"戸籍全部事項証明書", "koseki_zenbu"},
              {"戸籍個人事項証明書", "koseki_kojin"},
              {"戸籍の附票の写し", "koseki_fuhyo"},
              {"課税証明書", "kazei"}};
  l.ignored = {"発行市区町村", "交付日時", "印影"};
  return l;
}

namespace {

const std::set<std::string>& person_fields() {
  static const std::set<std::string> fields{
      "resident_id", "name",          "name_kana",          "birth_date",   "sex",
      "address",     "moved_in_date", "household_head",     "relationship", "honseki",
      "hittousha",   "mynumber",      "koseki_relationship"};
  return fields;
}

void read_label_map(const json& section, const char* key, const std::set<std::string>& allowed,
                    std::map<std::string, std::string>& target, const std::string& where,
                    std::vector<std::string>& problems) {
  const auto it = section.find(key);
  if (it == section.end()) return;
  if (!it->is_object()) {
    problems.push_back(fmt::format("{}/{}: expected an object of label → field", where, key));
    return;
  }
  target.clear();
  for (const auto& [label, field] : it->items()) {
    if (!field.is_string() || (!allowed.empty() && !allowed.contains(field.get<std::string>()))) {
      problems.push_back(fmt::format("{}/{}/{}: not a field kofu knows", where, key, label));
      continue;
    }
    target[label] = field.get<std::string>();
  }
}

}  // namespace

result<print_layout> print_layout::parse(const json& section, const std::string& where) {
  print_layout l = reference();
  if (section.is_null()) return l;
  if (!section.is_object()) return make_error(errc::invalid_field, where + ": expected an object");
  std::vector<std::string> problems;
  static const std::set<std::string> known{"format",
                                           "application_number",
                                           "serial",
                                           "version",
                                           "person_start",
                                           "person_version",
                                           "seal_registration",
                                           "person",
                                           "koseki",
                                           "tax",
                                           "titles",
                                           "ignored",
                                           "row_tolerance",
                                           "label_gap",
                                           "fullwidth_gap"};
  for (const auto& [key, value] : section.items()) {
    if (!known.contains(key)) problems.push_back(fmt::format("{}/{}: unknown member", where, key));
  }
  if (const auto f = section.find("format"); f != section.end() && *f != "pdf") {
    problems.push_back(where + "/format: only \"pdf\" is offered");
  }
  auto text = [&](const char* key, std::string& target) {
    if (const auto it = section.find(key); it != section.end()) {
      if (it->is_string() && !it->get<std::string>().empty())
        target = it->get<std::string>();
      else
        problems.push_back(fmt::format("{}/{}: expected a label", where, key));
    }
  };
  text("application_number", l.application_number);
  text("serial", l.serial);
  text("version", l.version);
  text("person_start", l.person_start);
  text("person_version", l.person_version);
  text("seal_registration", l.seal_registration);
  read_label_map(section, "person", person_fields(), l.person, where, problems);
  read_label_map(section, "koseki", {"honseki", "hittousha", "koseki_id"}, l.koseki, where,
                 problems);
  read_label_map(section, "tax",
                 {"fiscal_year", "income", "taxable_income", "municipal_tax", "prefectural_tax"},
                 l.tax, where, problems);
  read_label_map(section, "titles",
                 {"juminhyo", "juminhyo_kisai", "inkan", "koseki_zenbu", "koseki_kojin",
                  "koseki_fuhyo", "kazei"},
                 l.titles, where, problems);
  if (const auto it = section.find("ignored"); it != section.end()) {
    if (!it->is_array() ||
        !std::all_of(it->begin(), it->end(), [](const json& v) { return v.is_string(); })) {
      problems.push_back(where + "/ignored: expected a list of labels");
    } else {
      l.ignored = it->get<std::vector<std::string>>();
    }
  }
  auto number = [&](const char* key, double& target) {
    if (const auto it = section.find(key); it != section.end()) {
      if (it->is_number() && it->get<double>() >= 0)
        target = it->get<double>();
      else
        problems.push_back(fmt::format("{}/{}: expected a length in points", where, key));
    }
  };
  number("row_tolerance", l.row_tolerance);
  number("label_gap", l.label_gap);
  number("fullwidth_gap", l.fullwidth_gap);
  if (!problems.empty()) return make_error(errc::invalid_field, problems.front());
  return l;
}

json print_layout::to_json() const {
  return {{"format", "pdf"},
          {"application_number", application_number},
          {"serial", serial},
          {"version", version},
          {"person_start", person_start},
          {"person_version", person_version},
          {"seal_registration", seal_registration},
          {"person", person},
          {"koseki", koseki},
          {"tax", tax},
          {"titles", titles},
          {"ignored", ignored},
          {"row_tolerance", row_tolerance},
          {"label_gap", label_gap},
          {"fullwidth_gap", fullwidth_gap}};
}

// ---- Pages into the model --------------------------------------------------------------------

namespace {

// One label and its value as printed on a row.
struct labelled_value {
  std::string label;
  std::string value;
};

struct page_rows {
  std::vector<std::string> texts;                  // each row's whole text, top to bottom
  std::vector<std::vector<labelled_value>> items;  // each row's labelled values
};

// Rows: words whose tops are within the tolerance, left to right; labelled values as above. A
// value's words are joined by docs/print-data.md's rule: ' ' after a word poppler saw a space
// after, U+3000 across a gap of at least `fullwidth_gap`, nothing otherwise (a change of font may
// split a word).
page_rows rows_of(const print::printed_page& page, const print_layout& l,
                  const std::set<std::string>& labels) {
  std::vector<const text_run*> runs;
  for (const auto& r : page.runs) runs.push_back(&r);
  std::stable_sort(runs.begin(), runs.end(),
                   [](const text_run* a, const text_run* b) { return a->y < b->y; });
  std::vector<std::vector<const text_run*>> rows;
  for (const text_run* r : runs) {
    if (rows.empty() || r->y - rows.back().front()->y > l.row_tolerance) rows.emplace_back();
    rows.back().push_back(r);
  }
  page_rows out;
  for (auto& row : rows) {
    std::stable_sort(row.begin(), row.end(),
                     [](const text_run* a, const text_run* b) { return a->x < b->x; });
    std::string whole;
    std::vector<labelled_value> items;
    std::string* value = nullptr;
    const text_run* previous = nullptr;
    for (const text_run* r : row) {
      const double gap = previous ? r->x - (previous->x + previous->w) : l.label_gap;
      std::string joint;
      if (previous != nullptr) {
        if (previous->space_after)
          joint = " ";
        else if (gap >= l.fullwidth_gap)
          joint = "\u3000";
      }
      whole += joint + r->text;
      // A label opens its row, or follows another label's value across a wide gap (the footer's
      // 申請番号 … 交付番号 …): a value that spells a label (続柄 世帯主) stays a value.
      const bool opens =
          previous == nullptr || (value != nullptr && !value->empty() && gap >= l.label_gap);
      if (labels.contains(r->text) && opens) {
        items.push_back({r->text, ""});
        value = &items.back().value;
      } else if (value != nullptr) {
        if (!value->empty()) *value += joint;
        *value += r->text;
      }
      previous = r;
    }
    out.texts.push_back(std::move(whole));
    out.items.push_back(std::move(items));
  }
  return out;
}

// "k/N" in ASCII digits.
bool parse_page_label(const std::string& text, std::int64_t& k, std::int64_t& n) {
  const auto slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) return false;
  const char* end = text.data() + text.size();
  const auto a = std::from_chars(text.data(), text.data() + slash, k);
  const auto b = std::from_chars(text.data() + slash + 1, end, n);
  return a.ec == std::errc{} && a.ptr == text.data() + slash && b.ec == std::errc{} && b.ptr == end;
}

bool parse_int(const std::string& text, std::int64_t& out) {
  const auto r = std::from_chars(text.data(), text.data() + text.size(), out);
  return r.ec == std::errc{} && r.ptr == text.data() + text.size() && !text.empty();
}

class page_mapper {
 public:
  page_mapper(const print_layout& l, verify::decoded_answer& out) : l_(l), out_(out) {
    for (const auto* label : {&l.application_number, &l.serial, &l.version, &l.person_start,
                              &l.person_version, &l.seal_registration}) {
      labels_.insert(*label);
    }
    for (const auto* m : {&l.person, &l.koseki, &l.tax}) {
      for (const auto& [label, field] : *m) labels_.insert(label);
    }
    labels_.insert(l.ignored.begin(), l.ignored.end());
  }

  void map(const print::printed_page& page) {
    verify::page_footer footer;
    footer.page = page.number;
    person_.reset();
    const auto rows = rows_of(page, l_, labels_);
    for (std::size_t i = 0; i < rows.texts.size(); ++i) {
      const auto& text = rows.texts[i];
      if (const auto t = l_.titles.find(text); t != l_.titles.end() && rows.items[i].empty()) {
        if (cert().type.empty()) cert().type = t->second;
      }
      std::int64_t k = 0, n = 0;
      if (rows.items[i].empty() && parse_page_label(text, k, n)) {
        footer.page_label = text;
        footer.printed_number = k;
        footer.printed_total = n;
      }
      for (const auto& item : rows.items[i]) take(item, page.number, footer);
    }
    if (page.number == 1) {
      cert().application_number = footer.application_number;
      cert().serial = footer.serial;
      if (!page.images.empty()) seal_image_ = page.images.front().pixels_sha256;
    }
    cert().pages.push_back(std::move(footer));
  }

  void finish() {
    auto& c = cert();
    if (c.application_number.empty())
      missing(fmt::format("page 1: no {} row", l_.application_number));
    if (c.serial.empty()) missing(fmt::format("page 1: no {} row", l_.serial));
    if (c.type.empty()) missing("page 1: no title the print layout knows");
    if (c.persons.empty()) missing(fmt::format("no person ({} row) on any page", l_.person_start));
    for (std::size_t i = 0; i < c.persons.size(); ++i) {
      const auto& x = c.persons[i];
      if (x.name.family_kanji.empty() || x.birth_date.empty() || x.sex.empty()) {
        missing(
            fmt::format("persons[{}] (page {}): name, birth date or sex not printed", i, x.page));
      }
    }
    if (c.seal) {
      c.seal->image_sha256 = seal_image_;
      c.seal->image_sha256_computed = seal_image_;
    }
  }

 private:
  verify::printed_certificate& cert() { return out_.certificate; }
  void missing(std::string what) { out_.missing.push_back(std::move(what)); }

  void take(const labelled_value& item, int page, verify::page_footer& footer) {
    const std::string& label = item.label;
    const std::string& value = item.value;
    if (label == l_.application_number) {
      footer.application_number = value;
    } else if (label == l_.serial) {
      footer.serial = value;
    } else if (label == l_.version) {
      if (page == 1 && !parse_int(value, cert().source_version)) {
        missing(fmt::format("page 1: {} '{}' is not an integer", label, value));
      }
    } else if (label == l_.person_start) {
      person_ = cert().persons.size();
      cert().persons.emplace_back().page = page;
    } else if (label == l_.person_version && person_) {
      if (!parse_int(value, cert().persons[*person_].source_version)) {
        missing(fmt::format("page {}: {} '{}' is not an integer", page, label, value));
      }
    } else if (const auto p = l_.person.find(label); p != l_.person.end() && person_) {
      set_person_field(cert().persons[*person_], p->second, value);
    } else if (const auto k = l_.koseki.find(label); k != l_.koseki.end()) {
      if (page != 1) return;  // every page repeats it; a foreign page shows in its footer
      auto& koseki = cert().koseki ? *cert().koseki : cert().koseki.emplace();
      if (k->second == "honseki") koseki.honseki = value;
      if (k->second == "hittousha") koseki.hittousha = value;
      if (k->second == "koseki_id") koseki.koseki_id = value;
    } else if (label == l_.seal_registration) {
      if (page != 1) return;
      auto& seal = cert().seal ? *cert().seal : cert().seal.emplace();
      seal.registration_number = value;
    } else if (const auto t = l_.tax.find(label); t != l_.tax.end()) {
      set_tax_field(t->second, label, value, page);
    }
  }

  static void set_person_field(verify::printed_person& x, const std::string& field,
                               const std::string& value) {
    if (field == "resident_id") x.resident_id = value;
    if (field == "name") x.name.family_kanji = value;
    if (field == "name_kana") x.name.family_kana = value;
    if (field == "birth_date") x.birth_date = value;
    if (field == "sex") x.sex = value;
    if (field == "address") x.address = population::address{"", "", "", "", "", value, value};
    if (field == "moved_in_date") x.moved_in_date = value;
    if (field == "household_head") x.household_head = value;
    if (field == "relationship") x.relationship = value;
    if (field == "honseki") x.honseki = value;
    if (field == "hittousha") x.hittousha = value;
    if (field == "mynumber") x.mynumber = value;
    if (field == "koseki_relationship") x.koseki_relationship = value;
  }

  void set_tax_field(const std::string& field, const std::string& label, const std::string& value,
                     int page) {
    auto& tax = cert().tax ? *cert().tax : cert().tax.emplace();
    std::int64_t n = 0;
    if (!parse_int(value, n)) {
      missing(fmt::format("page {}: {} '{}' is not an integer", page, label, value));
      return;
    }
    if (field == "fiscal_year") tax.fiscal_year = static_cast<std::int32_t>(n);
    if (field == "income") tax.income = n;
    if (field == "taxable_income") tax.taxable_income = n;
    if (field == "municipal_tax") tax.municipal_tax = n;
    if (field == "prefectural_tax") tax.prefectural_tax = n;
  }

  const print_layout& l_;
  verify::decoded_answer& out_;
  std::set<std::string> labels_;
  std::optional<std::size_t> person_;  // the block being read on the current page
  std::string seal_image_;
};

}  // namespace

verify::decoded_answer decode_print(const pdf_reading& reading, const print_layout& layout) {
  verify::decoded_answer out;
  out.digest_valid = true;  // print data carries no digest: not applicable
  if (reading.malformed) {
    out.malformed = "PDF print data: " + *reading.malformed;
    return out;
  }
  page_mapper mapper(layout, out);
  for (const auto& page : reading.pages) mapper.map(page);
  mapper.finish();
  return out;
}

// ---- The decoder and the rendering -----------------------------------------------------------

namespace {

class print_decoder final : public verify::answer_decoder {
 public:
  print_decoder(print_layout layout, std::shared_ptr<const verify::answer_decoder> json_decoder)
      : layout_(std::move(layout)), json_decoder_(std::move(json_decoder)) {
    caps_.digest = false;
    caps_.card_serial = false;
    caps_.subject_resident_id = false;
    caps_.koseki_id = true;
    caps_.versions = verify::version_semantics::per_person;
  }

  verify::decoded_answer decode(const json& body, bool keep_body) const override {
    const auto print = body.is_object() ? body.find("print") : body.end();
    if (print == body.end()) {
      // An answer that was not a PDF: the protocol's own reading.
      if (json_decoder_) return json_decoder_->decode(body, keep_body);
      return verify::decode_answer(body, keep_body);
    }
    verify::decoded_answer out;
    if (auto reading = print::from_json(*print)) {
      out = decode_print(*reading, layout_);
    } else {
      out.malformed = reading.error().message;
    }
    if (keep_body) out.body = body;
    return out;
  }
  const verify::answer_capabilities& capabilities() const override { return caps_; }

 private:
  print_layout layout_;
  std::shared_ptr<const verify::answer_decoder> json_decoder_;
  verify::answer_capabilities caps_;
};

class print_rendering final : public verify::record_rendering {
 public:
  explicit print_rendering(std::shared_ptr<const verify::record_rendering> inner)
      : inner_(std::move(inner)) {}

  population::resident render(const population::resident& raw) const override {
    population::resident r = inner_->render(raw);
    if (r.seal) r.seal->image_sha256 = pixels_of(r.seal->image_png_base64);
    return r;
  }
  std::string household_head(const population::resident& raw) const override {
    return inner_->household_head(raw);
  }
  std::string sex(population::sex s) const override { return inner_->sex(s); }

 private:
  static std::string pixels_of(const std::string& base64) {
    const auto png = verify::decode_base64(base64);
    if (!png) return "the seal image is not base64";
    return print::png_pixels_sha256(*png).value_or("the seal image is not a readable PNG");
  }

  std::shared_ptr<const verify::record_rendering> inner_;
};

// The printed forms of docs/print-data.md for the reference protocol, which has no profile:
// built through the same renderings a vendor profile declares (docs/profiles.md).
std::shared_ptr<const verify::record_rendering> reference_print_rendering() {
  static const auto rendering = [] {
    const json answer = {{"application_number", "/a"},
                         {"certificate", "/c"},
                         {"type", "/t"},
                         {"serial", "/s"},
                         {"persons", "/p"},
                         {"versions", "per_person"},
                         {"person",
                          {{"name", "/n"},
                           {"birth_date", "/b"},
                           {"sex", "/x"},
                           {"version", "/v"},
                           {"name_kana", "/k"}}}};
    const json render = {
        {"name", "{{name.family_kanji}}\u3000{{name.given_kanji}}"},
        {"name_kana", "{{name.family_kana}}\u3000{{name.given_kana}}"},
        {"household_head", "{{name.family_kanji}}\u3000{{name.given_kanji}}"},
        {"hittousha", "{{hittousha|fullwidth_space}}"},
        {"birth_date", "{{birth_date|wareki}}"},
        {"moved_in_date", "{{moved_in_date|wareki}}"},
        {"address",
         "〒{{address.postal_code}}\u3000{{address.prefecture}}{{address.city}}{{address.town}}"
         "{{address.banchi}}\u3000{{address.building}}"},
        {"sex", {{"male", "男"}, {"female", "女"}}}};
    std::vector<std::string> problems;
    auto adapter = detail::parse_vendor_adapter(answer, &render, {}, problems);
    return adapter.rendering;
  }();
  return rendering;
}

}  // namespace

std::shared_ptr<const verify::answer_decoder> make_print_decoder(
    print_layout layout, std::shared_ptr<const verify::answer_decoder> json_decoder) {
  return std::make_shared<print_decoder>(std::move(layout), std::move(json_decoder));
}

std::shared_ptr<const verify::record_rendering> make_print_rendering(
    std::shared_ptr<const verify::record_rendering> inner) {
  return std::make_shared<print_rendering>(inner ? std::move(inner) : reference_print_rendering());
}

// ---- The wire --------------------------------------------------------------------------------

bool is_pdf_content_type(std::string_view content_type) {
  return content_type.starts_with("application/pdf");
}

print_wire::print_wire(std::shared_ptr<const wire_protocol> inner, print_settings settings)
    : inner_(std::move(inner)),
      settings_(std::move(settings)),
      decoder_(make_print_decoder(settings_.layout, inner_->decoder())),
      rendering_(make_print_rendering(inner_->rendering())) {}

json print_wire::print_header() const {
  return {{"format", "pdf"}, {"layout", settings_.layout.to_json()}};
}

std::string print_wire::keep(const std::string& pdf, const std::string& sha256) const {
  if (settings_.keep_dir.empty()) return {};
  // Reserve the bytes first: concurrent workers never overshoot the budget together.
  const std::uint64_t before = kept_bytes_.fetch_add(pdf.size(), std::memory_order_relaxed);
  if (before + pdf.size() > settings_.keep_bytes) {
    kept_bytes_.fetch_sub(pdf.size(), std::memory_order_relaxed);
    return {};
  }
  const std::string name = sha256 + ".pdf";
  const auto path = settings_.keep_dir / name;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    const auto temporary = settings_.keep_dir / (name + ".part");
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(pdf.data(), static_cast<std::streamsize>(pdf.size()));
    out.close();
    if (!out) {
      kept_bytes_.fetch_sub(pdf.size(), std::memory_order_relaxed);
      return {};
    }
    std::filesystem::rename(temporary, path, ec);
    if (ec) return {};
  }
  return "print/" + name;
}

issue_answer print_wire::classify_issue(unsigned status, const std::string& body,
                                        std::string_view content_type) const {
  if (!is_pdf_content_type(content_type)) return inner_->classify_issue(status, body, content_type);
  issue_answer answer;
  if (status != 200) {
    answer.outcome = "error";
    answer.error = fmt::format("a PDF answer with HTTP status {}", status);
    return answer;
  }
  const pdf_reading reading = print::read_pdf(body);
  json print = print::to_json(reading);
  if (const auto kept = keep(body, reading.sha256); !kept.empty()) print["kept"] = kept;
  answer.outcome = "ok";
  answer.recorded_body =
      json{{"print", std::move(print)}}.dump(-1, ' ', false, json::error_handler_t::replace);
  return answer;
}

verify::decoded_answer print_wire::decode_issue(unsigned status, const std::string& body) const {
  if (!body.starts_with("%PDF-")) return inner_->decode_issue(status, body);
  return decode_print(print::read_pdf(body), settings_.layout);
}

std::optional<fit_sample> print_wire::judge_fit(const issue_answer& answer, unsigned status,
                                                const std::string& body) const {
  if (!answer.recorded_body) return inner_->judge_fit(answer, status, body);
  const auto decoded = decoder_->decode(json::parse(*answer.recorded_body), false);
  if (decoded.malformed) return fit_sample{false, *decoded.malformed};
  if (!decoded.missing.empty()) return fit_sample{false, decoded.missing.front()};
  return fit_sample{};
}

result<verify::answer_protocol> with_print(const json& header,
                                           verify::answer_protocol json_protocol) {
  const auto target = header.find("target");
  if (target == header.end() || !target->is_object()) return json_protocol;
  const auto print = target->find("print");
  if (print == target->end() || print->is_null()) return json_protocol;
  if (!print->is_object() || print->value("format", "") != "pdf") {
    return make_error(errc::invalid_field, "history header /target/print: not PDF print data");
  }
  auto layout =
      print_layout::parse(print->value("layout", json()), "history header /target/print/layout");
  if (!layout) return layout.error();
  return verify::answer_protocol{make_print_decoder(std::move(*layout), json_protocol.decoder),
                                 make_print_rendering(json_protocol.rendering)};
}

}  // namespace kofu::driver
