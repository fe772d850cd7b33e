#!/usr/bin/env bash
# Load run: the internet channel's intake (C13) with calls running. A release engine on
# loopback; SIPp holds CALLS callers in the IVR and queues the whole time; the five shipped
# agents are ready (web capacity 2 each); a connector (role `channel`, the way an app or
# public-account backend hands requests in) posts COUNT requests over CONC keep-alive
# connections. Each 201 is sent after the ticket's commit (SQLite WAL, synchronous=FULL) and
# the request is then a web work item in the ACD.
#
#   benches/load_web.sh [count] [concurrency] [calls]      (defaults 20000 64 300)
#
# Reports: requests created per second and latency (p50/p99/max), the tickets the store
# holds for the channel afterwards (must equal the 201s: durable), the web items the ACD
# holds (waiting + offered + on desks: routed), calls still up at the end (SIPp), engine CPU.
# Everything is bounded (the client's count and time limit, SIPp -m and -timeout) and stays
# on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${1:-20000}
CONC=${2:-64}
CALLS=${3:-300}
LIMIT_S=$((COUNT / 50 + 30)) # the client stops by then even at 50 requests/s

command -v sipp >/dev/null || { echo "sipp missing: apt-get install sip-tester" >&2; exit 2; }
cargo build --release --quiet
work=$(mktemp -d)
trap 'kill "$SIPP" 2>/dev/null || true; kill "$ENGINE" 2>/dev/null || true; wait "$ENGINE" 2>/dev/null || true; rm -rf "$work"' EXIT
SIPP=""
mkdir -p "$work/config"
ln -s "$PWD/ivr-menus" "$work/ivr-menus"
for f in config/*; do
  [ "$f" = config/hotline.toml ] || ln -s "$PWD/$f" "$work/$f"
done
cat > "$work/config/hotline.toml" <<'CONF'
[rtp]
port_min = 20000
port_max = 29998
CONF
RUST_LOG=warn ./target/release/hotline serve --config "$work/config/hotline.toml" \
  --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --data-dir "$work/data" > "$work/out" 2> "$work/err" &
ENGINE=$!
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$work/out" || { echo "engine did not start:" >&2; cat "$work/err" >&2; exit 1; }
SIP=$(grep -o 'sip=[0-9.:]*' "$work/out" | cut -d= -f2)
HTTP=$(grep -o 'http=[0-9.:]*' "$work/out" | cut -d= -f2)
HZ=$(getconf CLK_TCK)
SUP="Authorization: Bearer demo-supervisor"
cpu_ticks() { awk '{print $14+$15}' /proc/$ENGINE/stat; }
echo "machine: $(nproc) cores, $(uname -r); engine pid $ENGINE; sip $SIP; http $HTTP"

# Calls running: CALLS callers in the IVR and queues for the whole run (nobody answers them:
# the agents' phones are not registered, so only web items reach the agents).
HOLD_MS=$(((LIMIT_S + 20) * 1000))
sipp "$SIP" -sf tests/sipp/uac_call.xml -s 12345 -i 127.0.0.1 -p 0 -mp 40000 \
  -r 100 -m "$CALLS" -l "$CALLS" -d "$HOLD_MS" \
  -nostdin -timeout $((LIMIT_S + 60))s -timeout_error -max_socket 100000 \
  -trace_stat -stf "$work/calls.csv" -fd 1 > "$work/sipp.log" 2>&1 &
SIPP=$!
for a in 1001 1002 1003 1004 1005; do
  curl -sf -X POST -H "$SUP" -H 'Content-Type: application/json' \
    -d '{"state":"ready"}' "http://$HTTP/api/agents/$a/state" > /dev/null
done
sleep $((CALLS / 100 + 2))
LIVE0=$(curl -s -H "$SUP" "http://$HTTP/api/calls" | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")

C0=$(cpu_ticks); T0=$(date +%s.%N)
RESULT=$(python3 benches/load/web_client.py "$HTTP" demo-channel-app "$COUNT" "$CONC" "$LIMIT_S" app)
C1=$(cpu_ticks); T1=$(date +%s.%N)
LIVE1=$(curl -s -H "$SUP" "http://$HTTP/api/calls" | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
BOARD=$(curl -s -H "$SUP" "http://$HTTP/api/wallboard")
REPORT=$(curl -s -H "$SUP" "http://$HTTP/api/reports")
kill "$SIPP" 2>/dev/null || true
python3 - "$RESULT" "$BOARD" "$REPORT" <<PY
import json, sys
r, b, rep = (json.loads(a) for a in sys.argv[1:4])
stored = dict((k, v) for k, v in rep.get("by_channel", [])).get("app", 0)
routed = b.get("web_waiting", 0) + b.get("web_offered", 0)
dt = $T1 - $T0
print(f"web intake: {r['created']} created of {r['sent']} sent in {r['seconds']} s = {r['created_per_s']}/s durable; "
      f"latency p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms; statuses {r['status']}")
print(f"store: {stored} tickets of channel app (durable 201s: {r['created']}); ACD: {routed} web items ({b.get('web_waiting')} waiting + {b.get('web_offered')} offered on the 5 desks)")
print(f"calls up: {$LIVE0} before, {$LIVE1} after; engine CPU {100*($C1-$C0)/$HZ/dt:.0f}% of one core during the intake")
PY
