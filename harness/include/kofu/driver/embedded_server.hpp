#pragma once
// The embedded target (DESIGN §5): `kofu-mock` started as a child process on a free loopback port,
// watched until /healthz answers, and stopped (by its PID, SIGTERM then SIGKILL) at the end.
// It never outlives kofu: it is stopped on destruction, and it asked the kernel for SIGKILL when
// the thread that started it ends (PR_SET_PDEATHSIG), so kill -9 of kofu takes it too — start it
// from the thread that lives as long as the run (the main thread). It runs in its own process
// group, so a Ctrl-C on the terminal reaches kofu only. Not thread-safe; owned by the caller's
// thread.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>
#include <nlohmann/json.hpp>

#include "kofu/common/error.hpp"

namespace kofu::driver {

struct embedded_options {
  std::filesystem::path binary;      // kofu-mock
  std::filesystem::path population;  // --population
  std::vector<std::string> defects;  // --defect each
  std::vector<std::string> extra_args;
  // Bearer token of admin calls; handed over through a pipe (--admin-token-file /dev/fd/3), never
  // written to a file or shown on the command line. Empty: admin calls disabled.
  std::string admin_token;
  std::filesystem::path log_file;  // the server's standard error (and output after line 1)
  std::chrono::milliseconds startup_timeout{60000};
  // For a server started with TLS (--tls-cert in extra_args): the context to check /healthz with.
  boost::asio::ssl::context* tls = nullptr;
  std::string server_name;
};

class embedded_server {
 public:
  // Starts the server, reads "listening on URL", waits until GET /healthz answers 200.
  static result<std::unique_ptr<embedded_server>> start(const embedded_options& options);
  ~embedded_server();
  embedded_server(const embedded_server&) = delete;
  embedded_server& operator=(const embedded_server&) = delete;

  const std::string& url() const { return url_; }
  pid_t pid() const { return pid_; }
  // SIGTERM, up to `grace` to exit, then SIGKILL. Returns the exit status (128 + signal if killed).
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

 private:
  embedded_server() = default;
  pid_t pid_ = -1;
  std::string url_;
  std::optional<int> exit_status_;
};

// kofu-mock's path: $KOFU_MOCK, else beside this executable, else the build tree's
// ../mock_server/kofu-mock, else the PATH.
std::optional<std::filesystem::path> find_mock_binary();

// One GET on a fresh connection (used before the run: /healthz, /version). Plain HTTP or TLS.
struct fetched {
  unsigned status = 0;
  std::string body;
  std::string tls_certificate_sha256;  // the server's leaf certificate (DER), https only
};
result<fetched> http_get(const std::string& base_url, const std::string& target,
                         std::chrono::milliseconds timeout,
                         boost::asio::ssl::context* tls = nullptr,
                         const std::string& server_name = {});

}  // namespace kofu::driver
