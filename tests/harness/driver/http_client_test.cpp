#include "kofu/driver/http_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "mock_process.hpp"
#include "test_server.hpp"

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using kofu::driver::connection;
using kofu::driver::exchange_result;

http::request<http::string_body> post(const std::string& target, const std::string& body) {
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::content_type, "application/json");
  req.body() = body;
  return req;
}

// Runs `steps` on a fresh io_context and returns when it is done.
template <class F>
void run_client(F steps) {
  asio::io_context io;
  auto done = asio::co_spawn(io, steps(io), asio::use_future);
  io.run();
  done.get();
}

TEST(EndpointTest, ParsesUrls) {
  auto a = kofu::driver::parse_endpoint("http://127.0.0.1:8080/");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->tls);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, "8080");
  auto b = kofu::driver::parse_endpoint("https://kofu.example");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->tls);
  EXPECT_EQ(b->port, "443");
  auto c = kofu::driver::parse_endpoint("https://[::1]:9443");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, "9443");
  EXPECT_FALSE(kofu::driver::parse_endpoint("ftp://x"));
  EXPECT_FALSE(kofu::driver::parse_endpoint("http://x:80/path"));
  EXPECT_FALSE(kofu::driver::parse_endpoint("http://x:port"));
}

TEST(HttpClientTest, KeepsOneConnectionAlive) {
  kofu::test::test_server server([](const kofu::test::seen_request& r) {
    return kofu::test::test_answer{200, "{\"echo\":\"" + r.body + "\"}"};
  });
  run_client([&](asio::io_context& io) -> asio::awaitable<void> {
    connection c(io.get_executor(), *kofu::driver::parse_endpoint(server.url()), nullptr, "");
    for (int i = 0; i < 5; ++i) {
      auto req = post("/v1/issue", std::to_string(i));
      std::uint64_t serial_at_send = 0;
      auto r = co_await c.exchange(req, std::chrono::seconds(5),
                                   [&](auto, std::uint64_t s) { serial_at_send = s; });
      EXPECT_EQ(r.outcome, exchange_result::kind::answered) << r.error;
      EXPECT_EQ(r.status, 200u);
      EXPECT_EQ(r.body, "{\"echo\":\"" + std::to_string(i) + "\"}");
      EXPECT_LE(r.sent_at, r.received_at);
      EXPECT_EQ(serial_at_send, 1u);
    }
    EXPECT_EQ(c.connects(), 1u);
  });
  EXPECT_EQ(server.connections(), 1u);
}

// The property of DESIGN §7: after a timeout the connection is dropped, so the late answer to the
// first request can never be taken for the answer to the second.
TEST(HttpClientTest, NeverReusesAConnectionAfterATimeout) {
  kofu::test::test_server server([](const kofu::test::seen_request& r) {
    if (r.target == "/slow") {
      return kofu::test::test_answer{200, R"({"for":"slow"})", std::chrono::milliseconds(400)};
    }
    return kofu::test::test_answer{200, R"({"for":"fast"})"};
  });
  run_client([&](asio::io_context& io) -> asio::awaitable<void> {
    connection c(io.get_executor(), *kofu::driver::parse_endpoint(server.url()), nullptr, "");
    auto slow = post("/slow", "{}");
    auto r1 = co_await c.exchange(slow, std::chrono::milliseconds(100));
    EXPECT_EQ(r1.outcome, exchange_result::kind::timeout);
    EXPECT_TRUE(r1.sent);
    EXPECT_FALSE(c.is_open());
    // Wait until the server has written its late answer (to the closed socket).
    asio::steady_timer wait(io, std::chrono::milliseconds(500));
    co_await wait.async_wait(asio::use_awaitable);
    for (int i = 0; i < 3; ++i) {
      auto fast = post("/fast", "{}");
      auto r2 = co_await c.exchange(fast, std::chrono::seconds(5));
      EXPECT_EQ(r2.outcome, exchange_result::kind::answered) << r2.error;
      EXPECT_EQ(r2.body, R"({"for":"fast"})");
    }
    EXPECT_EQ(c.connects(), 2u);
    EXPECT_EQ(c.serial(), 2u);
  });
  EXPECT_EQ(server.connections(), 2u);
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].connection, 1u);
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_EQ(seen[i].connection, 2u);
}

// A real kofu-mock closes a keep-alive connection that stays idle past its read timeout. The next
// request must go out on a new connection instead of failing with "end of stream" on the closed
// one: that error would be the harness's, not the server's.
TEST(HttpClientTest, ReplacesAnIdleConnectionTheServerClosed) {
  kofu::test::temp_dir dir;
  kofu::test::mock_process mock(dir, 50, 3, {"--read-timeout-ms", "100"});
  ASSERT_NE(mock.port, 0) << "kofu-mock did not start";
  run_client([&](asio::io_context& io) -> asio::awaitable<void> {
    connection c(io.get_executor(), *kofu::driver::parse_endpoint(mock.url()), nullptr, "");
    for (int round = 0; round < 3; ++round) {
      http::request<http::string_body> get{http::verb::get, "/version", 11};
      auto r = co_await c.exchange(get, std::chrono::seconds(5));
      EXPECT_EQ(r.outcome, exchange_result::kind::answered) << "round " << round << ": " << r.error;
      EXPECT_EQ(r.status, 200u);
      // Past the server's read timeout: it closes the idle connection.
      asio::steady_timer wait(io, std::chrono::milliseconds(400));
      co_await wait.async_wait(asio::use_awaitable);
    }
    EXPECT_EQ(c.stale_dropped(), 2u);
    EXPECT_EQ(c.connects(), 3u);
  });
}

TEST(HttpClientTest, ConnectionRefusedIsAnErrorNotAnAnswer) {
  std::string url;
  {
    kofu::test::test_server server([](const auto&) { return kofu::test::test_answer{}; });
    url = server.url();
  }  // closed: the port now refuses connections
  run_client([&](asio::io_context& io) -> asio::awaitable<void> {
    connection c(io.get_executor(), *kofu::driver::parse_endpoint(url), nullptr, "");
    auto req = post("/v1/issue", "{}");
    auto r = co_await c.exchange(req, std::chrono::seconds(2));
    EXPECT_EQ(r.outcome, exchange_result::kind::error);
    EXPECT_FALSE(r.sent);
    EXPECT_EQ(r.error.rfind("connect:", 0), 0u) << r.error;
  });
}

TEST(HttpClientTest, ErrorStatusIsAnAnswer) {
  kofu::test::test_server server([](const auto&) {
    return kofu::test::test_answer{409, R"({"error":"data_changed_retry"})"};
  });
  run_client([&](asio::io_context& io) -> asio::awaitable<void> {
    connection c(io.get_executor(), *kofu::driver::parse_endpoint(server.url()), nullptr, "");
    auto req = post("/v1/issue", "{}");
    auto r = co_await c.exchange(req, std::chrono::seconds(2));
    EXPECT_EQ(r.outcome, exchange_result::kind::answered);
    EXPECT_EQ(r.status, 409u);
    EXPECT_TRUE(c.is_open());
  });
}

TEST(HttpClientTest, DeadlineHeaderValueInMillisecondsOrGrpcUnits) {
  using kofu::driver::deadline_header_value;
  using unit = kofu::scenario::deadline_header::format;
  EXPECT_EQ(deadline_header_value(unit::ms, std::chrono::milliseconds(4995)), "4995");
  EXPECT_EQ(deadline_header_value(unit::grpc, std::chrono::milliseconds(4995)), "4995m");
  // Spent already: still a deadline, never "0" (read as "none" by some servers) or negative.
  EXPECT_EQ(deadline_header_value(unit::ms, std::chrono::milliseconds(-3)), "1");
  EXPECT_EQ(deadline_header_value(unit::grpc, std::chrono::milliseconds(0)), "1m");
}

}  // namespace
