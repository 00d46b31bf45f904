#include "kofu/driver/reference_wire.hpp"

#include <gtest/gtest.h>

namespace {

using nlohmann::json;
using namespace kofu::driver;

TEST(ReferenceWireTest, WritesTheRequestsOfTheReferenceProtocol) {
  const reference_wire wire;
  const auto issue =
      wire.issue_request({"KOFU-000001-0000000007", "window", "inkan", "ABCDEF0123456789",
                          "12345678901", true, false, true, false});
  EXPECT_EQ(issue.method_string(), "POST");
  EXPECT_EQ(issue.target(), "/v1/issue");
  EXPECT_EQ(json::parse(issue.body()),
            json::parse(R"({"application_number":"KOFU-000001-0000000007","channel":"window",
                "certificate_type":"inkan","subject":{"card_serial":"ABCDEF0123456789"},
                "options":{"scope":"household","honseki":false,"zokugara":true,"mynumber":false}})"));
  const change_fields move{"12345678901", 8, 3, "move", json{{"address", {{"town", "x"}}}}};
  const auto update = wire.update_request(move);
  EXPECT_EQ(update.target(), "/v1/residents/12345678901/changes");
  // The version the change produces is the harness's expectation, never sent.
  EXPECT_EQ(json::parse(update.body()),
            json::parse(R"({"change_id":8,"kind":"move","fields":{"address":{"town":"x"}}})"));
  const auto batch = wire.batch_request("B-4", {move});
  EXPECT_EQ(batch.target(), "/v1/reflection/batch");
  EXPECT_EQ(json::parse(batch.body()),
            json::parse(R"({"batch_id":"B-4","changes":[{"resident_id":"12345678901",
                "change_id":8,"kind":"move","fields":{"address":{"town":"x"}}}]})"));
  const auto maintenance = wire.maintenance_request(2000, "s3cret");
  EXPECT_EQ(maintenance.target(), "/v1/admin/maintenance");
  EXPECT_EQ(maintenance[boost::beast::http::field::authorization], "Bearer s3cret");
  EXPECT_EQ(maintenance.body(), R"({"duration_ms":2000})");
}

TEST(ReferenceWireTest, ClassifiesByStatusAlone) {
  const reference_wire wire;
  const struct {
    unsigned status;
    const char* issue;
    const char* update;
  } table[] = {{200, "ok", "ok"},          {409, "retry", "failed"},  {404, "refused", "failed"},
               {422, "refused", "failed"}, {302, "error", "unknown"}, {500, "error", "unknown"},
               {503, "error", "unknown"},  {201, "error", "unknown"}};
  for (const auto& row : table) {
    const auto a = wire.classify_issue(row.status, R"({"result":"NG"})", "application/json");
    EXPECT_EQ(a.outcome, row.issue) << row.status;
    EXPECT_TRUE(a.error.empty());
    EXPECT_FALSE(a.document) << "the reference protocol does not parse on the hot path";
    const auto u = wire.classify_update(row.status, R"({"version":4})");
    EXPECT_EQ(u.outcome, row.update) << row.status;
    // The history keeps the body of every answer that is not ok.
    EXPECT_EQ(u.body.has_value(), row.status != 200) << row.status;
  }
  EXPECT_EQ(wire.classify_update(200, R"({"version":4})").versions,
            (std::vector<std::optional<std::uint32_t>>{4u}));
  EXPECT_TRUE(wire.classify_update(200, R"({"version":"4"})").versions.empty());
  EXPECT_EQ(wire.classify_update(400, "<html>").body, json("<html>"));
}

TEST(ReferenceWireTest, ListsBatchVersionsAsTheServerWroteThem) {
  const reference_wire wire;
  const std::vector<change_fields> changes{{"11111111111", 1, 2, "move", json::object()},
                                           {"22222222222", 2, 5, "tax", json::object()}};
  const auto ok = wire.classify_batch(
      200, R"({"versions":[{"resident_id":"11111111111","version":2},{"x":1}]})", changes);
  EXPECT_EQ(ok.outcome, "ok");
  ASSERT_EQ(ok.versions.size(), 2u);
  EXPECT_EQ(ok.versions[0], 2u);
  EXPECT_FALSE(ok.versions[1]);
  ASSERT_TRUE(ok.listed_versions);
  EXPECT_EQ(*ok.listed_versions, json::parse(R"([{"resident_id":"11111111111","version":2},
      {"x":1}])"));
  EXPECT_FALSE(wire.classify_batch(200, "{}", changes).listed_versions);
  const auto refused = wire.classify_batch(400, R"({"error":"bad"})", changes);
  EXPECT_EQ(refused.outcome, "failed");
  EXPECT_EQ(refused.body, json::parse(R"({"error":"bad"})"));
  const auto server_error = wire.classify_batch(500, "oops", changes);
  EXPECT_EQ(server_error.outcome, "unknown");
  EXPECT_FALSE(server_error.body) << "a batch's 5xx body is not kept (docs/history.md)";
}

TEST(ReferenceWireTest, RecordsNoMaintenanceOutcomeAndNeverSamplesTheFit) {
  const reference_wire wire;
  EXPECT_FALSE(wire.classify_maintenance(202, "{}").outcome);
  EXPECT_FALSE(wire.classify_maintenance(202, "{}").keep_body);
  EXPECT_TRUE(wire.classify_maintenance(401, "{}").keep_body);
  const auto ok = wire.classify_issue(200, "not json", "text/plain");
  EXPECT_FALSE(wire.judge_fit(ok, 200, "not json"));
  EXPECT_FALSE(wire.judge_fit(wire.classify_issue(500, "", ""), 500, ""));
  EXPECT_EQ(wire.name(), "reference");
  EXPECT_TRUE(wire.header_document().is_null());
  EXPECT_FALSE(wire.decoder());
  EXPECT_TRUE(wire.offers_type("koseki_tohon") && wire.offers_update_kind("tax"));
}

}  // namespace
