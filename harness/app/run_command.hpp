#pragma once
// How `kofu run` hands its run to the verifier (issue 5), by plain calls:
// - make_live_verification (live_verification.cpp) makes the online verifier: it is fed every
//   block of history lines as the history writer writes it, checks them on a thread of its own
//   while the load runs, and reports findings so far for the progress line (issue 4 item 8,
//   issue 5 "online").
// - verify_after_run (verify_command.cpp) is called once the history is closed and the server
//   stopped; it re-verifies the history from the file, exactly as `kofu verify` does, compares
//   with the online count, and its return value is the exit code (DESIGN §8: 0 pass, 1 fail, 2
//   bad input).

#include <cstdint>
#include <filesystem>
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

// The online verifier of a run whose history starts with `history_header`, over `residents`; its
// messages in `lang`.
std::unique_ptr<live_verification> make_live_verification(
    std::vector<population::resident> residents, const nlohmann::json& history_header,
    language lang);

// Verifies the run folder as `kofu verify` does, writes its reports and prints the summary;
// returns the exit code. `online_findings`: what the online verifier counted (compared);
// `sign_key`: the PEM private key that signs the run's manifest.json (unset: unsigned); `lang`:
// the language of the summary it prints.
int verify_after_run(const std::filesystem::path& run_dir,
                     std::optional<std::uint64_t> online_findings,
                     const std::optional<std::filesystem::path>& sign_key, language lang);

}  // namespace kofu::app
