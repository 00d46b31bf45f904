// The certificate writer prints, byte for byte, the canonical JSON of the certificate document the
// pipeline used to build with nlohmann::json (kept here as the reference), for every type, column
// choice and household, before and after changes of the printed fields.
#include "certificate_writer.hpp"

#include <gtest/gtest.h>

#include <variant>

#include "issue_request.hpp"
#include "kofu/mock/population_loader.hpp"
#include "mock_fixture.hpp"
#include "test_support.hpp"

namespace kofu::mock {
namespace {

using nlohmann::json;

// The certificate as a document, exactly as the pipeline's rendering step built it before it
// wrote canonical JSON directly.
json reference_certificate(const certificate_content& c, const registry& residents) {
  json certificate = json::object();
  certificate["type"] = kCertificateTypes[c.type];
  certificate["subject"] = {{"resident_id", c.subject->resident_id},
                            {"card_serial", c.subject->card_serial}};
  certificate["source_version"] = c.subject->version;
  json printed_persons = json::array();
  for (std::size_t i = 0; i < c.persons.size(); ++i) {
    const auto& id = *c.persons[i];
    const auto& d = *c.details[i];
    json person = {{"resident_id", id.resident_id},
                   {"source_version", id.version},
                   {"page", c.type == kKosekiZenbu ? i / 2 + 1 : 1},
                   {"name", id.name},
                   {"birth_date", id.birth_date},
                   {"sex", id.sex}};
    switch (c.type) {
      case kJuminhyo: {
        person["address"] = d.address;
        person["moved_in_date"] = d.moved_in_date;
        auto members = residents.household_members(d.household_id);
        person["household_head"] = !members.empty() && members.front()->relationship == "世帯主"
                                       ? members.front()->full_name_kanji()
                                       : std::string();
        if (c.columns.zokugara) person["relationship"] = id.relationship;
        if (c.columns.honseki) {
          person["honseki"] = id.honseki;
          person["hittousha"] = id.hittousha;
        }
        if (c.columns.mynumber) person["mynumber"] = id.mynumber;
        break;
      }
      case kJuminhyoKisai:
      case kKosekiFuhyo:
        person["address"] = d.address;
        person["moved_in_date"] = d.moved_in_date;
        break;
      case kInkan:
      case kKazei:
        person["address"] = d.address;
        break;
      default:
        break;
    }
    if (c.type == kKosekiZenbu || c.type == kKosekiKojin) {
      person["koseki_relationship"] = id.koseki_relationship;
    }
    printed_persons.push_back(std::move(person));
  }
  certificate["persons"] = std::move(printed_persons);
  if (c.type == kInkan) {
    const auto& seal = c.details.front()->seal;
    certificate["seal"] = {{"registration_number", seal.at("registration_number")},
                           {"image_png_base64", seal.at("image_png_base64")},
                           {"image_sha256", seal.at("image_sha256")}};
  }
  if (c.type == kKazei) certificate["tax"] = c.details.front()->tax;
  if (c.type == kKosekiZenbu || c.type == kKosekiKojin || c.type == kKosekiFuhyo) {
    const auto& head = *c.persons.front();
    certificate["koseki"] = {{"koseki_id", std::string(c.koseki_id)},
                             {"honseki", head.honseki},
                             {"hittousha", head.hittousha}};
  }
  certificate["serial"] = std::string(c.serial);
  certificate["issued_at"] = std::string(c.issued_at);
  return certificate;
}

class CertificateWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::make_population(dir_ / "pop.jsonl", 80);
    auto loaded = load_population(dir_ / "pop.jsonl");
    ASSERT_TRUE(std::holds_alternative<std::vector<resident_record>>(loaded));
    residents_ = std::make_unique<registry>(std::get<std::vector<resident_record>>(loaded));
  }

  // Renders every certificate type with several column choices for every active resident and
  // compares with the reference. Returns how many certificates were compared.
  std::size_t compare_all() {
    std::size_t compared = 0;
    const std::vector<print_columns> column_choices = {
        {}, {true, false, false}, {false, true, false}, {false, false, true}, {true, true, true}};
    for (const auto& subject : residents_->all()) {
      if (!subject->active()) continue;
      for (std::size_t type = 0; type < kCertificateTypes.size(); ++type) {
        if (type == kInkan && subject->seal.is_null()) continue;  // refused before rendering
        for (const bool household : {false, true}) {
          std::vector<resident_snapshot> persons;
          std::string koseki_id;
          if (type == kJuminhyo) {
            if (household) persons = residents_->household_members(subject->household_id);
            if (persons.empty()) persons.push_back(subject);
          } else if (type == kKosekiZenbu || type == kKosekiFuhyo) {
            persons = residents_->koseki_members(subject->koseki_id);
            koseki_id = subject->koseki_id;
          } else {
            persons.push_back(subject);
            if (type == kKosekiKojin) koseki_id = subject->koseki_id;
          }
          std::vector<resident_snapshot> details;
          for (const auto& p : persons) details.push_back(residents_->find(p->resident_id));
          for (const auto& columns : column_choices) {
            const certificate_content content{
                .type = type,
                .subject = subject.get(),
                .persons = persons,
                .details = details,
                .columns = type == kJuminhyo ? columns : print_columns{},
                .koseki_id = koseki_id,
                .serial = "C-1-000000000042",
                .issued_at = "2026-01-02T03:04:05.678Z",
            };
            std::string text;
            write_certificate(text, content, *residents_);
            const auto expected = reference_certificate(content, *residents_)
                                      .dump(-1, ' ', false, json::error_handler_t::replace);
            EXPECT_EQ(text, expected) << kCertificateTypes[type] << " of " << subject->resident_id;
            ++compared;

            const auto answer_text = write_answer("APP-\"1\"\n", content, *residents_);
            const auto answer = json::parse(answer_text);
            EXPECT_EQ(answer_text, answer.dump());
            EXPECT_EQ(answer["certificate"].dump(), expected);
            EXPECT_TRUE(test::digest_matches(answer)) << answer_text;
          }
        }
      }
    }
    return compared;
  }

  kofu::test::temp_dir dir_;
  std::unique_ptr<registry> residents_;
};

TEST_F(CertificateWriterTest, MatchesTheDocumentForEveryTypeAndColumnChoice) {
  EXPECT_GT(compare_all(), 1000u);
}

TEST_F(CertificateWriterTest, MatchesTheDocumentAfterChangesOfPrintedFields) {
  // Move, rename and re-household some residents: the records the registry publishes must print
  // their new fields (their derived printed forms follow every change).
  std::int64_t change_id = 1000;
  std::size_t changed = 0;
  for (const auto& r : residents_->all()) {
    if (changed++ % 3 != 0) continue;
    json address = r->address;
    address["token"] = "NEW" + r->resident_id;
    address["building"] = "新館 \"A\"\t" + r->resident_id;
    json name = r->name;
    name["family_kanji"] = "髙﨑";
    name["given_kanji"] = "𠮷\\";
    const std::vector<json> changes = {
        {{"change_id", ++change_id},
         {"kind", "move"},
         {"fields", {{"address", address}, {"moved_in_date", "2026-11-22"}}}},
        {{"change_id", ++change_id}, {"kind", "name"}, {"fields", {{"name", name}}}},
    };
    for (const auto& c : changes) {
      auto parsed = parse_change(c, false, "");
      ASSERT_TRUE(std::holds_alternative<resident_change>(parsed)) << std::get<std::string>(parsed);
      auto change = std::get<resident_change>(parsed);
      change.resident_id = r->resident_id;
      ASSERT_EQ(residents_->apply_change(change).status, change_status::applied);
    }
    const auto now = residents_->find(r->resident_id);
    EXPECT_EQ(now->printed.address, now->address.dump());
    EXPECT_EQ(now->printed.name, now->name.dump());
    EXPECT_EQ(now->printed.full_name_kanji, json(now->full_name_kanji()).dump());
  }
  EXPECT_GT(compare_all(), 1000u);
}

}  // namespace
}  // namespace kofu::mock
