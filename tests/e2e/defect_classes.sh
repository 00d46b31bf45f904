# Sourced by campaign.sh and matrix.sh: the finding classes each defect of kofu-mock causes
# (mock_server/DEFECTS.md, "what a victim sees"). A run with a defect detects it when its report
# has a finding of one of these classes.
declare -A EXPECT=(
  [timeout-partial-release]="WRONG_PERSON TAG_MISMATCH DUPLICATE"
  [reflection-race]="TORN PHANTOM"
  [linkage-overwrite]="WRONG_PERSON FOREIGN_DATA"
  [channel-slot]="WRONG_PERSON"
  [stale-index-after-update]="WRONG_PERSON"
  [init-omission]="WRONG_DOCUMENT"
  [spool-collision]="WRONG_PERSON TAG_MISMATCH DUPLICATE"
  [cancelled-seal]="NOT_ISSUABLE"
  [no-version-check]="TORN STALE"
  [page-interleave]="FOREIGN_DATA"
  [font-fallback]="PHANTOM"
)
