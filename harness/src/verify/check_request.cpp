// The check of one answered request (request_checker::run): the order of the checks, whose
// certificate it is (WRONG_PERSON), and the grouping of observations into findings.

#include "checker_internal.hpp"
#include "kofu/verify/glyph_substitution.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kofu::verify {

using detail::display_name;
using detail::observation;
using detail::spec_of;
using detail::type_spec;

namespace {

using population::resident;

}  // namespace

namespace detail {

std::string version_ref(const resident_model& m, std::uint32_t r, std::uint32_t state) {
  return fmt::format("R{} v{}", m.timeline(r)[state].record.resident_id,
                     m.timeline(r)[state].record.version);
}

std::string display_name(const population::person_name& n) {
  return n.given_kanji.empty() ? n.family_kanji : n.full_kanji();
}

}  // namespace detail

// The 戸籍 a certificate prints in its header (本籍, 筆頭者, 戸籍番号) against the subject's.
// Another 戸籍's header is FOREIGN_DATA naming it; the subject's own with glyphs a print path could
// not draw substituted is PHANTOM naming them (glyph_substitution.hpp), never another 戸籍's.
void request_checker::check_koseki_header(const resident& subject) {
  const printed_koseki& k = *answer_.certificate.koseki;
  bool foreign = c_.options_.answers.koseki_id && k.koseki_id != subject.koseki_id;
  std::vector<field_diff> substituted;
  const std::array<std::array<const std::string*, 2>, 2> texts{
      {{&k.honseki, &subject.honseki}, {&k.hittousha, &subject.hittousha}}};
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::string& printed = *texts[i][0];
    const std::string& expected = *texts[i][1];
    if (printed == expected) continue;
    if (auto substitution = glyph_substitution(printed, expected)) {
      substituted.push_back({i == 0 ? "koseki.honseki" : "koseki.hittousha", printed, expected,
                             std::move(*substitution)});
    } else {
      foreign = true;
    }
  }
  if (!foreign) {
    for (auto& d : substituted) add(finding_kind::phantom, std::move(d));
    return;
  }
  const auto& members = m_.koseki_members(k.koseki_id);
  add(finding_kind::foreign_data,
      {"koseki", fmt::format("{} {} {}", k.koseki_id, k.honseki, k.hittousha),
       fmt::format("{} {} {}", subject.koseki_id, subject.honseki, subject.hittousha),
       members.empty() ? std::string("no such 戸籍") : fmt::format("戸籍 {}", k.koseki_id)},
      members.empty() ? std::nullopt : std::optional<std::uint32_t>(members.front()));
}

finding request_checker::base(finding_kind kind) const {
  finding f;
  f.kind = kind;
  f.request_id = inv_.id;
  f.application_number = inv_.application_number;
  f.requested_resident = inv_.resident_id;
  f.certificate_type = inv_.certificate_type;
  f.channel = inv_.channel;
  f.worker = inv_.worker;
  f.conn = inv_.conn;
  f.sent_ns = inv_.t;
  f.received_ns = done_.t;
  if (c_.options_.keep_answers) f.answer = answer_.evidence();
  return f;
}

std::vector<finding> request_checker::run() {
  std::vector<finding> out;
  const printed_certificate& c = answer_.certificate;
  if (answer_.malformed) {
    finding f = base(finding_kind::malformed);
    f.detail = *answer_.malformed;
    out.push_back(std::move(f));
    return out;
  }
  const answer_capabilities& caps = c_.options_.answers;
  check_answer_integrity();
  const type_spec spec = spec_of(inv_.certificate_type, inv_.options);
  check_pages();
  check_document(spec);

  const std::uint32_t p = *req_.resident;
  const resident& subject_record = m_.initial(p);
  // Whose certificate is it? The subject named on it, the person printed for it, and the
  // content of that person.
  std::optional<std::uint32_t> victim;
  if (caps.subject_resident_id && c.subject_resident_id != inv_.resident_id) {
    victim = m_.find_resident(c.subject_resident_id);
    if (!victim) {
      add(finding_kind::phantom, {"certificate.subject.resident_id", c.subject_resident_id,
                                  inv_.resident_id, "found in no resident's record"});
    }
  }
  const printed_person* subject_person = nullptr;
  std::size_t subject_index = 0;
  for (std::size_t i = 0; i < c.persons.size(); ++i) {
    if (c.persons[i].resident_id == inv_.resident_id) {
      subject_person = &c.persons[i];
      subject_index = i;
      break;
    }
  }
  if (!victim && subject_person == nullptr && !c.persons.empty()) {
    const auto front = m_.find_resident(c.persons.front().resident_id);
    // A certificate of many persons that prints the subject's 世帯 or 戸籍 but not the subject
    // (in print data: the subject's page lost to another job) is the subject's own, incomplete:
    // check_members names who is missing. Anything else printed without the subject is the
    // certificate of the first person printed.
    if (!(front && spec.many_persons && !on_foreign_page(c.persons.front()) &&
          is_expected_member(p, *front))) {
      victim = front;
    }
  }
  if (!victim && subject_person != nullptr) victim = whose_person(*subject_person, p);

  if (victim && *victim != p) {
    wrong_person_victim_ = victim;
    const resident& v = m_.initial(*victim);
    add(finding_kind::wrong_person,
        {"certificate.subject", fmt::format("R{} {}", v.resident_id, display_name(v.name)),
         fmt::format("R{} {}", subject_record.resident_id, display_name(subject_record.name)),
         fmt::format("R{}", v.resident_id)},
        victim);
  } else {
    if (caps.card_serial && !inv_.card_serial.empty() &&
        c.subject_card_serial != inv_.card_serial) {
      const auto src = m_.find_card(c.subject_card_serial);
      add(finding_kind::foreign_data,
          {"certificate.subject.card_serial", c.subject_card_serial, inv_.card_serial,
           src ? fmt::format("R{}", m_.initial(*src).resident_id) : std::string("unknown card")},
          src);
    }
    if (subject_record.status == population::resident_status::removed) {
      add(finding_kind::not_issuable, {"status", "issued", "removed (転出・死亡等)", ""});
    }
    if (inv_.certificate_type == "inkan") check_seal_registered(p);
    if (c.koseki && spec.koseki) check_koseki_header(subject_record);
    if (caps.versions == version_semantics::per_person && subject_person != nullptr &&
        subject_person->source_version != c.source_version) {
      add(finding_kind::torn,
          {"certificate.source_version", fmt::format("v{}", c.source_version),
           fmt::format("v{}", subject_person->source_version), "the subject's person entry"});
    }
    for (std::size_t i = 0; i < c.persons.size(); ++i) {
      const printed_person& x = c.persons[i];
      const bool is_subject = subject_person == &x;
      const auto q = is_subject ? std::optional<std::uint32_t>(p) : m_.find_resident(x.resident_id);
      if (!q) {
        add(finding_kind::phantom, {fmt::format("persons[{}].resident_id", i), x.resident_id, "",
                                    "found in no resident's record"});
        continue;
      }
      if (!is_subject && (!spec.many_persons || !is_expected_member(p, *q))) {
        // In print data the page is named: a whole page of another household's persons is
        // the sign of a page from another certificate.
        add(finding_kind::foreign_data,
            {c.pages.empty() ? fmt::format("persons[{}]", i)
                             : fmt::format("page {}: persons[{}]", x.page, i),
             fmt::format("R{} {}", x.resident_id, x.name.family_kanji + " " + x.name.given_kanji),
             "", fmt::format("R{} (not in the subject's 世帯/戸籍)", x.resident_id)},
            q);
        continue;
      }
      check_person(x, i, *q, is_subject, spec);
    }
    check_members(p, spec);
    if (caps.versions == version_semantics::per_certificate) check_certificate_version();
    if (caps.versions == version_semantics::global_counter) check_counter_version();
    (void)subject_index;
  }

  if (obs_.empty()) return out;
  // Group observations into one finding per kind, most severe first.
  std::stable_sort(obs_.begin(), obs_.end(),
                   [](const observation& a, const observation& b) { return a.kind < b.kind; });
  for (std::size_t i = 0; i < obs_.size();) {
    finding f = base(obs_[i].kind);
    std::size_t j = i;
    for (; j < obs_.size() && obs_[j].kind == obs_[i].kind; ++j) {
      f.diffs.push_back(obs_[j].diff);
      if (obs_[j].source && f.victim_resident.empty()) {
        f.victim_resident = m_.initial(*obs_[j].source).resident_id;
      }
      f.lag_versions = std::max(f.lag_versions, obs_[j].lag_versions);
      f.lag_ns = std::max(f.lag_ns, obs_[j].lag_ns);
    }
    f.expected_versions = evidence_;
    if (f.kind == finding_kind::tag_mismatch || f.kind == finding_kind::duplicate) {
      f.victim_request_id = owner_request_;
      f.victim_application_number = owner_application_;
    }
    if ((f.kind == finding_kind::wrong_person || f.kind == finding_kind::foreign_data) &&
        !f.victim_resident.empty()) {
      const auto v = m_.find_resident(f.victim_resident);
      // The source from the timing and the victim alone: named only when it is the one request
      // that can have been it (leak_sources.hpp).
      const detail::leak_source_match source = c_.sources_.find(*v, inv_.id, inv_.t, done_.t);
      f.victim_request_candidates = source.candidates;
      if (source.candidates == 1) {
        f.victim_request_id = source.id;
        f.victim_request_preceded = source.preceded;
        if (const auto* tag = c_.find_tag(source.tag); tag != nullptr && tag->id == source.id) {
          f.victim_application_number = c_.application_number(*tag);
        }
      }
      if (f.kind == finding_kind::wrong_person) {
        // Was the victim's data current? Check the printed person against the victim's window.
        const printed_person* vx = nullptr;
        for (const auto& x : c.persons) {
          if (x.resident_id == f.victim_resident) vx = &x;
        }
        if (vx == nullptr && subject_person != nullptr) vx = subject_person;
        if (vx != nullptr) {
          const auto& vtl = m_.timeline(*v);
          const version_window vw = window_of(*v);
          f.victim_data_current = false;
          for (std::uint32_t k = vw.lo; k <= vw.hi; ++k) {
            if ((vx->source_version < 0 ||
                 static_cast<std::int64_t>(vtl[k].record.version) == vx->source_version) &&
                vtl[k].record.name == vx->name) {
              f.victim_data_current = true;
            }
          }
          for (std::uint32_t k = 0; k < vtl.size(); ++k) {
            f.expected_versions.push_back(
                {vtl[k].record.resident_id, vtl[k].record.version, vtl[k].sent_ns,
                 k + 1 < vtl.size() ? vtl[k + 1].acked_ns : time_max, vw.contains(k)});
          }
        }
      }
    }
    out.push_back(std::move(f));
    i = j;
  }
  return out;
}

}  // namespace kofu::verify
