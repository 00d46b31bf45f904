// The answer as a document: MALFORMED, DIGEST_INVALID, TAG_MISMATCH, DUPLICATE, the fields a
// certificate type prints (WRONG_DOCUMENT) and the registered seal of an 印鑑登録証明書
// (NOT_ISSUABLE).

#include "checker_internal.hpp"

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>

namespace kofu::verify {

using detail::type_spec;

namespace detail {

type_spec spec_of(std::string_view type, const issue_options& o) {
  type_spec s;
  s.known = true;
  if (type == "juminhyo") {
    s.address = s.moved_in_date = s.household_head = s.options = true;
    s.many_persons = o.scope == "household";
  } else if (type == "juminhyo_kisai") {
    s.address = s.moved_in_date = true;
  } else if (type == "inkan") {
    s.address = s.seal = true;
  } else if (type == "koseki_zenbu") {
    s.koseki_relationship = s.koseki = s.many_persons = true;
  } else if (type == "koseki_kojin") {
    s.koseki_relationship = s.koseki = true;
  } else if (type == "koseki_fuhyo") {
    s.address = s.moved_in_date = s.koseki = s.many_persons = true;
  } else if (type == "kazei") {
    s.address = s.tax = true;
  } else {
    s.known = false;
  }
  return s;
}

}  // namespace detail

void request_checker::check_answer_integrity() {
  const printed_certificate& c = answer_.certificate;
  const answer_capabilities& caps = c_.options_.answers;
  if (!answer_.missing.empty()) {
    // Partial decoding: what could not be read is reported, everything read is still checked.
    for (const auto& reason : answer_.missing) {
      add(finding_kind::malformed, {"answer", "(not readable)", reason, ""});
    }
  }
  if (c_.options_.check_digest && caps.digest && !answer_.digest_valid) {
    add(finding_kind::digest_invalid,
        {"digest", answer_.digest_printed, answer_.digest_computed, ""});
  }
  if (c.seal && !c.seal->image_sha256_computed.empty() &&
      c.seal->image_sha256_computed != c.seal->image_sha256) {
    add(finding_kind::digest_invalid,
        {"seal.image_sha256", c.seal->image_sha256, c.seal->image_sha256_computed, "image bytes"});
  }
  if (c_.options_.require_echo && !p_.echo_matches) {
    field_diff d{"application_number", c.application_number, inv_.application_number, ""};
    if (const auto* owner = c_.find_tag(p_.echoed_tag);
        owner != nullptr && c_.application_number(*owner) == c.application_number) {
      owner_request_ = owner->id;
      owner_application_ = c.application_number;
      d.source = fmt::format("request {} for R{}", owner->id, c_.resident_id(*owner));
    }
    add(finding_kind::tag_mismatch, std::move(d));
  }
  if (!c.serial.empty() && !c_.serials_seen_.insert(c.serial)) {
    add(finding_kind::duplicate, {"certificate.serial", c.serial, "a serial never issued before",
                                  "answered before in this run"});
  }
  // An application number answered twice: only possible when some answer echoed another
  // request's number, so the numbers within the tag horizon suffice.
  if (auto* owner = c_.find_echoed_tag(p_);
      owner != nullptr && c_.application_number(*owner) == c.application_number) {
    if (owner->echoed_by != 0 && owner->echoed_by != inv_.id) {
      owner_request_ = owner->echoed_by;
      add(finding_kind::duplicate, {"application_number", c.application_number, "answered once",
                                    fmt::format("also answered to request {}", owner->echoed_by)});
    } else {
      owner->echoed_by = inv_.id;
    }
  }
}

void request_checker::check_document(const type_spec& spec) {
  const printed_certificate& c = answer_.certificate;
  const answer_capabilities& caps = c_.options_.answers;
  const issue_options& o = inv_.options;
  if (c.type != inv_.certificate_type) {
    add(finding_kind::wrong_document, {"certificate.type", c.type, inv_.certificate_type, ""});
  }
  if (!spec.known) return;
  // The path is built only for a mismatch: this runs for every answer.
  auto presence = [&](auto&& path, bool printed, bool wanted) {
    if (printed != wanted) {
      add(finding_kind::wrong_document,
          {std::string(std::forward<decltype(path)>(path)), printed ? "printed" : "(absent)",
           wanted ? "printed" : "(absent)", ""});
    }
  };
  presence("certificate.seal", c.seal.has_value(), spec.seal);
  presence("certificate.tax", c.tax.has_value(), spec.tax);
  presence("certificate.koseki", c.koseki.has_value(), spec.koseki);
  if (!spec.many_persons && c.persons.size() != 1) {
    add(finding_kind::wrong_document,
        {"certificate.persons", fmt::format("{} persons", c.persons.size()), "1 person", ""});
  }
  for (std::size_t i = 0; i < c.persons.size(); ++i) {
    const printed_person& x = c.persons[i];
    // Another certificate's page prints its own type's fields: the page is FOREIGN_DATA already.
    if (on_foreign_page(x)) continue;
    // Paths are formatted only for a mismatch: this runs for every person of every answer.
    auto person_field = [&](const char* name, bool printed, bool wanted) {
      wanted = wanted && caps.prints_person_field(name);
      if (printed != wanted) presence(fmt::format("persons[{}].{}", i, name), printed, wanted);
    };
    person_field("address", x.address.has_value(), spec.address);
    person_field("moved_in_date", x.moved_in_date.has_value(), spec.moved_in_date);
    person_field("household_head", x.household_head.has_value(), spec.household_head);
    person_field("koseki_relationship", x.koseki_relationship.has_value(),
                 spec.koseki_relationship);
    person_field("relationship", x.relationship.has_value(), spec.options && o.zokugara);
    person_field("honseki", x.honseki.has_value(), spec.options && o.honseki);
    person_field("hittousha", x.hittousha.has_value(), spec.options && o.honseki);
    person_field("mynumber", x.mynumber.has_value(), spec.options && o.mynumber);
    for (const auto& key : x.unknown_keys) {
      add(finding_kind::wrong_document, {fmt::format("persons[{}].{}", i, key), "printed",
                                         "(not a field of this certificate)", ""});
    }
  }
}

void request_checker::check_seal_registered(std::uint32_t p) {
  const printed_certificate& c = answer_.certificate;
  // The certificate names the version it was issued from. When that version is an allowed
  // one, it is the one whose seal must be registered: a window that also holds an earlier,
  // registered version does not excuse a certificate issued from the cancelling one (the
  // cancelled-seal defect strikes exactly while the cancellation is in flight). Otherwise
  // (a label outside the window is STALE or PHANTOM already) any allowed version will do.
  const auto& tl = m_.timeline(p);
  const version_window w = window_of(p);
  bool registered = false, labelled = false, labelled_registered = false;
  std::uint32_t shown = w.hi;
  for (std::uint32_t i = w.lo; i <= w.hi; ++i) {
    const bool r =
        tl[i].record.seal && tl[i].record.seal->status == population::seal_status::registered;
    registered = registered || r;
    if (static_cast<std::int64_t>(tl[i].record.version) == c.source_version) {
      labelled = true;
      labelled_registered = labelled_registered || r;
      shown = i;
    }
  }
  if (labelled ? !labelled_registered : !registered) {
    add(finding_kind::not_issuable,
        {"seal", c.seal ? c.seal->registration_number : "(absent)",
         labelled ? fmt::format("no registered seal in v{}", c.source_version)
                  : std::string("no registered seal at that time"),
         tl[shown].record.seal ? "seal cancelled" : "no seal"});
  }
}

}  // namespace kofu::verify
