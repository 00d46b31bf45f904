#pragma once
// A print path's font fallback (issue 12): a value printed with the characters its font could not
// draw replaced by JIS X 0208 look-alikes (髙→高, 﨑→崎, 𠮷→吉) or with its ideographic variation
// selectors dropped (葛󠄀 → 葛). Such a value is found in no record, so it is PHANTOM ("a
// value that exists nowhere", DESIGN §7), never attributed to another resident who happens to carry
// the folded spelling (高橋 is a common name). Pure functions; thread-safe.

#include <optional>
#include <string>
#include <string_view>

namespace kofu::verify {

// Whether `printed` is `expected` with characters outside JIS X 0208 replaced by their look-alikes
// or variation selectors (U+FE00–U+FE0F, U+E0100–U+E01EF) dropped, and nothing else changed: then
// says which characters, e.g. "the expected value with glyphs substituted: U+9AD9 髙 printed as
// U+9AD8 高"; nullopt when the texts are equal, differ otherwise, or either is not valid UTF-8.
// Code points are compared exactly.
std::optional<std::string> glyph_substitution(std::string_view printed, std::string_view expected);

}  // namespace kofu::verify
