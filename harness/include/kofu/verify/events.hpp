#pragma once
// The history's events and their decoder (kofu/history/event.hpp, decoder.hpp) under the names
// the verifier has always used for them, so that the checker reads `issue_invoke`, not
// `history::issue_invoke`.

#include "kofu/history/decoder.hpp"
#include "kofu/history/event.hpp"

namespace kofu::verify {

using history::history_event;
using history::history_header;
using history::issue_complete;
using history::issue_invoke;
using history::issue_options;
using history::issue_outcome;
using history::marker_event;
using history::parse_history_event;
using history::parse_history_line;
using history::parse_options;
using history::resident_change;
using history::update_complete;
using history::update_invoke;
using history::update_outcome;

}  // namespace kofu::verify
