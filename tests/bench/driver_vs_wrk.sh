#!/usr/bin/env bash
# Speed of the load driver against wrk (issue 4, "Speed and memory"). Not a test: prints figures.
#
#   tests/bench/driver_vs_wrk.sh BUILD_DIR [SECONDS] [CONNECTIONS]
#
# 1. starts one kofu-mock (no defects) on 127.0.0.1 with a generated population;
# 2. closed model: wrk, then `kofu run` (history on, bodies kept), same connection count, same
#    request (POST /v1/issue, juminhyo, konbini) — prints both rates and their ratio (goal ≥ 0.8);
# 3. open model at 50% of wrk's rate: the rate `kofu run` held (goal within 1%), its p50/p99
#    service time, and the server's own latency histogram (kofu-mock /metrics) as the independent
#    measurement, plus p50/p99 recomputed from the history's raw timestamps;
# 4. memory: kofu's peak RSS in each run (/usr/bin/time -v when present).
# Traffic goes to 127.0.0.1 only; every process started here is stopped by its PID.
set -euo pipefail
BUILD=${1:?usage: driver_vs_wrk.sh BUILD_DIR [SECONDS] [CONNECTIONS]}
SECS=${2:-10}
CONNS=${3:-32}
KOFU=$BUILD/harness/kofu
MOCK=$BUILD/mock_server/kofu-mock
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)"; exit 2; }
WORK=$(mktemp -d)
MOCK_PID=
cleanup() { [[ -n $MOCK_PID ]] && kill "$MOCK_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

"$KOFU" population generate --residents 10000 --seed 7 --out "$WORK/pop.jsonl" >/dev/null
"$MOCK" --population "$WORK/pop.jsonl" --listen 127.0.0.1:0 >"$WORK/mock.out" 2>"$WORK/mock.err" &
MOCK_PID=$!
for _ in $(seq 100); do grep -q listening "$WORK/mock.out" 2>/dev/null && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$WORK/mock.out" | head -1)
# wrk spreads its requests over the residents too (one resident only would measure lock contention).
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
serials = [json.loads(l)["card_serial"] for l in open(f"{work}/pop.jsonl")]
open(f"{work}/serials.lua", "w").write("serials = {" + ",".join(f'"{s}"' for s in serials) + "}\n")
PY
echo "kofu-mock $URL (pid $MOCK_PID), $SECS s per run, $CONNS connections, $(nproc) cores"

cat "$WORK/serials.lua" >"$WORK/issue.lua"
cat >>"$WORK/issue.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"application_number":"WRK-%d-%d","channel":"konbini","certificate_type":"juminhyo","subject":{"card_serial":"%s"}}', math.random(1, 1000000000), n, serials[math.random(#serials)])
  return wrk.format(nil, "/v1/issue", nil, body)
end
LUA
WRK_OUT=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$WORK/issue.lua" "$URL")
WRK_RATE=$(echo "$WRK_OUT" | awk '/Requests\/sec/ {print $2}')
echo "$WRK_OUT" | grep -E "Non-2xx|Socket errors" || true
echo "wrk closed:  $WRK_RATE req/s"
echo "$WRK_OUT" | sed -n '/Latency Distribution/,/99%/p'

scenario() {  # $1 model json
  cat <<JSON
{"name": "bench", "target": {"kind": "urls", "urls": ["$URL"]}, "population": {"file": "$WORK/pop.jsonl"},
 "load": {"connections": $CONNS, "timeout_ms": 10000},
 "phases": [$1],
 "mix": {"certificate_types": {"juminhyo": 1}, "channels": {"konbini": 1}, "household_scope_share": 0,
         "honseki_share": 0, "zokugara_share": 0, "mynumber_share": 0},
 "concentration": {"hot_share": 0, "group_share": 0}, "updates": {"rate": 0},
 "thresholds": {"max_error_rate": 1}}
JSON
}
TIMEV=""; [[ -x /usr/bin/time ]] && TIMEV="/usr/bin/time -v"

scenario "{\"duration_s\": $SECS, \"model\": \"closed\", \"users\": $CONNS}" >"$WORK/closed.json"
$TIMEV "$KOFU" run "$WORK/closed.json" --out "$WORK/closed" --quiet ${KOFU_RUN_FLAGS:-} >"$WORK/closed.out" 2>"$WORK/closed.err" || true
KOFU_RATE=$(python3 -c "import json; s=json.load(open('$WORK/closed/run.json')); print(round(s['sent']/$SECS,1))")
python3 -c "import json; s=json.load(open('$WORK/closed/run.json')); print('  kofu outcomes:', {k: s[k] for k in ('ok','retry','refused','errors','timeouts')})"
echo "kofu closed: $KOFU_RATE req/s (history $(du -h "$WORK/closed/history.jsonl" | cut -f1)), ratio $(python3 -c "print(round($KOFU_RATE/$WRK_RATE,3))")"
grep -h "Maximum resident" "$WORK/closed.err" || true

RATE=$(python3 -c "print(int($WRK_RATE*0.5))")
curl -s "$URL/metrics" >"$WORK/metrics.before"
scenario "{\"duration_s\": $SECS, \"rate\": $RATE}" >"$WORK/open.json"
$TIMEV "$KOFU" run "$WORK/open.json" --out "$WORK/open" --quiet ${KOFU_RUN_FLAGS:-} >"$WORK/open.out" 2>"$WORK/open.err" || true
curl -s "$URL/metrics" >"$WORK/metrics.after"
grep -h "Maximum resident" "$WORK/open.err" || true
python3 - "$WORK" "$RATE" "$SECS" <<'PY'
import json, sys, re, collections
work, rate, secs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
s = json.load(open(f"{work}/open/run.json"))
inv, lat = {}, []
for line in open(f"{work}/open/history.jsonl"):
    e = json.loads(line)
    if e["type"] == "invoke": inv[e["id"]] = e["t"]
    elif e["type"] == "complete" and e["id"] in inv: lat.append((e["t"] - inv[e["id"]]) / 1e6)
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))]
print(f"kofu open:   asked {rate:.0f}/s, scheduled {s['scheduled']/secs:.1f}/s, sent {s['sent']/secs:.1f}/s "
      f"({100*(s['sent']/secs-rate)/rate:+.2f}%), late {s['late']}, dropped {s['dropped']}")
print(f"  kofu service time    p50 {s['service_time_ms']['p50']:.3f} ms  p99 {s['service_time_ms']['p99']:.3f} ms"
      f"  (latency from intended: p50 {s['latency_ms']['p50']:.3f} p99 {s['latency_ms']['p99']:.3f})")
print(f"  history timestamps   p50 {pct(50):.3f} ms  p99 {pct(99):.3f} ms  (n={len(lat)})")
def buckets(path):
    b = collections.OrderedDict()
    for l in open(path):
        m = re.match(r'kofu_mock_request_duration_seconds_bucket\{endpoint="(?:/v1/)?issue",le="([^"]+)"\} (\d+)', l)
        if m: b[m.group(1)] = int(m.group(2))
    return b
before, after = buckets(f"{work}/metrics.before"), buckets(f"{work}/metrics.after")
if after:
    d = [(le, after[le] - before.get(le, 0)) for le in after]
    total = d[-1][1]
    def q(p):
        for le, c in d:
            if c >= p / 100 * total: return le
    print(f"  kofu-mock /metrics   p50 ≤ {q(50)} s  p99 ≤ {q(99)} s  (server-side, bucket bounds, n={total})")
else:
    print("  kofu-mock /metrics: no issue histogram found")
PY
