// End-to-end tests of the writer endpoints: changes, reflection batches, maintenance.
#include <gtest/gtest.h>

#include "mock_fixture.hpp"
#include "test_support.hpp"

namespace kofu::mock::test {
namespace {

using nlohmann::json;

class ReflectionEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    population_ = make_population(dir_ / "pop.jsonl", 30);
    server_ = std::make_unique<mock_process>(dir_ / "pop.jsonl",
                                             std::vector<std::string>{"--admin-token", "s3cret"},
                                             dir_ / "stderr.txt");
    client_ = std::make_unique<http_client>(server_->port());
  }

  json move(std::int64_t change_id, const json& r, const std::string& token) {
    json address = r["address"];
    address["token"] = token;
    address["building"] = "新館 " + token;
    return {{"change_id", change_id},
            {"kind", "move"},
            {"fields", {{"address", address}, {"moved_in_date", "2026-11-22"}}}};
  }
  std::string changes_path(const json& r) {
    return "/v1/residents/" + r["resident_id"].get<std::string>() + "/changes";
  }
  json issued(const json& r) {
    auto res = client_->post("/v1/issue", issue_body("APP", r["card_serial"]));
    EXPECT_EQ(res.status, 200u) << res.body;
    return res.json()["certificate"];
  }

  kofu::test::temp_dir dir_;
  std::vector<json> population_;
  std::unique_ptr<mock_process> server_;
  std::unique_ptr<http_client> client_;
};

TEST_F(ReflectionEndpointTest, MoveBumpsVersionAndShowsOnCertificate) {
  const auto& r = population_[0];
  auto res = client_->post(changes_path(r), move(1, r, "M000000001"));
  ASSERT_EQ(res.status, 200u) << res.body;
  EXPECT_EQ(res.json()["resident_id"], r["resident_id"]);
  EXPECT_EQ(res.json()["version"], 2);
  const auto cert = issued(r);
  EXPECT_EQ(cert["source_version"], 2);
  EXPECT_EQ(cert["persons"][0]["address"]["token"], "M000000001");
  EXPECT_EQ(cert["persons"][0]["moved_in_date"], "2026-11-22");
}

TEST_F(ReflectionEndpointTest, EveryKindReplacesItsFields) {
  const auto& r = population_[1];
  const auto path = changes_path(r);
  json name = {{"family_kanji", "邊見"},
               {"given_kanji", "一"},
               {"family_kana", "ヘンミ"},
               {"given_kana", "ハジメ"}};
  json tax = {{"fiscal_year", 2026},
              {"income", 1},
              {"taxable_income", 2},
              {"municipal_tax", 3},
              {"prefectural_tax", 4}};
  EXPECT_EQ(client_->post(path, {{"change_id", 1}, {"kind", "name"}, {"fields", {{"name", name}}}})
                .status,
            200u);
  EXPECT_EQ(
      client_->post(path, {{"change_id", 2}, {"kind", "tax"}, {"fields", {{"tax", tax}}}}).status,
      200u);
  EXPECT_EQ(
      client_->post(path, {{"change_id", 3}, {"kind", "seal"}, {"fields", {{"seal", nullptr}}}})
          .status,
      200u);
  auto res = client_->post(
      path, {{"change_id", 4},
             {"kind", "household"},
             {"fields", {{"household_id", "H999999999"}, {"relationship", "世帯主"}}}});
  ASSERT_EQ(res.status, 200u) << res.body;
  EXPECT_EQ(res.json()["version"], 5);
  auto cert = issued(r);
  EXPECT_EQ(cert["persons"][0]["name"], name);
  auto kazei = client_->post("/v1/issue", issue_body("APP-K", r["card_serial"], "kazei")).json();
  EXPECT_EQ(kazei["certificate"]["tax"], tax);
  auto inkan = client_->post("/v1/issue", issue_body("APP-I", r["card_serial"], "inkan"));
  EXPECT_EQ(inkan.status, 422u);
  auto household = client_->post("/v1/issue", issue_body("APP-H", r["card_serial"], "juminhyo",
                                                         "konbini", {{"scope", "household"}}));
  ASSERT_EQ(household.status, 200u);
  ASSERT_EQ(household.json()["certificate"]["persons"].size(), 1u);
}

TEST_F(ReflectionEndpointTest, RefusesNonMonotonicChangeIdAndChangesNothing) {
  const auto& r = population_[2];
  ASSERT_EQ(client_->post(changes_path(r), move(5, r, "M000000005")).status, 200u);
  auto res = client_->post(changes_path(r), move(5, r, "M000000006"));
  EXPECT_EQ(res.status, 409u);
  EXPECT_EQ(res.json()["error"], "non_monotonic_change_id");
  EXPECT_EQ(issued(r)["persons"][0]["address"]["token"], "M000000005");
  EXPECT_EQ(issued(r)["source_version"], 2);
}

TEST_F(ReflectionEndpointTest, UnknownResidentIsNotFound) {
  auto res = client_->post("/v1/residents/00000000000/changes", move(1, population_[0], "M1"));
  EXPECT_EQ(res.status, 404u);
  EXPECT_EQ(res.json()["error"], "unknown_resident");
}

TEST_F(ReflectionEndpointTest, BatchAppliesChangesInOrder) {
  const auto& a = population_[3];
  const auto& b = population_[4];
  json ca = move(1, a, "M0000000A1");
  ca["resident_id"] = a["resident_id"];
  json cb = move(1, b, "M0000000B1");
  cb["resident_id"] = b["resident_id"];
  json ca2 = move(2, a, "M0000000A2");
  ca2["resident_id"] = a["resident_id"];
  auto res =
      client_->post("/v1/reflection/batch", {{"batch_id", "B-1"}, {"changes", {ca, cb, ca2}}});
  ASSERT_EQ(res.status, 200u) << res.body;
  const auto j = res.json();
  EXPECT_EQ(j["batch_id"], "B-1");
  ASSERT_EQ(j["versions"].size(), 3u);
  EXPECT_EQ(j["versions"][0], (json{{"resident_id", a["resident_id"]}, {"version", 2}}));
  EXPECT_EQ(j["versions"][1], (json{{"resident_id", b["resident_id"]}, {"version", 2}}));
  EXPECT_EQ(j["versions"][2], (json{{"resident_id", a["resident_id"]}, {"version", 3}}));
  EXPECT_EQ(issued(a)["persons"][0]["address"]["token"], "M0000000A2");
}

TEST_F(ReflectionEndpointTest, BatchWithInvalidChangeIsRejectedWhole) {
  const auto& a = population_[5];
  json good = move(1, a, "M0000000G1");
  good["resident_id"] = a["resident_id"];
  json bad = move(1, a, "M0000000G2");
  bad["resident_id"] = "00000000000";
  auto res = client_->post("/v1/reflection/batch", {{"batch_id", "B-2"}, {"changes", {good, bad}}});
  EXPECT_EQ(res.status, 400u);
  EXPECT_NE(res.json()["detail"].get<std::string>().find("changes[1]"), std::string::npos);
  json repeated = move(1, a, "M0000000G3");
  repeated["resident_id"] = a["resident_id"];
  res = client_->post("/v1/reflection/batch", {{"batch_id", "B-3"}, {"changes", {good, repeated}}});
  EXPECT_EQ(res.status, 400u);
  EXPECT_NE(res.json()["detail"].get<std::string>().find("changes[1].change_id"),
            std::string::npos);
  EXPECT_EQ(issued(a)["source_version"], 1);
}

TEST_F(ReflectionEndpointTest, MaintenanceNeedsTheBearerToken) {
  auto res = client_->post("/v1/admin/maintenance", {{"duration_ms", 200}});
  EXPECT_EQ(res.status, 401u);
  res = client_->post("/v1/admin/maintenance", {{"duration_ms", 200}},
                      {{"Authorization", "Bearer wrong"}});
  EXPECT_EQ(res.status, 401u);
  res = client_->post("/v1/admin/maintenance", {{"duration_ms", 200}},
                      {{"Authorization", "Bearer s3cret"}});
  ASSERT_EQ(res.status, 202u) << res.body;
  EXPECT_TRUE(res.json()["until_ms"].is_number_integer());
  // Issuance goes on during the system update.
  EXPECT_EQ(issued(population_[0])["subject"]["resident_id"], population_[0]["resident_id"]);
}

TEST(MaintenanceTest, DisabledWithoutToken) {
  kofu::test::temp_dir dir;
  make_population(dir / "pop.jsonl", 5);
  mock_process server(dir / "pop.jsonl", {}, dir / "stderr.txt");
  http_client client(server.port());
  auto res = client.post("/v1/admin/maintenance", {{"duration_ms", 200}},
                         {{"Authorization", "Bearer anything"}});
  EXPECT_EQ(res.status, 403u);
  EXPECT_EQ(res.json()["error"], "admin_disabled");
}

}  // namespace
}  // namespace kofu::mock::test
