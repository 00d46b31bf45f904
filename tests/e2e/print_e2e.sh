#!/usr/bin/env bash
# End to end for PDF print data (issue 12): kofu runs against kofu-mock --print-format pdf (the
# embedded server, started so by `kofu run --print-format pdf`). A clean run must pass; with
# `page-interleave` the run must find FOREIGN_DATA that names a page and a victim resident, with
# the page kept as a PNG beside the PDF and every evidence file a finding references listed in
# manifest.json; with `font-fallback` it must find PHANTOM naming the substituted glyph, and no
# FOREIGN_DATA or WRONG_PERSON (a folded name is nobody else's). Usage: tests/e2e/print_e2e.sh BUILD_DIR [SECONDS] [reference|vendor-ja]
set -euo pipefail
build=${1:?usage: print_e2e.sh BUILD_DIR [SECONDS] [reference|vendor-ja]}
seconds=${2:-8}
dialect=${3:-reference}
root=$(cd "$(dirname "$0")/../.." && pwd)
kofu="$build/harness/kofu"
export KOFU_MOCK=${KOFU_MOCK:-$build/mock_server/kofu-mock}
# shellcheck source-path=SCRIPTDIR
source "$root/tests/e2e/print_checks.sh"
out=$(mktemp -d "${TMPDIR:-/tmp}/kofu-print-e2e.XXXXXX")
trap 'rm -rf "$out"' EXIT
scenario="$root/scenarios/catalogue/baseline.json"
[[ $dialect == vendor-ja ]] && scenario="$root/scenarios/demo-vendor-ja.json"

run() {  # name, extra args…; prints the exit code
  local name=$1
  shift
  set +e
  "$kofu" run "$scenario" --out "$out/$name" --duration "$seconds" --print-format pdf --quiet \
    --lang en "$@" >"$out/$name.log" 2>&1
  local rc=$?
  set -e
  echo "$rc"
}
fail() {
  echo "print_e2e: $*" >&2
  exit 1
}

# The catalogue scenario's thresholds (answered, overlap) are for its full length: a cut run is
# judged by its findings, which must be none.
rc=$(run clean)
[[ $rc == 0 || $rc == 1 ]] || { tail -20 "$out/clean.log" >&2; fail "the clean run exited $rc"; }
answered=$(jq -r '.answered' "$out/clean/report.json")
((answered > 100)) || fail "the clean run answered only $answered certificates"
jq -e '([.findings_by_kind[]] | add) == 0' "$out/clean/report.json" >/dev/null ||
  fail "the clean run has findings: $(jq -c .findings_by_kind "$out/clean/report.json")"
ls "$out/clean/print/"*.pdf >/dev/null || fail "the clean run kept no PDF"
echo "clean ($dialect): no finding in $answered PDF certificates"

rc=$(run interleave --defect page-interleave)
[[ $rc == 1 ]] || fail "page-interleave: exit $rc (want 1: findings)"
report="$out/interleave/report.json"
jq -e '.findings_by_kind.FOREIGN_DATA > 0' "$report" >/dev/null ||
  fail "page-interleave: no FOREIGN_DATA ($(jq -c .findings_by_kind "$report"))"
problem=$(print_defect_problem page-interleave "$report")
[[ -z $problem ]] || fail "page-interleave: $problem"
page_finding=$(jq -c "${PAGE_FINDINGS}[0]" "$report")
png=$(jq -r '.evidence.print.pages[0].png // empty' <<<"$page_finding")
[[ -n $png && -s "$out/interleave/$png" ]] || fail "page-interleave: the page is not kept as PNG"
# The evidence a finding references is vouched for by the manifest (size and SHA-256), and the
# folder verifies as written.
for file in $(jq -r '[.findings[].evidence.print // empty | .pdf // empty, (.pages // [] | .[].png // empty)] | unique | .[]' "$report"); do
  jq -e --arg f "$file" '.artifacts | any(.name == $f)' "$out/interleave/manifest.json" >/dev/null ||
    fail "page-interleave: $file, referenced by a finding, is not in manifest.json"
done
"$kofu" verify-report "$out/interleave" >"$out/verify-report.log" 2>&1 ||
  fail "page-interleave: kofu verify-report: $(cat "$out/verify-report.log")"
echo "page-interleave: $(jq -c .findings_by_kind "$report"); e.g. $(jq -r '[.evidence.diff[0].path, .victim_resident] | join(" from R")' <<<"$page_finding"), $png"

rc=$(run fallback --defect font-fallback)
[[ $rc == 1 ]] || fail "font-fallback: exit $rc (want 1: findings)"
report="$out/fallback/report.json"
problem=$(print_defect_problem font-fallback "$report")
[[ -z $problem ]] || fail "font-fallback: $problem ($(jq -c .findings_by_kind "$report"))"
echo "font-fallback: $(jq -c .findings_by_kind "$report"); e.g. $(jq -r '[.findings[] | select(.kind == "PHANTOM") | .evidence.diff[] | select(.source | test("printed as|dropped")) | .source][0]' "$report")"
