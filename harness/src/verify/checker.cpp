#include "kofu/verify/checker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <utility>

namespace kofu::verify {
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

std::string version_ref(const resident_model& m, std::uint32_t r, std::uint32_t state) {
  return fmt::format("R{} v{}", m.timeline(r)[state].record.resident_id,
                     m.timeline(r)[state].record.version);
}

// A name as one text: "family given", or the printed text alone when the model holds the name
// as a vendor prints it (resident_model.hpp's record_rendering).
std::string display_name(const population::person_name& n) {
  return n.given_kanji.empty() ? n.family_kanji : n.full_kanji();
}

std::uint64_t fingerprint(std::string_view s) { return std::hash<std::string_view>{}(s); }

// One (kind, diff) observation about a person; grouped into findings per request.
struct observation {
  finding_kind kind;
  field_diff diff;
  std::optional<std::uint32_t> source;  // the resident the value came from
  std::uint32_t lag_versions = 0;
  std::int64_t lag_ns = 0;
};

}  // namespace

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
  void check_document(const type_spec& spec);
  void check_person(const printed_person& x, std::size_t index, std::uint32_t q, bool subject,
                    const type_spec& spec);
  void check_household_head(const printed_person& x, std::size_t index, std::uint32_t q);
  void check_members(std::uint32_t p, const type_spec& spec);
  bool is_expected_member(std::uint32_t p, std::uint32_t q) const;
  std::optional<std::uint32_t> whose_person(const printed_person& x, std::uint32_t p) const;
  // Per-certificate versions: the allowed versions of a checked person that carry everything
  // printed for it (`carries`), for check_certificate_version.
  template <class F>
  void note_person_versions(const std::vector<resident_state>& tl, version_window w, F&& carries) {
    if (c_.options_.answers.versions != version_semantics::per_certificate) return;
    std::vector<std::int64_t> versions;
    for (std::uint32_t i = w.lo; i <= w.hi; ++i) {
      if (carries(tl[i].record)) versions.push_back(tl[i].record.version);
    }
    person_versions_.push_back(std::move(versions));
  }
  void check_certificate_version();

  checker& c_;
  const resident_model& m_;
  const checker::request_record& req_;
  const issue_invoke& inv_;
  const issue_complete& done_;
  const decoded_answer& answer_;
  const checker::pending_check& p_;
  std::vector<observation> obs_;
  std::vector<version_evidence> evidence_;
  std::size_t persons_checked_ = 0;
  std::vector<std::vector<std::int64_t>> person_versions_;
  std::optional<std::uint32_t> wrong_person_victim_;
  std::optional<std::uint64_t> owner_request_;
  std::string owner_application_;
};

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

// A resident other than p whose record the printed person carries in two or more identifying
// fields that p's record never held: then the person is that resident, whatever resident_id
// says. Names are not unique, so a name alone never decides.
std::optional<std::uint32_t> request_checker::whose_person(const printed_person& x,
                                                           std::uint32_t p) const {
  const auto& ptl = m_.timeline(p);
  auto p_ever = [&](auto&& equal) {
    return std::any_of(ptl.begin(), ptl.end(),
                       [&](const resident_state& s) { return equal(s.record); });
  };
  if (p_ever([&](const resident& r) { return r.name == x.name; })) return std::nullopt;
  const bool birth_foreign = x.birth_date != m_.initial(p).birth_date;
  const bool token_foreign =
      x.address && !p_ever([&](const resident& r) { return r.address.token == x.address->token; });
  const bool mynumber_foreign = x.mynumber && *x.mynumber != m_.initial(p).mynumber;
  std::optional<std::uint32_t> best;
  int best_score = 0;
  for (const auto& a : m_.attribute(value_kind::name, resident_model::name_key(x.name))) {
    if (a.resident == p || a.aborted) continue;
    const resident& r = m_.timeline(a.resident)[a.state].record;
    int score = 1;
    if (birth_foreign && x.birth_date == r.birth_date) ++score;
    if (token_foreign && x.address->token == r.address.token) ++score;
    if (mynumber_foreign && *x.mynumber == r.mynumber) ++score;
    if (score > best_score) {
      best_score = score;
      best = a.resident;
    }
  }
  if (best_score >= 2) return best;
  return std::nullopt;
}

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

void request_checker::check_household_head(const printed_person& x, std::size_t index,
                                           std::uint32_t q) {
  const version_window w = window_of(q);
  const auto& tl = m_.timeline(q);
  const std::string& printed = *x.household_head;
  auto is_full_name = [&](const population::person_name& n) {
    return printed.size() == n.family_kanji.size() + 1 + n.given_kanji.size() &&
           printed.compare(0, n.family_kanji.size(), n.family_kanji) == 0 &&
           printed[n.family_kanji.size()] == ' ' &&
           printed.compare(n.family_kanji.size() + 1, std::string::npos, n.given_kanji) == 0;
  };
  // A state whose name is printed as this 世帯主 (rendered by the profile, or "family given").
  const bool rendered = m_.rendering() != nullptr;
  auto names_head = [&](const resident_state& s) {
    return rendered ? s.head_name == printed : is_full_name(s.record.name);
  };
  auto head_text = [&](const resident_state& s) {
    return rendered ? s.head_name : s.record.name.full_kanji();
  };
  // Fastest path: the resident last seen as the head of that household (a member of it, so a
  // match here is one the member loop below would find too).
  // (Households are compared by household_group: equal groups, equal household ids.)
  for (std::uint32_t i = w.lo; i <= w.hi; ++i) {
    const std::uint32_t h = tl[i].household_group;
    const std::uint32_t m = m_.household_head_hint(h);
    if (m == resident_model::no_resident) continue;
    const auto& mtl = m_.timeline(m);
    const version_window mw = window_of(m);
    for (std::uint32_t j = mw.lo; j <= mw.hi; ++j) {
      if (mtl[j].household_group == h && mtl[j].head && names_head(mtl[j])) return;
    }
  }
  // Fast path without allocation: the head of q's household at an allowed instant.
  for (std::uint32_t i = w.lo; i <= w.hi; ++i) {
    const std::uint32_t h = tl[i].household_group;
    for (std::uint32_t m : m_.household_group_members(h)) {
      const auto& mtl = m_.timeline(m);
      const version_window mw = window_of(m);
      for (std::uint32_t j = mw.lo; j <= mw.hi; ++j) {
        if (mtl[j].household_group == h && mtl[j].head && names_head(mtl[j])) return;
      }
    }
  }
  std::set<std::string> allowed;
  std::map<std::string, std::pair<std::uint32_t, std::uint32_t>> other;  // name → (head, state)
  for (std::uint32_t i = w.lo; i <= w.hi; ++i) {
    const std::string& h = tl[i].record.household_id;
    for (std::uint32_t m : m_.household_members(h)) {
      const auto& mtl = m_.timeline(m);
      const version_window mw = window_of(m);
      for (std::uint32_t j = 0; j < mtl.size(); ++j) {
        const resident& r = mtl[j].record;
        if (r.household_id != h || !mtl[j].head) continue;
        if (mw.contains(j))
          allowed.insert(head_text(mtl[j]));
        else
          other.emplace(head_text(mtl[j]), std::pair{m, j});
      }
    }
  }
  if (allowed.count(*x.household_head) != 0) return;
  // A household can be without a head for a while (the head moved out by a `household` change,
  // or was removed): then the server prints none. Blank is allowed when no head is certain for the
  // whole window: none at all, or a head whose own window also holds a version outside the role.
  if (x.household_head->empty()) {
    bool head_certain = false;
    for (std::uint32_t i = w.lo; i <= w.hi && !head_certain; ++i) {
      const std::string& h = tl[i].record.household_id;
      for (std::uint32_t m : m_.household_members(h)) {
        const auto& mtl = m_.timeline(m);
        const version_window mw = window_of(m);
        // A removed head (転出・死亡) may be printed by name or left blank.
        bool always_head = mtl.front().record.status == population::resident_status::active;
        for (std::uint32_t j = mw.lo; j <= mw.hi; ++j) {
          always_head = always_head && mtl[j].record.household_id == h && mtl[j].head;
        }
        if (always_head) head_certain = true;
      }
      if (w.lo != w.hi) head_certain = false;  // q itself changed household or role meanwhile
    }
    if (!head_certain) return;
  }
  const std::string path = fmt::format("persons[{}].household_head", index);
  const std::string expected = allowed.empty() ? std::string() : *allowed.begin();
  if (const auto it = other.find(*x.household_head); it != other.end()) {
    const auto [m, j] = it->second;
    const version_window mw = window_of(m);
    if (j < mw.lo) {
      add(finding_kind::stale, {path, *x.household_head, expected, version_ref(m_, m, j)},
          std::nullopt, mw.lo - j, inv_.t - m_.timeline(m)[j + 1].acked_ns);
    } else {
      add(finding_kind::phantom, {path, *x.household_head, expected, version_ref(m_, m, j)});
    }
    return;
  }
  add(finding_kind::foreign_data,
      {path, *x.household_head, expected, "not the head of this household in any version"});
}

// One version for the whole certificate, the highest of the records it was built from: every
// person printed must carry an allowed version at or below the label, and one exactly the label.
// Persons with findings of their own are judged by those; then the label is not judged again.
void request_checker::check_certificate_version() {
  const printed_certificate& c = answer_.certificate;
  if (c.source_version < 0 || person_versions_.empty() ||
      person_versions_.size() != persons_checked_) {
    return;
  }
  const std::int64_t label = c.source_version;
  bool all_at_or_below = true, one_at = false;
  std::int64_t highest = 0;
  for (const auto& versions : person_versions_) {
    bool below = false;
    std::int64_t best = -1;
    for (const std::int64_t v : versions) {
      below = below || v <= label;
      one_at = one_at || v == label;
      if (v <= label) best = std::max(best, v);
    }
    all_at_or_below = all_at_or_below && below;
    highest = std::max(highest, best < 0 ? (versions.empty() ? 0 : versions.front()) : best);
  }
  if (all_at_or_below && one_at) return;
  add(finding_kind::torn,
      {"certificate.version", fmt::format("v{}", label), fmt::format("v{}", highest),
       "the version printed is not the highest of the records printed"});
}

bool request_checker::is_expected_member(std::uint32_t p, std::uint32_t q) const {
  const std::string_view type = inv_.certificate_type;
  if (type == "koseki_zenbu" || type == "koseki_fuhyo") {
    return m_.koseki_group(q) == m_.koseki_group(p);
  }
  // 住民票 (household): q shared p's household at some allowed instant of both.
  const auto& ptl = m_.timeline(p);
  const version_window pw = window_of(p);
  const auto& qtl = m_.timeline(q);
  const version_window qw = window_of(q);
  for (std::uint32_t i = pw.lo; i <= pw.hi; ++i) {
    for (std::uint32_t j = qw.lo; j <= qw.hi; ++j) {
      if (ptl[i].household_group == qtl[j].household_group) return true;
    }
  }
  return false;
}

void request_checker::check_members(std::uint32_t p, const type_spec& spec) {
  if (!spec.many_persons) return;
  const printed_certificate& c = answer_.certificate;
  const std::string_view type = inv_.certificate_type;
  const bool koseki = type == "koseki_zenbu" || type == "koseki_fuhyo";
  const auto& ptl = m_.timeline(p);
  const version_window pw = window_of(p);
  std::vector<std::uint32_t> household;
  const std::vector<std::uint32_t>* candidates = &household;
  if (koseki) {
    candidates = &m_.koseki_members_of(p);
  } else {
    // Only when p's household did not change during the window is membership unambiguous.
    for (std::uint32_t i = pw.lo + 1; i <= pw.hi; ++i) {
      if (ptl[i].household_group != ptl[pw.lo].household_group) return;
    }
    const std::uint32_t h = ptl[pw.lo].household_group;
    for (std::uint32_t q : m_.household_group_members(h)) {
      const auto& qtl = m_.timeline(q);
      const version_window qw = window_of(q);
      bool always = true;
      for (std::uint32_t j = qw.lo; j <= qw.hi && always; ++j) always = qtl[j].household_group == h;
      if (always) household.push_back(q);
    }
  }
  for (std::uint32_t q : *candidates) {
    const resident& r = m_.initial(q);
    if (r.status == population::resident_status::removed) continue;
    const bool printed =
        std::any_of(c.persons.begin(), c.persons.end(),
                    [&](const printed_person& x) { return x.resident_id == r.resident_id; });
    if (!printed) {
      add(finding_kind::wrong_document,
          {"certificate.persons", "(absent)",
           fmt::format("R{} {}", r.resident_id, display_name(r.name)),
           "a member of the subject's " + std::string(koseki ? "戸籍" : "世帯") + " is missing"});
    }
  }
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
  const type_spec spec = spec_of(inv_.certificate_type, inv_.options);
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
    victim = m_.find_resident(c.persons.front().resident_id);
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
    if (inv_.certificate_type == "inkan") {
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
    if (c.koseki && spec.koseki) {
      if ((caps.koseki_id && c.koseki->koseki_id != subject_record.koseki_id) ||
          c.koseki->honseki != subject_record.honseki ||
          c.koseki->hittousha != subject_record.hittousha) {
        const auto& members = m_.koseki_members(c.koseki->koseki_id);
        add(finding_kind::foreign_data,
            {"koseki",
             fmt::format("{} {} {}", c.koseki->koseki_id, c.koseki->honseki, c.koseki->hittousha),
             fmt::format("{} {} {}", subject_record.koseki_id, subject_record.honseki,
                         subject_record.hittousha),
             members.empty() ? std::string("no such 戸籍")
                             : fmt::format("戸籍 {}", c.koseki->koseki_id)},
            members.empty() ? std::nullopt : std::optional<std::uint32_t>(members.front()));
      }
    }
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
        add(finding_kind::foreign_data,
            {fmt::format("persons[{}]", i),
             fmt::format("R{} {}", x.resident_id, x.name.family_kanji + " " + x.name.given_kanji),
             "", fmt::format("R{} (not in the subject's 世帯/戸籍)", x.resident_id)},
            q);
        continue;
      }
      check_person(x, i, *q, is_subject, spec);
    }
    check_members(p, spec);
    if (caps.versions == version_semantics::per_certificate) check_certificate_version();
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
      if (const auto* r = c_.find_overlapping(*v, inv_.t, done_.t)) {
        f.victim_request_id = r->id;
        if (const auto* tag = c_.find_tag(r->tag); tag != nullptr && tag->id == r->id) {
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

// ---------------------------------------------------------------------------------------------

checker::checker(resident_model model, checker_options options)
    : model_(std::move(model)), options_(options) {
  const std::size_t n = model_.size();
  issue_invokes_.assign(n, 0);
  issues_in_flight_.assign(n, 0);
  update_invokes_.assign(n, 0);
  updates_in_flight_count_.assign(n, 0);
  recent_.resize(n);
  recent_next_.assign(n, 0);
}

void checker::on_event(history_event&& event) {
  if (auto* invoke = std::get_if<issue_invoke>(&event)) return on_issue_invoke(std::move(*invoke));
  if (auto* done = std::get_if<issue_complete>(&event)) return on_issue_complete(std::move(*done));
  on_event(static_cast<const history_event&>(event));
}

void checker::on_issue_invoke(const issue_invoke& e) { invoke_impl(e); }
void checker::on_issue_invoke(issue_invoke&& e) { invoke_impl(std::move(e)); }
void checker::on_issue_complete(const issue_complete& e) { complete_impl(e); }
void checker::on_issue_complete(issue_complete&& e) { complete_impl(std::move(e)); }

std::string_view checker::application_number(const tag_owner& t) const {
  if (t.length != 255) return {t.inline_number.data(), t.length};
  const std::string* s = long_numbers_.find(t.seq);
  return s == nullptr ? std::string_view() : std::string_view(*s);
}

std::string checker::resident_id(const tag_owner& t) const {
  if (t.resident != no_resident) return model_.initial(t.resident).resident_id;
  const std::string* s = unknown_residents_.find(t.seq);
  return s == nullptr ? std::string() : *s;
}

checker::tag_owner* checker::find_tag(std::uint64_t fingerprint) {
  const std::uint64_t* seq = tags_.find(fingerprint);
  if (seq == nullptr) return nullptr;
  return &tag_owners_[static_cast<std::size_t>(*seq - tags_expired_)];
}

checker::tag_owner* checker::find_echoed_tag(const pending_check& p) {
  const std::uint64_t seq = p.request.tag_seq;
  if (p.echo_matches && seq >= tags_expired_) {
    tag_owner& own = tag_owners_[static_cast<std::size_t>(seq - tags_expired_)];
    if (!own.superseded) return &own;
  }
  return find_tag(p.echoed_tag);
}

void checker::erase_request(std::uint64_t id, std::uint32_t slot) {
  pending_check& pc = request_slots_[slot];
  pc.complete.answer.reset();  // the answer can go now; the strings keep their capacity
  pc.answered = false;
  free_slots_.push_back(slot);
  requests_.erase(id);
}

void checker::schedule_check(const pending_order& o) {
  check_order_.push(request_slots_[o.slot].request.invoke.worker, o);
}

void checker::on_event(const history_event& event) {
  std::visit(
      [this](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, issue_invoke>)
          on_issue_invoke(e);
        else if constexpr (std::is_same_v<T, issue_complete>)
          on_issue_complete(e);
        else if constexpr (std::is_same_v<T, update_invoke>)
          on_update_invoke(e);
        else if constexpr (std::is_same_v<T, update_complete>)
          on_update_complete(e);
        else if constexpr (std::is_same_v<T, marker_event>)
          on_marker(e);
      },
      event);
}

template <class E>
void checker::invoke_impl(E&& e) {
  if (finished_) return;
  const std::uint64_t tag = fingerprint(e.application_number);
  // Both tables are far larger than the caches: start loading the slots before the checks that
  // advance() may run, and the model lookup.
  tags_.prefetch(tag);
  requests_.prefetch(e.id);
  advance(e.t);
  request_record r;
  r.resident = model_.find_resident(e.resident_id);
  ++exposure_.requests;
  ++total_invokes_;
  ++total_in_flight_;
  exposure_.peak_in_flight = std::max(exposure_.peak_in_flight, total_in_flight_);
  r.phase = phase_;
  exposure& in_phase = exposure_by_phase_[phase_];
  ++in_phase.requests;
  in_phase.peak_in_flight = std::max(in_phase.peak_in_flight, total_in_flight_);
  if (r.resident) {
    const std::uint32_t p = *r.resident;
    ++issue_invokes_[p];
    ++issues_in_flight_[p];
    r.overlapped_other = total_in_flight_ > issues_in_flight_[p];
    r.others_invoked_at_start = total_invokes_ - issue_invokes_[p];
    r.overlapped_update = updates_in_flight_count_[p] > 0;
    r.own_updates_at_start = update_invokes_[p];
    auto& slot = recent_[p][recent_next_[p]];
    recent_next_[p] = static_cast<std::uint8_t>((recent_next_[p] + 1) % recent_per_resident);
    slot = recent_request{e.id, tag, e.t, time_max, e.worker, e.conn};
  }
  const std::uint64_t tag_seq = tags_expired_ + tag_owners_.size();
  {
    tag_owner& owner = tag_owners_.emplace_back();
    owner.t = e.t;
    owner.seq = tag_seq;
    owner.id = e.id;
    owner.tag = tag;
    if (r.resident) {
      owner.resident = *r.resident;
    } else {
      unknown_residents_[owner.seq] = e.resident_id;
    }
    if (e.application_number.size() <= inline_number_size) {
      owner.length = static_cast<std::uint8_t>(e.application_number.size());
      std::copy(e.application_number.begin(), e.application_number.end(),
                owner.inline_number.begin());
    } else {
      owner.length = 255;
      long_numbers_[owner.seq] = e.application_number;
    }
    bool fresh_tag = false;
    std::uint64_t& entry = tags_.emplace(tag, fresh_tag);
    if (!fresh_tag && entry >= tags_expired_) {
      tag_owners_[static_cast<std::size_t>(entry - tags_expired_)].superseded = true;
    }
    entry = owner.seq;
  }
  bool fresh = false;
  std::uint32_t& slot = requests_.emplace(e.id, fresh);
  if (!fresh) {
    ++outcomes_.history_errors;
    return;
  }
  if (free_slots_.empty()) {
    slot = static_cast<std::uint32_t>(request_slots_.size());
    request_slots_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  // Assigned member by member so that a reused slot's strings keep their capacity.
  pending_check& pc = request_slots_[slot];
  pc.request.invoke = std::forward<E>(e);
  pc.request.resident = r.resident;
  pc.request.others_invoked_at_start = r.others_invoked_at_start;
  pc.request.own_updates_at_start = r.own_updates_at_start;
  pc.request.overlapped_other = r.overlapped_other;
  pc.request.overlapped_update = r.overlapped_update;
  pc.request.phase = r.phase;
  pc.request.tag_seq = tag_seq;
  pc.answered = false;
}

template <class E>
void checker::complete_impl(E&& e) {
  if (finished_) return;
  advance(e.t);
  const std::uint32_t* const slot = requests_.find(e.id);
  pending_check* const pc = slot == nullptr ? nullptr : &request_slots_[*slot];
  if (pc == nullptr || pc->answered) {
    ++outcomes_.history_errors;
    return;
  }
  request_record& r = pc->request;
  --total_in_flight_;
  if (r.resident) {
    const std::uint32_t p = *r.resident;
    --issues_in_flight_[p];
    if (total_invokes_ - issue_invokes_[p] > r.others_invoked_at_start) r.overlapped_other = true;
    if (update_invokes_[p] > r.own_updates_at_start) r.overlapped_update = true;
    for (auto& recent : recent_[p]) {
      if (recent.id == e.id) recent.b = e.t;
    }
  }
  exposure& in_phase = exposure_by_phase_[r.phase];
  if (r.overlapped_other) {
    ++exposure_.overlapped_other_resident;
    ++in_phase.overlapped_other_resident;
  }
  if (r.overlapped_update) {
    ++exposure_.overlapped_own_update;
    ++in_phase.overlapped_own_update;
    if (e.outcome == issue_outcome::retry) {
      ++exposure_.overlapped_own_update_retry;
      ++in_phase.overlapped_own_update_retry;
    }
  }
  switch (e.outcome) {
    case issue_outcome::ok:
      break;
    case issue_outcome::retry:
      ++outcomes_.retry;
      break;
    case issue_outcome::refused:
      ++outcomes_.refused;
      break;
    case issue_outcome::error:
      ++outcomes_.errors;
      break;
    case issue_outcome::timeout:
      ++outcomes_.timeouts;
      break;
  }
  if (e.outcome != issue_outcome::ok || !r.resident || !e.answer) {
    if (e.outcome == issue_outcome::ok) {
      if (!r.resident)
        ++outcomes_.unknown_resident;
      else
        ++outcomes_.history_errors;
    }
    erase_request(e.id, *slot);
    return;
  }
  ++outcomes_.answered;
  latency_.add(e.t - r.invoke.t);
  pc->complete = std::forward<E>(e);
  pc->answered = true;
  const printed_certificate& c = pc->complete.answer->certificate;
  pc->echoed_tag = fingerprint(c.application_number);
  pc->echo_matches = c.application_number == r.invoke.application_number;
  schedule_check({e.t, e.id, *slot});
  drain(max_t_ - options_.reorder_slack_ns);
}

void checker::on_update_invoke(const update_invoke& e) {
  if (finished_) return;
  advance(e.t);
  std::vector<std::uint32_t> residents;
  for (const auto& ch : e.changes) {
    const auto r = model_.find_resident(ch.resident_id);
    if (!r) {
      ++outcomes_.history_errors;
      continue;
    }
    if (model_.begin_update(*r, e.id, e.t, ch.version, ch.kind, ch.fields)) {
      ++outcomes_.history_errors;
      continue;
    }
    ++exposure_.updates;
    ++update_invokes_[*r];
    ++updates_in_flight_count_[*r];
    residents.push_back(*r);
  }
  updates_in_flight_[e.id] = std::move(residents);
}

void checker::on_update_complete(const update_complete& e) {
  if (finished_) return;
  advance(e.t);
  const auto it = updates_in_flight_.find(e.id);
  if (it == updates_in_flight_.end()) {
    ++outcomes_.history_errors;
    return;
  }
  std::vector<std::uint32_t> residents = std::move(it->second);
  updates_in_flight_.erase(it);
  std::sort(residents.begin(), residents.end());
  for (std::size_t i = 0; i < residents.size(); ++i) --updates_in_flight_count_[residents[i]];
  residents.erase(std::unique(residents.begin(), residents.end()), residents.end());
  for (std::uint32_t r : residents) {
    switch (e.outcome) {
      case update_outcome::ok:
        model_.acknowledge(r, e.id, e.t);
        break;
      case update_outcome::failed:
        model_.fail(r, e.id, e.t);
        break;
      case update_outcome::unknown:
        model_.mark_unknown(r, e.id);
        break;
    }
  }
  for (std::size_t i = 0; i < residents.size(); ++i) {
    if (e.outcome == update_outcome::failed) ++exposure_.updates_failed;
    if (e.outcome == update_outcome::unknown) ++exposure_.updates_unknown;
  }
  for (std::uint32_t r : residents) {
    const auto parked = parked_.find(r);
    if (parked == parked_.end()) continue;
    for (const pending_order& o : parked->second) schedule_check(o);
    parked_.erase(parked);
  }
  drain(max_t_ - options_.reorder_slack_ns);
}

void checker::on_marker(const marker_event& e) {
  if (finished_) return;
  advance(e.t);
  if (e.name == "phase") {
    // {"type":"event","name":"phase","phase":"<name>"} or detail.name.
    std::string name = e.phase;
    if (e.detail.is_object()) {
      if (const auto it = e.detail.find("name"); it != e.detail.end() && it->is_string()) {
        name = it->get<std::string>();
      }
    }
    const auto it = std::find(phase_names_.begin(), phase_names_.end(), name);
    if (it != phase_names_.end()) {
      phase_ = static_cast<std::uint32_t>(it - phase_names_.begin());
    } else {
      phase_names_.push_back(std::move(name));
      exposure_by_phase_.emplace_back();
      phase_ = static_cast<std::uint32_t>(phase_names_.size() - 1);
    }
  }
  if (e.name == "footer") finish();
}

void checker::advance(std::int64_t t) {
  if (t <= max_t_) return;
  max_t_ = t;
  drain(t - options_.reorder_slack_ns);
  // Forget application numbers nobody can still echo by mistake.
  while (!tag_owners_.empty() && tag_owners_.front().t < t - options_.tag_horizon_ns) {
    const tag_owner& old = tag_owners_.front();
    if (!old.superseded) tags_.erase(old.tag);  // its entry is there (tag_owner::superseded)
    // The entry of the owner expiring a few invokes from now is cold: start loading it.
    if (tag_owners_.size() > tag_prefetch_ahead)
      tags_.prefetch(tag_owners_[tag_prefetch_ahead].tag);
    if (old.length == 255) long_numbers_.erase(old.seq);
    if (old.resident == no_resident) unknown_residents_.erase(old.seq);
    tag_owners_.pop_front();
    ++tags_expired_;
  }
}

void checker::drain(std::int64_t up_to_b) {
  while (!check_order_.empty() && check_order_.top().b <= up_to_b) {
    const pending_order next = check_order_.top();
    for (std::size_t ahead = 1; ahead <= 4; ++ahead) prefetch_check(ahead);
    check_order_.pop();
    pending_check& pc = request_slots_[next.slot];
    if (!pc.answered) continue;  // defensive: never true (see check_order_)
    // An update of this resident sent before the answer and still unanswered may yet fail, which
    // would make its content ABORTED rather than allowed: wait for its outcome (or finish()).
    const std::uint32_t r = *pc.request.resident;
    if (model_.has_pending_before(r, pc.complete.t)) {
      parked_[r].push_back(next);
      continue;
    }
    check(pc);
    erase_request(next.id, next.slot);
  }
}

namespace {

void prefetch_bytes(const void* p, std::size_t n) {
  const char* const c = static_cast<const char*>(p);
  for (std::size_t off = 0; off < n; off += 64) __builtin_prefetch(c + off);
}

void prefetch_string(const std::string& s) { __builtin_prefetch(s.data()); }

}  // namespace

// The check of a request runs about reorder_slack after its answer was decoded, when its slot
// and answer have long left the caches. Checks come in check_order_, so the next few are known:
// each pop starts loading, in stages, what the checks `ahead` places on will read (a stage
// follows pointers only into memory the stage before has loaded). Hints only: no effect on
// any result.
void checker::prefetch_check(std::size_t ahead) {
  const pending_order* const o = check_order_.behind_top(ahead);
  if (o == nullptr) return;
  const pending_check& pc = request_slots_[o->slot];
  switch (ahead) {
    case 4:  // the slot
      prefetch_bytes(&pc, sizeof(pending_check));
      break;
    case 3: {  // what the slot points to: the answer, the invoke's long strings, table slots
      requests_.prefetch(o->id);
      if (!pc.echo_matches) tags_.prefetch(pc.echoed_tag);
      if (pc.request.tag_seq >= tags_expired_) {
        __builtin_prefetch(
            &tag_owners_[static_cast<std::size_t>(pc.request.tag_seq - tags_expired_)]);
      }
      prefetch_string(pc.request.invoke.application_number);
      prefetch_string(pc.request.invoke.card_serial);
      if (const decoded_answer* a = pc.complete.answer.get()) {
        prefetch_bytes(a, sizeof(decoded_answer));
      }
      break;
    }
    case 2:  // what the answer points to; the subject's record
      if (const decoded_answer* a = pc.complete.answer.get()) {
        const printed_certificate& c = a->certificate;
        prefetch_string(c.application_number);
        prefetch_string(c.serial);
        prefetch_string(c.subject_card_serial);
        prefetch_bytes(c.persons.data(), c.persons.size() * sizeof(printed_person));
      }
      if (pc.request.resident) {
        // The newest version is the one most checks compare with.
        prefetch_bytes(&model_.timeline(*pc.request.resident).back(), sizeof(resident_state));
      }
      break;
    case 1:  // the strings too long to be stored inline, of the persons and the record
      if (const decoded_answer* a = pc.complete.answer.get()) {
        for (const printed_person& x : a->certificate.persons) {
          if (x.address) prefetch_string(x.address->building);
          if (x.honseki) prefetch_string(*x.honseki);
          if (x.hittousha) prefetch_string(*x.hittousha);
        }
      }
      if (pc.request.resident) {
        const population::resident& r = model_.timeline(*pc.request.resident).back().record;
        prefetch_string(r.address.building);
        prefetch_string(r.honseki);
        prefetch_string(r.hittousha);
      }
      break;
    default:
      break;
  }
}

void checker::finish() {
  if (finished_) return;
  // Updates never answered: their outcome is unknown.
  for (auto& [id, residents] : updates_in_flight_) {
    for (std::uint32_t r : residents) {
      model_.mark_unknown(r, id);
      ++exposure_.updates_unknown;
    }
  }
  for (auto& [r, ids] : parked_) {
    for (const pending_order& o : ids) schedule_check(o);
  }
  parked_.clear();
  drain(time_max);
  outcomes_.unanswered += total_in_flight_;
  finished_ = true;
}

const checker::recent_request* checker::find_overlapping(std::uint32_t victim, std::int64_t a,
                                                         std::int64_t b) const {
  const recent_request* best = nullptr;
  std::int64_t best_overlap = -1;
  for (const auto& r : recent_[victim]) {
    if (r.id == 0 || r.a >= b || r.b <= a) continue;
    const std::int64_t overlap = std::min(b, r.b) - std::max(a, r.a);
    if (overlap > best_overlap) {
      best_overlap = overlap;
      best = &r;
    }
  }
  return best;
}

void checker::check(const pending_check& p) {
  request_checker rc(*this, p);
  std::vector<finding> found = rc.run();
  if (found.empty()) return;
  ++requests_with_findings_;
  for (auto& f : found) {
    if (f.kind == finding_kind::wrong_person || f.kind == finding_kind::foreign_data) {
      if (!f.victim_resident.empty()) {
        leak_edge e;
        e.victim_resident = f.victim_resident;
        e.recipient_resident = f.requested_resident;
        e.recipient_request = f.request_id;
        e.victim_request = f.victim_request_id;
        e.kind = f.kind;
        if (f.victim_request_id) {
          const auto v = model_.find_resident(f.victim_resident);
          for (const auto& r : recent_[*v]) {
            if (r.id == *f.victim_request_id && r.a < f.sent_ns) {
              e.same_worker = r.worker == f.worker;
              e.same_conn = e.same_worker && r.conn == f.conn;
            }
          }
        }
        edges_.push_back(std::move(e));
      }
    }
    explain(f);
    findings_.push_back(std::move(f));
  }
}

verification_summary checker::summary() const {
  verification_summary s;
  s.outcomes = outcomes_;
  s.outcomes.unanswered =
      finished_ ? outcomes_.unanswered : outcomes_.unanswered + total_in_flight_;
  s.exposure_counts = exposure_;
  for (std::size_t i = 0; i < phase_names_.size(); ++i) {
    if (i == 0 && exposure_by_phase_[0].requests == 0 && phase_names_.size() > 1) continue;
    s.exposure_by_phase.emplace_back(phase_names_[i], exposure_by_phase_[i]);
  }
  s.latency = latency_;
  for (const auto& f : findings_) ++s.findings_by_kind[static_cast<std::size_t>(f.kind)];
  s.requests_with_findings = requests_with_findings_;
  s.upper_bound_95 = binomial_upper_bound_95(outcomes_.answered, requests_with_findings_);

  // Leak graph.
  leak_graph& g = s.leaks;
  g.edges = edges_;
  std::set<std::pair<std::string, std::string>> pairs;
  std::map<std::string, std::set<std::uint64_t>> recipients_of;
  std::set<std::string> victims;
  for (const auto& e : edges_) {
    if (e.kind != finding_kind::wrong_person) {
      victims.insert(e.victim_resident);
      recipients_of[e.victim_resident].insert(e.recipient_request);
      continue;
    }
    pairs.emplace(e.victim_resident, e.recipient_resident);
    victims.insert(e.victim_resident);
    recipients_of[e.victim_resident].insert(e.recipient_request);
  }
  for (const auto& [v, r] : pairs) {
    if (v < r && pairs.count({r, v}) != 0) ++g.swaps;
  }
  for (const auto& [v, reqs] : recipients_of) {
    if (reqs.size() >= 2) ++g.duplicates;
  }
  // Shifts: edges whose source request preceded the recipient on the same worker; chains are
  // connected runs of such edges (request → request).
  std::map<std::uint64_t, std::uint64_t> parent;
  std::function<std::uint64_t(std::uint64_t)> root = [&](std::uint64_t x) {
    auto it = parent.find(x);
    if (it == parent.end()) {
      parent[x] = x;
      return x;
    }
    if (it->second == x) return x;
    const std::uint64_t r = root(it->second);
    parent[x] = r;
    return r;
  };
  for (const auto& e : edges_) {
    if (!e.same_worker || !e.victim_request) continue;
    ++g.shifts;
    const auto a = root(*e.victim_request);
    const auto b = root(e.recipient_request);
    if (a != b) parent[a] = b;
  }
  std::set<std::uint64_t> roots;
  for (const auto& [x, unused] : parent) {
    (void)unused;
    roots.insert(root(x));
  }
  g.shift_chains = roots.size();
  g.victims.assign(victims.begin(), victims.end());

  // Thresholds and verdict.
  const std::uint64_t nfind = findings_.size();
  s.thresholds.push_back({"max_findings", nfind <= options_.max_findings, false,
                          fmt::format("{} findings (limit {})", nfind, options_.max_findings)});
  if (options_.min_answered > 0) {
    s.thresholds.push_back({"min_answered", outcomes_.answered >= options_.min_answered, true,
                            fmt::format("{} certificates answered (needed {})", outcomes_.answered,
                                        options_.min_answered)});
  }
  {
    const std::uint64_t bad = outcomes_.errors + outcomes_.timeouts;
    const double rate = exposure_.requests == 0
                            ? 0.0
                            : static_cast<double>(bad) / static_cast<double>(exposure_.requests);
    s.thresholds.push_back({"max_error_rate", rate <= options_.max_error_rate, false,
                            fmt::format("{} errors and timeouts in {} requests ({:.4f}, limit {})",
                                        bad, exposure_.requests, rate, options_.max_error_rate)});
  }
  if (options_.max_p99_ms) {
    const double p99 = latency_.percentile_ms(99);
    s.thresholds.push_back({"max_p99_ms", p99 <= *options_.max_p99_ms, false,
                            fmt::format("p99 {:.3f} ms (limit {} ms)", p99, *options_.max_p99_ms)});
  }
  if (options_.min_overlaps) {
    s.thresholds.push_back(
        {"min_overlapping_requests", exposure_.overlapped_other_resident >= *options_.min_overlaps,
         true,
         fmt::format("{} requests overlapped another resident's (needed {})",
                     exposure_.overlapped_other_resident, *options_.min_overlaps)});
  }
  if (options_.min_update_overlaps) {
    s.thresholds.push_back(
        {"min_update_overlaps", exposure_.overlapped_own_update >= *options_.min_update_overlaps,
         true,
         fmt::format("{} requests overlapped an update of their resident (needed {})",
                     exposure_.overlapped_own_update, *options_.min_update_overlaps)});
  }
  bool failed = false;
  bool exposure_missed = false;
  for (const auto& t : s.thresholds) {
    if (t.passed) continue;
    if (t.exposure)
      exposure_missed = true;
    else
      failed = true;
  }
  if (failed || nfind > 0)
    s.final_verdict = verdict::fail;
  else if (outcomes_.answered == 0 || exposure_missed)
    s.final_verdict = verdict::unknown;
  else
    s.final_verdict = verdict::pass;
  return s;
}

namespace detail {

void check_queue::push(std::uint64_t stream, const check_entry& e) {
  bool fresh = false;
  std::uint32_t& index = stream_index_.emplace(stream, fresh);
  if (fresh) {
    index = static_cast<std::uint32_t>(streams_.size());
    streams_.emplace_back();
  }
  std::deque<check_entry>& q = streams_[index];
  if (q.empty() || !(e < q.back())) {
    q.push_back(e);
  } else {
    q.insert(std::upper_bound(q.begin(), q.end(), e), e);
  }
  ++size_;
  // The new entry can only have become the smallest front.
  if (top_valid_ && q.front() < streams_[top_].front()) top_ = index;
}

std::size_t check_queue::top_stream() {
  if (!top_valid_) {
    top_ = streams_.size();
    for (std::size_t i = 0; i < streams_.size(); ++i) {
      if (streams_[i].empty()) continue;
      if (top_ == streams_.size() || streams_[i].front() < streams_[top_].front()) top_ = i;
    }
    top_valid_ = top_ < streams_.size();
  }
  return top_;
}

const check_entry& check_queue::top() { return streams_[top_stream()].front(); }

void check_queue::pop() {
  streams_[top_stream()].pop_front();
  --size_;
  top_valid_ = false;
}

const check_entry* check_queue::behind_top(std::size_t ahead) {
  if (empty()) return nullptr;
  const std::deque<check_entry>& q = streams_[top_stream()];
  return ahead < q.size() ? &q[ahead] : nullptr;
}

}  // namespace detail

result<void> feed_history_line(checker& c, std::string_view line, std::string_view where) {
  auto ev = parse_history_line(
      line, where,
      parse_options{c.options().keep_answers, c.options().check_digest, c.options().decoder.get()});
  if (!ev) return ev.error();
  c.on_event(std::move(*ev));
  return {};
}

std::string_view to_string(verdict v) {
  switch (v) {
    case verdict::pass:
      return "pass";
    case verdict::fail:
      return "fail";
    case verdict::unknown:
      return "unknown";
  }
  return "unknown";
}

checker_options options_from_header(const nlohmann::json& header) {
  checker_options o;
  const auto sc = header.find("scenario");
  if (sc == header.end() || !sc->is_object()) return o;
  auto number = [](const nlohmann::json& obj,
                   std::initializer_list<const char*> keys) -> std::optional<double> {
    for (const char* k : keys) {
      const auto it = obj.find(k);
      if (it != obj.end() && it->is_number()) return it->get<double>();
    }
    return std::nullopt;
  };
  if (const auto v = sc->find("verification"); v != sc->end() && v->is_object()) {
    if (const auto ms = number(*v, {"staleness_ms"})) {
      o.staleness_ns = static_cast<std::int64_t>(*ms * 1e6);
    }
    o.require_echo = v->value("require_application_number_echo", true);
    o.check_digest = v->value("check_digest", true);
  }
  if (const auto t = sc->find("thresholds"); t != sc->end() && t->is_object()) {
    if (const auto n = number(*t, {"min_overlapping_requests"}); n && *n > 0) {
      o.min_overlaps = static_cast<std::uint64_t>(*n);
    }
    if (const auto n = number(*t, {"min_update_overlaps"}); n && *n > 0) {
      o.min_update_overlaps = static_cast<std::uint64_t>(*n);
    }
    if (const auto n = number(*t, {"max_findings"}))
      o.max_findings = static_cast<std::uint64_t>(*n);
    if (const auto n = number(*t, {"min_answered"}))
      o.min_answered = static_cast<std::uint64_t>(*n);
    if (const auto n = number(*t, {"max_error_rate"})) o.max_error_rate = *n;
    if (const auto n = number(*t, {"max_p99_ms"})) o.max_p99_ms = *n;
  }
  return o;
}

// ---------------------------------------------------------------------------------------------

std::size_t latency_histogram::bucket_of(std::uint64_t us) {
  if (us < 64) return static_cast<std::size_t>(us);
  const int msb = 63 - __builtin_clzll(us);  // ≥ 6
  const int shift = msb - 6;
  const std::uint64_t mantissa = us >> shift;  // 64..127
  const std::size_t b =
      64 + static_cast<std::size_t>(shift) * 64 + static_cast<std::size_t>(mantissa - 64);
  return std::min(b, buckets - 1);
}

double latency_histogram::bucket_mid_us(std::size_t b) {
  if (b < 64) return static_cast<double>(b);
  const std::size_t shift = (b - 64) / 64;
  const std::size_t mantissa = 64 + (b - 64) % 64;
  const double lo = std::ldexp(static_cast<double>(mantissa), static_cast<int>(shift));
  const double width = std::ldexp(1.0, static_cast<int>(shift));
  return lo + width / 2;
}

void latency_histogram::add(std::int64_t ns) {
  const std::uint64_t us = ns <= 0 ? 0 : static_cast<std::uint64_t>(ns) / 1000;
  ++counts_[bucket_of(us)];
  ++count_;
  max_ns_ = std::max(max_ns_, ns);
}

void latency_histogram::merge(const latency_histogram& other) {
  for (std::size_t i = 0; i < buckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ns_ = std::max(max_ns_, other.max_ns_);
}

double latency_histogram::percentile_ms(double p) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets; ++i) {
    seen += counts_[i];
    if (seen >= std::max<std::uint64_t>(rank, 1)) {
      return std::min(bucket_mid_us(i) / 1000.0, max_ms());
    }
  }
  return max_ms();
}

// ---------------------------------------------------------------------------------------------

double binomial_upper_bound_95(std::uint64_t n, std::uint64_t k) {
  if (n == 0) return 1.0;
  if (k >= n) return 1.0;
  const double nd = static_cast<double>(n);
  if (k == 0) return 1.0 - std::pow(0.05, 1.0 / nd);
  // Clopper–Pearson: the p at which P(X ≤ k; n, p) = 0.05, by bisection on the CDF (log space).
  auto cdf = [&](double p) {
    const double lp = std::log(p);
    const double lq = std::log1p(-p);
    double sum = 0;
    for (std::uint64_t i = 0; i <= k; ++i) {
      const double id = static_cast<double>(i);
      const double lterm = std::lgamma(nd + 1) - std::lgamma(id + 1) - std::lgamma(nd - id + 1) +
                           id * lp + (nd - id) * lq;
      sum += std::exp(lterm);
    }
    return sum;
  };
  double lo = static_cast<double>(k) / nd;
  double hi = 1.0;
  for (int it = 0; it < 100; ++it) {
    const double mid = (lo + hi) / 2;
    if (cdf(mid) > 0.05)
      lo = mid;
    else
      hi = mid;
  }
  return hi;
}

}  // namespace kofu::verify
