#pragma once
// A small HTTP/1.1 keep-alive server on 127.0.0.1:0 for the driver's tests: each request is
// answered by a handler (status, body, an optional delay before answering), or by a coroutine
// handler that may itself call another server (forward(), e.g. a vendor API translated to a real
// kofu-mock behind it). Runs on its own thread; stopped and joined on destruction. Counts accepted
// connections and requests.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
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
#include <boost/asio/this_coro.hpp>
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
  std::size_t connection = 0;                  // 1-based number of the connection it came on
  std::map<std::string, std::string> headers;  // every header, names as sent
};

// One request to another HTTP server on loopback (a fresh connection; bounded by `timeout`).
// A failure is answered as 502 with the error as body.
inline boost::asio::awaitable<test_answer> forward(
    const std::string& host, unsigned short port, const std::string& method,
    const std::string& target, const std::string& body,
    const std::map<std::string, std::string>& headers = {},
    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  constexpr auto values = asio::as_tuple(asio::use_awaitable);
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(timeout);
  const asio::ip::tcp::endpoint ep(asio::ip::make_address(host), port);
  auto [cec] = co_await stream.async_connect(ep, values);
  if (cec) co_return test_answer{502, "connect: " + cec.message()};
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, host);
  req.set(http::field::content_type, "application/json");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  auto [wec, w] = co_await http::async_write(stream, req, values);
  if (wec) co_return test_answer{502, "write: " + wec.message()};
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  auto [rec, r] = co_await http::async_read(stream, buffer, res, values);
  if (rec) co_return test_answer{502, "read: " + rec.message()};
  test_answer answer;
  answer.status = res.result_int();
  answer.body = res.body();
  answer.content_type = std::string(res[http::field::content_type]);
  co_return answer;
}

class test_server {
 public:
  using handler = std::function<test_answer(const seen_request&)>;
  using async_handler = std::function<boost::asio::awaitable<test_answer>(seen_request)>;

  explicit test_server(handler h)
      : test_server([h = std::move(h)](seen_request r) -> boost::asio::awaitable<test_answer> {
          co_return h(r);
        }) {}

  explicit test_server(async_handler h) : handler_(std::move(h)), acceptor_(io_) {
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
      seen_request seen{std::string(req.method_string()),
                        std::string(req.target()),
                        req.body(),
                        std::string(req[http::field::authorization]),
                        number,
                        {}};
      for (const auto& field : req) {
        seen.headers[std::string(field.name_string())] = std::string(field.value());
      }
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(seen);
      }
      const test_answer answer = co_await handler_(seen);
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

  async_handler handler_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<std::size_t> connections_{0};
  mutable std::mutex mutex_;
  std::vector<seen_request> requests_;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace kofu::test
