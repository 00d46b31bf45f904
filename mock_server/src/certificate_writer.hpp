#pragma once
// Rendering and sealing output of the issuance pipeline: the `certificate` object of a 200 answer
// (docs/protocol.md) written straight into a buffer in canonical JSON, and the answer around it.
// The canonical text is what the digest covers; it is the same text nlohmann::json would print for
// the certificate built as a document (tests/mock_server/canonical_json_test.cpp compares them).
//
// Reads only what it is given, plus the registry for each 住民票 person's 世帯主 (a live read, as
// the rendering step has always done). Safe from any thread.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "kofu/mock/registry.hpp"
#include "layout_templates.hpp"

namespace kofu::mock {

struct certificate_content {
  std::size_t type = 0;                        // index into kCertificateTypes
  const resident_record* subject = nullptr;    // the authenticated resident (stage 2 snapshot)
  std::span<const resident_snapshot> persons;  // identity columns, as read in stage 2
  std::span<const resident_snapshot> details;  // print details re-read in stage 3, same order
  print_columns columns;                       // as the layout decided
  std::string_view koseki_id;                  // 戸籍 types: the 戸籍 the linkage returned
  std::string_view serial;
  std::string_view issued_at;
};

// Appends the certificate object in canonical JSON to `out`. The type's required records are
// present (an 印鑑 certificate's detail carries a seal: the caller has checked).
void write_certificate(std::string& out, const certificate_content& content,
                       const registry& residents);

// The body of a 200 answer: {"application_number", "certificate", "digest"} in canonical form,
// where digest is the hex SHA-256 of application_number, "\n" and the certificate's text.
std::string write_answer(std::string_view application_number, const certificate_content& content,
                         const registry& residents);

}  // namespace kofu::mock
