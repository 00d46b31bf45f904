#pragma once
// Test fixture for kofu-mock's end-to-end tests: a population file, the real `kofu-mock` started on
// 127.0.0.1:0 as a child process, a small synchronous HTTP/1.1 client (plain or TLS, keep-alive,
// every socket operation bounded by a timeout), test-time TLS certificates, and a bounded
// concurrent load runner. Each object is owned by one test thread unless said otherwise.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace kofu::mock::test {

// Writes a population of about `residents` residents to `file`: with the real generator
// (`kofu population generate`) when it is built, else with a small built-in synthetic one that
// follows docs/population.md. Returns the records as parsed JSON, in file order.
std::vector<nlohmann::json> make_population(const std::filesystem::path& file,
                                            std::size_t residents, std::uint64_t seed = 7);
// Reads a population file back as JSON records.
std::vector<nlohmann::json> read_population(const std::filesystem::path& file);

// The real kofu-mock, started with --population and --listen 127.0.0.1:0 plus `args`; killed by
// its PID when destroyed.
class mock_process {
 public:
  mock_process(const std::filesystem::path& population, const std::vector<std::string>& args,
               const std::filesystem::path& stderr_file);
  std::uint16_t port() const { return port_; }
  const std::string& url() const { return url_; }
  kofu::test::child_process& process() { return *process_; }

 private:
  std::unique_ptr<kofu::test::child_process> process_;
  std::string url_;
  std::uint16_t port_ = 0;
};

struct tls_client_config {
  std::filesystem::path ca_file;    // trust anchor for the server certificate
  std::filesystem::path cert_file;  // client certificate (mutual TLS); empty = none
  std::filesystem::path key_file;
};

struct http_result {
  unsigned status = 0;  // 0: no answer (connection error or timeout)
  std::string body;
  std::string content_type;
  std::string error;            // transport error text when status == 0
  nlohmann::json json() const;  // parsed body, or discarded on malformed JSON
};

// One keep-alive connection; reconnects when the server closed it. Not thread-safe.
class http_client {
 public:
  explicit http_client(std::uint16_t port, std::optional<tls_client_config> tls = std::nullopt,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  http_result request(const std::string& method, const std::string& target,
                      const std::string& body = {},
                      const std::vector<std::pair<std::string, std::string>>& headers = {},
                      const std::string& content_type = "application/json");
  http_result post(const std::string& target, const nlohmann::json& body,
                   const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return request("POST", target, body.dump(), headers);
  }
  http_result get(const std::string& target) { return request("GET", target); }

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

// Sends raw bytes on a fresh plain connection and returns everything read until the server closes
// or `timeout` passes (the raw answer text).
std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Test-time certificates, made with the `openssl` CLI into `dir`: a CA, a server certificate for
// 127.0.0.1/localhost and a client certificate, all signed by that CA.
struct tls_material {
  std::filesystem::path ca_cert, server_cert, server_key, client_cert, client_key;
  std::filesystem::path other_ca_cert, other_client_cert, other_client_key;  // an unrelated CA
};
tls_material make_tls_material(const std::filesystem::path& dir);

// An issue request body.
nlohmann::json issue_body(const std::string& application_number, const std::string& card_serial,
                          const std::string& type = "juminhyo",
                          const std::string& channel = "konbini",
                          const nlohmann::json& options = nullptr);

// Verifies the digest of a 200 answer: hex SHA-256 of application_number + "\n" + canonical
// certificate.
bool digest_matches(const nlohmann::json& answer);

// Runs `workers` threads, each with its own connection, calling `step(worker, i, client)` until
// `max_requests` in all or `duration` has passed or `*stop` is set, whichever first. Bounded in
// count and time.
void run_load(std::uint16_t port, unsigned workers, std::size_t max_requests,
              std::chrono::milliseconds duration,
              const std::function<void(unsigned worker, std::size_t i, http_client& client)>& step,
              std::optional<tls_client_config> tls = std::nullopt,
              const std::atomic<bool>* stop = nullptr);

}  // namespace kofu::mock::test
