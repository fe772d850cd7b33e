#!/usr/bin/env bash
# Load run: SIPp callers against a release build of the engine on loopback.
#
#   benches/load_ivr.sh [rate_cps] [rate_seconds] [concurrent_calls] [hold_seconds]
#
# Phase 1 (rate): `rate_cps` new IVR calls per second for `rate_seconds`, each held 5 s;
#   reports sustained calls/s and failed calls.
# Phase 2 (concurrency): ramps to `concurrent_calls` calls, each held `hold_seconds` while the
#   engine plays the menu to every one of them; samples RTP packets/s from /metrics, and the
#   engine's CPU and RSS, and reports RSS per call over the idle baseline.
# Everything is bounded (SIPp -m and -timeout) and stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=${1:-300}
RATE_SECS=${2:-30}
CONC=${3:-2000}
HOLD=${4:-40}

command -v sipp >/dev/null || { echo "sipp missing: apt-get install sip-tester" >&2; exit 2; }
cargo build --release --quiet
work=$(mktemp -d)
trap 'kill "$ENGINE" 2>/dev/null || true; wait "$ENGINE" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/config"
ln -s "$PWD/ivr-menus" "$work/ivr-menus"
for f in config/*; do [ "$f" = config/hotline.toml ] || ln -s "$PWD/$f" "$work/$f"; done
cat > "$work/config/hotline.toml" <<CONF
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

cpu_ticks() { awk '{print $14+$15}' /proc/$ENGINE/stat; }
rss_kib() { awk '/VmRSS/ {print $2}' /proc/$ENGINE/status; }
metric() { curl -s "http://$HTTP/metrics" | awk -v m="$1" '$1==m {print $2}'; }
sipp_stat() { # name, file: the cumulative value of a SIPp -trace_stat CSV column
  python3 - "$1" "$2" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[2]), delimiter=';'))
i = rows[0].index(sys.argv[1])
print(rows[-1][i])
PY
}

echo "machine: $(nproc) cores, $(uname -r); engine pid $ENGINE; sip $SIP"
sleep 1
BASE_RSS=$(rss_kib)
echo "idle engine RSS: ${BASE_RSS} KiB"

# ---- phase 1: call rate
T0=$(date +%s.%N); C0=$(cpu_ticks)
TOTAL=$((RATE * RATE_SECS))
sipp "$SIP" -sf tests/sipp/uac_call.xml -s 12345 -i 127.0.0.1 -p 0 -mp 40000 \
  -r "$RATE" -rp 1000 -m "$TOTAL" -l $((RATE * 8)) -d 5000 \
  -nostdin -timeout $((RATE_SECS + 60))s -timeout_error -max_socket 100000 \
  -trace_stat -stf "$work/rate.csv" -fd 1 > "$work/sipp-rate.log" 2>&1 || true
T1=$(date +%s.%N); C1=$(cpu_ticks)
OK=$(sipp_stat SuccessfulCall\(C\) "$work/rate.csv")
FAIL=$(sipp_stat FailedCall\(C\) "$work/rate.csv")
ELAPSED=$(python3 -c "print(f'{$T1-$T0:.1f}')")
CPS=$(python3 -c "print(f'{$OK/($T1-$T0-5):.0f}')")
CPU1=$(python3 -c "print(f'{100*($C1-$C0)/$HZ/($T1-$T0):.0f}')")
echo "phase 1: $OK calls ok, $FAIL failed, in ${ELAPSED}s (each held 5 s) -> ~${CPS} calls/s sustained; engine CPU ${CPU1}% of one core"

# ---- phase 2: concurrent calls with paced RTP
RAMP=$((CONC / 10 > 0 ? CONC / 10 : 1))
sipp "$SIP" -sf tests/sipp/uac_call.xml -s 12345 -i 127.0.0.1 -p 0 -mp 40000 \
  -r 200 -m "$CONC" -l "$CONC" -d $((HOLD * 1000)) \
  -nostdin -timeout $((HOLD + 120))s -timeout_error -max_socket 100000 \
  -trace_stat -stf "$work/conc.csv" -fd 1 > "$work/sipp-conc.log" 2>&1 &
SIPP=$!
# Wait for the ramp (CONC / 200 s) plus a margin, then measure for 10 s at full load.
sleep $((CONC / 200 + 3))
LIVE=$(curl -s -H "Authorization: Bearer demo-supervisor" "http://$HTTP/api/calls" | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
S0=$(metric hotline_rtp_packets_sent_total); L0=$(metric hotline_rtp_packets_late_total)
K0=$(metric hotline_rtp_frames_skipped_total); C0=$(cpu_ticks); T0=$(date +%s.%N)
sleep 10
S1=$(metric hotline_rtp_packets_sent_total); L1=$(metric hotline_rtp_packets_late_total)
K1=$(metric hotline_rtp_frames_skipped_total); C1=$(cpu_ticks); T1=$(date +%s.%N)
RSS=$(rss_kib)
wait $SIPP || true
OK2=$(sipp_stat SuccessfulCall\(C\) "$work/conc.csv")
FAIL2=$(sipp_stat FailedCall\(C\) "$work/conc.csv")
python3 - <<PY
dt = $T1 - $T0
pps = ($S1 - $S0) / dt
print(f"phase 2: {$LIVE} live calls; RTP sent {pps:.0f} packets/s = {pps/max($LIVE,1):.1f} per call; "
      f"late {$L1-$L0}, skipped {$K1-$K0} in {dt:.1f}s; engine CPU {100*($C1-$C0)/$HZ/dt:.0f}% of one core")
print(f"phase 2: RSS {$RSS} KiB at load = {($RSS-$BASE_RSS)/max($LIVE,1):.1f} KiB per call over the idle {$BASE_RSS} KiB")
print(f"phase 2: {$OK2} calls ok, {$FAIL2} failed")
PY
