#pragma once
// What `kofu run` and `kofu profile check` both do before their first request (DESIGN §5): the
// scenario's target replaced by --target URLs, the endpoints parsed, a TLS context whenever TLS
// may be spoken, every endpoint probed, the population file made or found, the embedded
// kofu-mock started, and the vendor profile loaded. Errors are messages for the terminal; they
// name the file and the JSON path where there is one. Main thread only.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "kofu/common/error.hpp"
#include "kofu/driver/embedded_server.hpp"
#include "kofu/driver/http_client.hpp"
#include "kofu/driver/vendor_profile.hpp"
#include "kofu/scenario/scenario.hpp"

namespace kofu::app {

// --target URL…: the scenario drives these servers instead of its own target (its document,
// kept in the history, says so too). No-op when `urls` is empty.
void override_targets(scenario::scenario& sc, const std::vector<std::string>& urls);

// The scenario's target URLs parsed (none for an embedded target).
result<std::vector<driver::endpoint>> parse_endpoints(const scenario::scenario& sc);

// A TLS client context when TLS may be spoken: an embedded server (it may be started with
// --tls-cert among its mock_args) or an https endpoint; null otherwise.
result<std::shared_ptr<boost::asio::ssl::context>> tls_context_for(
    const scenario::scenario& sc, const std::vector<driver::endpoint>& endpoints);

// One GET /healthz on each endpoint: any HTTP answer (a vendor's server may know no /healthz)
// proves the connection and TLS. The error names the endpoint.
result<void> probe_endpoints(const scenario::scenario& sc,
                             const std::vector<driver::endpoint>& endpoints,
                             boost::asio::ssl::context* tls);

// The population file of the scenario: generated as `dir`/population.jsonl when the scenario
// generates one (its SHA-256 in `*sha256` when given), or the scenario's file.
result<std::filesystem::path> prepare_population(const scenario::scenario& sc,
                                                 const std::filesystem::path& dir,
                                                 std::string* sha256 = nullptr);

// kofu-mock started on `population` with the scenario's defects, mock_args and admin token; its
// standard error goes to `log_file`.
result<std::unique_ptr<driver::embedded_server>> start_embedded(
    const scenario::scenario& sc, const std::filesystem::path& population,
    const std::filesystem::path& log_file, boost::asio::ssl::context* tls);

// The scenario's vendor profile (target.profile, relative to the scenario), or nullopt for the
// reference protocol.
result<std::optional<driver::vendor_profile>> load_profile(const scenario::scenario& sc);

}  // namespace kofu::app
