#pragma once
// What `kofu run` and `kofu profile check` both do before their first request (DESIGN §5): the
// scenario's target replaced by --target URLs, the endpoints parsed, a TLS context whenever TLS
// may be spoken, every endpoint probed, the population file made or found, the embedded
// kofu-mock started, and the wire protocol (a vendor profile, or the reference) loaded. Errors are
// messages for the terminal; they name the file and the JSON path where there is one. Main thread
// only.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "kofu/common/error.hpp"
#include "kofu/driver/embedded_server.hpp"
#include "kofu/driver/http_client.hpp"
#include "kofu/driver/wire_protocol.hpp"
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

// How to speak to the scenario's target: its vendor profile (target.profile, relative to the
// scenario) behind driver::profile_wire, or the reference protocol. Errors name the profile's
// file and JSON path.
result<std::shared_ptr<const driver::wire_protocol>> load_wire(const scenario::scenario& sc);

// With target.print.format "pdf": `wire` behind driver::print_wire, its print layout the
// profile's `print` section (or the reference layout), PDFs kept in `keep_dir` (created; empty:
// none kept) up to target.print.keep_pdf_bytes. Otherwise `wire` itself.
result<std::shared_ptr<const driver::wire_protocol>> with_print_data(
    std::shared_ptr<const driver::wire_protocol> wire, const scenario::scenario& sc,
    const std::filesystem::path& keep_dir);

}  // namespace kofu::app
