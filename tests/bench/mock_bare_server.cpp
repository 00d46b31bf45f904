// The baseline for kofu-mock's /v1/issue rate: a bare Boost.Beast HTTP/1.1 server with the same
// shape as kofu-mock's HTTP layer (C++20 coroutines, a strand per connection, keep-alive, a pool
// of I/O threads) that answers every request with one fixed JSON body of a certificate's size.
// Used by tests/bench/mock_issue_rate.sh; never registered as a test.
//   kofu_mock_bare_server [--listen 127.0.0.1:0] [--threads N] [--body-bytes N]
// First line on standard output: "listening on http://ADDR:PORT".

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> serve(tcp::socket socket, const std::string& body) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    stream.expires_after(std::chrono::seconds(30));
    auto [ec, n] = co_await http::async_read(stream, buffer, req, use_tuple);
    if (ec) co_return;
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = body;
    res.prepare_payload();
    auto [wec, m] = co_await http::async_write(stream, res, use_tuple);
    if (wec || !req.keep_alive()) co_return;
  }
}

asio::awaitable<void> listen(tcp::acceptor& acceptor, const std::string& body) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    socket.set_option(tcp::no_delay(true), ec);
    auto executor = asio::make_strand(acceptor.get_executor());
    asio::co_spawn(executor, serve(std::move(socket), body), [](std::exception_ptr) {});
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen_at = "127.0.0.1:0";
  unsigned threads = 2;
  std::size_t body_bytes = 1400;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--listen")
      listen_at = argv[i + 1];
    else if (flag == "--threads")
      threads = static_cast<unsigned>(std::stoul(argv[i + 1]));
    else if (flag == "--body-bytes")
      body_bytes = std::stoul(argv[i + 1]);
    else {
      std::cerr
          << "usage: kofu_mock_bare_server [--listen ADDR:PORT] [--threads N] [--body-bytes N]\n";
      return 2;
    }
  }
  // A fixed answer shaped like an issue answer, padded to body_bytes.
  std::string body = R"({"application_number":"BARE","certificate":{"type":"juminhyo","note":")";
  const std::string tail =
      R"("},"digest":"0000000000000000000000000000000000000000000000000000000000000000"})";
  if (body_bytes > body.size() + tail.size())
    body.append(body_bytes - body.size() - tail.size(), 'x');
  body += tail;

  const auto colon = listen_at.rfind(':');
  asio::io_context io;
  tcp::acceptor acceptor(io);
  const tcp::endpoint endpoint(
      asio::ip::make_address(listen_at.substr(0, colon)),
      static_cast<unsigned short>(std::stoul(listen_at.substr(colon + 1))));
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  std::cout << "listening on http://" << acceptor.local_endpoint().address().to_string() << ':'
            << acceptor.local_endpoint().port() << std::endl;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  asio::co_spawn(io, listen(acceptor, body), [](std::exception_ptr) {});
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  return 0;
}
