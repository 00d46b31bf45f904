#pragma once
// The hook through which `kofu run` hands its finished run folder to the verifier (issue 5).
//
// The verifier's command file sets `after_run_hook()` from a static initialiser; `kofu run`
// calls it once the history is closed and the server stopped, and uses its return value as the
// exit code (DESIGN §8: 0 pass, 1 fail, 2 bad input). Unset: `kofu run` exits 0 unless a
// threshold the driver can judge itself (error rate, p99) failed, and says how to verify.

#include <filesystem>
#include <functional>

namespace kofu::app {

using after_run_function = std::function<int(const std::filesystem::path& run_dir)>;

// The single place the verifier plugs in. Not thread-safe; set before main() parses.
after_run_function& after_run_hook();

}  // namespace kofu::app
