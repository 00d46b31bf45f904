#pragma once
// The harness's HTTP/1.1 client: one keep-alive connection, plain or TLS (optionally mutual),
// driven by C++20 coroutines on one io_context. Not thread-safe: a connection belongs to the
// worker whose io_context runs it.
//
// The rule that matters (DESIGN §7): on ANY timeout, cancellation, I/O or protocol error the
// connection is closed and never used again; the next request opens a new one. A late answer to
// one request can then never be read as the answer to the next — the harness itself must not
// cross-wire requests (the redis-py failure behind ChatGPT's 2023 leak). Errors are values
// (asio::as_tuple), never exceptions.
//
// A kept-alive connection that sat idle is looked at before it is used again: if the server has
// closed it meanwhile (its keep-alive or read timeout) or sent bytes nobody asked for, it is
// dropped and a new one opened, as HTTP clients do before reusing a connection. Otherwise the
// request would go out on a socket the server no longer reads, and an answer-less "end of
// stream" would count against the server as an error although it never saw the request.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "kofu/common/error.hpp"
#include "kofu/scenario/scenario.hpp"

namespace kofu::driver {

struct endpoint {
  bool tls = false;
  std::string host;  // as in the URL (name or address)
  std::string port;  // numeric text
  std::string base;  // "http://host:port" as given, without the trailing slash
};

// Parses "http://HOST:PORT" or "https://HOST[:PORT]" (a trailing '/' is allowed).
result<endpoint> parse_endpoint(std::string_view url);

// A TLS client context from the scenario's settings (CA file or system store, client certificate
// for mutual TLS, verification on unless switched off). Errors name the file.
result<std::shared_ptr<boost::asio::ssl::context>> make_tls_context(
    const scenario::tls_settings& tls);

// Monotonic nanoseconds since the run's clock anchor.
using clock_type = std::chrono::steady_clock;

// The body of an answer is kept up to a limit (the scenario's load.max_body_bytes, default
// default_body_limit): beyond it the client reads on, hashing and counting but not keeping, so a
// hostile or broken server cannot make kofu hold gigabytes; the answer then has `body_truncated`
// set, its first `limit` bytes in `body`, and its size and SHA-256 (issue 15 item 2).
inline constexpr std::uint64_t default_body_limit = std::uint64_t{4} << 20;

struct exchange_result {
  enum class kind { answered, timeout, error };
  kind outcome = kind::error;
  unsigned status = 0;               // when answered
  std::string body;                  // when answered: the body, or its first bytes when truncated
  std::uint64_t body_size = 0;       // when answered: bytes of the body as received
  bool body_truncated = false;       // when answered: the body was larger than the limit
  std::string body_sha256;           // when truncated: SHA-256 (hex) of the whole body
  std::string content_type;          // when answered
  std::string error;                 // when not answered: "connect: …", "write: …", "read: …"
  bool sent = false;                 // the first byte was written (the server may have seen it)
  clock_type::time_point sent_at{};  // before the first byte was written
  clock_type::time_point received_at{};  // after the last byte was read (or the failure)
};

class connection {
 public:
  // `tls_context` must outlive the connection; required when the endpoint is https.
  connection(boost::asio::any_io_executor executor, endpoint target,
             boost::asio::ssl::context* tls_context, std::string server_name);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Sends `request` (Host and Content-Length are set here) and reads the answer, all within
  // `timeout`. Opens the connection first when there is none. `on_send` is called with the
  // connection's serial right before the first byte is written (to record the invoke).
  // `hold_last_byte` (a group's gate, group_sync.hpp): on plain HTTP the request is written but
  // for its last byte, then it is awaited, then the last byte goes out; over TLS (whose records
  // cannot be cut at a byte the server completes on) it is awaited before the first byte. Its wait
  // counts against `timeout`.
  boost::asio::awaitable<exchange_result> exchange(
      boost::beast::http::request<boost::beast::http::string_body>& request,
      std::chrono::milliseconds timeout,
      const std::function<void(clock_type::time_point sent_at, std::uint64_t serial)>& on_send = {},
      const std::function<boost::asio::awaitable<void>()>& hold_last_byte = {});

  // Every request carries its remaining budget (the exchange's deadline less the time spent
  // connecting) in this header; nullopt: none (the default).
  void set_deadline_header(std::optional<scenario::deadline_header> header) {
    deadline_header_ = std::move(header);
  }

  // Bytes of an answer's body kept at most (see exchange_result); 0: default_body_limit.
  void set_body_limit(std::uint64_t bytes) {
    body_limit_ = bytes == 0 ? default_body_limit : bytes;
  }

  // Serial of the current (or next) TCP connection; bumps each time one is opened.
  std::uint64_t serial() const { return serial_; }
  // TCP connections opened so far.
  std::uint64_t connects() const { return connects_; }
  // Idle connections found closed by the server (or carrying unasked-for bytes) and replaced.
  std::uint64_t stale_dropped() const { return stale_dropped_; }
  bool is_open() const;
  // SHA-256 (lower-case hex) of the DER of the leaf certificate the server presented at the last
  // TLS handshake on this connection; empty for plain HTTP or before a handshake. Kept after close.
  const std::string& peer_certificate_sha256() const;
  // Closes the connection now (the next exchange reconnects).
  void close();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::uint64_t serial_ = 0;
  std::uint64_t connects_ = 0;
  std::uint64_t stale_dropped_ = 0;
  std::uint64_t body_limit_ = default_body_limit;
  std::optional<scenario::deadline_header> deadline_header_;
};

// A deadline header's value for `remaining` (at least 1 ms): "4995" (ms) or "4995m" (grpc).
std::string deadline_header_value(scenario::deadline_header::format unit,
                                  std::chrono::milliseconds remaining);

}  // namespace kofu::driver
