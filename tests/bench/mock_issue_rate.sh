#!/usr/bin/env bash
# kofu-mock's POST /v1/issue rate against a bare Beast server answering a fixed JSON body, side by
# side in one run (DESIGN §4 speed goal: kofu-mock ≥ 0.5× the bare server). Rounds alternate
# bare → mock so that machine noise hits both alike; the ratio uses the sums over all rounds.
#
#   tests/bench/mock_issue_rate.sh BUILD_DIR [POPULATION_FILE]
#
# Env: ROUNDS (3), DURATION (5s), CONNECTIONS (32), WRK_THREADS (1), SERVER_THREADS (2),
#      RESIDENTS (2000, when the population is generated with `kofu population generate`).
# Needs wrk and python3. Starts both servers on 127.0.0.1:0 and stops them by PID on exit.
set -euo pipefail

build=${1:?usage: mock_issue_rate.sh BUILD_DIR [POPULATION_FILE]}
rounds=${ROUNDS:-3}
duration=${DURATION:-5s}
connections=${CONNECTIONS:-32}
wrk_threads=${WRK_THREADS:-1}
server_threads=${SERVER_THREADS:-2}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

population=${2:-}
if [[ -z $population ]]; then
  population=$work/pop.jsonl
  "$build/harness/kofu" population generate --residents "${RESIDENTS:-2000}" --seed 1 --out "$population"
fi

# Card serials of active residents, for the request rotation.
python3 - "$population" > "$work/cards.lua" <<'PY'
import json, sys
cards = [r["card_serial"] for r in map(json.loads, open(sys.argv[1], encoding="utf-8"))
         if r["status"] == "active"]
print("cards = {" + ",".join('"%s"' % c for c in cards) + "}")
PY
cat > "$work/issue.lua" <<LUA
dofile("$work/cards.lua")
-- Requests are formatted once, up front: a Lua request() that formats every request would make wrk
-- itself the bottleneck on a small machine. Application numbers repeat after #cards requests.
local requests = {}
local counter = 0
init = function(args)
  for i, card in ipairs(cards) do
    local body = string.format('{"application_number":"BENCH-%d","channel":"konbini",' ..
        '"certificate_type":"juminhyo","subject":{"card_serial":"%s"},' ..
        '"options":{"scope":"individual","zokugara":true}}', i, card)
    requests[i] = wrk.format("POST", "/v1/issue", {["Content-Type"] = "application/json"}, body)
  end
end
request = function()
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end
done = function(summary, latency, requests)
  local non2xx = (summary.errors.status or 0)
  io.write(string.format("RESULT requests=%d non2xx=%d seconds=%.3f p50_us=%d p99_us=%d\n",
      summary.requests, non2xx, summary.duration / 1e6,
      latency:percentile(50), latency:percentile(99)))
end
LUA

start() {  # start NAME CMD... ; sets PORT
  local name=$1; shift
  "$@" > "$work/$name.out" 2> "$work/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do
    if [[ -s $work/$name.out ]]; then break; fi
    sleep 0.1
  done
  PORT=$(head -1 "$work/$name.out" | sed 's/.*://')
}

start mock "$build/mock_server/kofu-mock" --population "$population" --threads "$server_threads"
mock_port=$PORT
bytes=$(curl -s -X POST -H 'Content-Type: application/json' \
  -d "{\"application_number\":\"SIZE\",\"channel\":\"konbini\",\"certificate_type\":\"juminhyo\",\"subject\":{\"card_serial\":\"$(python3 -c "import json,sys; print(next(r['card_serial'] for r in map(json.loads, open(sys.argv[1])) if r['status']=='active'))" "$population")\"}}" \
  "http://127.0.0.1:$mock_port/v1/issue" | wc -c)
start bare "$build/mock_server/kofu_mock_bare_server" --threads "$server_threads" --body-bytes "$bytes"
bare_port=$PORT
echo "kofu-mock answer size: $bytes bytes; the bare server answers a fixed body of the same size"
echo "wrk -t$wrk_threads -c$connections -d$duration, servers with $server_threads I/O threads, $rounds rounds"

run() {  # run PORT -> "requests seconds non2xx p50 p99"
  wrk -t"$wrk_threads" -c"$connections" -d"$duration" -s "$work/issue.lua" "http://127.0.0.1:$1" \
    | awk '/^RESULT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                       print v["requests"], v["seconds"], v["non2xx"], v["p50_us"], v["p99_us"] }'
}

total_bare=0; total_mock=0; secs_bare=0; secs_mock=0
for round in $(seq "$rounds"); do
  read -r rb sb nb pb qb < <(run "$bare_port")
  read -r rm sm nm pm qm < <(run "$mock_port")
  printf 'round %d: bare %8.0f req/s (p50 %d us, p99 %d us, non-2xx %d) | kofu-mock %8.0f req/s (p50 %d us, p99 %d us, non-2xx %d) | ratio %.2f\n' \
    "$round" "$(echo "$rb / $sb" | bc -l)" "$pb" "$qb" "$nb" "$(echo "$rm / $sm" | bc -l)" "$pm" "$qm" "$nm" \
    "$(echo "($rm / $sm) / ($rb / $sb)" | bc -l)"
  total_bare=$((total_bare + rb)); total_mock=$((total_mock + rm))
  secs_bare=$(echo "$secs_bare + $sb" | bc -l); secs_mock=$(echo "$secs_mock + $sm" | bc -l)
done
printf 'overall: bare %.0f req/s, kofu-mock %.0f req/s, kofu-mock/bare = %.2f (target >= 0.50)\n' \
  "$(echo "$total_bare / $secs_bare" | bc -l)" "$(echo "$total_mock / $secs_mock" | bc -l)" \
  "$(echo "($total_mock / $secs_mock) / ($total_bare / $secs_bare)" | bc -l)"
