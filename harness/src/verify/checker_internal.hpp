#pragma once
// What the pieces of the checker share (checker.cpp and the files beside it): request_checker,
// which checks one answered request against the model, and the helpers its parts call. Private
// to harness/src/verify.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kofu/verify/checker.hpp"

namespace kofu::verify {
namespace detail {

// Which fields a certificate type prints for a person (docs/protocol.md's table).
struct type_spec {
  bool known = false;
  bool address = false;
  bool moved_in_date = false;
  bool household_head = false;
  bool koseki_relationship = false;
  bool options = false;  // honors zokugara / honseki / mynumber
  bool seal = false;
  bool tax = false;
  bool koseki = false;
  bool many_persons = false;  // may print more than the subject
};

type_spec spec_of(std::string_view type, const issue_options& o);

// "R<id> v<version>": state `state` of resident `r`.
std::string version_ref(const resident_model& m, std::uint32_t r, std::uint32_t state);

// A name as one text: "family given", or the printed text alone when the model holds the name
// as a vendor prints it (resident_model.hpp's record_rendering).
std::string display_name(const population::person_name& n);

// One (kind, diff) observation about a person; grouped into findings per request.
struct observation {
  finding_kind kind;
  field_diff diff;
  std::optional<std::uint32_t> source;  // the resident the value came from
  std::uint32_t lag_versions = 0;
  std::int64_t lag_ns = 0;
};

// The leak graph of checker::summary(): the edges, and the swaps, shifts, chains, duplicates and
// victims they make (leak_graph.cpp).
leak_graph build_leak_graph(const std::vector<leak_edge>& edges);

}  // namespace detail

// Checks one answered request against the model. Holds references only for one check.
class request_checker {
 public:
  request_checker(checker& owner, const checker::pending_check& p)
      : c_(owner),
        m_(owner.model_),
        req_(p.request),
        inv_(p.request.invoke),
        done_(p.complete),
        answer_(*p.complete.answer),
        p_(p) {}

  std::vector<finding> run();

 private:
  finding base(finding_kind kind) const;
  void add(finding_kind kind, field_diff diff, std::optional<std::uint32_t> source = std::nullopt,
           std::uint32_t lag_versions = 0, std::int64_t lag_ns = 0) {
    obs_.push_back({kind, std::move(diff), source, lag_versions, lag_ns});
  }
  version_window window_of(std::uint32_t r) const {
    return m_.window(r, inv_.t, done_.t, c_.options_.staleness_ns);
  }
  // MALFORMED (partly readable), DIGEST_INVALID, TAG_MISMATCH and DUPLICATE: the answer as a
  // document, before whose it is.
  void check_answer_integrity();
  void check_document(const detail::type_spec& spec);
  // Print data: each page's application number, serial and page number (check_pages.cpp);
  // notes the pages of another certificate in foreign_pages_.
  void check_pages();
  // Whether the person is printed on a page of another certificate (after check_pages): that
  // page is FOREIGN_DATA as a whole, its persons are not this document's.
  bool on_foreign_page(const printed_person& x) const {
    return std::find(foreign_pages_.begin(), foreign_pages_.end(), x.page) != foreign_pages_.end();
  }
  // The 戸籍 printed in the header against the subject's (check_request.cpp).
  void check_koseki_header(const population::resident& subject);
  // NOT_ISSUABLE for an 印鑑登録証明書 whose seal was not registered (check_document.cpp).
  void check_seal_registered(std::uint32_t p);
  void check_person(const printed_person& x, std::size_t index, std::uint32_t q, bool subject,
                    const detail::type_spec& spec);
  void check_household_head(const printed_person& x, std::size_t index, std::uint32_t q);
  void check_members(std::uint32_t p, const detail::type_spec& spec);
  bool is_expected_member(std::uint32_t p, std::uint32_t q) const;
  std::optional<std::uint32_t> whose_person(const printed_person& x, std::uint32_t p) const;
  // A certificate-wide version (per certificate, or a global change counter): the allowed
  // versions of a checked person that carry everything printed for it (`carries`), as indices
  // into its timeline, for check_certificate_version.
  struct person_candidates {
    const std::vector<resident_state>* timeline = nullptr;
    std::vector<std::uint32_t> versions;
  };
  template <class F>
  void note_person_versions(const std::vector<resident_state>& tl, version_window w, F&& carries) {
    const version_semantics s = c_.options_.answers.versions;
    if (s != version_semantics::per_certificate && s != version_semantics::global_counter) return;
    person_candidates p{&tl, {}};
    for (std::uint32_t i = w.lo; i <= w.hi; ++i) {
      if (carries(tl[i].record)) p.versions.push_back(i);
    }
    person_versions_.push_back(std::move(p));
  }
  bool certificate_version_judged() const;
  void check_certificate_version();
  void check_counter_version();

  checker& c_;
  const resident_model& m_;
  const checker::request_record& req_;
  const issue_invoke& inv_;
  const issue_complete& done_;
  const decoded_answer& answer_;
  const checker::pending_check& p_;
  std::vector<detail::observation> obs_;
  std::vector<version_evidence> evidence_;
  std::size_t persons_checked_ = 0;
  std::vector<person_candidates> person_versions_;
  std::vector<std::int64_t> foreign_pages_;  // print data: pages of another certificate
  std::optional<std::uint32_t> wrong_person_victim_;
  std::optional<std::uint64_t> owner_request_;
  std::string owner_application_;
};

}  // namespace kofu::verify
