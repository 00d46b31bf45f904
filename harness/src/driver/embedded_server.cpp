#include "kofu/driver/embedded_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/http.hpp>

#include "kofu/driver/http_client.hpp"

extern char** environ;

namespace kofu::driver {
namespace {

using clock_type = std::chrono::steady_clock;

// Reads one line from `fd` within the deadline; nullopt on EOF or timeout.
std::optional<std::string> read_line(int fd, clock_type::time_point deadline) {
  std::string line;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return std::nullopt;
    char c = 0;
    const ssize_t n = ::read(fd, &c, 1);
    if (n <= 0) return std::nullopt;
    if (c == '\n') return line;
    line += c;
  }
}

}  // namespace

result<fetched> http_get(const std::string& base_url, const std::string& target,
                         std::chrono::milliseconds timeout, boost::asio::ssl::context* tls,
                         const std::string& server_name) {
  auto ep = parse_endpoint(base_url);
  if (!ep) return ep.error();
  if (ep->tls && tls == nullptr) {
    return make_error(errc::usage, fmt::format("{}: https needs a TLS context", base_url));
  }
  boost::asio::io_context io;
  connection conn(io.get_executor(), *ep, tls, server_name);
  namespace http = boost::beast::http;
  http::request<http::string_body> req{http::verb::get, target, 11};
  auto done = boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<exchange_result> {
        co_return co_await conn.exchange(req, timeout);
      },
      boost::asio::use_future);
  io.run();
  const auto r = done.get();
  if (r.outcome != exchange_result::kind::answered) {
    return make_error(errc::io, fmt::format("GET {}{}: {}", base_url, target, r.error));
  }
  return fetched{r.status, r.body, conn.peer_certificate_sha256()};
}

std::optional<std::filesystem::path> find_mock_binary() {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (const char* env = std::getenv("KOFU_MOCK"); env != nullptr && *env != '\0') {
    return fs::path(env);
  }
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const fs::path& candidate :
         {self.parent_path() / "kofu-mock",
          self.parent_path().parent_path() / "mock_server" / "kofu-mock"}) {
      if (fs::is_regular_file(candidate, ec)) return candidate;
    }
  }
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::string_view rest(path);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const fs::path candidate = fs::path(std::string(rest.substr(0, colon))) / "kofu-mock";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  return std::nullopt;
}

result<std::unique_ptr<embedded_server>> embedded_server::start(const embedded_options& o) {
  std::vector<std::string> args{o.binary.string(), "--population", o.population.string(),
                                "--listen", "127.0.0.1:0"};
  for (const auto& d : o.defects) {
    args.push_back("--defect");
    args.push_back(d);
  }
  // The token reaches the server through a pipe on its descriptor 3, never through a file or its
  // command line (which /proc shows to every user).
  constexpr int token_fd_in_child = 3;
  if (!o.admin_token.empty()) {
    args.push_back("--admin-token-file");
    args.push_back(fmt::format("/dev/fd/{}", token_fd_in_child));
  }
  args.insert(args.end(), o.extra_args.begin(), o.extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return make_error(errc::io, "pipe failed");
  int token_fd = -1;
  if (!o.admin_token.empty()) {
    int token_pipe[2];
    if (::pipe2(token_pipe, O_CLOEXEC) != 0) {
      ::close(out[0]);
      ::close(out[1]);
      return make_error(errc::io, "pipe failed");
    }
    // A token longer than a pipe's buffer (64 KiB) would block here; the schema limits it.
    const std::string line = o.admin_token + "\n";
    const bool written =
        ::write(token_pipe[1], line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::close(token_pipe[1]);
    // Above the descriptors the child rearranges, so that dup2 below never meets itself.
    token_fd = ::fcntl(token_pipe[0], F_DUPFD_CLOEXEC, 10);
    ::close(token_pipe[0]);
    if (!written || token_fd < 0) {
      if (token_fd >= 0) ::close(token_fd);
      ::close(out[0]);
      ::close(out[1]);
      return make_error(errc::io, "cannot hand the admin token to kofu-mock");
    }
  }
  const int log_fd = ::open(o.log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    ::close(out[0]);
    ::close(out[1]);
    if (token_fd >= 0) ::close(token_fd);
    return make_error(
        errc::io, fmt::format("{}: cannot create: {}", o.log_file.string(), std::strerror(errno)));
  }
  // fork + exec rather than posix_spawn: the child must ask for SIGKILL when kofu dies (even by
  // kill -9) before it runs anything. Between fork and exec only async-signal-safe calls.
  const pid_t parent = ::getpid();
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // kofu died before prctl took effect
    // Its own process group: a Ctrl-C on the terminal reaches kofu only, which then stops the
    // load, records, and stops the server itself.
    ::setpgid(0, 0);
    if (::dup2(out[1], STDOUT_FILENO) < 0 || ::dup2(log_fd, STDERR_FILENO) < 0 ||
        (null_fd >= 0 && ::dup2(null_fd, STDIN_FILENO) < 0) ||
        (token_fd >= 0 && ::dup2(token_fd, token_fd_in_child) < 0)) {
      ::_exit(127);
    }
    ::execve(argv[0], argv.data(), environ);
    const char message[] = "kofu-mock: exec failed\n";
    [[maybe_unused]] const auto ignored = ::write(STDERR_FILENO, message, sizeof message - 1);
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::close(out[1]);
  ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  if (token_fd >= 0) ::close(token_fd);
  if (pid < 0) {
    ::close(out[0]);
    return make_error(errc::io, fmt::format("{}: cannot start: {}", o.binary.string(),
                                            std::strerror(fork_errno)));
  }
  std::unique_ptr<embedded_server> server(new embedded_server());
  server->pid_ = pid;
  const auto deadline = clock_type::now() + o.startup_timeout;
  auto first = read_line(out[0], deadline);
  ::close(out[0]);  // later output would block the server if nobody read it: it goes nowhere
  const std::string prefix = "listening on ";
  if (!first || first->rfind(prefix, 0) != 0) {
    server->stop(std::chrono::milliseconds(1000));
    return make_error(errc::io, fmt::format("{} did not report its address (see {})",
                                            o.binary.string(), o.log_file.string()));
  }
  server->url_ = first->substr(prefix.size());
  while (!server->url_.empty() && (server->url_.back() == '\r' || server->url_.back() == '/')) {
    server->url_.pop_back();
  }
  // The server prints its address once it listens: /healthz should answer at once.
  const auto health_deadline = std::min(deadline, clock_type::now() + std::chrono::seconds(10));
  for (;;) {
    auto health =
        http_get(server->url_, "/healthz", std::chrono::milliseconds(2000), o.tls, o.server_name);
    if (health && health->status == 200) break;
    // A TLS failure will not heal by waiting: an untrusted server certificate fails the
    // handshake; a client certificate the server refuses (TLS 1.3) fails the first exchange.
    const bool tls_failure = !health && server->url_.rfind("https://", 0) == 0 &&
                             health.error().message.find(": connect:") == std::string::npos;
    if (tls_failure || clock_type::now() > health_deadline) {
      server->stop(std::chrono::milliseconds(1000));
      return make_error(
          errc::io,
          fmt::format("{}: /healthz never answered 200: {} (see {})", server->url_,
                      health ? fmt::format("status {}", health->status) : health.error().message,
                      o.log_file.string()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return server;
}

int embedded_server::stop(std::chrono::milliseconds grace) {
  if (exit_status_) return *exit_status_;
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const auto deadline = clock_type::now() + grace;
  int status = 0;
  for (;;) {
    const pid_t w = ::waitpid(pid_, &status, WNOHANG);
    if (w == pid_) break;
    if (w < 0 && errno != EINTR) {
      exit_status_ = -1;
      return -1;
    }
    if (clock_type::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return *exit_status_;
}

embedded_server::~embedded_server() { stop(); }

}  // namespace kofu::driver
