// End-to-end tests of POST /v1/issue against the real kofu-mock (correct processing).
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "mock_fixture.hpp"
#include "test_support.hpp"

namespace kofu::mock::test {
namespace {

using nlohmann::json;

class IssueEndpointTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new kofu::test::temp_dir();
    population_ = new std::vector<json>(make_population(*dir_ / "pop.jsonl", 120));
    server_ = new mock_process(*dir_ / "pop.jsonl", {}, *dir_ / "stderr.txt");
  }
  static void TearDownTestSuite() {
    delete server_;
    delete population_;
    delete dir_;
  }

  static const json& resident(const std::function<bool(const json&)>& pred) {
    for (const auto& r : *population_) {
      if (pred(r)) return r;
    }
    throw std::runtime_error("no resident in the population fits the test");
  }
  static std::vector<json> members_of(const std::string& key, const std::string& value) {
    std::vector<json> out;
    for (const auto& r : *population_) {
      if (r[key] == value) out.push_back(r);
    }
    return out;
  }
  static bool active(const json& r) { return r["status"] == "active"; }
  static bool household_of_two_or_more(const json& r) {
    if (!active(r) || r["relationship"] != "世帯主") return false;
    std::size_t n = 0;
    for (const auto& m : members_of("household_id", r["household_id"])) n += active(m) ? 1u : 0u;
    return n >= 2;
  }

  http_result issue(const json& body) {
    http_client client(server_->port());
    return client.post("/v1/issue", body);
  }

  static kofu::test::temp_dir* dir_;
  static std::vector<json>* population_;
  static mock_process* server_;
};

kofu::test::temp_dir* IssueEndpointTest::dir_ = nullptr;
std::vector<json>* IssueEndpointTest::population_ = nullptr;
mock_process* IssueEndpointTest::server_ = nullptr;

TEST_F(IssueEndpointTest, ReturnsIndividualJuminhyoBoundToTheApplication) {
  const auto& r = resident(active);
  auto res = issue(issue_body("APP-1", r["card_serial"]));
  ASSERT_EQ(res.status, 200u) << res.body;
  const auto answer = res.json();
  EXPECT_EQ(answer["application_number"], "APP-1");
  EXPECT_TRUE(digest_matches(answer));
  const auto& cert = answer["certificate"];
  EXPECT_EQ(cert["type"], "juminhyo");
  EXPECT_EQ(cert["subject"]["resident_id"], r["resident_id"]);
  EXPECT_EQ(cert["subject"]["card_serial"], r["card_serial"]);
  EXPECT_EQ(cert["source_version"], r["version"]);
  EXPECT_TRUE(cert["serial"].is_string());
  EXPECT_TRUE(cert["issued_at"].is_string());
  ASSERT_EQ(cert["persons"].size(), 1u);
  const auto& p = cert["persons"][0];
  EXPECT_EQ(p["resident_id"], r["resident_id"]);
  EXPECT_EQ(p["name"], r["name"]);
  EXPECT_EQ(p["birth_date"], r["birth_date"]);
  EXPECT_EQ(p["sex"], r["sex"]);
  EXPECT_EQ(p["address"], r["address"]);
  EXPECT_EQ(p["moved_in_date"], r["moved_in_date"]);
  EXPECT_EQ(p["page"], 1);
  EXPECT_TRUE(p.contains("household_head"));
  EXPECT_FALSE(p.contains("mynumber"));
  EXPECT_FALSE(p.contains("relationship"));
  EXPECT_FALSE(p.contains("honseki"));
}

TEST_F(IssueEndpointTest, ReturnsHouseholdMembers) {
  const auto& head = resident(household_of_two_or_more);
  auto res = issue(
      issue_body("APP-2", head["card_serial"], "juminhyo", "window", {{"scope", "household"}}));
  ASSERT_EQ(res.status, 200u) << res.body;
  const auto cert = res.json()["certificate"];
  std::vector<std::string> expected;
  for (const auto& m : members_of("household_id", head["household_id"])) {
    if (active(m)) expected.push_back(m["resident_id"]);
  }
  ASSERT_EQ(cert["persons"].size(), expected.size());
  EXPECT_EQ(cert["persons"][0]["resident_id"], head["resident_id"]);
  std::set<std::string> got;
  const std::string head_name = head["name"]["family_kanji"].get<std::string>() + " " +
                                head["name"]["given_kanji"].get<std::string>();
  for (const auto& p : cert["persons"]) {
    got.insert(p["resident_id"]);
    EXPECT_EQ(p["household_head"], head_name);
    EXPECT_EQ(p["address"]["token"], head["address"]["token"]);
  }
  EXPECT_EQ(got, std::set<std::string>(expected.begin(), expected.end()));
}

TEST_F(IssueEndpointTest, PrintsOptionalColumnsOnlyWhenAsked) {
  const auto& r = resident(active);
  auto res = issue(issue_body(
      "APP-3", r["card_serial"], "juminhyo", "kiosk",
      {{"scope", "individual"}, {"honseki", true}, {"zokugara", true}, {"mynumber", true}}));
  ASSERT_EQ(res.status, 200u) << res.body;
  const auto p = res.json()["certificate"]["persons"][0];
  EXPECT_EQ(p["mynumber"], r["mynumber"]);
  EXPECT_EQ(p["relationship"], r["relationship"]);
  EXPECT_EQ(p["honseki"], r["honseki"]);
  EXPECT_EQ(p["hittousha"], r["hittousha"]);
}

TEST_F(IssueEndpointTest, IssuesEveryCertificateType) {
  const auto& r = resident([](const json& x) {
    return active(x) && x["seal"].is_object() && x["seal"]["status"] == "registered";
  });
  const std::vector<std::string> types = {"juminhyo",     "juminhyo_kisai", "inkan", "koseki_zenbu",
                                          "koseki_kojin", "koseki_fuhyo",   "kazei"};
  const auto koseki = members_of("koseki_id", r["koseki_id"]);
  for (const auto& type : types) {
    auto res = issue(issue_body("APP-T-" + type, r["card_serial"], type));
    ASSERT_EQ(res.status, 200u) << type << ": " << res.body;
    const auto answer = res.json();
    EXPECT_TRUE(digest_matches(answer)) << type;
    const auto& cert = answer["certificate"];
    EXPECT_EQ(cert["type"], type);
    EXPECT_EQ(cert["subject"]["resident_id"], r["resident_id"]);
    EXPECT_EQ(cert.contains("seal"), type == "inkan") << type;
    EXPECT_EQ(cert.contains("tax"), type == "kazei") << type;
    EXPECT_EQ(cert.contains("koseki"), type.rfind("koseki", 0) == 0) << type;
    if (type == "inkan") {
      EXPECT_EQ(cert["seal"]["registration_number"], r["seal"]["registration_number"]);
      EXPECT_EQ(cert["seal"]["image_sha256"], r["seal"]["image_sha256"]);
      EXPECT_EQ(cert["seal"]["image_png_base64"], r["seal"]["image_png_base64"]);
    }
    if (type == "kazei") {
      EXPECT_EQ(cert["tax"], r["tax"]);
    }
    if (type == "koseki_zenbu" || type == "koseki_fuhyo") {
      ASSERT_EQ(cert["persons"].size(), koseki.size()) << type;
      for (std::size_t i = 0; i < koseki.size(); ++i) {
        EXPECT_EQ(cert["persons"][i]["resident_id"], koseki[i]["resident_id"]);
        if (type == "koseki_zenbu") {
          EXPECT_EQ(cert["persons"][i]["page"], i / 2 + 1);
          EXPECT_EQ(cert["persons"][i]["koseki_relationship"], koseki[i]["koseki_relationship"]);
        } else {
          EXPECT_EQ(cert["persons"][i]["address"], koseki[i]["address"]);
        }
      }
      EXPECT_EQ(cert["koseki"]["koseki_id"], r["koseki_id"]);
      EXPECT_EQ(cert["koseki"]["honseki"], r["honseki"]);
      EXPECT_EQ(cert["koseki"]["hittousha"], r["hittousha"]);
    } else {
      ASSERT_EQ(cert["persons"].size(), 1u) << type;
      EXPECT_EQ(cert["persons"][0]["resident_id"], r["resident_id"]);
    }
    if (type == "koseki_kojin") {
      EXPECT_EQ(cert["persons"][0]["koseki_relationship"], r["koseki_relationship"]);
      EXPECT_FALSE(cert["persons"][0].contains("address"));
    }
  }
}

TEST_F(IssueEndpointTest, RefusesSealThatIsCancelledOrMissing) {
  const auto& cancelled = resident([](const json& x) {
    return active(x) && x["seal"].is_object() && x["seal"]["status"] == "cancelled";
  });
  auto res = issue(issue_body("APP-4", cancelled["card_serial"], "inkan"));
  EXPECT_EQ(res.status, 422u) << res.body;
  EXPECT_EQ(res.json()["error"], "not_issuable");
  const auto& none = resident([](const json& x) { return active(x) && x["seal"].is_null(); });
  res = issue(issue_body("APP-5", none["card_serial"], "inkan"));
  EXPECT_EQ(res.status, 422u) << res.body;
}

TEST_F(IssueEndpointTest, RefusesRemovedResident) {
  const auto& removed = resident([](const json& x) { return x["status"] == "removed"; });
  auto res = issue(issue_body("APP-6", removed["card_serial"], "juminhyo_kisai"));
  EXPECT_EQ(res.status, 422u) << res.body;
  EXPECT_EQ(res.json()["error"], "not_issuable");
  EXPECT_TRUE(res.json()["detail"].is_string());
}

TEST_F(IssueEndpointTest, UnknownCardIsNotFound) {
  auto res = issue(issue_body("APP-7", "0000000000000000"));
  EXPECT_EQ(res.status, 404u);
  EXPECT_EQ(res.json()["error"], "unknown_card");
}

TEST_F(IssueEndpointTest, SerialsAreUniqueUnderConcurrentLoad) {
  std::vector<json> holders;
  for (const auto& r : *population_) {
    if (active(r)) holders.push_back(r);
  }
  std::mutex mutex;
  std::set<std::string> serials;
  std::size_t answered = 0, wrong = 0;
  run_load(server_->port(), 32, 2000, std::chrono::seconds(20),
           [&](unsigned, std::size_t i, http_client& client) {
             const auto& r = holders[i % 8];
             const auto app = "LOAD-" + std::to_string(i);
             auto res = client.post("/v1/issue", issue_body(app, r["card_serial"]));
             std::lock_guard lock(mutex);
             if (res.status != 200) return;
             const auto a = res.json();
             ++answered;
             serials.insert(a["certificate"]["serial"].get<std::string>());
             if (a["application_number"] != app ||
                 a["certificate"]["subject"]["resident_id"] != r["resident_id"] ||
                 !digest_matches(a)) {
               ++wrong;
             }
           });
  EXPECT_GT(answered, 100u);
  EXPECT_EQ(serials.size(), answered);
  EXPECT_EQ(wrong, 0u);
}

// A record changed between the registry read and the answer yields 409, never a mixed answer.
TEST(IssueRetryTest, ChangeInFlightAnswersDataChangedRetry) {
  kofu::test::temp_dir dir;
  const auto pop = make_population(dir / "pop.jsonl", 10);
  // A wide race window so the change surely lands between the snapshot and the re-read.
  mock_process server(dir / "pop.jsonl", {"--race-window-ms", "300"}, dir / "stderr.txt");
  const auto& r = pop[0];
  http_result issued;
  std::thread requester([&] {
    http_client client(server.port());
    issued = client.post("/v1/issue", issue_body("APP-R", r["card_serial"]));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(450));  // after the snapshot at ~300 ms
  http_client updater(server.port());
  json address = r["address"];
  address["token"] = "M000000001";
  auto change = updater.post("/v1/residents/" + r["resident_id"].get<std::string>() + "/changes",
                             {{"change_id", 1},
                              {"kind", "move"},
                              {"fields", {{"address", address}, {"moved_in_date", "2026-11-22"}}}});
  requester.join();
  ASSERT_EQ(change.status, 200u) << change.body;
  EXPECT_EQ(issued.status, 409u) << issued.body;
  EXPECT_EQ(issued.json()["error"], "data_changed_retry");
}

}  // namespace
}  // namespace kofu::mock::test
