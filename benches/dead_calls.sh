#!/usr/bin/env bash
# Issue 12, item 2: callers who vanish after INVITE+ACK (no RTP ever) must not keep the
# hotline full. SIPp places N such calls that fill the RTP port range exactly (the callers'
# share: the range minus rtp.agent_reserve), then waits for the engine's BYE to each; the
# run reports how long the last BYE took after the last call was answered, the calls ended
# with `media_timeout`, and whether a new call is answered afterwards.
#
#   benches/dead_calls.sh [calls] [media_timeout_s]       (defaults: 500 calls, 5 s)
#   BIN=target/debug/hotline benches/dead_calls.sh         (skip the release build)
#
# Bounded: SIPp -m N and -timeout; loopback only; the engine is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-500}
TIMEOUT=${2:-5}
RESERVE=16
BIN=${BIN:-}

command -v sipp >/dev/null || { echo "sipp missing: apt-get install sip-tester" >&2; exit 2; }
if [ -z "$BIN" ]; then cargo build --release --quiet; BIN=target/release/hotline; fi
work=$(mktemp -d)
trap 'kill "$ENGINE" 2>/dev/null || true; wait "$ENGINE" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/config"
ln -s "$PWD/ivr-menus" "$work/ivr-menus"
for f in config/*; do [ "$f" = config/hotline.toml ] || ln -s "$PWD/$f" "$work/$f"; done
# Exactly N ports for callers plus the agents' reserve.
PORT_MAX=$((32000 + 2 * (N + RESERVE - 1)))
# One SIPp source places every call: its per-source set-up limit is off, so the ports run out.
cat > "$work/config/hotline.toml" <<CONF
[sip]
max_setup_per_source = 0
[rtp]
port_min = 32000
port_max = $PORT_MAX
agent_reserve = $RESERVE
relatch_after = "1s"
media_timeout = "${TIMEOUT}s"
CONF
RUST_LOG=warn "$BIN" serve --config "$work/config/hotline.toml" \
  --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --data-dir "$work/data" > "$work/out" 2> "$work/err" &
ENGINE=$!
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$work/out" || { echo "engine did not start:" >&2; cat "$work/err" >&2; exit 1; }
SIP=$(grep -o 'sip=[0-9.:]*' "$work/out" | cut -d= -f2)
HTTP=$(grep -o 'http=[0-9.:]*' "$work/out" | cut -d= -f2)
metric() { curl -s "http://$HTTP/metrics" | awk -v m="$1" '$1==m {print $2}'; }
sipp_stat() {
  python3 - "$1" "$2" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[2]), delimiter=';'))
i = rows[0].index(sys.argv[1])
print(rows[-1][i])
PY
}

echo "machine: $(nproc) cores; engine $BIN pid $ENGINE; $N dead calls, rtp.media_timeout ${TIMEOUT}s"
T0=$(date +%s.%N)
sipp "$SIP" -sf tests/sipp/uac_wait_bye.xml -s 12345 -i 127.0.0.1 -p 0 -mp 40000 \
  -r 200 -m "$N" -l "$N" -nostdin -timeout $((TIMEOUT + 60))s -timeout_error -max_socket 100000 \
  -trace_stat -stf "$work/dead.csv" -fd 1 > "$work/sipp.log" 2>&1 &
SIPP=$!
# While they are all up (answered, silent), the range is full: a new caller gets 503.
sleep $((N / 200 + 1))
LIVE=$(curl -s -H "Authorization: Bearer demo-supervisor" "http://$HTTP/api/calls" | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
FULL=ok
sipp "$SIP" -sf tests/sipp/uac_call.xml -s 12345 -i 127.0.0.1 -p 0 -mp 45000 -m 1 -d 1000 \
  -nostdin -timeout 10s -timeout_error > "$work/probe1.log" 2>&1 || FULL=refused
wait $SIPP || true
T1=$(date +%s.%N)
OK=$(sipp_stat SuccessfulCall\(C\) "$work/dead.csv")
FAIL=$(sipp_stat FailedCall\(C\) "$work/dead.csv")
ENDED=$(curl -s "http://$HTTP/metrics" | awk '$1=="hotline_calls_ended_total{outcome=\"media_timeout\"}" {print $2}')
AFTER=refused
sipp "$SIP" -sf tests/sipp/uac_call.xml -s 12345 -i 127.0.0.1 -p 0 -mp 45000 -m 1 -d 1000 \
  -nostdin -timeout 10s -timeout_error > "$work/probe2.log" 2>&1 && AFTER=answered
python3 - <<PY
print(f"dead calls: {$LIVE} live while the range was full; a new call then: $FULL")
print(f"dead calls: SIPp saw {$OK} of $N calls ended by the engine's BYE ({$FAIL} failed) "
      f"in {$T1-$T0:.1f}s from the first INVITE (media_timeout ${TIMEOUT}s)")
print(f"dead calls: {int(float('${ENDED:-0}'))} records with outcome media_timeout; a new call afterwards: $AFTER")
PY
