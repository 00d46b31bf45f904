// The pages of print data (check_pages.cpp): a household 住民票 over two pages passes when every
// page carries the request's application number and the certificate's serial and says "k/N";
// a page count or a page place that is wrong is MALFORMED; a page of another certificate is
// FOREIGN_DATA naming the page and, when the page is another request's of this run, its request
// and the resident whose data it is.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "verify_fixture.hpp"

namespace kofu::verify {
namespace {

using population::resident;
using test::history_builder;
using test::json;

// A 世帯主 whose household has three active members (two pages: two persons a page), and a
// resident of another household and another 戸籍.
struct cast {
  std::vector<resident> pop;
  resident head;
  std::vector<resident> household;
  resident stranger;
};

cast make_cast() {
  cast c;
  c.pop = test::small_population(120, 11);
  std::map<std::string, std::vector<resident>> households;
  for (const auto& r : c.pop) {
    if (r.status == population::resident_status::active) households[r.household_id].push_back(r);
  }
  bool found = false;
  for (const auto& r : c.pop) {
    if (!found && r.status == population::resident_status::active && r.relationship == "世帯主" &&
        households[r.household_id].size() >= 3) {
      c.head = r;
      c.household = households[r.household_id];
      found = true;
    }
  }
  EXPECT_TRUE(found) << "no household of three in the test population";
  bool stranger = false;
  for (const auto& r : c.pop) {
    if (!stranger && found && r.status == population::resident_status::active &&
        r.relationship == "世帯主" && r.household_id != c.head.household_id &&
        r.koseki_id != c.head.koseki_id) {
      c.stranger = r;
      stranger = true;
    }
  }
  EXPECT_TRUE(stranger);
  return c;
}

std::string head_name(const cast& c, const resident& r) {
  for (const auto& x : c.pop) {
    if (x.household_id == r.household_id && x.relationship == "世帯主") return x.name.full_kanji();
  }
  return {};
}

const issue_options household_scope{"household", false, false, false};

// Page k of the document, printed "k/n".
page_footer page(std::int64_t k, std::int64_t n, std::string application, std::string serial) {
  return {k, std::move(application), std::move(serial), fmt::format("{}/{}", k, n), k, n};
}

// `printed` standing at `place` in the document (its own number and footer kept).
page_footer at(std::int64_t place, page_footer printed) {
  printed.page = place;
  return printed;
}

// The answer to request `id` for the head's household 住民票, read from print data: two persons
// a page, with `pages` as their headers and footers say.
decoded_answer household_print(const cast& c, const history_builder& h, std::uint64_t id,
                               std::vector<page_footer> pages, const resident* subject = nullptr) {
  const resident& s = subject != nullptr ? *subject : c.head;
  decoded_answer a =
      decode_answer(test::render(h.application_number(id), "juminhyo", household_scope, s,
                                 c.household, head_name(c, c.head), "C-1-0001"));
  for (std::size_t i = 0; i < a.certificate.persons.size(); ++i) {
    a.certificate.persons[i].page = static_cast<int>(i / 2 + 1);
  }
  a.certificate.pages = std::move(pages);
  return a;
}

std::uint64_t count(const checker& r, finding_kind k) {
  return r.summary().findings_by_kind[static_cast<std::size_t>(k)];
}

const finding* first_of(const checker& r, finding_kind k) {
  const auto& all = r.findings();
  const auto it =
      std::find_if(all.begin(), all.end(), [&](const finding& f) { return f.kind == k; });
  return it == all.end() ? nullptr : &*it;
}

const field_diff* diff_at(const finding& f, const std::string& path) {
  const auto it = std::find_if(f.diffs.begin(), f.diffs.end(),
                               [&](const field_diff& d) { return d.path == path; });
  return it == f.diffs.end() ? nullptr : &*it;
}

// Request 1, the head's household 住民票 sent at 1000, answered at 2000 with print data whose
// pages are `pages`; checked alone.
std::unique_ptr<checker> head_request(const cast& c, std::vector<page_footer> pages) {
  history_builder h(c.pop);
  h.invoke_issue(1, 1000, c.head, "juminhyo", household_scope);
  h.complete_issue_decoded(1, 2000, household_print(c, h, 1, std::move(pages)));
  return h.run();
}

TEST(CheckPagesTest, TwoPagesOfOneCertificatePass) {
  cast c = make_cast();
  const std::string a = history_builder(c.pop).application_number(1);
  const auto r = head_request(c, {page(1, 2, a, "C-1-0001"), page(2, 2, a, "C-1-0001")});
  EXPECT_TRUE(r->findings().empty()) << to_string(r->findings().front().kind);
  EXPECT_EQ(r->summary().final_verdict, verdict::pass);
}

TEST(CheckPagesTest, WrongPageCountOrPlaceIsMalformed) {
  struct page_case {
    const char* name;
    std::vector<page_footer> pages;
    std::string path;  // of the first MALFORMED diff
  };
  cast c = make_cast();
  const std::string a = history_builder(c.pop).application_number(1);
  const std::string s = "C-1-0001";
  page_footer unnumbered = page(2, 2, a, s);
  unnumbered.page_label.clear();
  unnumbered.printed_number = unnumbered.printed_total = 0;
  const std::vector<page_case> cases = {
      {"two pages numbered of three (a page missing)",
       {page(1, 3, a, s), page(2, 3, a, s)},
       "page 1.page_number"},
      {"the second page numbered 1/2",
       {page(1, 2, a, s), at(2, page(1, 2, a, s))},
       "page 2.page_number"},
      {"one page of two", {page(1, 2, a, s)}, "page 1.page_number"},
      {"a page without its number", {page(1, 2, a, s), unnumbered}, "page 2.page_number"},
  };
  for (const auto& pc : cases) {
    const auto r = head_request(c, pc.pages);
    EXPECT_EQ(count(*r, finding_kind::malformed), 1u) << pc.name;
    EXPECT_EQ(count(*r, finding_kind::foreign_data), 0u) << pc.name;
    const finding* f = first_of(*r, finding_kind::malformed);
    ASSERT_NE(f, nullptr) << pc.name;
    ASSERT_FALSE(f->diffs.empty()) << pc.name;
    EXPECT_EQ(f->diffs.front().path, pc.path) << pc.name;
  }
}

TEST(CheckPagesTest, AnotherSerialOnAPageIsForeignData) {
  cast c = make_cast();
  const std::string a = history_builder(c.pop).application_number(1);
  const auto r = head_request(c, {page(1, 2, a, "C-1-0001"), page(2, 2, a, "C-1-0777")});
  EXPECT_EQ(count(*r, finding_kind::foreign_data), 1u);
  EXPECT_EQ(count(*r, finding_kind::malformed), 0u);
  const finding* f = first_of(*r, finding_kind::foreign_data);
  ASSERT_NE(f, nullptr);
  const field_diff* d = diff_at(*f, "page 2.serial");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->printed, "C-1-0777");
  EXPECT_EQ(d->expected, "C-1-0001");
}

// The Tokushima case: page 2 of the household's certificate is page 1 of a stranger's, printed
// for a request that overlapped: its footer, its page number and its person.
TEST(CheckPagesTest, APageOfAnotherPersonsCertificateNamesThePageAndTheVictim) {
  cast c = make_cast();
  history_builder h(c.pop);
  h.invoke_issue(1, 1000, c.head, "juminhyo", household_scope);
  h.invoke_issue(2, 1100, c.stranger, "juminhyo");
  const std::string a = h.application_number(1);
  const std::string b = h.application_number(2);
  decoded_answer mixed =
      household_print(c, h, 1, {page(1, 2, a, "C-1-0001"), at(2, page(1, 1, b, "C-2"))});
  // Page 2 holds the stranger instead of the household's third member.
  const decoded_answer theirs = decode_answer(
      test::render(b, "juminhyo", {}, c.stranger, {c.stranger}, head_name(c, c.stranger), "C-2"));
  mixed.certificate.persons.resize(2);
  mixed.certificate.persons.push_back(theirs.certificate.persons.front());
  mixed.certificate.persons.back().page = 2;
  h.complete_issue_decoded(1, 2000, std::move(mixed));
  h.complete_issue_decoded(2, 2100,
                           decode_answer(test::render(b, "juminhyo", {}, c.stranger, {c.stranger},
                                                      head_name(c, c.stranger), "C-2")));
  const auto r = h.run();
  EXPECT_EQ(count(*r, finding_kind::wrong_person), 0u);
  EXPECT_EQ(count(*r, finding_kind::malformed), 0u);  // a foreign page numbers itself
  const finding* f = first_of(*r, finding_kind::foreign_data);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->application_number, a);
  EXPECT_EQ(f->victim_resident, c.stranger.resident_id);
  const field_diff* number = diff_at(*f, "page 2.application_number");
  ASSERT_NE(number, nullptr);
  EXPECT_EQ(number->printed, b);
  EXPECT_EQ(number->source, fmt::format("request 2 for R{}", c.stranger.resident_id));
  EXPECT_NE(diff_at(*f, "page 2.serial"), nullptr);
  EXPECT_NE(diff_at(*f, "page 2: persons[2]"), nullptr);
  EXPECT_NE(f->explanation_en.find(c.stranger.resident_id), std::string::npos);
}

// When the page lost is the one that printed the subject, the certificate is still the
// subject's household's: incomplete (WRONG_DOCUMENT names the subject missing), its page 2
// foreign; not another resident's certificate, and the foreign page's persons are not held to
// this document's fields.
TEST(CheckPagesTest, TheSubjectsPageLostIsNoWrongPerson) {
  cast c = make_cast();
  history_builder h(c.pop);
  const resident subject = c.household[2];  // printed on page 2
  h.invoke_issue(1, 1000, subject, "juminhyo", household_scope);
  h.invoke_issue(2, 1100, c.stranger, "koseki_kojin");
  const std::string a = h.application_number(1);
  const std::string b = h.application_number(2);
  const json theirs_json = test::render(b, "koseki_kojin", {}, c.stranger, {c.stranger}, "", "C-2");
  decoded_answer mixed =
      household_print(c, h, 1, {page(1, 2, a, "C-1-0001"), at(2, page(1, 1, b, "C-2"))}, &subject);
  mixed.certificate.persons.resize(2);
  mixed.certificate.persons.push_back(decode_answer(theirs_json).certificate.persons.front());
  mixed.certificate.persons.back().page = 2;
  h.complete_issue_decoded(1, 2000, std::move(mixed));
  h.complete_issue(2, 2100, theirs_json);
  const auto r = h.run();
  EXPECT_EQ(count(*r, finding_kind::wrong_person), 0u);
  EXPECT_EQ(count(*r, finding_kind::foreign_data), 1u);
  EXPECT_EQ(count(*r, finding_kind::wrong_document), 1u);
  const finding* f = first_of(*r, finding_kind::foreign_data);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->victim_resident, c.stranger.resident_id);
  const finding* missing = first_of(*r, finding_kind::wrong_document);
  ASSERT_NE(missing, nullptr);
  // The members printed on page 2 only, the subject among them: not the 戸籍 fields page 2 prints.
  EXPECT_EQ(missing->diffs.size(), c.household.size() - 2);
  bool subject_named = false;
  for (const auto& d : missing->diffs) {
    EXPECT_EQ(d.path, "certificate.persons");
    subject_named = subject_named || d.expected.find(subject.resident_id) != std::string::npos;
  }
  EXPECT_TRUE(subject_named);
}

TEST(CheckPagesTest, APageNoRequestOfTheRunIssuedNamesNoVictim) {
  cast c = make_cast();
  const std::string a = history_builder(c.pop).application_number(1);
  const auto r = head_request(
      c, {page(1, 2, a, "C-1-0001"), page(2, 2, "KOFU-999999-0000000001", "C-1-0001")});
  EXPECT_EQ(count(*r, finding_kind::foreign_data), 1u);
  const finding* f = first_of(*r, finding_kind::foreign_data);
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(f->victim_resident.empty());
  const field_diff* number = diff_at(*f, "page 2.application_number");
  ASSERT_NE(number, nullptr);
  EXPECT_EQ(number->source, "issued to no request of this run");
}

}  // namespace
}  // namespace kofu::verify
