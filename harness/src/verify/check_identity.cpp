// Who is printed on a certificate: whose record a printed person carries (WRONG_PERSON), the
// 世帯主 printed for a person, and the members of the subject's 世帯 or 戸籍 a certificate must and
// may print (FOREIGN_DATA, WRONG_DOCUMENT).

#include "checker_internal.hpp"
#include "kofu/verify/glyph_substitution.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace kofu::verify {

using detail::display_name;
using detail::type_spec;
using detail::version_ref;

namespace {

using population::resident;

}  // namespace

// A resident other than p whose record the printed person carries in two or more identifying
// fields that p's record never held: then the person is that resident, whatever resident_id
// says. Names are not unique, so a name alone never decides; and p's own name with glyphs a
// print path could not draw substituted is p's (check_person judges it), never a namesake's.
std::optional<std::uint32_t> request_checker::whose_person(const printed_person& x,
                                                           std::uint32_t p) const {
  const auto& ptl = m_.timeline(p);
  auto p_ever = [&](auto&& equal) {
    return std::any_of(ptl.begin(), ptl.end(),
                       [&](const resident_state& s) { return equal(s.record); });
  };
  const std::string printed_name = to_text(x.name);
  if (p_ever([&](const resident& r) {
        return r.name == x.name || glyph_substitution(printed_name, to_text(r.name));
      })) {
    return std::nullopt;
  }
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
  const std::string path = fmt::format("persons[{}].household_head", index);
  // The head's name with glyphs a print path could not draw substituted: PHANTOM naming them,
  // never another household's head who carries the folded spelling.
  for (const std::string& head : allowed) {
    if (auto substitution = glyph_substitution(printed, head)) {
      add(finding_kind::phantom, {path, printed, head, std::move(*substitution)});
      return;
    }
  }
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

}  // namespace kofu::verify
