// kofu-mock: the reference certificate-issuance server (DESIGN §4, §8a).
//   kofu-mock --population FILE [--listen ADDR:PORT] [--defect NAME ...] [--dialect NAME]
//             [--print-format json|pdf]
// The first line on standard output is "listening on http://ADDR:PORT" (or https://).

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "kofu/mock/server.hpp"

namespace {

// "ADDR:PORT" or "[V6ADDR]:PORT".
bool parse_listen(const std::string& text, std::string& address, std::uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 >= text.size()) return false;
  address = text.substr(0, colon);
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  try {
    std::size_t used = 0;
    const auto value = std::stoul(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || value > 65535) return false;
    port = static_cast<std::uint16_t>(value);
  } catch (const std::exception&) {
    return false;
  }
  return !address.empty();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kofu-mock — reference certificate-issuance server with injectable defects"};
  kofu::mock::server_options options;
  std::string population, listen = "127.0.0.1:0", admin_token_file;
  std::vector<std::string> defects;
  int race_window_ms = -1, print_ms = -1, print_timeout_ms = 200, read_timeout_ms = 10'000;
  std::string spool_dir;
  std::string dialect = "reference";
  std::string print_format = "json";
  app.add_option("--population", population, "population file (JSON Lines)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--listen", listen, "ADDR:PORT to listen on; port 0 picks a free one")
      ->capture_default_str();
  app.add_option("--defect", defects,
                 "switch on a defect (repeatable): " +
                     fmt::format("{}", fmt::join(kofu::mock::all_defect_names(), ", ")));
  app.add_option("--dialect", dialect,
                 "protocol at the HTTP edge: reference (docs/protocol.md) or vendor-ja "
                 "(docs/vendor-ja.md, an invented vendor API); the processing and the defects "
                 "behind it are the same")
      ->check(CLI::IsMember({"reference", "vendor-ja"}))
      ->capture_default_str();
  app.add_option("--print-format", print_format,
                 "what an issued certificate is answered as: json (its fields) or pdf (print "
                 "data, docs/print-data.md); errors stay JSON either way")
      ->check(CLI::IsMember({"json", "pdf"}))
      ->capture_default_str();
  app.add_option("--threads", options.threads, "I/O threads (0 = max(2, cores))");
  app.add_option("--linkage-threads", options.linkage_threads, "戸籍 linkage threads")
      ->capture_default_str();
  app.add_option("--tls-cert", options.tls.certificate_chain, "server certificate chain (PEM)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", options.tls.private_key, "server private key (PEM)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-client-ca", options.tls.client_ca,
                 "require client certificates signed by this CA (mutual TLS)")
      ->check(CLI::ExistingFile);
  app.add_option("--admin-token", options.admin_token, "bearer token for /v1/admin/*");
  app.add_option("--admin-token-file", admin_token_file, "file holding the admin bearer token")
      ->check(CLI::ExistingFile);
  app.add_option("--race-window-ms", race_window_ms,
                 "pause at each marked race window (default: 2 with a defect, else 0)");
  app.add_option("--print-ms", print_ms,
                 "printer time per job (default: 10 with timeout-partial-release, else 0)");
  app.add_option("--print-timeout-ms", print_timeout_ms, "printer wait before giving up")
      ->capture_default_str();
  app.add_option("--read-timeout-ms", read_timeout_ms, "deadline for reading one request")
      ->capture_default_str();
  app.add_option("--body-limit", options.body_limit, "largest request body in bytes")
      ->capture_default_str();
  app.add_option("--spool-dir", spool_dir, "write print files to this folder")
      ->check(CLI::ExistingDirectory);
  app.add_option("--instance", options.instance, "instance number printed in serials")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    options.population = population;
    if (!parse_listen(listen, options.listen_address, options.port)) {
      std::cerr << "kofu-mock: --listen: expected ADDR:PORT, got '" << listen << "'\n";
      return 2;
    }
    for (const auto& name : defects) {
      auto d = kofu::mock::parse_defect(name);
      if (!d) {
        std::cerr << "kofu-mock: --defect: unknown defect '" << name << "' (known: "
                  << fmt::format("{}", fmt::join(kofu::mock::all_defect_names(), ", ")) << ")\n";
        return 2;
      }
      options.defects.enable(*d);
    }
    if (options.tls.certificate_chain.empty() != options.tls.private_key.empty()) {
      std::cerr << "kofu-mock: --tls-cert and --tls-key go together\n";
      return 2;
    }
    if (!options.tls.client_ca.empty() && options.tls.certificate_chain.empty()) {
      std::cerr << "kofu-mock: --tls-client-ca needs --tls-cert and --tls-key\n";
      return 2;
    }
    if (!admin_token_file.empty()) {
      std::ifstream in(admin_token_file);
      std::getline(in, options.admin_token);
      if (options.admin_token.empty()) {
        std::cerr << "kofu-mock: --admin-token-file: the file is empty\n";
        return 2;
      }
    }
    if (race_window_ms >= 0) options.race_window = std::chrono::milliseconds(race_window_ms);
    if (print_ms >= 0) options.print_time = std::chrono::milliseconds(print_ms);
    if (print_timeout_ms < 1 || read_timeout_ms < 1) {
      std::cerr << "kofu-mock: timeouts must be at least 1 ms\n";
      return 2;
    }
    options.print_timeout = std::chrono::milliseconds(print_timeout_ms);
    options.read_timeout = std::chrono::milliseconds(read_timeout_ms);
    if (!spool_dir.empty()) options.spool_dir = spool_dir;
    options.print =
        print_format == "pdf" ? kofu::mock::print_format::pdf : kofu::mock::print_format::json;
    options.dialect = dialect == "vendor-ja" ? kofu::mock::wire_dialect::vendor_ja
                                             : kofu::mock::wire_dialect::reference;
#ifdef KOFU_MOCK_BUILD
    options.build = KOFU_MOCK_BUILD;
#endif
    options.handle_signals = true;

    kofu::mock::server server(std::move(options));
    std::cout << "listening on " << server.url() << std::endl;
    server.run();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "kofu-mock: " << e.what() << '\n';
    return 2;
  }
}
