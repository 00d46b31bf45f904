// End-to-end tests of the HTTP server: service endpoints, bad input, shutdown.
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <gtest/gtest.h>

#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "mock_fixture.hpp"
#include "test_support.hpp"

namespace kofu::mock::test {
namespace {

using nlohmann::json;

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new kofu::test::temp_dir();
    population_ = new std::vector<json>(make_population(*dir_ / "pop.jsonl", 20));
    server_ = new mock_process(*dir_ / "pop.jsonl",
                               {"--read-timeout-ms", "700", "--admin-token", "t0ken"},
                               *dir_ / "stderr.txt");
  }
  static void TearDownTestSuite() {
    delete server_;
    delete population_;
    delete dir_;
  }
  void TearDown() override {
    // Whatever a test sent, the server keeps serving and its data is unchanged.
    http_client client(server_->port());
    auto health = client.get("/healthz");
    EXPECT_EQ(health.status, 200u);
    const auto& r = (*population_)[0];
    auto res = client.post("/v1/issue", issue_body("AFTER", r["card_serial"]));
    ASSERT_EQ(res.status, 200u) << res.body;
    EXPECT_EQ(res.json()["certificate"]["source_version"], 1);
    EXPECT_EQ(res.json()["certificate"]["persons"][0]["address"], r["address"]);
  }
  static std::string changes_path() {
    return "/v1/residents/" + (*population_)[0]["resident_id"].get<std::string>() + "/changes";
  }
  static void expect_error(const http_result& res, unsigned status, const std::string& code) {
    EXPECT_EQ(res.status, status) << res.body;
    const auto j = res.json();
    ASSERT_TRUE(j.is_object()) << res.body;
    if (!code.empty()) {
      EXPECT_EQ(j["error"], code) << res.body;
    }
    EXPECT_TRUE(j["detail"].is_string()) << res.body;
  }

  static kofu::test::temp_dir* dir_;
  static std::vector<json>* population_;
  static mock_process* server_;
};

kofu::test::temp_dir* ServerTest::dir_ = nullptr;
std::vector<json>* ServerTest::population_ = nullptr;
mock_process* ServerTest::server_ = nullptr;

TEST_F(ServerTest, HealthzVersionAndMetrics) {
  http_client client(server_->port());
  auto health = client.get("/healthz");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(health.json()["status"], "ok");
  auto version = client.get("/version");
  ASSERT_EQ(version.status, 200u);
  EXPECT_EQ(version.json()["name"], "kofu-mock");
  EXPECT_TRUE(version.json()["build"].is_string());
  EXPECT_EQ(version.json()["defects"], json::array());
  client.post("/v1/issue", issue_body("M-1", (*population_)[0]["card_serial"]));
  auto metrics = client.get("/metrics");
  ASSERT_EQ(metrics.status, 200u);
  EXPECT_NE(metrics.content_type.find("text/plain"), std::string::npos);
  EXPECT_NE(metrics.body.find("kofu_mock_requests_total{endpoint=\"issue\",status=\"200\"}"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("kofu_mock_requests_in_flight"), std::string::npos);
  EXPECT_NE(metrics.body.find("kofu_mock_request_duration_seconds_bucket{endpoint=\"issue\""),
            std::string::npos);
  EXPECT_NE(metrics.body.find("kofu_mock_issue_retries_total"), std::string::npos);
}

TEST_F(ServerTest, MalformedJsonIsBadRequest) {
  http_client client(server_->port());
  expect_error(client.request("POST", "/v1/issue", "{\"application_number\": "), 400,
               "malformed_json");
  expect_error(client.request("POST", "/v1/issue", "{\"application_number\": \"\xff\"}"), 400,
               "malformed_json");
  expect_error(client.request("POST", changes_path(), "[1,2"), 400, "malformed_json");
  expect_error(client.request("POST", "/v1/reflection/batch", "nope"), 400, "malformed_json");
}

TEST_F(ServerTest, UnknownFieldsAndTypesAreBadRequest) {
  http_client client(server_->port());
  const auto card = (*population_)[0]["card_serial"].get<std::string>();
  auto body = issue_body("X-1", card);
  body["color"] = "red";
  expect_error(client.post("/v1/issue", body), 400, "unknown_field");
  body = issue_body("X-2", card, "juminhyo", "konbini", {{"scope", "individual"}, {"fax", true}});
  expect_error(client.post("/v1/issue", body), 400, "unknown_field");
  expect_error(client.post("/v1/issue", issue_body("X-3", card, "passport")), 400, "invalid_value");
  expect_error(client.post("/v1/issue", issue_body("X-4", card, "juminhyo", "telephone")), 400,
               "invalid_value");
  body = issue_body("X-5", card);
  body["subject"]["card_serial"] = 42;
  expect_error(client.post("/v1/issue", body), 400, "invalid_type");
  body = issue_body("X-6", card);
  body.erase("application_number");
  expect_error(client.post("/v1/issue", body), 400, "missing_field");
  expect_error(client.post(changes_path(),
                           {{"change_id", 1}, {"kind", "teleport"}, {"fields", json::object()}}),
               400, "");
  expect_error(
      client.post(
          changes_path(),
          {{"change_id", 1}, {"kind", "tax"}, {"fields", {{"tax", {{"income", 1}}}}}, {"x", 1}}),
      400, "unknown_field");
}

TEST_F(ServerTest, WrongContentTypeMethodOrPath) {
  http_client client(server_->port());
  const auto body = issue_body("X-7", (*population_)[0]["card_serial"]).dump();
  expect_error(client.request("POST", "/v1/issue", body, {}, "text/plain"), 415,
               "unsupported_media_type");
  expect_error(client.request("GET", "/v1/issue"), 405, "method_not_allowed");
  expect_error(client.request("GET", "/v2/everything"), 404, "not_found");
}

TEST_F(ServerTest, BodyOverLimitIsRefused) {
  http_client client(server_->port());
  const std::string huge =
      "{\"application_number\": \"" + std::string(2 * 1024 * 1024, 'x') + "\"}";
  const auto res = client.request("POST", "/v1/issue", huge);
  // The server answers 413 and closes; a client still writing may see the close first.
  if (res.status != 0) expect_error(res, 413, "payload_too_large");
  const auto raw = raw_exchange(server_->port(),
                                "POST /v1/issue HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                "application/json\r\nContent-Length: 5000000\r\n\r\n{");
  EXPECT_NE(raw.find("413"), std::string::npos) << raw;
  EXPECT_NE(raw.find("payload_too_large"), std::string::npos) << raw;
}

TEST_F(ServerTest, HeaderFloodIsRefused) {
  std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 2000; ++i) request += "X-Flood-" + std::to_string(i) + ": aaaaaaaaaa\r\n";
  request += "\r\n";
  const auto raw = raw_exchange(server_->port(), request);
  EXPECT_NE(raw.find("431"), std::string::npos) << raw.substr(0, 200);
  EXPECT_NE(raw.find("header_too_large"), std::string::npos);
}

TEST_F(ServerTest, SlowClientGetsRequestTimeout) {
  // Half a request, then silence: the per-read deadline (700 ms here) answers 408 and closes.
  const auto started = std::chrono::steady_clock::now();
  const auto raw = raw_exchange(
      server_->port(), "POST /v1/issue HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n",
      std::chrono::seconds(10));
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_NE(raw.find("408"), std::string::npos) << raw;
  EXPECT_NE(raw.find("request_timeout"), std::string::npos) << raw;
  EXPECT_LT(waited, std::chrono::seconds(5));
}

TEST_F(ServerTest, KeepAliveOutlivesOneReadTimeoutAndIdleConnectionIsClosed) {
  // The read deadline (700 ms here) bounds each request, not the connection: requests every
  // 300 ms keep one connection serving for well over 700 ms. Once it idles, the server closes it
  // without an answer.
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
  const timeval bound{5, 0};  // no read of this test blocks longer
  ASSERT_EQ(::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound), 0);
  beast::flat_buffer buffer;
  for (int i = 0; i < 6; ++i) {
    http::request<http::empty_body> req{http::verb::get, "/healthz", 11};
    req.set(http::field::host, "127.0.0.1");
    boost::system::error_code ec;
    http::write(socket, req, ec);
    ASSERT_FALSE(ec) << "request " << i << ": " << ec.message();
    http::response<http::string_body> res;
    http::read(socket, buffer, res, ec);
    ASSERT_FALSE(ec) << "request " << i << ": " << ec.message();
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_TRUE(res.keep_alive());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  const auto idle_since = std::chrono::steady_clock::now();
  char byte = 0;
  boost::system::error_code ec;
  const auto n = socket.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(ec, asio::error::eof) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - idle_since, std::chrono::seconds(3));
}

TEST_F(ServerTest, GarbageIsBadRequest) {
  const auto raw = raw_exchange(server_->port(), "HELLO THERE\r\n\r\n");
  EXPECT_NE(raw.find("400"), std::string::npos) << raw;
}

TEST_F(ServerTest, UnknownCardAndResidentAndNonMonotonicChange) {
  http_client client(server_->port());
  expect_error(client.post("/v1/issue", issue_body("X-8", "FFFFFFFFFFFFFFFF")), 404,
               "unknown_card");
  const auto& r = (*population_)[1];
  json tax = r["tax"];
  expect_error(client.post("/v1/residents/99999999999/changes",
                           {{"change_id", 1}, {"kind", "tax"}, {"fields", {{"tax", tax}}}}),
               404, "unknown_resident");
  const auto path = "/v1/residents/" + r["resident_id"].get<std::string>() + "/changes";
  ASSERT_EQ(
      client.post(path, {{"change_id", 10}, {"kind", "tax"}, {"fields", {{"tax", tax}}}}).status,
      200u);
  expect_error(client.post(path, {{"change_id", 3}, {"kind", "tax"}, {"fields", {{"tax", tax}}}}),
               409, "non_monotonic_change_id");
}

TEST(ServerLifecycleTest, StopsCleanlyOnSigterm) {
  kofu::test::temp_dir dir;
  make_population(dir / "pop.jsonl", 5);
  mock_process server(dir / "pop.jsonl", {}, dir / "stderr.txt");
  {
    http_client client(server.port());
    ASSERT_EQ(client.get("/healthz").status, 200u);
  }
  server.process().signal(SIGTERM);
  const auto code = server.process().wait(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}

TEST(ServerLifecycleTest, BadPopulationFailsWithFileAndLine) {
  kofu::test::temp_dir dir;
  kofu::test::write_file(dir / "bad.jsonl", "{\"resident_id\": 1}\n");
  auto r = kofu::test::run_command(
      {kofu::test::mock_binary(), "--population", (dir / "bad.jsonl").string()},
      std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.jsonl:1:"), std::string::npos) << r.err;
  r = kofu::test::run_command({kofu::test::mock_binary(), "--population",
                               (dir / "bad.jsonl").string(), "--defect", "gremlins"},
                              std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace kofu::mock::test
