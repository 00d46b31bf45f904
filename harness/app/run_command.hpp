#pragma once
// The hooks through which `kofu run` hands its run to the verifier (issue 5).
//
// The verifier's command files set these from static initialisers, so that `kofu run` itself does
// not depend on the verifier:
// - `live_verification_hook()` makes the online verifier: it is fed every block of history lines
//   as the history writer writes it, checks them on a thread of its own while the load runs, and
//   reports findings so far for the progress line (issue 4 item 8, issue 5 "online").
// - `after_run_hook()` is called once the history is closed and the server stopped; it re-verifies
//   the history from the file, exactly as `kofu verify` does, compares with the online count, and
//   its return value is the exit code (DESIGN §8: 0 pass, 1 fail, 2 bad input).
// Unset: `kofu run` exits 0 unless a threshold the driver can judge itself (error rate, p99)
// failed, and says how to verify.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kofu/common/language.hpp"
#include "kofu/population/resident.hpp"

namespace kofu::app {

// Online verification of a run in progress. submit() is called from the history writer's thread,
// the rest from the run's thread; all are thread-safe.
class live_verification {
 public:
  virtual ~live_verification() = default;
  // A block of whole history lines, in file order (the header line included).
  virtual void submit(std::string&& lines) = 0;
  // Findings so far.
  virtual std::uint64_t findings() const = 0;
  // One line of plain text per new finding (the first few of the run), to print, in the language
  // the factory was given.
  virtual std::vector<std::string> take_messages() = 0;
  // False once it gave up because the load outran it (its findings() are then partial).
  virtual bool kept_up() const = 0;
  // Checks everything submitted, then everything still waiting (the run is over). Idempotent.
  virtual void finish() = 0;
};

using live_verification_factory = std::function<std::unique_ptr<live_verification>(
    std::vector<population::resident> residents, const nlohmann::json& history_header,
    language lang)>;

// `sign_key`: the PEM private key that signs the run's manifest.json (unset: unsigned); `lang`:
// the language of the summary it prints.
using after_run_function = std::function<int(
    const std::filesystem::path& run_dir, std::optional<std::uint64_t> online_findings,
    const std::optional<std::filesystem::path>& sign_key, language lang)>;

// The places the verifier plugs in. Not thread-safe; set before main() parses.
live_verification_factory& live_verification_hook();
after_run_function& after_run_hook();

}  // namespace kofu::app
