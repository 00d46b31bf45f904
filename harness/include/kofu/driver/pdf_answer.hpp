#pragma once
// PDF print data as answers (issue 12, DESIGN §5a: the third adapter). A server that answers an
// issued certificate with a PDF (`Content-Type: application/pdf`) is read in two steps:
//
//  1. when the answer arrives, the driver reads the PDF (kofu/print/pdf_reader.hpp) and records
//     what it read — the words of every page with their boxes, the drawn images' pixel hashes,
//     the PDF's size and SHA-256 — as the answer's `body` (`{"print": …}`, docs/history.md); the
//     PDF itself goes, content-addressed and within a byte budget, to `print/<sha256>.pdf` in the
//     run folder, as evidence to look at;
//  2. the verifier maps those pages into the certificate model through a print layout
//     (print_layout: labels and rows, docs/print-data.md), online and in `kofu verify` alike.
//
// A PDF that cannot be read is recorded with the reason and verified as MALFORMED.
// Immutable after construction; thread-safe.

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kofu/common/error.hpp"
#include "kofu/driver/wire_protocol.hpp"
#include "kofu/print/pdf_reader.hpp"
#include "kofu/verify/certificate.hpp"
#include "kofu/verify/replay.hpp"
#include "kofu/verify/resident_model.hpp"

namespace kofu::driver {

// Where each part of the certificate model stands in print data: every item is a row of a label
// word and its value (docs/print-data.md "The page"). The reference layout is kofu-mock's; a
// vendor profile's `print` section may rename any label (docs/profiles.md).
struct print_layout {
  std::string application_number = "申請番号";
  std::string serial = "交付番号";
  std::string version = "版数";             // the certificate's version (the subject's record)
  std::string person_start = "記載者";      // starts a person's block
  std::string person_version = "記録版数";  // the person's record version
  std::string seal_registration = "登録番号";
  std::map<std::string, std::string> person;  // label → model field (name, birth_date, …)
  std::map<std::string, std::string> koseki;  // label → honseki, hittousha, koseki_id
  std::map<std::string, std::string> tax;     // label → fiscal_year, income, …
  std::map<std::string, std::string> titles;  // printed title → certificate type
  std::vector<std::string> ignored;  // labels printed but not compared (発行市区町村 …)
  double row_tolerance = 1.0;        // pt: words whose tops differ by no more are one row
  double label_gap = 20.0;  // pt: a label opens its row, or follows a value across a gap this wide
  double fullwidth_gap = 5.0;  // pt: a gap this wide inside a value is a U+3000

  static print_layout reference();
  // The reference layout with the overrides of a profile's `print` section (or a history
  // header's copy); errors name `where` and the JSON path.
  static result<print_layout> parse(const nlohmann::json& section, const std::string& where);
  nlohmann::json to_json() const;
};

// The certificate model of print data read from a PDF. MALFORMED (with the reader's reason)
// when the PDF could not be read; parts the layout expects but the pages lack are `missing`.
verify::decoded_answer decode_print(const print::pdf_reading& reading, const print_layout& layout);

// How the run treats PDF answers (scenario `target.print`, `kofu run --print-format`).
struct print_settings {
  print_layout layout = print_layout::reference();
  // Where PDFs are kept (the run folder's `print/`; empty: none kept) and how many bytes at most.
  std::filesystem::path keep_dir;
  std::uint64_t keep_bytes = 64ull << 20;
};

// The adapter of answers recorded as print data, over the protocol's own adapter (null for the
// reference protocol) for the answers that are not.
std::shared_ptr<const verify::answer_decoder> make_print_decoder(
    print_layout layout, std::shared_ptr<const verify::answer_decoder> json_decoder);
// Renderings of print data: the protocol's (a vendor profile's), or for the reference protocol
// the printed forms of docs/print-data.md (names with U+3000, 和暦, 男/女); and a seal image as
// the SHA-256 of its pixels (print::png_pixels_sha256), since a PDF keeps pixels, not the PNG.
std::shared_ptr<const verify::record_rendering> make_print_rendering(
    std::shared_ptr<const verify::record_rendering> inner);

// A wire protocol whose issued certificates come as PDFs: `inner` builds every request and reads
// every other answer; an answer of type application/pdf is read here and recorded as print data.
class print_wire final : public wire_protocol {
 public:
  print_wire(std::shared_ptr<const wire_protocol> inner, print_settings settings);

  const std::string& name() const override { return inner_->name(); }
  // The inner protocol's document (a vendor profile, or null); the print layout is in the
  // header's `target.print` (print_header).
  nlohmann::json header_document() const override { return inner_->header_document(); }
  nlohmann::json print_header() const;

  bool offers_type(std::string_view t) const override { return inner_->offers_type(t); }
  bool offers_household_scope() const override { return inner_->offers_household_scope(); }
  bool offers_update_kind(std::string_view k) const override {
    return inner_->offers_update_kind(k);
  }
  std::shared_ptr<const verify::answer_decoder> decoder() const override { return decoder_; }
  std::shared_ptr<const verify::record_rendering> rendering() const override { return rendering_; }

  http_request issue_request(const issue_fields& f) const override {
    return inner_->issue_request(f);
  }
  // application/pdf: ok with status 200 (the PDF read and recorded as print data, kept in the
  // run folder within the budget), error otherwise; anything else as the inner protocol says.
  issue_answer classify_issue(unsigned status, const std::string& body,
                              std::string_view content_type) const override;
  verify::decoded_answer decode_issue(unsigned status, const std::string& body) const override;
  std::optional<fit_sample> judge_fit(const issue_answer& answer, unsigned status,
                                      const std::string& body) const override;
  std::optional<std::string> issue_result_code(const nlohmann::json& body) const override {
    return inner_->issue_result_code(body);
  }
  std::optional<std::string> update_result_code(const nlohmann::json& body) const override {
    return inner_->update_result_code(body);
  }
  http_request update_request(const change_fields& c) const override {
    return inner_->update_request(c);
  }
  change_answer classify_update(unsigned status, const std::string& body) const override {
    return inner_->classify_update(status, body);
  }
  http_request batch_request(const std::string& id,
                             const std::vector<change_fields>& changes) const override {
    return inner_->batch_request(id, changes);
  }
  change_answer classify_batch(unsigned status, const std::string& body,
                               const std::vector<change_fields>& changes) const override {
    return inner_->classify_batch(status, body, changes);
  }
  http_request maintenance_request(std::uint32_t ms, const std::string& token) const override {
    return inner_->maintenance_request(ms, token);
  }
  maintenance_answer classify_maintenance(unsigned status, const std::string& body) const override {
    return inner_->classify_maintenance(status, body);
  }

 private:
  // Keeps the PDF as print/<sha256>.pdf while the budget lasts; the relative path, or "".
  std::string keep(const std::string& pdf, const std::string& sha256) const;

  std::shared_ptr<const wire_protocol> inner_;
  print_settings settings_;
  std::shared_ptr<const verify::answer_decoder> decoder_;
  std::shared_ptr<const verify::record_rendering> rendering_;
  mutable std::atomic<std::uint64_t> kept_bytes_{0};
};

// True for a Content-Type of PDF print data.
bool is_pdf_content_type(std::string_view content_type);

// The answer protocol of a history whose header says its answers are print data
// (`target.print`): `json_protocol` (the profile's, or the reference protocol's nulls) wrapped
// by the print decoder and rendering. Unchanged when the header has no `target.print`.
result<verify::answer_protocol> with_print(const nlohmann::json& header,
                                           verify::answer_protocol json_protocol);

}  // namespace kofu::driver
