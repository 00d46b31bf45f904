#include "kofu/driver/profile_wire.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include <boost/beast/http/write.hpp>

#include "test_support.hpp"

namespace {

using nlohmann::json;
using namespace kofu::driver;

json profile_document(const char* file) {
  return json::parse(kofu::test::read_file(kofu::test::source_dir() / "scenarios/profiles" / file));
}

std::shared_ptr<const vendor_profile> parsed(const json& doc) {
  auto p = vendor_profile::parse(doc, "profile.json");
  EXPECT_TRUE(p) << (p ? "" : p.error().message);
  return p ? std::make_shared<const vendor_profile>(std::move(*p)) : nullptr;
}

// The request as it goes on the wire: request line, headers, body.
std::string on_the_wire(http_request req) {
  req.prepare_payload();
  std::ostringstream out;
  out << req;
  return out.str();
}

const std::vector<change_fields> changes{
    {"12345678901", 8, 3, "move", json{{"address", {{"town", "x"}}}}},
    {"10987654321", 9, 2, "tax", json{{"tax", {{"income", 100000123}}}}}};

// A vendor that declares only issuance speaks the reference protocol for the rest: the same
// bytes on the wire, and its answers read the same way, as reference_wire.
TEST(ProfileWireTest, FallsBackToTheReferenceShapeForUndeclaredSections) {
  json doc = profile_document("mirai-gyosei-v3.json");
  const auto full = parsed(doc);
  for (const char* section : {"update", "reflection_batch", "maintenance"}) doc.erase(section);
  const auto issue_only = parsed(doc);
  ASSERT_TRUE(full && issue_only);
  const reference_wire reference;
  const profile_wire vendor(issue_only);
  const profile_wire declared(full);

  EXPECT_EQ(on_the_wire(vendor.update_request(changes[0])),
            on_the_wire(reference.update_request(changes[0])));
  EXPECT_EQ(on_the_wire(vendor.batch_request("B-7", changes)),
            on_the_wire(reference.batch_request("B-7", changes)));
  EXPECT_EQ(on_the_wire(vendor.maintenance_request(2000, "s3cret")),
            on_the_wire(reference.maintenance_request(2000, "s3cret")));
  // The control: where the profile declares a section, its request is the vendor's.
  EXPECT_NE(on_the_wire(declared.update_request(changes[0])),
            on_the_wire(reference.update_request(changes[0])));
  EXPECT_NE(on_the_wire(declared.maintenance_request(2000, "s3cret")),
            on_the_wire(reference.maintenance_request(2000, "s3cret")));
  // Issuance is the vendor's either way.
  const issue_fields f{"KOFU-000001-0000000007",
                       "window",
                       "inkan",
                       "ABCDEF0123456789",
                       "12345678901",
                       false,
                       false,
                       false,
                       false};
  EXPECT_NE(on_the_wire(vendor.issue_request(f)), on_the_wire(reference.issue_request(f)));

  for (const unsigned status : {200u, 201u, 400u, 409u, 423u, 500u}) {
    const std::string body = R"({"version":5,"versions":[{"version":5},{"version":6}]})";
    const auto u = vendor.classify_update(status, body);
    const auto ur = reference.classify_update(status, body);
    EXPECT_EQ(u.outcome, ur.outcome) << status;
    EXPECT_EQ(u.versions, ur.versions) << status;
    EXPECT_EQ(u.body, ur.body) << status;
    EXPECT_EQ(u.error, ur.error) << status;
    const auto b = vendor.classify_batch(status, body, changes);
    const auto br = reference.classify_batch(status, body, changes);
    EXPECT_EQ(b.outcome, br.outcome) << status;
    EXPECT_EQ(b.versions, br.versions) << status;
    EXPECT_EQ(b.listed_versions, br.listed_versions) << status;
    EXPECT_EQ(b.body, br.body) << status;
    const auto m = vendor.classify_maintenance(status, body);
    EXPECT_EQ(m.outcome, reference.classify_maintenance(status, body).outcome) << status;
    EXPECT_EQ(m.keep_body, reference.classify_maintenance(status, body).keep_body) << status;
  }
}

TEST(ProfileWireTest, ReadsDeclaredSectionsThroughTheProfile) {
  const auto p = parsed(profile_document("mirai-gyosei-v3.json"));
  ASSERT_TRUE(p);
  const profile_wire wire(p);
  // The profile's status classes decide, and an unclassified status says why (the reference
  // protocol would only call it unknown).
  EXPECT_EQ(wire.classify_update(409, "{}").outcome, "failed");
  const auto unmapped = wire.classify_update(302, "moved");
  EXPECT_EQ(unmapped.outcome, "unknown");
  EXPECT_NE(unmapped.error.find("status 302"), std::string::npos) << unmapped.error;
  EXPECT_EQ(unmapped.body, json("moved"));
  const auto accepted = wire.classify_maintenance(202, "{}");
  ASSERT_TRUE(accepted.outcome);
  EXPECT_EQ(*accepted.outcome, "ok");
  EXPECT_FALSE(accepted.keep_body);
  const auto m = wire.classify_maintenance(401, "no");
  ASSERT_TRUE(m.outcome);
  EXPECT_EQ(*m.outcome, "refused");
  EXPECT_TRUE(m.keep_body);
  EXPECT_EQ(wire.name(), p->name());
  EXPECT_EQ(wire.header_document(), p->document());
}

TEST(ProfileWireTest, BatchVersionsAreListedInTheReferenceShape) {
  const auto p = parsed(profile_document("vendor-ja.json"));
  ASSERT_TRUE(p);
  const profile_wire wire(p);
  const auto classes = profile_document("vendor-ja.json")["reflection_batch"];
  // An answer the vendor's batch section classifies ok, whatever versions it names.
  json answer = json::object();
  const auto code = classes["outcome"]["code"].get<std::string>();
  answer[json::json_pointer(code)] = classes["outcome"]["ok"][0];
  const auto a = wire.classify_batch(200, answer.dump(), changes);
  ASSERT_EQ(a.outcome, "ok") << a.error;
  ASSERT_TRUE(a.listed_versions);
  ASSERT_EQ(a.listed_versions->size(), changes.size());
  for (std::size_t i = 0; i < changes.size(); ++i) {
    EXPECT_EQ((*a.listed_versions)[i]["resident_id"], changes[i].resident_id);
    EXPECT_TRUE((*a.listed_versions)[i].contains("version"));
  }
}

TEST(ProfileWireTest, JudgesTheFitOnOkAndUnclassifiableAnswersOnly) {
  const auto p = parsed(profile_document("vendor-ja.json"));
  ASSERT_TRUE(p);
  const profile_wire wire(p);
  auto judged = [&](unsigned status, const std::string& body) {
    return wire.judge_fit(wire.classify_issue(status, body, "application/json"), status, body);
  };
  // Classified ok (result code 0000) but nothing of a certificate in it: did not map.
  const auto empty = judged(200, R"({"処理結果":{"コード":"0000"}})");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->mapped);
  EXPECT_FALSE(empty->reason.empty());
  // A result code the profile does not know: did not map, and says which.
  const auto unknown = judged(200, R"({"処理結果":{"コード":"Z999"}})");
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(unknown->mapped);
  EXPECT_NE(unknown->reason.find("Z999"), std::string::npos) << unknown->reason;
  // A known refusal, a busy server, a server error: nothing about the mapping.
  EXPECT_FALSE(judged(200, R"({"処理結果":{"コード":"E404"}})"));
  EXPECT_FALSE(judged(200, R"({"処理結果":{"コード":"W503"}})"));
  EXPECT_FALSE(judged(500, "oops"));
  // Not JSON under HTTP 200: no result code, so not classifiable.
  EXPECT_FALSE(judged(200, "<html>")->mapped);
  const auto parsed_answer = wire.classify_issue(200, R"({"処理結果":{"コード":"0000"}})", "");
  ASSERT_TRUE(parsed_answer.document);
  EXPECT_EQ((*parsed_answer.document)["処理結果"]["コード"], "0000");
}

}  // namespace
