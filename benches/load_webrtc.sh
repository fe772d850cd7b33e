#!/usr/bin/env bash
# Load run: bridged and recorded calls to browser agents (issue 18). SIPp callers dial the
# hotline, press 0 (straight to a person), are queued and connected to agents whose phones
# are browsers: the headless load client `webrtc_agents` (an example of this package,
# benches/webrtc_agents/) registers every agent over SIP-over-WebSocket (/ws, digest), sets
# them ready over the HTTP API and answers each INVITE's WebRTC offer with its own str0m peer
# (full ICE against the engine's ICE-lite, DTLS-SRTP, PCMU or Opus). Both sides speak a
# continuous tone (400 Hz from the caller, 600 Hz from the agent) while the engine relays,
# transcodes (Opus) and records. The same shape as benches/load_bridged.sh, whose SIPp agents
# are plain RTP phones: run both at the same size to compare the cost per call.
#
#   benches/load_webrtc.sh [concurrent_calls] [hold_seconds] [agents] [calls_per_second]
#
# defaults: 200 calls, each held 60 s from the key press, 1.2 × calls agents, 20 calls/s.
# CODEC=opus: the agents answer Opus only (the engine transcodes); default pcmu.
# OPUS_COMPLEXITY=0..10: the engine's [rtp] opus_complexity for the run (default: the shipped 0).
# Set KEEP=1 to keep the work folder (config, data, recordings, logs) for a look after.
#
# Reports: peak calls talking at once (sampled from /metrics every second), failed calls on
# the callers' side and the agents' (the client's summary: calls answered, legs connected,
# DTLS handshake time from the 200 OK to connected, packets sent/received, packets lost and
# RTP time jumps on the way to the agent, the citizen's tone heard), engine CPU and RSS at
# full load, the set-up's CPU (the ramp), RTP packets/s, and for the recordings: count, valid
# stereo WAV, duration against talk time, lost frames (the engine's filled/dropped counters,
# sequence gaps on arrival, silent frames inside each channel's tone) and a sample with the
# caller's 400 Hz left and the agent's 600 Hz right. Everything is bounded (SIPp -m and
# -timeout, the client's --seconds, counted loops) and stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

CONC=${1:-200}
HOLD=${2:-60}
AGENTS=${3:-$((CONC + CONC / 5))}
RATE=${4:-20}
CODEC=${CODEC:-pcmu}
[ "$AGENTS" -ge "$CONC" ] || { echo "need at least as many agents ($AGENTS) as calls ($CONC)" >&2; exit 2; }
[ "$CONC" -le 2000 ] || { echo "at most 2000 calls here (the RTP range, the client's sockets)" >&2; exit 2; }
case "$CODEC" in pcmu | opus) ;; *) echo "CODEC=pcmu or CODEC=opus" >&2; exit 2 ;; esac
command -v sipp >/dev/null || { echo "sipp missing: apt-get install sip-tester" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl missing" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
cargo build --release --quiet --bin hotline --example webrtc_agents

work=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# ---- configuration: the shipped one, with generated agents and queues
mkdir -p "$work/config"
ln -s "$ROOT/ivr-menus" "$work/ivr-menus"
for f in config/*; do
  case "$f" in
    config/hotline.toml | config/agents.toml | config/queues.toml) ;;
    *) ln -s "$ROOT/$f" "$work/$f" ;;
  esac
done
cat > "$work/config/hotline.toml" <<CONF
[sip]
# Every browser agent of the run comes from 127.0.0.1 over its own WebSocket.
ws_max_connections = $((AGENTS + 100))
ws_max_per_source = $((AGENTS + 100))

[http]
max_connections = $((AGENTS + 200))
max_per_source = $((AGENTS + 200))

[rtp]
# Below the test suite's port leases (20000-32600): a load run beside a test run takes none
# of their ports (the engine would refuse their calls 503).
port_min = 10000
port_max = 19998
opus_complexity = ${OPUS_COMPLEXITY:-0}
CONF
python3 - "$work" "$AGENTS" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
with open(f"{work}/config/agents.toml", "w") as a:
    a.write('realm = "hotline"\n')
    for i in range(n):
        aid = str(20001 + i)
        a.write(f'\n[[agent]]\nid = "{aid}"\nname = "Load {aid}"\npassword = "load-{aid}"\n'
                'skills = [{ skill = "general", level = 5 }, { skill = "enterprise", level = 5 }]\n')
# Every queue the shipped IVR names (all served by the same agents here; the enterprise seat
# needs its own skill, rule C6); no wrap-up, so an agent is free again at once.
with open(f"{work}/config/queues.toml", "w") as q:
    for name in ["general", "enterprise", "dialect", "foreign", "sign", "high_frequency"]:
        skill = "enterprise" if name == "enterprise" else "general"
        q.write(f'[[queue]]\nname = "{name}"\nskill = "{skill}"\nwrap_up = "0s"\n\n')
PY
# Raw A-law audio for SIPp's rtp_stream: whole periods in 1 s, so the loops are seamless;
# the key 0 (941 + 1336 Hz) for 200 ms, then 200 ms of silence.
python3 - "$work" <<'PY'
import math, sys
def alaw(x):
    s = max(-32768, min(32767, int(x)))
    sign = 0x80 if s >= 0 else 0x00
    m = min((s if s >= 0 else -s - 1) >> 3, 0xFFF)
    if m < 32:
        code = m >> 1
    else:
        e = m.bit_length() - 5
        code = (e << 4) | ((m >> e) & 0x0F)
    return (code | sign) ^ 0x55
def write(name, samples):
    with open(f"{sys.argv[1]}/{name}", "wb") as f:
        f.write(bytes(alaw(v) for v in samples))
write("caller.alaw", [8000 * math.sin(2 * math.pi * 400 * t / 8000) for t in range(8000)])
write("dtmf0.alaw", [5000 * (math.sin(2 * math.pi * 941 * t / 8000) + math.sin(2 * math.pi * 1336 * t / 8000))
                     for t in range(1600)] + [0] * 1600)
PY

# ---- the engine
RUST_LOG=warn ./target/release/hotline serve --config "$work/config/hotline.toml" \
  --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --data-dir "$work/data" > "$work/out" 2> "$work/err" &
ENGINE=$!
PIDS+=("$ENGINE")
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$work/out" || { echo "engine did not start:" >&2; cat "$work/err" >&2; exit 1; }
SIP=$(grep -o 'sip=[0-9.:]*' "$work/out" | cut -d= -f2)
HTTP=$(grep -o 'http=[0-9.:]*' "$work/out" | cut -d= -f2)
HZ=$(getconf CLK_TCK)
AUTH="Authorization: Bearer demo-supervisor"

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$ENGINE/status"; }
metrics() { curl -s --max-time 5 "http://$HTTP/metrics"; }
metric() { awk -v m="$1" '$1==m {print $2}' "$2"; }
sipp_stat() { # column, file: the last value of a SIPp -trace_stat CSV column
  python3 - "$1" "$2" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[2]), delimiter=';'))
print(rows[-1][rows[0].index(sys.argv[1])] if len(rows) > 1 else "n/a")
PY
}

echo "machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); engine pid $ENGINE; sip $SIP; $CONC calls held ${HOLD}s, $AGENTS browser agents ($CODEC, engine opus_complexity ${OPUS_COMPLEXITY:-0}), $RATE calls/s"
BASE_RSS=$(rss_kib)

# ---- the agents' browsers: one client process registers every agent over its own WebSocket,
# sets it ready and answers its calls; it ends once CONC calls have ended (or its bound).
RAMP=$(((CONC + RATE - 1) / RATE))
STAY=$((AGENTS / 100 + RAMP + HOLD + 150))
./target/release/examples/webrtc_agents --http "$HTTP" --first 20001 --count "$AGENTS" \
  --password-prefix load- --codec "$CODEC" --calls "$CONC" --seconds "$STAY" --register-rate 200 \
  > "$work/agents.out" 2> "$work/agents.log" &
CLIENT=$!
PIDS+=("$CLIENT")
ready_agents() {
  curl -s --max-time 10 -H "$AUTH" "http://$HTTP/api/agents" |
    python3 -c "import json,sys; print(sum(1 for a in json.load(sys.stdin) if a['registered'] and a['state'] == 'ready'))"
}
READY=0
for _ in $(seq $((AGENTS / 50 + 40))); do
  READY=$(ready_agents)
  [ "$READY" -ge "$AGENTS" ] && break
  kill -0 "$CLIENT" 2>/dev/null || break
  sleep 1
done
echo "browser agents registered over WebSocket and ready: $READY of $AGENTS"
[ "$READY" -ge "$AGENTS" ] || { echo "registration failed; see the client's log:" >&2; tail -5 "$work/agents.log" >&2 || true; exit 1; }

# ---- the callers
metrics > "$work/m0"
C_START=$(cpu_ticks "$ENGINE"); T_RAMP0=$(date +%s.%N)
(cd "$work" && exec sipp "$SIP" -sf "$ROOT/benches/load/caller.xml" -s 12345 \
  -i 127.0.0.1 -mi 127.0.0.1 -p 0 -mp 30000 -r "$RATE" -m "$CONC" -l "$CONC" -d $((HOLD * 1000)) \
  -nostdin -timeout $((RAMP + HOLD + 90))s -timeout_error -max_socket 100000 \
  -trace_stat -stf "$work/callers.csv.stat" -fd 1 -trace_err -error_file "$work/callers.err" \
  > "$work/sipp-callers.log" 2>&1) &
CALLER_SIPP=$!
PIDS+=("$CALLER_SIPP")

# Peak calls talking at once, sampled every second while the callers run.
PEAK=0
MEASURED=0
RAMPED=0
T_START=$(date +%s)
for _ in $(seq $((RAMP + HOLD + 120))); do
  kill -0 "$CALLER_SIPP" 2>/dev/null || break
  metrics > "$work/m" || true
  TALK=$(metric 'hotline_calls{state="talking"}' "$work/m")
  [ "${TALK:-0}" -gt "$PEAK" ] && PEAK=$TALK
  ELAPSED=$(($(date +%s) - T_START))
  # The ramp's end: every call talking (its CPU holds the set-ups: IVR, queue, INVITE, DTLS).
  if [ "$RAMPED" = 0 ] && [ "${TALK:-0}" -ge "$CONC" ]; then
    RAMPED=1; C_RAMP=$(cpu_ticks "$ENGINE"); T_RAMP1=$(date +%s.%N)
  fi
  # Once every call had time to connect (and before the first hangs up): 10 s at full load.
  if [ "$MEASURED" = 0 ] && [ "$HOLD" -ge $((RAMP + 18)) ] && [ "$ELAPSED" -ge $((RAMP + 6)) ]; then
    MEASURED=1
    cp "$work/m" "$work/m1"
    C0=$(cpu_ticks "$ENGINE"); SA0=$(cpu_ticks "$CLIENT"); SC0=$(cpu_ticks "$CALLER_SIPP"); T0=$(date +%s.%N)
    sleep 10
    metrics > "$work/m2"
    C1=$(cpu_ticks "$ENGINE"); SA1=$(cpu_ticks "$CLIENT"); SC1=$(cpu_ticks "$CALLER_SIPP"); T1=$(date +%s.%N)
    RSS=$(rss_kib)
    LOAD=$(cut -d' ' -f1 /proc/loadavg)
    TALK=$(metric 'hotline_calls{state="talking"}' "$work/m2")
    [ "${TALK:-0}" -gt "$PEAK" ] && PEAK=$TALK
    continue
  fi
  sleep 1
done
wait "$CALLER_SIPP" || true
# Let the engine close and hash the last recordings and write their records.
for _ in $(seq 30); do
  metrics > "$work/m3"
  LIVE=$(awk '$1 ~ /^hotline_calls\{/ {n += $2} END {print n + 0}' "$work/m3")
  [ "$LIVE" = 0 ] && break
  sleep 1
done
for _ in $(seq 120); do
  RECORDS=$(cat "$work"/data/calls/*.jsonl 2>/dev/null | wc -l || true)
  [ "${RECORDS:-0}" -ge "$CONC" ] && break
  sleep 1
done
metrics > "$work/m3"
# The client ends by itself once CONC calls have ended; bounded wait, then stop it.
for _ in $(seq 30); do kill -0 "$CLIENT" 2>/dev/null || break; sleep 1; done
kill "$CLIENT" 2>/dev/null || true
wait "$CLIENT" 2>/dev/null || true

echo "--- SIPp callers"
echo "callers: $(sipp_stat 'SuccessfulCall(C)' "$work/callers.csv.stat") ok, $(sipp_stat 'FailedCall(C)' "$work/callers.csv.stat") failed of $CONC"
n=$(grep -o -E 'Aborting|unexpected|Dead call|timeout|Timeout' "$work/callers.err" 2>/dev/null | wc -l || true)
echo "callers: ${n:-0} SIPp error events"
if [ "${n:-0}" -gt 0 ]; then
  grep -o -E '.{0,160}(Aborting|unexpected|Dead call|timeout|Timeout).{0,160}' "$work/callers.err" | head -3 || true
fi
echo "--- browser agents (webrtc_agents)"
cat "$work/agents.out" 2>/dev/null || echo "no summary (the client did not finish)"
grep -v '^webrtc_agents: registered' "$work/agents.log" | head -8 || true
echo "--- engine"
python3 - "$work" "$PEAK" "$CONC" "${MEASURED}" "${T0:-0}" "${T1:-0}" "${C0:-0}" "${C1:-0}" \
  "${SA0:-0}" "${SA1:-0}" "${SC0:-0}" "${SC1:-0}" "${RSS:-0}" "$BASE_RSS" "$HZ" \
  "$RAMPED" "${C_START:-0}" "${C_RAMP:-0}" "${T_RAMP0:-0}" "${T_RAMP1:-0}" "${LOAD:-n/a}" <<'PY'
import sys
work, peak, conc, measured = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
t0, t1 = float(sys.argv[5]), float(sys.argv[6])
c0, c1, sa0, sa1, sc0, sc1, rss, base, hz = map(int, sys.argv[7:16])
ramped, cs, cr, tr0, tr1, load = sys.argv[16] == "1", int(sys.argv[17]), int(sys.argv[18]), float(sys.argv[19]), float(sys.argv[20]), sys.argv[21]
def load_metrics(name):
    out = {}
    for line in open(f"{work}/{name}"):
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            out[k] = float(v)
    return out
print(f"peak calls talking at once: {peak} of {conc}")
if ramped:
    print(f"ramp (first INVITE to all {conc} talking, {tr1 - tr0:.1f} s): engine CPU {1000 * (cr - cs) / hz:.0f} ms, "
          f"{1000 * (cr - cs) / hz / conc:.1f} ms per call (IVR, queue, agent INVITE, leg set-up, and the media of the calls already up)")
if measured:
    m1, m2, dt = load_metrics("m1"), load_metrics("m2"), t1 - t0
    d = lambda k: m2.get(k, 0) - m1.get(k, 0)
    talking = m2.get('hotline_calls{state="talking"}', 0)
    cpu = (c1 - c0) / hz / dt
    print(f"at full load ({talking:.0f} talking, {dt:.1f} s, load average {load}): RTP received {d('hotline_rtp_packets_received_total')/dt:.0f}/s, "
          f"sent {d('hotline_rtp_packets_sent_total')/dt:.0f}/s; WebRTC datagrams sent {d('hotline_webrtc_datagrams_sent_total')/dt:.0f}/s; "
          f"lost on arrival {d('hotline_rtp_packets_lost_total'):.0f}, send errors {d('hotline_rtp_send_errors_total'):.0f}")
    print(f"engine CPU {100*cpu:.0f}% of one core = {1000 * cpu / max(talking, 1):.2f} ms CPU per call-second; "
          f"RSS {rss} KiB ({(rss-base)/max(talking,1):.0f} KiB per call over the idle {base} KiB); "
          f"client CPU {100*(sa1-sa0)/hz/dt:.0f}%, SIPp callers {100*(sc1-sc0)/hz/dt:.0f}%")
else:
    print("no full-load measurement (the hold was too short)")
m0, m3 = load_metrics("m0"), load_metrics("m3")
d = lambda k: m3.get(k, 0) - m0.get(k, 0)
print(f"whole run: WebRTC legs {d('hotline_webrtc_legs_total'):.0f}, failed {d('hotline_webrtc_legs_failed_total'):.0f}, "
      f"answers refused {d('hotline_webrtc_answers_refused_total'):.0f}, datagrams refused {d('hotline_webrtc_datagrams_refused_total'):.0f}")
print(f"whole run: RTP lost on arrival {d('hotline_rtp_packets_lost_total'):.0f}, send errors {d('hotline_rtp_send_errors_total'):.0f}; recording frames written {d('hotline_recording_frames_total'):.0f}, "
      f"filled {d('hotline_recording_frames_filled_total'):.0f}, dropped {d('hotline_recording_frames_dropped_total'):.0f}; "
      f"late paced packets {d('hotline_rtp_packets_late_total'):.0f}")
def hist(name):
    b = sorted((float(k.split('le="')[1].rstrip('"}')), v) for k, v in m3.items()
               if k.startswith(name + "_bucket{") and "+Inf" not in k)
    total = m3.get(name + "_count", 0)
    if not total:
        return "none"
    over = ", ".join(f">{le * 1000:g} ms {total - n:.0f}" for le, n in b if le >= 0.005 and total - n > 0)
    return f"{total:.0f}, mean {1000 * m3.get(name + '_sum', 0) / total:.2f} ms" + (f"; {over}" if over else "; none over the first bounds")
print(f"whole run, media ticks: {hist('hotline_media_tick_lateness_seconds')}")
PY

THREE=0
echo "--- recordings"
python3 - "$work/data" "$CONC" "$THREE" <<'PY'
import glob, json, math, os, struct, sys, wave
from datetime import datetime
data, conc, three = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
records = [json.loads(l) for f in sorted(glob.glob(f"{data}/calls/*.jsonl")) for l in open(f) if l.strip()]
answered = [r for r in records if r.get("outcome") == "answered" and r.get("recording")]
outcomes = {}
for r in records:
    outcomes[r.get("outcome")] = outcomes.get(r.get("outcome"), 0) + 1
print(f"call records: {len(records)} ({outcomes}); with a recording: {len(answered)}")
def unit_span(r):
    return next((p for p in r.get("parties", []) if p["party"]["kind"] == "unit" and p.get("joined_at")), None)
if three:
    print(f"call records with the unit's span (parties[].party.kind == unit, joined): "
          f"{sum(1 for r in records if unit_span(r))} of {len(records)}")
def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))
def goertzel(xs, f):
    k = 2 * math.cos(2 * math.pi * f / 8000)
    s1 = s2 = 0.0
    for x in xs:
        s1, s2 = x + k * s1 - s2, s1
    return s1 * s1 + s2 * s2 - k * s1 * s2
bad, inner_silent, frames_total, dur_err, missing_sha = [], [0, 0], 0, [], 0
when = {}  # second of the run -> silent frames inside a tone (a machine-wide stall shows as one second)
start = min((ts(r["connected_at"]).timestamp() for r in answered), default=0)
sampled = ok_tone = 0
for n, r in enumerate(answered):
    path = os.path.join(data, r["recording"])
    try:
        w = wave.open(path)
        if (w.getnchannels(), w.getframerate(), w.getsampwidth()) != (2, 8000, 2):
            bad.append(path); continue
        raw = w.readframes(w.getnframes())
    except Exception as e:
        bad.append(f"{path}: {e}"); continue
    if not r.get("recording_sha256"):
        missing_sha += 1
    samples = struct.unpack(f"<{len(raw)//2}h", raw)
    left, right = samples[0::2], samples[1::2]
    nframes = len(left) // 160
    frames_total += nframes
    talk = (ts(r["ended_at"]) - ts(r["connected_at"])).total_seconds()
    dur_err.append(nframes * 0.02 - talk)
    for ch, xs in enumerate((left, right)):
        loud = [max(xs[i*160:(i+1)*160]) > 500 or min(xs[i*160:(i+1)*160]) < -500 for i in range(nframes)]
        if True in loud:
            a, b = loud.index(True), nframes - 1 - loud[::-1].index(True)
            for i in range(a, b + 1):
                if not loud[i]:
                    inner_silent[ch] += 1
                    sec = int(ts(r["connected_at"]).timestamp() - start + i * 0.02)
                    when[sec] = when.get(sec, 0) + 1
    if n % max(1, len(answered) // 20) == 0:  # a sample of about 20: which tone is where
        sampled += 1
        span = unit_span(r) if three else None
        if three and not span:
            continue  # never three-way: the sample fails
        # Three-way: halfway between the unit's joining and the end (the file starts at the
        # agent's answer); otherwise the middle of the call.
        at = (ts(span["joined_at"]) - ts(r["connected_at"])).total_seconds() if span else 0
        mid = int((at + (nframes * 0.02 - at) / 2) * 8000)
        l, rr = left[mid:mid+800], right[mid:mid+800]
        caller_left = goertzel(l, 400) > 10 * max(goertzel(l, 600), goertzel(l, 800))
        if three:
            right_ok = min(goertzel(rr, 600), goertzel(rr, 800)) > 10 * goertzel(rr, 400)
        else:
            right_ok = goertzel(rr, 600) > 10 * goertzel(rr, 400)
        ok_tone += caller_left and right_ok
print(f"recordings read: {len(answered) - len(bad)} valid stereo 8 kHz 16-bit WAV, {len(bad)} invalid {bad[:3]}; {missing_sha} without SHA-256")
if dur_err:
    dur_err.sort()
    print(f"duration minus talk time (connected→ended): min {dur_err[0]*1000:.0f} ms, median {dur_err[len(dur_err)//2]*1000:.0f} ms, max {dur_err[-1]*1000:.0f} ms")
print(f"silent 20 ms frames inside a channel's tone: caller {inner_silent[0]}, agent {inner_silent[1]} of {frames_total} frames"
      + (f"; by second of the run (written time, ±0.5 s): {sorted(when.items())[:10]}" if when else ""))
if three:
    print(f"sampled {sampled}, after the unit joined: caller's 400 Hz on the left and both the agent's 600 Hz "
          f"and the unit's 800 Hz on the right in {ok_tone}")
else:
    print(f"sampled {sampled}: caller's 400 Hz on the left and agent's 600 Hz on the right in {ok_tone}")
PY
