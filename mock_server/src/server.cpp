#include "kofu/mock/server.hpp"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <stdexcept>
#include <thread>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "connection_deadline.hpp"
#include "issuance_pipeline.hpp"
#include "kofu/mock/population_loader.hpp"
#include "pdf_writer.hpp"
#include "reflection_service.hpp"
#include "service_context.hpp"
#include "vendor_ja_dialect.hpp"

namespace kofu::mock {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

class server::impl {
 public:
  explicit impl(server_options options);
  ~impl();

  std::string url() const {
    return fmt::format("{}://{}:{}", ssl_ ? "https" : "http", address_string(), port_);
  }
  std::uint16_t port() const { return port_; }
  void run();
  void stop();

 private:
  std::string address_string() const {
    return bound_address_.is_v6() ? fmt::format("[{}]", bound_address_.to_string())
                                  : bound_address_.to_string();
  }
  asio::awaitable<void> listen();
  template <class Stream>
  asio::awaitable<void> serve(Stream& stream);
  asio::awaitable<http_reply> route(const http::request<http::string_body>& request,
                                    std::string& endpoint);

  server_options options_;
  std::unique_ptr<service_context> ctx_;
  std::unique_ptr<issuance_pipeline> pipeline_;
  std::unique_ptr<reflection_service> reflection_;
  std::unique_ptr<vendor_ja_dialect> vendor_ja_;  // set with --dialect vendor-ja
  std::unique_ptr<asio::io_context> io_;
  std::optional<ssl::context> ssl_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::unique_ptr<asio::signal_set> signals_;
  asio::ip::address bound_address_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
};

server::impl::impl(server_options options) : options_(std::move(options)) {
  auto loaded = load_population(options_.population);
  if (auto* err = std::get_if<load_error>(&loaded)) throw std::runtime_error(err->message);
  if (options_.spool_dir && !std::filesystem::is_directory(*options_.spool_dir)) {
    throw std::runtime_error(
        fmt::format("--spool-dir {}: not a directory", options_.spool_dir->string()));
  }
  // A missing font package is a setup error, not a failed answer.
  if (options_.print == print_format::pdf) load_print_fonts();
  ctx_ = std::make_unique<service_context>(
      options_, std::get<std::vector<resident_record>>(std::move(loaded)));
  pipeline_ = std::make_unique<issuance_pipeline>(*ctx_);
  reflection_ = std::make_unique<reflection_service>(*ctx_);
  if (options_.dialect == wire_dialect::vendor_ja) {
    vendor_ja_ = std::make_unique<vendor_ja_dialect>(*ctx_, *pipeline_, *reflection_);
  }
  io_ = std::make_unique<asio::io_context>();

  if (options_.tls.enabled()) {
    ssl_.emplace(ssl::context::tls_server);
    ssl_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    ssl_->use_certificate_chain_file(options_.tls.certificate_chain.string());
    ssl_->use_private_key_file(options_.tls.private_key.string(), ssl::context::pem);
    if (!options_.tls.client_ca.empty()) {
      ssl_->load_verify_file(options_.tls.client_ca.string());
      ssl_->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
  }

  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options_.listen_address, ec);
  if (ec)
    throw std::runtime_error(fmt::format("--listen: bad address '{}'", options_.listen_address));
  acceptor_ = std::make_unique<tcp::acceptor>(*io_);
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_->open(endpoint.protocol());
  acceptor_->set_option(asio::socket_base::reuse_address(true));
  acceptor_->bind(endpoint, ec);
  if (ec) {
    throw std::runtime_error(fmt::format("cannot listen on {}:{}: {}", options_.listen_address,
                                         options_.port, ec.message()));
  }
  acceptor_->listen(asio::socket_base::max_listen_connections);
  bound_address_ = acceptor_->local_endpoint().address();
  port_ = acceptor_->local_endpoint().port();
}

server::impl::~impl() {
  stop();
  // Tear down in an order where every coroutine frame is destroyed while what it refers to
  // still exists: first the side components' queues (their pending jobs own request coroutines
  // whose sockets belong to io_), then io_ itself, then the shared services.
  if (ctx_) ctx_->linkage.stop();
  if (reflection_) reflection_->stop();
  if (ctx_) ctx_->spool.stop();
  signals_.reset();
  acceptor_.reset();
  io_.reset();
}

void server::impl::stop() {
  if (stopped_.exchange(true)) return;
  io_->stop();
}

void server::impl::run() {
  if (options_.handle_signals) {
    signals_ = std::make_unique<asio::signal_set>(*io_, SIGINT, SIGTERM);
    signals_->async_wait([this](const boost::system::error_code& ec, int) {
      if (!ec) stop();
    });
  }
  asio::co_spawn(*io_, listen(), [](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::cerr << "kofu-mock: listener stopped: " << ex.what() << '\n';
      }
    }
  });
  const unsigned threads =
      options_.threads != 0 ? options_.threads : std::max(2u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([this] { io_->run(); });
  io_->run();
  for (auto& t : pool) t.join();
}

asio::awaitable<void> server::impl::listen() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_->async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || stopped_) co_return;
    if (ec) {
      // E.g. too many open files: keep serving the connections we have, and do not spin.
      asio::steady_timer backoff(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await backoff.async_wait(use_tuple);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto strand = asio::make_strand(*io_);
    const auto on_done = [](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          std::cerr << "kofu-mock: session ended by exception: " << ex.what() << '\n';
        }
      }
    };
    if (ssl_) {
      asio::co_spawn(
          strand,
          [this, s = std::move(socket)]() mutable -> asio::awaitable<void> {
            beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(s)), *ssl_);
            beast::get_lowest_layer(stream).expires_after(options_.read_timeout);
            auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
            if (hec) co_return;  // failed handshake (e.g. no client certificate): just close
            co_await serve(stream);
            beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
            // stream_truncated on shutdown only means the peer closed without close_notify;
            // nothing is lost because every answer has been written in full already.
            co_await stream.async_shutdown(use_tuple);
          },
          on_done);
    } else {
      asio::co_spawn(
          strand,
          [this, s = std::move(socket)]() mutable -> asio::awaitable<void> {
            beast::tcp_stream stream(std::move(s));
            co_await serve(stream);
            boost::system::error_code ignored;
            stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
          },
          on_done);
    }
  }
}

template <class Stream>
asio::awaitable<void> server::impl::serve(Stream& stream) {
  // Deadlines come from one timer per connection (connection_deadline), not from the stream's
  // expiry, which would re-arm a timer for every operation.
  auto& socket = beast::get_lowest_layer(stream);
  socket.expires_never();
  const auto executor = co_await asio::this_coro::executor;
  const auto deadline = std::make_shared<connection_deadline>(executor, socket);
  struct closer {
    connection_deadline& deadline;
    ~closer() { deadline.close(); }
  } const close_deadline{*deadline};
  beast::flat_buffer buffer;
  const auto send = [&](http_reply reply, unsigned version,
                        bool keep_alive) -> asio::awaitable<boost::system::error_code> {
    http::response<http::string_body> res{static_cast<http::status>(reply.status), version};
    res.set(http::field::server, "kofu-mock/" KOFU_VERSION);
    res.set(http::field::content_type, reply.content_type);
    res.keep_alive(keep_alive);
    res.body() = std::move(reply.body);
    res.prepare_payload();
    deadline->start(options_.read_timeout);
    auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
    deadline->finish();
    co_return ec;
  };
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(options_.body_limit);
    parser.header_limit(options_.header_limit);
    // One deadline for reading the whole request: a slow client cannot hold a connection longer
    // than this.
    deadline->start(options_.read_timeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
    deadline->finish();
    if (ec == asio::error::operation_aborted && deadline->timed_out()) ec = beast::error::timeout;
    if (ec) {
      // end_of_stream: the client closed between requests, the normal end of keep-alive.
      if (ec == http::error::end_of_stream) co_return;
      const auto started = std::chrono::steady_clock::now();
      http_reply reply;
      std::string endpoint = "bad_request";
      if (ec == beast::error::timeout) {
        if (!parser.got_some() && buffer.size() == 0) co_return;  // idle keep-alive connection
        reply = json_error(408, "request_timeout", "the request was not received in time");
      } else if (ec == http::error::body_limit) {
        reply = json_error(413, "payload_too_large",
                           fmt::format("the body exceeds {} bytes", options_.body_limit));
      } else if (ec == http::error::header_limit) {
        reply = json_error(431, "header_too_large",
                           fmt::format("the request head exceeds {} bytes", options_.header_limit));
      } else if (ec == http::error::partial_message) {
        co_return;  // the peer went away mid-request
      } else if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
        reply = json_error(400, "bad_request", fmt::format("malformed HTTP: {}", ec.message()));
      } else {
        co_return;  // connection error: nobody to answer
      }
      if (vendor_ja_) reply = vendor_ja_dialect::http_fault(reply);
      const auto status = reply.status;
      ctx_->stats.request_started();
      auto op = send(std::move(reply), 11, false);
      co_await std::move(op);
      ctx_->stats.request_finished(endpoint, status, std::chrono::steady_clock::now() - started);
      co_return;
    }
    const auto started = std::chrono::steady_clock::now();
    ctx_->stats.request_started();
    const auto& request = parser.get();
    // Measured for the client, not acted on: how far apart a group's requests arrived complete
    // (last-byte synchronisation, issue 14), and the deadlines requests carried.
    if (const auto group = request.find("X-Kofu-Group"); group != request.end()) {
      ctx_->stats.group_member_arrived(
          std::string_view(group->value().data(), group->value().size()), started);
    }
    if (const auto budget = request.find("X-Request-Timeout-Ms"); budget != request.end()) {
      ctx_->stats.deadline_seen(std::string_view(budget->value().data(), budget->value().size()));
    }
    std::string endpoint = "other";
    auto route_op = route(request, endpoint);
    auto reply = co_await std::move(route_op);
    const auto status = reply.status;
    const bool keep_alive = request.keep_alive();
    auto send_op = send(std::move(reply), request.version(), keep_alive);
    auto wec = co_await std::move(send_op);
    ctx_->stats.request_finished(endpoint, status, std::chrono::steady_clock::now() - started);
    if (wec || !keep_alive) co_return;
  }
}

asio::awaitable<http_reply> server::impl::route(const http::request<http::string_body>& request,
                                                std::string& endpoint) {
  std::string_view target(request.target().data(), request.target().size());
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  const auto method = request.method();
  const auto content_type = request[http::field::content_type];
  const bool json_body =
      is_json_content_type(std::string_view(content_type.data(), content_type.size()));
  // HTTP-level faults are written in the dialect's form.
  const auto fault = [&](http_reply reply) {
    return vendor_ja_ ? vendor_ja_dialect::http_fault(reply) : reply;
  };
  const auto need = [&](http::verb verb) -> std::optional<http_reply> {
    if (method != verb) {
      return fault(json_error(405, "method_not_allowed",
                              fmt::format("{} accepts {} only", target, http::to_string(verb))));
    }
    if (verb == http::verb::post && !json_body) {
      return fault(json_error(415, "unsupported_media_type",
                              "header 'Content-Type': must be application/json"));
    }
    return std::nullopt;
  };

  if (vendor_ja_) {
    // The vendor's endpoints replace the reference ones (all under /v1/); /healthz, /version and
    // /metrics stay.
    auto op = vendor_ja_->handle(request, target, endpoint);
    auto handled = co_await std::move(op);
    if (handled) co_return std::move(*handled);
    if (target.starts_with("/v1/")) {
      co_return fault(json_error(404, "not_found", fmt::format("no endpoint {}", target)));
    }
  }

  if (target == "/v1/issue") {
    endpoint = "issue";
    if (auto e = need(http::verb::post)) co_return *e;
    auto op = pipeline_->issue(request.body());
    http_reply reply = co_await std::move(op);
    co_return reply;
  }
  constexpr std::string_view kResidents = "/v1/residents/";
  constexpr std::string_view kChanges = "/changes";
  if (target.starts_with(kResidents) && target.ends_with(kChanges) &&
      target.size() > kResidents.size() + kChanges.size()) {
    endpoint = "changes";
    const auto id =
        target.substr(kResidents.size(), target.size() - kResidents.size() - kChanges.size());
    if (id.find('/') != std::string_view::npos) {
      co_return json_error(404, "not_found", fmt::format("no endpoint {}", target));
    }
    if (auto e = need(http::verb::post)) co_return *e;
    auto op = reflection_->change(std::string(id), request.body());
    http_reply reply = co_await std::move(op);
    co_return reply;
  }
  if (target == "/v1/reflection/batch") {
    endpoint = "reflection_batch";
    if (auto e = need(http::verb::post)) co_return *e;
    auto op = reflection_->batch(request.body());
    http_reply reply = co_await std::move(op);
    co_return reply;
  }
  if (target == "/v1/admin/maintenance") {
    endpoint = "maintenance";
    if (auto e = need(http::verb::post)) co_return *e;
    const auto auth = request[http::field::authorization];
    auto op = reflection_->maintenance(std::string(auth.data(), auth.size()), request.body());
    http_reply reply = co_await std::move(op);
    co_return reply;
  }
  if (target == "/healthz") {
    endpoint = "healthz";
    if (auto e = need(http::verb::get)) co_return *e;
    co_return json_reply(200, {{"status", "ok"}, {"residents", ctx_->residents.size()}});
  }
  if (target == "/version") {
    endpoint = "version";
    if (auto e = need(http::verb::get)) co_return *e;
    json version = {{"name", "kofu-mock"},
                    {"version", KOFU_VERSION},
                    {"build", options_.build},
                    {"defects", ctx_->defects.names()}};
    // The reference answer stays as docs/protocol.md has it; no "dialect" means reference.
    if (vendor_ja_) version["dialect"] = "vendor-ja";
    if (options_.print == print_format::pdf) version["print_format"] = "pdf";
    co_return json_reply(200, version);
  }
  if (target == "/metrics") {
    endpoint = "metrics";
    if (auto e = need(http::verb::get)) co_return *e;
    co_return http_reply{200, ctx_->stats.render(), "text/plain; version=0.0.4"};
  }
  co_return fault(json_error(404, "not_found", fmt::format("no endpoint {}", target)));
}

server::server(server_options options) : impl_(std::make_unique<impl>(std::move(options))) {}
server::~server() = default;
std::string server::url() const { return impl_->url(); }
std::uint16_t server::port() const { return impl_->port(); }
void server::run() { impl_->run(); }
void server::stop() { impl_->stop(); }

}  // namespace kofu::mock
