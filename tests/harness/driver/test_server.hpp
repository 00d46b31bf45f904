#pragma once
// A small HTTP/1.1 keep-alive server on 127.0.0.1:0 for the driver's tests: each request is
// answered by a handler (status, body, an optional delay before answering). Runs on its own
// thread; stopped and joined on destruction. Counts accepted connections and requests.

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace kofu::test {

struct test_answer {
  unsigned status = 200;
  std::string body = "{}";
  std::chrono::milliseconds delay{0};
  std::string content_type = "application/json";
};

struct seen_request {
  std::string method;
  std::string target;
  std::string body;
  std::string authorization;
  std::size_t connection = 0;  // 1-based number of the connection it came on
};

class test_server {
 public:
  using handler = std::function<test_answer(const seen_request&)>;

  explicit test_server(handler h) : handler_(std::move(h)), acceptor_(io_) {
    namespace asio = boost::asio;
    using tcp = asio::ip::tcp;
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~test_server() {
    io_.stop();
    thread_.join();
  }
  test_server(const test_server&) = delete;
  test_server& operator=(const test_server&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::size_t connections() const { return connections_.load(); }
  std::vector<seen_request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  boost::asio::awaitable<void> accept_loop() {
    namespace asio = boost::asio;
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      const std::size_t number = ++connections_;
      asio::co_spawn(io_, session(std::move(socket), number), asio::detached);
    }
  }

  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket, std::size_t number) {
    namespace asio = boost::asio;
    namespace beast = boost::beast;
    namespace http = beast::http;
    constexpr auto values = asio::as_tuple(asio::use_awaitable);
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      auto [ec, n] = co_await http::async_read(stream, buffer, req, values);
      if (ec) co_return;
      seen_request seen{std::string(req.method_string()), std::string(req.target()), req.body(),
                        std::string(req[http::field::authorization]), number};
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(seen);
      }
      const test_answer answer = handler_(seen);
      if (answer.delay.count() > 0) {
        asio::steady_timer timer(io_, answer.delay);
        co_await timer.async_wait(values);
      }
      http::response<http::string_body> res{static_cast<http::status>(answer.status), 11};
      res.set(http::field::content_type, answer.content_type);
      res.body() = answer.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      auto [wec, w] = co_await http::async_write(stream, res, values);
      if (wec || !req.keep_alive()) co_return;
    }
  }

  handler handler_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<std::size_t> connections_{0};
  mutable std::mutex mutex_;
  std::vector<seen_request> requests_;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace kofu::test
