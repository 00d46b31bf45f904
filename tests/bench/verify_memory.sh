#!/usr/bin/env bash
# Peak RSS and time of `kofu verify` on synthetic histories of growing length (issue 5: memory
# grows with residents and updates, not with requests). Writes a population and, for each
# request count, a history of correct 住民票 answers (canonical JSON with valid digests, about 8
# requests in flight, a move every 50 requests), then runs `kofu verify` under /usr/bin/time.
#
#   tests/bench/verify_memory.sh KOFU_BINARY [REQUESTS...]    (default 100000 400000)
#
# Other kofu binaries (e.g. an older build) can be compared on the same files:
#   KOFU_COMPARE=/path/to/old/kofu tests/bench/verify_memory.sh build/release/harness/kofu
# MOVE_EVERY=N sets the update rate (a move every N requests, default 50); MOVE_EVERY=0 writes no
# updates at all, so whatever still grows with the history's length grows with requests.
set -euo pipefail

kofu=${1:?usage: verify_memory.sh KOFU_BINARY [REQUESTS...]}
shift
counts=("${@:-100000 400000}")
[[ $# -eq 0 ]] && counts=(100000 400000)
residents=${RESIDENTS:-20000}
export MOVE_EVERY=${MOVE_EVERY:-50}
work=$(mktemp -d /tmp/kofu-verify-memory.XXXXXX)
trap 'rm -rf "$work"' EXIT

"$kofu" population generate --residents "$residents" --seed 1 --out "$work/population.jsonl" \
  >/dev/null

for n in "${counts[@]}"; do
  dir="$work/run-$n"
  mkdir -p "$dir"
  ln -s ../population.jsonl "$dir/population.jsonl"
  python3 - "$work/population.jsonl" "$n" >"$dir/history.jsonl" <<'PY'
import hashlib, json, os, sys
pop = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
n = int(sys.argv[2])
move_every = int(os.environ["MOVE_EVERY"])
head = {r["household_id"]: r["name"]["family_kanji"] + " " + r["name"]["given_kanji"]
        for r in pop if r["relationship"] == "世帯主"}
active = [r for r in pop if r["status"] == "active" and r["household_id"] in head]
dump = lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
out = sys.stdout
out.write(dump({"type": "header", "format": "kofu-history/1", "population": {"path": "population.jsonl"},
                "scenario": {}, "seed": 1}) + "\n")
t, uid, open_ = 1_000_000, 0, []
for i in range(n):
    t += 125_000
    while open_ and open_[0][2] <= t:
        rid, r, done = open_.pop(0)
        app = "KOFU-000001-%010d" % rid
        person = {"resident_id": r["resident_id"], "source_version": r["version"], "page": 1,
                  "name": r["name"], "birth_date": r["birth_date"], "sex": r["sex"],
                  "address": r["address"], "moved_in_date": r["moved_in_date"],
                  "household_head": head[r["household_id"]]}
        cert = {"type": "juminhyo", "serial": "C-1-%012d" % rid, "issued_at": "2026-11-22T05:30:00.123Z",
                "subject": {"resident_id": r["resident_id"], "card_serial": r["card_serial"]},
                "source_version": r["version"], "persons": [person]}
        canon = dump(cert)
        digest = hashlib.sha256((app + "\n" + canon).encode()).hexdigest()
        out.write('{"type":"complete","op":"issue","id":%d,"t":%d,"status":200,"outcome":"ok","body":'
                  '{"application_number":"%s","certificate":%s,"digest":"%s"}}\n' % (rid, done, app, canon, digest))
    r = active[(i * 7919) % len(active)]
    uid += 1
    if move_every > 0 and i % move_every == move_every - 1 and r["relationship"] != "世帯主":
        r["version"] += 1
        token = "M%09d" % i
        r["address"] = dict(r["address"], token=token, building="試験荘 " + token)
        out.write(dump({"type": "invoke", "op": "update", "id": uid, "t": t, "resident_id": r["resident_id"],
                        "change_id": r["version"], "version": r["version"], "kind": "move",
                        "fields": {"address": r["address"], "moved_in_date": r["moved_in_date"]}}) + "\n")
        out.write(dump({"type": "complete", "op": "update", "id": uid, "t": t + 1000, "status": 200,
                        "outcome": "ok", "version": r["version"]}) + "\n")
        t += 2000
        continue
    out.write('{"type":"invoke","op":"issue","id":%d,"t":%d,"worker":%d,"conn":%d,"application_number":'
              '"KOFU-000001-%010d","resident_id":"%s","card_serial":"%s","certificate_type":"juminhyo",'
              '"channel":"konbini","options":{"scope":"individual"}}\n'
              % (uid, t, uid % 4, uid % 64, uid, r["resident_id"], r["card_serial"]))
    open_.append((uid, dict(r), t + 1_000_000))
for rid, r, done in open_:
    pass  # left unanswered: the run was "killed"
out.write(dump({"type": "footer", "t": t + 2_000_000, "reason": "completed"}) + "\n")
PY
  lines=$(wc -l <"$dir/history.jsonl")
  bytes=$(stat -c %s "$dir/history.jsonl")
  for bin in "$kofu" ${KOFU_COMPARE:-}; do
    /usr/bin/time -f "%M %e %U" -o "$work/time" "$bin" verify "$dir" >"$work/out" || true
    read -r rss wall user <"$work/time"
    answered=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["answered"], r["verdict"], sum(r["findings_by_kind"].values()))' "$dir/report.json")
    printf '%s requests=%s lines=%s history_MB=%.0f peak_rss_MB=%.1f wall_s=%s user_s=%s answered/verdict/findings=%s\n' \
      "$bin" "$n" "$lines" "$(python3 -c "print($bytes / 1048576)")" "$(python3 -c "print($rss / 1024)")" \
      "$wall" "$user" "$answered"
  done
done
