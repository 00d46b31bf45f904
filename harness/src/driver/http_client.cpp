#include "kofu/driver/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "kofu/common/sha256.hpp"

namespace kofu::driver {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {
constexpr auto as_values = asio::as_tuple(asio::use_awaitable);

// A Beast body that keeps the first `keep` bytes and, past them, only counts and hashes: the
// answer's size is then bounded by the exchange's deadline, not by memory.
struct bounded_body {
  struct value_type {
    std::string text;
    std::uint64_t size = 0;
    std::uint64_t keep = default_body_limit;
    std::unique_ptr<sha256_hasher> hasher;  // engaged once `size` went past `keep`
  };

  class reader {
   public:
    template <bool is_request, class Fields>
    reader(http::header<is_request, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>& length, boost::system::error_code& ec) {
      ec = {};
      if (length) body_.text.reserve(static_cast<std::size_t>(std::min(*length, body_.keep)));
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
      ec = {};
      std::size_t n = 0;
      for (const auto b : beast::buffers_range_ref(buffers)) {
        append(std::string_view(static_cast<const char*>(b.data()), b.size()));
        n += b.size();
      }
      return n;
    }

    void finish(boost::system::error_code& ec) { ec = {}; }

   private:
    void append(std::string_view bytes) {
      body_.size += bytes.size();
      if (body_.hasher) {
        body_.hasher->update(bytes);
        return;
      }
      const std::uint64_t room = body_.keep - body_.text.size();
      if (bytes.size() <= room) {
        body_.text.append(bytes);
        return;
      }
      // Past the limit: from here on hash, starting with what was kept.
      body_.text.append(bytes.substr(0, static_cast<std::size_t>(room)));
      body_.hasher = std::make_unique<sha256_hasher>();
      body_.hasher->update(body_.text);
      body_.hasher->update(bytes.substr(static_cast<std::size_t>(room)));
    }
    value_type& body_;
  };
};

bool is_ip_address(const std::string& host) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}
}  // namespace

std::string deadline_header_value(scenario::deadline_header::format unit,
                                  std::chrono::milliseconds remaining) {
  // A request sent at its deadline still says "1 ms" rather than "0", which some servers read as
  // "no deadline".
  const auto ms = std::max<std::int64_t>(remaining.count(), 1);
  // gRPC's TimeoutValue has at most 8 digits: milliseconds fit (timeout_ms is at most 600 000).
  return unit == scenario::deadline_header::format::grpc ? fmt::format("{}m", ms)
                                                         : fmt::format("{}", ms);
}

result<endpoint> parse_endpoint(std::string_view url) {
  endpoint e;
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    e.tls = true;
    rest = url.substr(8);
  } else {
    return make_error(errc::invalid_field, fmt::format("{}: expected http:// or https://", url));
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.empty() || rest.find('/') != std::string_view::npos) {
    return make_error(errc::invalid_field, fmt::format("{}: expected scheme://host[:port]", url));
  }
  std::string_view host = rest;
  std::string_view port = e.tls ? "443" : "80";
  if (rest.front() == '[') {  // [IPv6]:port
    const auto close = rest.find(']');
    if (close == std::string_view::npos) {
      return make_error(errc::invalid_field, fmt::format("{}: unclosed '['", url));
    }
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty() || port.empty() ||
      port.find_first_not_of("0123456789") != std::string_view::npos) {
    return make_error(errc::invalid_field, fmt::format("{}: bad host or port", url));
  }
  e.host = std::string(host);
  e.port = std::string(port);
  e.base = std::string(url.substr(0, url.size() - (url.ends_with('/') ? 1 : 0)));
  return e;
}

result<std::shared_ptr<ssl::context>> make_tls_context(const scenario::tls_settings& tls) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                   ec);
  if (!tls.ca_file.empty()) {
    ctx->load_verify_file(tls.ca_file, ec);
    if (ec) {
      return make_error(errc::io,
                        fmt::format("{}: cannot load the CA file: {}", tls.ca_file, ec.message()));
    }
  } else {
    ctx->set_default_verify_paths(ec);
  }
  if (!tls.client_cert.empty()) {
    ctx->use_certificate_chain_file(tls.client_cert, ec);
    if (ec) {
      return make_error(errc::io, fmt::format("{}: cannot load the client certificate: {}",
                                              tls.client_cert, ec.message()));
    }
    ctx->use_private_key_file(tls.client_key, ssl::context::pem, ec);
    if (ec) {
      return make_error(errc::io, fmt::format("{}: cannot load the client key: {}", tls.client_key,
                                              ec.message()));
    }
  }
  ctx->set_verify_mode(tls.verify ? ssl::verify_peer : ssl::verify_none, ec);
  return ctx;
}

namespace {

// SHA-256 of the DER of the certificate the server presented (its leaf), lower-case hex.
std::string leaf_sha256(SSL* ssl) {
  X509* leaf = SSL_get1_peer_certificate(ssl);
  if (leaf == nullptr) return {};
  unsigned char* der = nullptr;
  const int size = i2d_X509(leaf, &der);
  std::string out;
  if (size > 0) {
    out = sha256_hex(
        std::string_view(reinterpret_cast<const char*>(der), static_cast<std::size_t>(size)));
  }
  OPENSSL_free(der);
  X509_free(leaf);
  return out;
}

}  // namespace

struct connection::impl {
  asio::any_io_executor executor;
  endpoint target;
  ssl::context* tls = nullptr;
  std::string server_name;
  std::string host_header;
  // Exactly one of these is engaged while the connection is open.
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  std::vector<tcp::endpoint> resolved;  // cached after the first resolve
  const char* stage = "connect";        // what connect() was doing when it failed
  clock_type::time_point last_used{};   // when the last exchange on this connection ended
  std::string peer_certificate_sha256;  // of the last TLS handshake's leaf certificate (DER)

  // Whether an idle open connection can still carry a request: nothing is readable on it. End of
  // stream means the server closed it; bytes mean something nobody asked for (a TLS
  // close_notify, a stray answer): either way it must not be used. One non-blocking peek.
  bool still_usable() {
    char byte = 0;
    for (;;) {
      const auto n = ::recv(lowest().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
  }

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
  bool open() const { return plain.has_value() || secure.has_value(); }

  void close() {
    // Abandon without a TLS close_notify or a graceful FIN handshake: whatever the peer sends
    // afterwards must never be read, and waiting for it would only slow the worker down.
    boost::system::error_code ignored;
    if (open()) lowest().socket().close(ignored);
    plain.reset();
    secure.reset();
    buffer.clear();
  }

  asio::awaitable<boost::system::error_code> connect(clock_type::time_point deadline) {
    stage = "connect";
    if (resolved.empty()) {
      tcp::resolver resolver(executor);
      auto [ec, results] = co_await resolver.async_resolve(target.host, target.port, as_values);
      if (ec) co_return ec;
      for (const auto& entry : results) resolved.push_back(entry.endpoint());
    }
    if (target.tls) {
      secure.emplace(executor, *tls);
    } else {
      plain.emplace(executor);
    }
    lowest().expires_at(deadline);
    auto [ec, ep] = co_await lowest().async_connect(resolved, as_values);
    if (ec) co_return ec;
    boost::system::error_code ignored;
    lowest().socket().set_option(tcp::no_delay(true), ignored);
    if (secure) {
      const std::string& name = server_name.empty() ? target.host : server_name;
      if (!is_ip_address(name)) {
        // SSL_set_tlsext_host_name, without the macro's C cast.
        SSL_ctrl(secure->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(name.c_str()));
      }
      secure->set_verify_callback(ssl::host_name_verification(name));
      stage = "tls handshake";
      auto [hec] = co_await secure->async_handshake(ssl::stream_base::client, as_values);
      if (hec) co_return hec;
      peer_certificate_sha256 = leaf_sha256(secure->native_handle());
    }
    co_return boost::system::error_code{};
  }

  template <class Stream>
  asio::awaitable<boost::system::error_code> write_read(
      Stream& stream, http::request<http::string_body>& request,
      http::response_parser<bounded_body>& parser,
      const std::function<asio::awaitable<void>()>& hold_last_byte) {
    if (!hold_last_byte) {
      auto [wec, written] = co_await http::async_write(stream, request, as_values);
      if (wec) co_return wec;
    } else if (secure) {
      co_await hold_last_byte();
      auto [wec, written] = co_await http::async_write(stream, request, as_values);
      if (wec) co_return wec;
    } else {
      // Last-byte synchronisation: the server cannot complete the request before its last byte.
      std::ostringstream text;
      text << request;
      const std::string bytes = std::move(text).str();
      auto [wec, written] = co_await asio::async_write(
          stream, asio::buffer(bytes.data(), bytes.size() - 1), as_values);
      if (wec) co_return wec;
      co_await hold_last_byte();
      auto [lec, last] =
          co_await asio::async_write(stream, asio::buffer(&bytes.back(), 1), as_values);
      if (lec) co_return lec;
    }
    auto [rec, read] = co_await http::async_read(stream, buffer, parser, as_values);
    co_return rec;
  }
};

connection::connection(asio::any_io_executor executor, endpoint target, ssl::context* tls_context,
                       std::string server_name)
    : impl_(std::make_unique<impl>()) {
  impl_->executor = std::move(executor);
  impl_->target = std::move(target);
  impl_->tls = tls_context;
  impl_->server_name = std::move(server_name);
  const bool default_port = impl_->target.port == (impl_->target.tls ? "443" : "80");
  impl_->host_header =
      default_port ? impl_->target.host : impl_->target.host + ":" + impl_->target.port;
}

connection::~connection() { impl_->close(); }

bool connection::is_open() const { return impl_->open(); }

const std::string& connection::peer_certificate_sha256() const {
  return impl_->peer_certificate_sha256;
}

void connection::close() { impl_->close(); }

asio::awaitable<exchange_result> connection::exchange(
    http::request<http::string_body>& request, std::chrono::milliseconds timeout,
    const std::function<void(clock_type::time_point, std::uint64_t)>& on_send,
    const std::function<asio::awaitable<void>()>& hold_last_byte) {
  exchange_result r;
  const auto deadline = clock_type::now() + timeout;
  auto fail = [&](boost::system::error_code ec, const char* stage) {
    r.received_at = clock_type::now();
    r.outcome =
        ec == beast::error::timeout ? exchange_result::kind::timeout : exchange_result::kind::error;
    r.error = fmt::format("{}: {}", stage, ec.message());
    impl_->close();  // never reused after a failure
  };
  // Checked only after a pause: a server closes idle connections after seconds, and a
  // connection in steady use is not worth a system call per request.
  if (impl_->open() && clock_type::now() - impl_->last_used > std::chrono::milliseconds(20) &&
      !impl_->still_usable()) {
    impl_->close();
    ++stale_dropped_;
  }
  if (!impl_->open()) {
    ++serial_;
    ++connects_;
    const auto ec = co_await impl_->connect(deadline);
    if (ec) {
      r.sent_at = clock_type::now();
      if (on_send) on_send(r.sent_at, serial_);
      fail(ec, impl_->stage);
      co_return r;
    }
  }
  request.set(http::field::host, impl_->host_header);
  request.keep_alive(true);
  request.prepare_payload();
  if (deadline_header_) {
    const auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    request.set(deadline_header_->name, deadline_header_value(deadline_header_->unit, remaining));
  }
  impl_->lowest().expires_at(deadline);
  http::response_parser<bounded_body> parser;
  // No byte limit on the wire: what is not kept costs no memory, and the deadline bounds the time.
  parser.body_limit(boost::none);
  parser.get().body().keep = body_limit_;
  r.sent_at = clock_type::now();
  r.sent = true;
  if (on_send) on_send(r.sent_at, serial_);
  const auto ec = impl_->secure
                      ? co_await impl_->write_read(*impl_->secure, request, parser, hold_last_byte)
                      : co_await impl_->write_read(*impl_->plain, request, parser, hold_last_byte);
  if (ec) {
    fail(ec, ec == beast::error::timeout ? "timeout" : "exchange");
    co_return r;
  }
  r.received_at = clock_type::now();
  impl_->last_used = r.received_at;
  auto& response = parser.get();
  r.outcome = exchange_result::kind::answered;
  r.status = response.result_int();
  r.content_type = std::string(response[http::field::content_type]);
  auto& body = response.body();
  r.body_size = body.size;
  r.body = std::move(body.text);
  if (body.hasher) {
    r.body_truncated = true;
    r.body_sha256 = to_hex(body.hasher->finish());
  }
  // Bytes after a complete answer were never asked for: drop the connection rather than let
  // them be read as the next request's answer. Also honour "Connection: close".
  if (!response.keep_alive() || impl_->buffer.size() > 0) impl_->close();
  co_return r;
}

}  // namespace kofu::driver
