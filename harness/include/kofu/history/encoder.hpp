#pragma once
// Writes history events as lines (docs/history.md): the encoder the driver and `kofu run` use;
// decoder.hpp reads the lines back into the same events. Each function returns one line without
// its newline (line_buffer::append_raw adds it). Pure functions; thread-safe.
//
// Beside an event's own fields a line may carry what only a person reading the history needs
// (when the schedule meant to send a request, the answer's text, the error the client met); those
// come in the extra arguments. Issue lines are written with fmt, member by member, on the hot
// path: type, op and outcome first so that the strict reader knows what it reads before the body.
// The others are nlohmann objects (keys sorted) through to_line.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kofu/history/event.hpp"

namespace kofu::history {

// An issue's invoke. `intended`: when the open model's schedule meant to send it (ns since the
// run's anchor; the lateness the driver reports), not part of the event.
std::string issue_invoke_line(const issue_invoke& e, std::int64_t intended);

// What an issue's complete keeps of the exchange beside the event's id, t, status and outcome.
struct issue_record {
  // The answer kofu neither keeps nor parses (too large, too deep): why, size, SHA-256, prefix.
  const nlohmann::json* body_withheld = nullptr;
  // The client's error (no answer) or the protocol's reason for its outcome; unset: none.
  std::optional<std::string_view> error;
  // The answer's text as the server sent it, when kept: spliced verbatim when it is one line of
  // JSON, re-serialised when it is JSON over several lines, else `body_text` (+ `content_type`).
  std::optional<std::string_view> body;
  std::string_view content_type;
};

// An issue's complete. `status` is written when it is not 0 (the server answered); the answer's
// model (`e.answer`) is not written: the decoder rebuilds it from the body.
std::string issue_complete_line(const issue_complete& e, const issue_record& kept);

// An update's or a reflection batch's invoke (its changes).
std::string update_invoke_line(const update_invoke& e);

// An update's or a batch's complete. `extra`: an object of what the line keeps of the answer
// (`status`, `body`, `body_withheld`, `error`, a batch's `versions` as the server listed them).
// An update that succeeded gets `version` (null when the server gave none) from `e.versions`;
// a batch without listed `versions` gets e.versions when it has any.
std::string update_complete_line(const update_complete& e, bool batch,
                                 nlohmann::json extra = nlohmann::json::object());

// A marker (maintenance, reflection batch, phase, exec …): name, phase, t and detail.
std::string marker_line(const marker_event& e);

// The header: the object the run describes itself with (its `type` is set to "header").
std::string header_line(const history_header& e);

// The footer: `reason` from e.phase, `stats` from e.detail, `ended_at`, and `extra`'s members
// (the signal that stopped the run, a profile's misfit).
std::string footer_line(const marker_event& e, nlohmann::json extra = nlohmann::json::object());

}  // namespace kofu::history
