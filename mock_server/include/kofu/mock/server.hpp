#pragma once
// kofu-mock, the reference certificate-issuance server (DESIGN §4, docs/protocol.md).
//
// A `server` loads the population, binds its listener in the constructor (so the port is known
// before run()), and serves HTTP/1.1 with keep-alive, plain or TLS (optionally mutual TLS), on a
// pool of worker threads until stop() or SIGINT/SIGTERM (when handle_signals is set).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "kofu/mock/defects.hpp"

namespace kofu::mock {

struct tls_options {
  std::filesystem::path certificate_chain;  // PEM; empty = plain HTTP
  std::filesystem::path private_key;        // PEM
  std::filesystem::path client_ca;          // PEM; non-empty = mutual TLS (client cert required)
  bool enabled() const { return !certificate_chain.empty(); }
};

// The protocol spoken at the HTTP edge. Behind it the processing, the registry and every defect
// are the same.
enum class wire_dialect {
  reference,  // docs/protocol.md
  vendor_ja,  // docs/vendor-ja.md: an invented vendor API in Japanese, result codes under 200
};

// What an issued certificate is answered as.
enum class print_format {
  json,  // the certificate's fields (docs/protocol.md, docs/vendor-ja.md)
  pdf,   // print data: a PDF per certificate (docs/print-data.md)
};

struct server_options {
  std::filesystem::path population;  // the population file (docs/population.md)
  std::string listen_address = "127.0.0.1";
  std::uint16_t port = 0;        // 0 picks a free port
  unsigned threads = 0;          // I/O threads; 0 = max(2, hardware concurrency)
  unsigned linkage_threads = 2;  // 戸籍 linkage component's own threads
  defect_set defects;
  wire_dialect dialect = wire_dialect::reference;
  print_format print = print_format::json;
  tls_options tls;
  std::string admin_token;  // bearer token for /v1/admin/*; empty = admin disabled
  unsigned instance = 1;    // appears in certificate serials (C-<instance>-…)
  std::optional<std::filesystem::path> spool_dir;  // print files go here; unset = in memory

  // Pause at each marked race window (stage hand-offs, the linkage call, reflection field
  // writes, the spool hand-off). Unset: 2 ms when any defect is on, else 0. It widens windows;
  // it never creates a race: the correct path stays correct at any value.
  std::optional<std::chrono::milliseconds> race_window;
  // Printer time per print job. Unset: 10 ms with timeout-partial-release, else 0.
  std::optional<std::chrono::milliseconds> print_time;
  std::chrono::milliseconds print_timeout{200};  // wait for the printer before giving up

  std::size_t body_limit = 1024 * 1024;   // bytes; larger bodies get 413
  std::uint32_t header_limit = 8 * 1024;  // bytes of request head; larger gets 431
  // Deadline for reading one request (also how long an idle keep-alive connection stays open):
  // a client that has sent part of a request by then gets 408; an idle one is closed.
  std::chrono::milliseconds read_timeout{10'000};
  std::string build = "unknown";  // reported by GET /version
  bool handle_signals = false;    // stop on SIGINT/SIGTERM

  std::chrono::milliseconds effective_race_window() const;
  std::chrono::milliseconds effective_print_time() const;
};

class server {
 public:
  // Loads the population and binds the listener. Throws std::runtime_error on bad options, an
  // unreadable population (message names FILE:LINE and the field) or a failed bind.
  explicit server(server_options options);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // "http://127.0.0.1:PORT" or "https://…", with the bound port.
  std::string url() const;
  std::uint16_t port() const;
  // Serves until stop(); blocks the calling thread (which is one of the I/O threads).
  void run();
  // Thread-safe; run() returns soon after.
  void stop();

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace kofu::mock
