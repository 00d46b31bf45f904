#pragma once
// RFC 8785 (JSON Canonicalization Scheme) as docs/protocol.md restricts it: keys sorted by byte,
// no whitespace, strings escaped only where JSON requires (control characters as lower-case
// \u00xx), everything else raw UTF-8. The verifier's own implementation: it shares no code with
// the server under test, so that a canonicalisation bug cannot hide a digest mismatch.
// Pure functions; thread-safe.

#include <nlohmann/json.hpp>

#include <string>

namespace kofu::verify {

// Appends the canonical form of `value` to `out`. Integers print as integers; a non-integral
// number (never sent by the protocol) prints in the shortest round-trip form.
void append_canonical_json(const nlohmann::json& value, std::string& out);
std::string canonical_json(const nlohmann::json& value);

// The digest the protocol defines for an answer: hex SHA-256 of
// `application_number` + "\n" + canonical_json(certificate).
std::string certificate_digest(std::string_view application_number,
                               const nlohmann::json& certificate);

}  // namespace kofu::verify
