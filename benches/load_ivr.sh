#!/usr/bin/env bash
# Load run: SIPp callers against a release build of the engine on loopback.
#
#   benches/load_ivr.sh [rate_cps] [rate_seconds] [concurrent_calls] [hold_seconds]
#
# Phase 1 (rate): `rate_cps` new IVR calls per second for `rate_seconds`, each held 5 s
#   (RATE_HOLD_MS=ms changes that);
#   reports sustained calls/s and failed calls.
# Phase 2 (concurrency): ramps to `concurrent_calls` calls, each held `hold_seconds` while the
#   engine plays the menu to every one of them; samples RTP packets/s from /metrics, and the
#   engine's CPU and RSS, and reports RSS per call over the idle baseline. The calls' SDP names
#   a probe (`rtp-probe`, benches/load/rtp_probe.rs) instead of SIPp's media port: it checks
#   pacing per stream on the receiving side over the same 10 s (gaps between consecutive
#   packets of each stream, p50/p99/p99.9, and packets later than 10 ms after their due
#   instant by the stream's RTP clock), from the kernel's receive times.
# The RTP range (RTP_PORT_MIN..RTP_PORT_MAX, even ports, default 10000..31998: 11,000 calls)
#   stays below the kernel's ephemeral ports (32768-) and SIPp's media port 40000.
# HOTLINE_BIN=path runs that engine binary instead of this tree's release build (before/after
#   in one sitting).
# PERF=1 also records the engine with `perf record -g` during those 10 s (perf.data and a
#   summary in $OUT, default target/load-ivr).
# Everything is bounded (SIPp -m and -timeout) and stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=${1:-300}
RATE_SECS=${2:-30}
CONC=${3:-2000}
HOLD=${4:-40}
# How long each phase-1 call stays (ms): RATE × this many calls receive paced RTP at once.
RATE_HOLD_MS=${RATE_HOLD_MS:-5000}

command -v sipp >/dev/null || { echo "sipp missing: apt-get install sip-tester" >&2; exit 2; }
cargo build --release --quiet --bin hotline --bin rtp-probe
# HOTLINE_BIN runs another build of the engine (e.g. the previous main's) with this script.
HOTLINE_BIN=${HOTLINE_BIN:-./target/release/hotline}
OUT=${OUT:-target/load-ivr}
rm -rf "$OUT/data"; mkdir -p "$OUT"
PROBE_PORT=${PROBE_PORT:-41000}
work=$(mktemp -d)
trap 'kill "$ENGINE" 2>/dev/null || true; wait "$ENGINE" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/config"
ln -s "$PWD/ivr-menus" "$work/ivr-menus"
for f in config/*; do [ "$f" = config/hotline.toml ] || ln -s "$PWD/$f" "$work/$f"; done
# SIPp plays the carrier's trunk: its SDP is trusted, so media flows from the ACK (a caller
# that is not a trunk gets media only at the source of its own first RTP packet, and these
# SIPp callers send none: phase 2 then measured 0 packets/s).
cat > "$work/config/hotline.toml" <<CONF
[sip]
trunks = ["127.0.0.1"]

[rtp]
port_min = ${RTP_PORT_MIN:-10000}
port_max = ${RTP_PORT_MAX:-31998}
CONF
RUST_LOG=warn "$HOTLINE_BIN" serve --config "$work/config/hotline.toml" \
  --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --data-dir "$OUT/data" > "$work/out" 2> "$OUT/engine.log" &
ENGINE=$!
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$work/out" || { echo "engine did not start:" >&2; cat "$OUT/engine.log" >&2; exit 1; }
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
  -r "$RATE" -rp 1000 -m "$TOTAL" -l $((RATE * 8)) -d "$RATE_HOLD_MS" \
  -nostdin -timeout $((RATE_SECS + 60))s -timeout_error -max_socket 100000 \
  -trace_stat -stf "$work/rate.csv" -fd 1 -trace_err -error_file "$OUT/sipp-rate-errors.log" \
  > "$work/sipp-rate.log" 2>&1 || true
T1=$(date +%s.%N); C1=$(cpu_ticks)
OK=$(sipp_stat SuccessfulCall\(C\) "$work/rate.csv")
FAIL=$(sipp_stat FailedCall\(C\) "$work/rate.csv")
ELAPSED=$(python3 -c "print(f'{$T1-$T0:.1f}')")
CPS=$(python3 -c "print(f'{$OK/($T1-$T0-$RATE_HOLD_MS/1000):.0f}')")
CPU1=$(python3 -c "print(f'{100*($C1-$C0)/$HZ/($T1-$T0):.0f}')")
echo "phase 1: $OK calls ok, $FAIL failed, in ${ELAPSED}s (each held $((RATE_HOLD_MS / 1000)) s) -> ~${CPS} calls/s sustained; engine CPU ${CPU1}% of one core"

# ---- phase 2: concurrent calls with paced RTP
RAMP=$((CONC / 10 > 0 ? CONC / 10 : 1))
# The callers' SDP names the probe's port; the probe reads through the ramp and measures the
# same 10 s window as the metrics below.
sed "s/m=audio \[media_port\]/m=audio $PROBE_PORT/" tests/sipp/uac_call.xml > "$work/uac_probe.xml"
# After the window it goes on answering (each stream a packet of silence every 5 s, or the
# engine hangs up on callers silent for rtp.media_timeout) until the calls end.
./target/release/rtp-probe "127.0.0.1:$PROBE_PORT" 10 $((CONC / 200 + 3)) "$HOLD" > "$work/probe.out" 2>&1 &
PROBE=$!
sipp "$SIP" -sf "$work/uac_probe.xml" -s 12345 -i 127.0.0.1 -p 0 -mp 40000 \
  -r 200 -m "$CONC" -l "$CONC" -d $((HOLD * 1000)) \
  -nostdin -timeout $((HOLD + 120))s -timeout_error -max_socket 100000 \
  -trace_stat -stf "$work/conc.csv" -fd 1 -trace_err -error_file "$OUT/sipp-conc-errors.log" \
  > "$work/sipp-conc.log" 2>&1 &
SIPP=$!
# Wait for the ramp (CONC / 200 s) plus a margin, then measure for 10 s at full load.
sleep $((CONC / 200 + 3))
LIVE=$(curl -s -H "Authorization: Bearer demo-supervisor" "http://$HTTP/api/calls" | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
S0=$(metric hotline_rtp_packets_sent_total); L0=$(metric hotline_rtp_packets_late_total)
K0=$(metric hotline_rtp_frames_skipped_total); C0=$(cpu_ticks); T0=$(date +%s.%N)
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "${PERF:-0}" = 1 ]; then
  perf record -g -p "$ENGINE" -o "$OUT/perf.data" -- sleep 10 > "$OUT/perf-record.log" 2>&1
else
  sleep 10
fi
S1=$(metric hotline_rtp_packets_sent_total); L1=$(metric hotline_rtp_packets_late_total)
K1=$(metric hotline_rtp_frames_skipped_total); C1=$(cpu_ticks); T1=$(date +%s.%N)
RSS=$(rss_kib)
wait $SIPP || true
kill $PROBE 2>/dev/null || true
wait $PROBE 2>/dev/null || true
OK2=$(sipp_stat SuccessfulCall\(C\) "$work/conc.csv")
FAIL2=$(sipp_stat FailedCall\(C\) "$work/conc.csv")
python3 - <<PY
dt = $T1 - $T0
pps = ($S1 - $S0) / dt
print(f"phase 2: {$LIVE} live calls; RTP sent {pps:.0f} packets/s = {pps/max($LIVE,1):.1f} per call; "
      f"late {$L1-$L0}, skipped {$K1-$K0} in {dt:.1f}s; engine CPU {100*($C1-$C0)/$HZ/dt:.0f}% of one core")
print(f"phase 2: RSS {$RSS} KiB at load = {($RSS-$BASE_RSS)/max($LIVE,1):.1f} KiB per call over the idle {$BASE_RSS} KiB")
print(f"phase 2: {$OK2} calls ok, {$FAIL2} failed; load average at the window {'$LOAD'}")
PY
sed 's/^/phase 2: /' "$work/probe.out"
if [ "${PERF:-0}" = 1 ]; then
  perf report -i "$OUT/perf.data" --no-children --sort dso,symbol --stdio -g none --percent-limit 0.5 2>/dev/null | grep -v '^#' | grep '%' | sed 's/  */ /g' | head -40 > "$OUT/perf-self.txt" || true
  perf report -i "$OUT/perf.data" --children --sort symbol --stdio -g none --percent-limit 2 2>/dev/null | grep -v '^#' | grep '%' | sed 's/  */ /g' | head -60 > "$OUT/perf-children.txt" || true
  echo "perf: $OUT/perf-self.txt, $OUT/perf-children.txt"
fi
