// TLS and mutual TLS against the real kofu-mock, with certificates made at test time.
#include <gtest/gtest.h>

#include "mock_fixture.hpp"
#include "test_support.hpp"

namespace kofu::mock::test {
namespace {

using nlohmann::json;

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new kofu::test::temp_dir();
    population_ = new std::vector<json>(make_population(*dir_ / "pop.jsonl", 10));
    tls_ = new tls_material(make_tls_material(dir_->path()));
  }
  static void TearDownTestSuite() {
    delete tls_;
    delete population_;
    delete dir_;
  }

  static kofu::test::temp_dir* dir_;
  static std::vector<json>* population_;
  static tls_material* tls_;
};

kofu::test::temp_dir* TlsTest::dir_ = nullptr;
std::vector<json>* TlsTest::population_ = nullptr;
tls_material* TlsTest::tls_ = nullptr;

TEST_F(TlsTest, ServesIssuanceOverTls) {
  mock_process server(
      *dir_ / "pop.jsonl",
      {"--tls-cert", tls_->server_cert.string(), "--tls-key", tls_->server_key.string()},
      *dir_ / "stderr-tls.txt");
  EXPECT_EQ(server.url().rfind("https://127.0.0.1:", 0), 0u) << server.url();
  http_client client(server.port(), tls_client_config{tls_->ca_cert, {}, {}});
  const auto& r = (*population_)[0];
  for (int i = 0; i < 3; ++i) {  // several requests on one keep-alive TLS connection
    auto res = client.post("/v1/issue", issue_body("TLS-" + std::to_string(i), r["card_serial"]));
    ASSERT_EQ(res.status, 200u) << res.error << res.body;
    EXPECT_TRUE(digest_matches(res.json()));
  }
  // A plain-HTTP client gets no answer from the TLS port.
  const auto raw = raw_exchange(server.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                                std::chrono::seconds(5));
  EXPECT_EQ(raw.find("200 OK"), std::string::npos);
  // The server keeps serving TLS clients.
  EXPECT_EQ(client.get("/healthz").status, 200u);
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificateFromTheCa) {
  mock_process server(*dir_ / "pop.jsonl",
                      {"--tls-cert", tls_->server_cert.string(), "--tls-key",
                       tls_->server_key.string(), "--tls-client-ca", tls_->ca_cert.string()},
                      *dir_ / "stderr-mtls.txt");
  {
    http_client client(server.port(),
                       tls_client_config{tls_->ca_cert, tls_->client_cert, tls_->client_key});
    auto res = client.post("/v1/issue", issue_body("MTLS-1", (*population_)[0]["card_serial"]));
    EXPECT_EQ(res.status, 200u) << res.error;
  }
  {
    http_client anonymous(server.port(), tls_client_config{tls_->ca_cert, {}, {}});
    auto res = anonymous.get("/healthz");
    EXPECT_EQ(res.status, 0u) << "answered without a client certificate";
  }
  {
    http_client stranger(server.port(), tls_client_config{tls_->ca_cert, tls_->other_client_cert,
                                                          tls_->other_client_key});
    auto res = stranger.get("/healthz");
    EXPECT_EQ(res.status, 0u) << "answered a client certificate from another CA";
  }
  // Still serving the right client afterwards, under concurrent load.
  std::atomic<int> ok{0};
  run_load(
      server.port(), 8, 200, std::chrono::seconds(20),
      [&](unsigned, std::size_t i, http_client& client) {
        auto res = client.post("/v1/issue", issue_body("MTLS-L-" + std::to_string(i),
                                                       (*population_)[i % 3]["card_serial"]));
        if (res.status == 200 && digest_matches(res.json())) ++ok;
      },
      tls_client_config{tls_->ca_cert, tls_->client_cert, tls_->client_key});
  EXPECT_EQ(ok.load(), 200);
}

TEST_F(TlsTest, ClientRejectsAServerItDoesNotTrust) {
  mock_process server(
      *dir_ / "pop.jsonl",
      {"--tls-cert", tls_->server_cert.string(), "--tls-key", tls_->server_key.string()},
      *dir_ / "stderr-untrusted.txt");
  http_client client(server.port(), tls_client_config{tls_->other_ca_cert, {}, {}});
  auto res = client.get("/healthz");
  EXPECT_EQ(res.status, 0u);
  EXPECT_NE(res.error.find("handshake"), std::string::npos) << res.error;
}

}  // namespace
}  // namespace kofu::mock::test
