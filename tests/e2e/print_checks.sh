# shellcheck shell=bash
# Sourced by print_e2e.sh, campaign.sh and matrix.sh: what a run against a print-path defect of
# kofu-mock (mock_server/DEFECTS.md, `--print-format pdf`) must show beyond a finding of its class.
#
# print_defect_problem DEFECT REPORT_JSON: prints why the report does not show the defect as it
# must, nothing when it does (and for a defect that is not a print-path one).
#   page-interleave: a FOREIGN_DATA finding that names the page ("page N…") and the victim.
#   font-fallback: a PHANTOM naming the substituted glyph ("… printed as …", "U+… dropped"), and
#   no FOREIGN_DATA or WRONG_PERSON: a folded name is nobody else's.
# The FOREIGN_DATA findings of a report that name a page and a victim (jq).
PAGE_FINDINGS='[.findings[] | select(.kind == "FOREIGN_DATA") |
  select(any(.evidence.diff[]; .path | test("^page [0-9]+"))) | select(.victim_resident != null)]'

print_defect_problem() {
  local defect=$1 report=$2
  case $defect in
    page-interleave)
      jq -e "$PAGE_FINDINGS | length > 0" "$report" >/dev/null ||
        echo "no FOREIGN_DATA that names a page and a victim"
      ;;
    font-fallback)
      jq -e '[.findings[] | select(.kind == "PHANTOM") | .evidence.diff[] |
        select(.source | test("printed as|dropped"))] | length > 0' "$report" >/dev/null ||
        echo "no PHANTOM naming a substituted glyph"
      jq -e '.findings_by_kind.FOREIGN_DATA == 0 and .findings_by_kind.WRONG_PERSON == 0' \
        "$report" >/dev/null ||
        echo "a fold attributed to another resident: $(jq -c '[.findings[] |
          select(.kind == "FOREIGN_DATA" or .kind == "WRONG_PERSON") | .evidence.diff[0]][0]' "$report")"
      ;;
  esac
}
