// A server-side shift that kofu cannot see on its own connections (issue 14 item 5): a front
// server of ours forwards every request over a pool of kept-alive backend connections to a real
// kofu-mock. A backend read that misses its deadline is cancelled and answered 504, and the
// connection goes back to the pool with the reply still on its way (the defect: it should be
// closed). Its next user, whichever kofu worker and connection sent it, writes its request and
// reads the previous user's reply: an off-by-one that runs on along the connection, A → B → C.
// kofu runs against the front (real driver, real sockets); its leak graph must name each source
// request as the history proves it (the reply echoes its request's application number).

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "mock_process.hpp"
#include "test_support.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
namespace fs = std::filesystem;
constexpr auto values = asio::as_tuple(asio::use_awaitable);

// The front server with the off-by-one pool. One thread; the pool needs no lock.
class off_by_one_pool {
 public:
  off_by_one_pool(unsigned short backend_port, std::size_t pool_size,
                  std::chrono::milliseconds read_deadline)
      : backend_(asio::ip::make_address("127.0.0.1"), backend_port),
        pool_size_(pool_size),
        read_deadline_(read_deadline),
        acceptor_(io_) {
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~off_by_one_pool() {
    io_.stop();
    thread_.join();
  }
  off_by_one_pool(const off_by_one_pool&) = delete;
  off_by_one_pool& operator=(const off_by_one_pool&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::size_t cancelled_reads() const { return cancelled_.load(); }

 private:
  struct backend_connection {
    explicit backend_connection(const asio::any_io_executor& ex) : socket(ex) {}
    tcp::socket socket;
    beast::flat_buffer buffer;  // stays with the connection, as a pooled client's would
  };
  using connection = std::unique_ptr<backend_connection>;
  using response = http::response<http::string_body>;

  static response reply(unsigned status, std::string body) {
    response res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "application/json");
    res.body() = std::move(body);
    return res;
  }

  // A pooled connection: an idle one, a new one while fewer than pool_size are open, else wait
  // (at most 5 s).
  asio::awaitable<connection> acquire() {
    const auto ex = co_await asio::this_coro::executor;
    for (int waited_ms = 0; waited_ms < 5000; ++waited_ms) {
      if (!idle_.empty()) {
        connection c = std::move(idle_.front());
        idle_.pop_front();
        co_return c;
      }
      if (open_ < pool_size_) {
        ++open_;
        auto c = std::make_unique<backend_connection>(ex);
        auto [ec] = co_await c->socket.async_connect(backend_, values);
        if (!ec) co_return c;
        --open_;
        co_return nullptr;
      }
      asio::steady_timer pause(ex, std::chrono::milliseconds(1));
      co_await pause.async_wait(values);
    }
    co_return nullptr;
  }
  void discard(connection c) {
    c.reset();
    --open_;
  }

  asio::awaitable<response> forward(http::request<http::string_body> req) {
    connection c = co_await acquire();
    if (!c) co_return reply(503, R"({"error":"busy","detail":"no backend connection"})");
    req.keep_alive(true);
    auto [wec, written] = co_await http::async_write(c->socket, req, values);
    if (wec) {
      discard(std::move(c));
      co_return reply(502, R"({"error":"backend_write"})");
    }
    // The read's deadline cancels it; `over` keeps a late timer from touching a connection
    // that has moved on to another request.
    auto over = std::make_shared<bool>(false);
    asio::steady_timer deadline(co_await asio::this_coro::executor, read_deadline_);
    deadline.async_wait([this, over, socket = &c->socket](boost::system::error_code ec) {
      if (ec || *over) return;
      ++cancelled_;
      socket->cancel();
    });
    response res;
    auto [rec, read] = co_await http::async_read(c->socket, c->buffer, res, values);
    *over = true;
    deadline.cancel();
    if (rec == asio::error::operation_aborted) {
      // THE DEFECT: the abandoned reply is still coming on this connection, which goes back to
      // the pool as if clean. Its next user reads it.
      idle_.push_back(std::move(c));
      co_return reply(504, R"({"error":"backend_timeout"})");
    }
    if (rec) {
      discard(std::move(c));
      co_return reply(502, R"({"error":"backend_read"})");
    }
    idle_.push_back(std::move(c));
    co_return res;
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(values);
      if (ec) co_return;
      asio::co_spawn(io_, session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      auto [ec, n] = co_await http::async_read(socket, buffer, req, values);
      if (ec) co_return;
      const bool keep_alive = req.keep_alive();
      response res = co_await forward(std::move(req));
      res.keep_alive(keep_alive);
      res.prepare_payload();
      auto [wec, w] = co_await http::async_write(socket, res, values);
      if (wec || !keep_alive) co_return;
    }
  }

  tcp::endpoint backend_;
  std::size_t pool_size_;
  std::chrono::milliseconds read_deadline_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::deque<connection> idle_;  // the pool (io_ thread only)
  std::size_t open_ = 0;         // backend connections open (io_ thread only)
  std::atomic<std::size_t> cancelled_{0};
  std::thread thread_;
};

struct issue_request {
  std::uint64_t id = 0;
  std::uint32_t worker = 0;
  std::string application_number;
  std::string resident_id;
  std::string echoed;  // the application number its answer carried (ok answers only)
};

// The history's issue requests by id.
std::map<std::uint64_t, issue_request> issue_requests(const fs::path& history) {
  std::map<std::uint64_t, issue_request> out;
  std::istringstream lines(kofu::test::read_file(history));
  for (std::string line; std::getline(lines, line);) {
    const json e = json::parse(line, nullptr, false);
    if (!e.is_object() || e.value("op", "") != "issue") continue;
    issue_request& r = out[e["id"].get<std::uint64_t>()];
    r.id = e["id"];
    if (e["type"] == "invoke") {
      r.worker = e["worker"];
      r.application_number = e["application_number"];
      r.resident_id = e["resident_id"];
    } else if (e["type"] == "complete" && e.value("outcome", "") == "ok" && e.contains("body") &&
               e["body"].is_object()) {
      r.echoed = e["body"].value("application_number", "");
    }
  }
  return out;
}

// The truth is the application number each reply echoes; the leak graph does not use it to name a
// source (a vendor need not echo one), only to rule a request out as a source: a request whose
// answer echoed its own number provably kept its data. Requests of one group for the same
// resident, sent at one instant, stay ambiguous: the timing cannot tell them apart.
TEST(OffByOnePoolTest, LeakGraphNamesEachShiftedRepliesSourceAcrossWorkers) {
  if (!fs::exists(kofu::test::kofu_binary()) || !fs::exists(kofu::test::mock_binary())) {
    GTEST_SKIP() << "kofu or kofu-mock not built";
  }
  kofu::test::temp_dir dir;
  // One printer at 4 ms a job: a burst of requests queues past the front's 10 ms read deadline.
  kofu::test::mock_process mock(dir, 3000, 5, {"--print-ms", "4", "--print-timeout-ms", "20000"});
  ASSERT_NE(mock.port, 0) << "kofu-mock did not start";
  off_by_one_pool front(mock.port, 3, std::chrono::milliseconds(10));
  const json scenario = {
      {"name", "off-by-one-pool"},
      {"target", {{"kind", "urls"}, {"urls", {front.url()}}}},
      {"population", {{"residents", 3000}, {"seed", 5}}},
      {"load", {{"workers", 2}, {"connections", 8}, {"timeout_ms", 5000}}},
      {"phases", {{{"duration_s", 3.0}, {"rate", 80}}}},
      {"mix",
       {{"certificate_types", {{"juminhyo", 1}}},
        {"channels", {{"konbini", 1}}},
        {"household_scope_share", 0}}},
      {"concentration", {{"hot_share", 0}, {"group_share", 0.5}, {"group_size", 4}}},
      {"updates", {{"rate", 0}}},
      {"thresholds", json::object()},
      {"report", {{"findings_per_kind", 100000}}},
      {"history", {{"flush_ms", 100}}}};
  kofu::test::write_file(dir / "s.json", scenario.dump());
  const auto r =
      kofu::test::run_command({kofu::test::kofu_binary(), "run", (dir / "s.json").string(), "--out",
                               (dir / "out").string(), "--quiet"},
                              std::chrono::seconds(120));
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;  // findings
  ASSERT_GT(front.cancelled_reads(), 0u);

  const json report = json::parse(kofu::test::read_file(dir / "out" / "report.json"));
  const auto requests = issue_requests(dir / "out" / "history.jsonl");
  std::map<std::string, std::uint64_t> by_number;
  for (const auto& [id, q] : requests) by_number[q.application_number] = id;
  const json& graph = report["leak_graph"];
  ASSERT_EQ(graph["edges_omitted"]["WRONG_PERSON"], 0);
  ASSERT_EQ(graph["edges"].size(), report["findings_by_kind"]["WRONG_PERSON"].get<std::size_t>());

  std::size_t named = 0;
  std::size_t named_across_workers = 0;
  std::size_t in_chains = 0;
  std::set<std::uint64_t> recipients;
  for (const json& e : graph["edges"])
    recipients.insert(e["recipient_request"].get<std::uint64_t>());
  std::size_t consecutive = 0;  // shifts whose source had itself received a shift
  for (const json& e : graph["edges"]) {
    const auto recipient = e["recipient_request"].get<std::uint64_t>();
    const issue_request& got = requests.at(recipient);
    // The truth: the reply it got is the one the server wrote for this request.
    ASSERT_TRUE(by_number.count(got.echoed)) << e.dump();
    const std::uint64_t truth = by_number.at(got.echoed);
    ASSERT_EQ(requests.at(truth).resident_id, e["victim"]) << e.dump();
    const std::string cls = e["class"];
    if (cls == "shift" || cls == "chain") {
      ++named;
      EXPECT_EQ(e["victim_request"], truth) << e.dump();  // never a wrong source named as certain
      if (requests.at(truth).worker != got.worker) {
        ++named_across_workers;
        EXPECT_FALSE(e["same_worker"].get<bool>()) << e.dump();
      }
      if (cls == "chain") ++in_chains;
      if (recipients.count(truth) != 0) ++consecutive;
    } else {
      ASSERT_EQ(cls, "ambiguous") << e.dump();  // the true source is always a candidate
      if (e["source_candidates"].get<std::size_t>() <= 8) {
        const auto& listed = e["candidate_requests"];
        EXPECT_NE(std::find(listed.begin(), listed.end(), json(truth)), listed.end()) << e.dump();
      }
    }
  }
  EXPECT_GT(named, graph["edges"].size() / 2) << graph.dump();
  EXPECT_GT(named_across_workers, 0u) << graph.dump();
  EXPECT_GT(consecutive, 0u) << graph.dump();
  EXPECT_GT(in_chains, 0u) << graph.dump();
  EXPECT_GE(graph["shift_chains"].get<std::size_t>(), 1u);
  EXPECT_EQ(graph["shifts"].get<std::size_t>(), named);
  EXPECT_EQ(graph["chains"].size(), graph["shift_chains"].get<std::size_t>());
}

}  // namespace
