// The check of one printed person against the versions of their record (DESIGN §7): STALE,
// PHANTOM, TORN, ABORTED and FOREIGN_DATA field by field, and the one version of a certificate
// whose answers carry it (per-certificate version semantics).

#include "checker_internal.hpp"
#include "kofu/verify/glyph_substitution.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace kofu::verify {

using detail::type_spec;
using detail::version_ref;

namespace {

using population::resident;

// The fields of a printed person that are compared with a version of the record.
enum class field : std::uint8_t {
  name,
  birth_date,
  sex,
  address,
  moved_in_date,
  relationship,
  honseki,
  hittousha,
  mynumber,
  koseki_relationship,
  seal,
  tax
};

const char* field_name(field f) {
  switch (f) {
    case field::name:
      return "name";
    case field::birth_date:
      return "birth_date";
    case field::sex:
      return "sex";
    case field::address:
      return "address";
    case field::moved_in_date:
      return "moved_in_date";
    case field::relationship:
      return "relationship";
    case field::honseki:
      return "honseki";
    case field::hittousha:
      return "hittousha";
    case field::mynumber:
      return "mynumber";
    case field::koseki_relationship:
      return "koseki_relationship";
    case field::seal:
      return "seal";
    case field::tax:
      return "tax";
  }
  return "?";
}

const std::string& seal_digest(const printed_seal& s) {
  return s.image_sha256_computed.empty() ? s.image_sha256 : s.image_sha256_computed;
}

bool field_equal(field f, const printed_person& x, const printed_certificate& c, const resident& r,
                 const resident_model& m) {
  switch (f) {
    case field::name:
      return x.name == r.name;
    case field::birth_date:
      return x.birth_date == r.birth_date;
    case field::sex:
      return x.sex == m.sex_text(r.sex);
    case field::address:
      return *x.address == r.address;
    case field::moved_in_date:
      return *x.moved_in_date == r.moved_in_date;
    case field::relationship:
      return *x.relationship == r.relationship;
    case field::honseki:
      return *x.honseki == r.honseki;
    case field::hittousha:
      return *x.hittousha == r.hittousha;
    case field::mynumber:
      return *x.mynumber == r.mynumber;
    case field::koseki_relationship:
      return *x.koseki_relationship == r.koseki_relationship;
    case field::seal:
      return r.seal && c.seal->registration_number == r.seal->registration_number &&
             seal_digest(*c.seal) == r.seal->image_sha256;
    case field::tax:
      return *c.tax == r.tax;
  }
  return false;
}

std::string printed_text(field f, const printed_person& x, const printed_certificate& c) {
  switch (f) {
    case field::name:
      return to_text(x.name);
    case field::birth_date:
      return x.birth_date;
    case field::sex:
      return x.sex;
    case field::address:
      return to_text(*x.address);
    case field::moved_in_date:
      return *x.moved_in_date;
    case field::relationship:
      return *x.relationship;
    case field::honseki:
      return *x.honseki;
    case field::hittousha:
      return *x.hittousha;
    case field::mynumber:
      return *x.mynumber;
    case field::koseki_relationship:
      return *x.koseki_relationship;
    case field::seal:
      return fmt::format("{} sha256 {}", c.seal->registration_number, seal_digest(*c.seal));
    case field::tax:
      return to_text(*c.tax);
  }
  return {};
}

std::string record_text(field f, const resident& r, const resident_model& m) {
  switch (f) {
    case field::name:
      return to_text(r.name);
    case field::birth_date:
      return r.birth_date;
    case field::sex:
      return std::string(m.sex_text(r.sex));
    case field::address:
      return to_text(r.address);
    case field::moved_in_date:
      return r.moved_in_date;
    case field::relationship:
      return r.relationship;
    case field::honseki:
      return r.honseki;
    case field::hittousha:
      return r.hittousha;
    case field::mynumber:
      return r.mynumber;
    case field::koseki_relationship:
      return r.koseki_relationship;
    case field::seal:
      return r.seal ? fmt::format("{} sha256 {}", r.seal->registration_number, r.seal->image_sha256)
                    : std::string("(no seal)");
    case field::tax:
      return to_text(r.tax);
  }
  return {};
}

// The attribution index key of a printed field, for fields that identify a resident.
std::optional<std::pair<value_kind, std::string>> index_key(field f, const printed_person& x,
                                                            const printed_certificate& c) {
  switch (f) {
    case field::name:
      return std::pair{value_kind::name, resident_model::name_key(x.name)};
    case field::address:
      return std::pair{value_kind::address_token, x.address->token};
    case field::mynumber:
      return std::pair{value_kind::mynumber, *x.mynumber};
    case field::seal:
      return std::pair{value_kind::seal, seal_digest(*c.seal)};
    case field::tax:
      return std::pair{value_kind::tax, resident_model::tax_key(*c.tax)};
    default:
      return std::nullopt;
  }
}

}  // namespace

void request_checker::check_person(const printed_person& x, std::size_t index, std::uint32_t q,
                                   bool subject, const type_spec& spec) {
  ++persons_checked_;
  const printed_certificate& c = answer_.certificate;
  const auto& tl = m_.timeline(q);
  const version_window w = window_of(q);
  std::array<field, 12> fields{};
  std::size_t n = 0;
  fields[n++] = field::name;
  fields[n++] = field::birth_date;
  fields[n++] = field::sex;
  if (x.address) fields[n++] = field::address;
  if (x.moved_in_date) fields[n++] = field::moved_in_date;
  if (x.relationship) fields[n++] = field::relationship;
  if (x.honseki) fields[n++] = field::honseki;
  if (x.hittousha) fields[n++] = field::hittousha;
  if (x.mynumber) fields[n++] = field::mynumber;
  if (x.koseki_relationship) fields[n++] = field::koseki_relationship;
  if (subject && c.seal && spec.seal) fields[n++] = field::seal;
  if (subject && c.tax && spec.tax) fields[n++] = field::tax;
  const std::span<const field> used(fields.data(), n);

  auto all_equal = [&](const resident& r) {
    return std::all_of(used.begin(), used.end(),
                       [&](field f) { return field_equal(f, x, c, r, m_); });
  };

  if (x.household_head) check_household_head(x, index, q);

  // Whether version i carries the printed label (always, when the person prints none).
  const bool unlabelled = x.source_version < 0;
  auto labelled_as = [&](const resident& r) {
    return unlabelled || static_cast<std::int64_t>(r.version) == x.source_version;
  };
  // Fast path: an allowed version with the printed label and every field equal.
  for (std::uint32_t i = w.lo; i <= w.hi; ++i) {
    if (labelled_as(tl[i].record) && all_equal(tl[i].record)) {
      note_person_versions(tl, w, all_equal);
      return;
    }
  }

  const std::string at = fmt::format("persons[{}].", index);
  auto add_evidence = [&] {
    for (std::uint32_t i = 0; i < tl.size(); ++i) {
      evidence_.push_back({tl[i].record.resident_id, tl[i].record.version, tl[i].sent_ns,
                           i + 1 < tl.size() ? tl[i + 1].acked_ns : time_max, w.contains(i)});
    }
  };
  const resident& expected = tl[w.hi].record;

  // Fields found in no version of q: from an aborted update, another resident, or nowhere.
  std::vector<std::vector<char>> match(n, std::vector<char>(tl.size(), 0));
  bool all_found = true;
  std::optional<std::uint32_t> foreign_source;
  for (std::size_t k = 0; k < n; ++k) {
    bool any = false;
    bool not_future = false;
    for (std::uint32_t i = 0; i < tl.size(); ++i) {
      match[k][i] = field_equal(used[k], x, c, tl[i].record, m_) ? 1 : 0;
      any = any || match[k][i] != 0;
      not_future = not_future || (match[k][i] != 0 && i <= w.hi);
    }
    // A value only versions produced after the answer carry is judged on its own (PHANTOM):
    // whether the checker already knows those versions depends on how far the history has been
    // read, and the finding must not.
    if (any && !not_future) all_found = false;
    if (any) continue;
    all_found = false;
    const field f = used[k];
    field_diff d{at + field_name(f), printed_text(f, x, c), record_text(f, expected, m_), ""};
    if (f == field::seal || f == field::tax) d.path = field_name(f);
    const auto& ab = m_.aborted(q);
    // Only a failed update sent before the answer can have leaked into it; a later one is
    // PHANTOM like any version produced after the answer.
    const auto aborted_it = std::find_if(ab.begin(), ab.end(), [&](const aborted_version& v) {
      return v.sent_ns < done_.t && field_equal(f, x, c, v.record, m_);
    });
    if (aborted_it != ab.end()) {
      d.source =
          fmt::format("failed update {} ({}, sent at {:.3f} s)", aborted_it->update_id,
                      aborted_it->change_kind, static_cast<double>(aborted_it->sent_ns) / 1e9);
      add(finding_kind::aborted, std::move(d));
      continue;
    }
    if (f != field::seal && f != field::tax) {
      // A font fallback's look-alike of one of the person's own values: PHANTOM, never a
      // namesake's (glyph_substitution.hpp).
      std::optional<std::string> substitution;
      for (std::uint32_t i = w.lo; i <= w.hi && !substitution; ++i) {
        substitution = glyph_substitution(d.printed, record_text(f, tl[i].record, m_));
      }
      if (substitution) {
        d.source = std::move(*substitution);
        add(finding_kind::phantom, std::move(d));
        continue;
      }
    }
    std::optional<std::uint32_t> source;
    if (const auto key = index_key(f, x, c)) {
      // Prefer a source whose version was allowed during this request; else any.
      for (const auto& a : m_.attribute(key->first, key->second)) {
        if (a.resident == q) continue;
        if (a.aborted) {
          if (!source) source = a.resident;
          continue;
        }
        const bool allowed = window_of(a.resident).contains(a.state);
        if (!source || allowed) {
          source = a.resident;
          d.source = version_ref(m_, a.resident, a.state);
          if (allowed) break;
        }
      }
    }
    if (!source && foreign_source) {
      const auto& stl = m_.timeline(*foreign_source);
      for (std::uint32_t i = 0; i < stl.size(); ++i) {
        if (field_equal(f, x, c, stl[i].record, m_)) {
          source = foreign_source;
          d.source = version_ref(m_, *foreign_source, i);
          break;
        }
      }
    }
    if (source) {
      if (!foreign_source) foreign_source = source;
      if (d.source.empty())
        d.source = fmt::format("R{} (failed update)", m_.initial(*source).resident_id);
      add(finding_kind::foreign_data, std::move(d), source);
    } else {
      d.source = "found in no resident's record";
      add(finding_kind::phantom, std::move(d));
    }
  }
  if (!all_found) {
    // Some values are not q's at all. The others are judged one by one against the window, so
    // that a foreign address printed next to a name from a version not yet produced shows both.
    for (std::size_t k = 0; k < n; ++k) {
      std::optional<std::uint32_t> older;
      std::optional<std::uint32_t> newer;
      bool allowed = false;
      for (std::uint32_t i = 0; i < tl.size(); ++i) {
        if (match[k][i] == 0) continue;
        if (w.contains(i))
          allowed = true;
        else if (i < w.lo)
          older = i;
        else if (!newer)
          newer = i;
      }
      if (allowed || (!older && !newer)) continue;
      const field f = used[k];
      field_diff d{at + field_name(f), printed_text(f, x, c), record_text(f, expected, m_), ""};
      if (older) {
        d.source = version_ref(m_, q, *older);
        add(finding_kind::stale, std::move(d), std::nullopt, w.lo - *older,
            inv_.t - tl[*older + 1].acked_ns);
      } else {
        d.source = version_ref(m_, q, *newer);
        add(finding_kind::phantom, std::move(d));
      }
    }
    add_evidence();
    return;
  }

  // Every field exists in some version of q. Which versions carry all of them?
  std::vector<std::uint32_t> consistent;
  for (std::uint32_t i = 0; i < tl.size(); ++i) {
    bool all = true;
    for (std::size_t k = 0; k < n && all; ++k) all = match[k][i] != 0;
    if (all) consistent.push_back(i);
  }
  add_evidence();
  if (consistent.empty()) {
    // Torn: name the version each differing field comes from, against the newest allowed one.
    for (std::size_t k = 0; k < n; ++k) {
      if (match[k][w.hi] != 0) continue;
      std::uint32_t from = 0;
      for (std::uint32_t i = 0; i < tl.size(); ++i) {
        if (match[k][i] != 0) from = i;
      }
      add(finding_kind::torn, {at + field_name(used[k]), printed_text(used[k], x, c),
                               record_text(used[k], expected, m_), version_ref(m_, q, from)});
    }
    return;
  }
  // The printed version label is part of the content: the versions carrying both.
  std::vector<std::uint32_t> labelled;
  for (std::uint32_t i : consistent) {
    if (labelled_as(tl[i].record)) labelled.push_back(i);
  }
  if (std::any_of(labelled.begin(), labelled.end(),
                  [&](std::uint32_t i) { return w.contains(i); })) {
    note_person_versions(tl, w, [&](const resident& r) {
      return std::any_of(labelled.begin(), labelled.end(),
                         [&](std::uint32_t i) { return &tl[i].record == &r; });
    });
    return;
  }
  const std::string label =
      unlabelled ? std::string("one version") : fmt::format("v{}", x.source_version);
  if (!labelled.empty()) {
    // The whole certificate is one version, outside the window.
    const std::uint32_t i = labelled.back() < w.lo ? labelled.back() : labelled.front();
    const std::string path = at + "content";
    if (i < w.lo) {
      const std::int64_t superseded = tl[i + 1].acked_ns;
      add(finding_kind::stale,
          {path, "content of " + label, fmt::format("v{} or later", tl[w.lo].record.version),
           version_ref(m_, q, i)},
          std::nullopt, w.lo - i, inv_.t - superseded);
    } else {
      add(finding_kind::phantom,
          {path, "content of " + label, fmt::format("v{} or earlier", tl[w.hi].record.version),
           fmt::format("{} (its update was sent at {:.3f} s, not before the answer)",
                       version_ref(m_, q, i), static_cast<double>(tl[i].sent_ns) / 1e9)});
    }
    return;
  }
  // The label names a version whose content differs from what is printed.
  const std::string label_path = at + "source_version";
  const std::uint32_t content_of = consistent.back();
  // Only versions that existed by the answer count (see the future-only rule above).
  for (std::uint32_t i = 0; i <= w.hi; ++i) {
    if (static_cast<std::int64_t>(tl[i].record.version) != x.source_version) continue;
    add(finding_kind::torn, {label_path, label, fmt::format("v{}", tl[content_of].record.version),
                             fmt::format("label of {}, content of {}", version_ref(m_, q, i),
                                         version_ref(m_, q, content_of))});
    return;
  }
  for (const auto& v : m_.aborted(q)) {
    if (static_cast<std::int64_t>(v.record.version) == x.source_version && v.sent_ns < done_.t) {
      add(finding_kind::aborted,
          {label_path, label, fmt::format("v{}", tl[content_of].record.version),
           fmt::format("version of failed update {}", v.update_id)});
      return;
    }
  }
  add(finding_kind::phantom, {label_path, label, fmt::format("v{}", tl[content_of].record.version),
                              "no update produced this version"});
}

// A certificate-wide version is judged when one is printed and every person printed was checked
// without a finding of its own (each noted its candidate versions).
bool request_checker::certificate_version_judged() const {
  return answer_.certificate.source_version >= 0 && !person_versions_.empty() &&
         person_versions_.size() == persons_checked_;
}

// One version for the whole certificate, the highest of the records it was built from: every
// person printed must carry an allowed version at or below the label, and one exactly the label.
// Persons with findings of their own are judged by those; then the label is not judged again.
void request_checker::check_certificate_version() {
  if (!certificate_version_judged()) return;
  const std::int64_t label = answer_.certificate.source_version;
  bool all_at_or_below = true, one_at = false;
  std::int64_t highest = 0;
  for (const auto& person : person_versions_) {
    bool below = false;
    std::int64_t best = -1;
    for (const std::uint32_t i : person.versions) {
      const std::int64_t v = (*person.timeline)[i].record.version;
      below = below || v <= label;
      one_at = one_at || v == label;
      if (v <= label) best = std::max(best, v);
    }
    const std::int64_t first =
        person.versions.empty() ? 0 : (*person.timeline)[person.versions.front()].record.version;
    all_at_or_below = all_at_or_below && below;
    highest = std::max(highest, best < 0 ? first : best);
  }
  if (all_at_or_below && one_at) return;
  add(finding_kind::torn,
      {"certificate.version", fmt::format("v{}", label), fmt::format("v{}", highest),
       "the version printed is not the highest of the records printed"});
}

// A global change counter: the certificate prints the registry's counter C when it was built, so
// every person printed must be in the latest version numbered at or below C: a version carrying
// what was printed, numbered ≤ C, with no later version of that person numbered ≤ C. A version
// whose number the server has not (yet) given is not judged by the counter (its content was).
// Persons with findings of their own are judged by those; then the counter is not judged again.
void request_checker::check_counter_version() {
  if (!certificate_version_judged()) return;
  const std::int64_t counter = answer_.certificate.source_version;
  for (const auto& person : person_versions_) {
    const auto& tl = *person.timeline;
    const auto at_counter = [&](std::uint32_t i) {
      if (tl[i].counter < 0) return true;  // not numbered: the content alone decides
      if (tl[i].counter > counter) return false;
      for (std::size_t j = i + 1; j < tl.size(); ++j) {
        if (tl[j].counter >= 0 && tl[j].counter <= counter) return false;  // a later one applies
      }
      return true;
    };
    if (std::any_of(person.versions.begin(), person.versions.end(), at_counter)) continue;
    // The version C stands for, where the timeline knows it.
    std::string expected = "(none at or below it)";
    for (std::size_t j = tl.size(); j-- > 0;) {
      if (tl[j].counter >= 0 && tl[j].counter <= counter) {
        expected = fmt::format("R{} v{} (counter {})", tl[j].record.resident_id,
                               tl[j].record.version, tl[j].counter);
        break;
      }
    }
    const auto& printed = tl[person.versions.empty() ? 0 : person.versions.front()];
    add(finding_kind::torn,
        {"certificate.version", fmt::format("counter {}", counter), expected,
         fmt::format("R{}'s record printed (counter {}) is not the latest at or below the "
                     "counter printed",
                     printed.record.resident_id, printed.counter)});
    return;
  }
}

}  // namespace kofu::verify
