#pragma once
// How deep JSON text nests, found by one pass over its bytes without parsing it (issue 15 item 2).
// nlohmann::json parses iteratively, but copying, comparing and dumping a document recurse once
// per level: an answer nested 100,000 deep crashed kofu on the stack, and one 20,000 deep made a
// pretty-printed report of gigabytes. Every text that comes from outside (an answer, a history
// line) is measured with this before it is handed to nlohmann, and refused beyond the limits
// below. Pure functions; thread-safe.

#include <cstddef>
#include <string_view>

namespace kofu {

// An answer (or any JSON a target sends) may nest at most this deep: a reference answer nests 5
// levels (answer, certificate, persons, person, address), a vendor's a few more.
inline constexpr std::size_t max_answer_depth = 64;
// A history line holds an answer inside its own object (and a header holds the scenario): the
// answer's limit plus room for the line's own levels.
inline constexpr std::size_t max_history_line_depth = max_answer_depth + 16;

// The deepest nesting of '[' and '{' outside strings in `text`, counting stops once it exceeds
// `give_up_above` (returns give_up_above + 1 then). Not a validator: text that is not JSON gets
// a number too (unbalanced brackets count as they open); strings are skipped with their escapes.
std::size_t json_nesting_depth(std::string_view text, std::size_t give_up_above);

// Whether `text` nests at most `max_depth` deep.
inline bool json_depth_within(std::string_view text, std::size_t max_depth) {
  return json_nesting_depth(text, max_depth) <= max_depth;
}

}  // namespace kofu
