#!/usr/bin/env bash
# Load run: bridged and recorded calls. SIPp callers dial the hotline, press 0 (straight to a
# person), are queued, and are connected to SIPp "agents" that registered with digest
# authentication and were set ready over the HTTP API; both sides speak (a continuous tone
# each: 400 Hz from the caller, 600 Hz from the agent) while the engine relays and records.
# The agents' media is played by a probe (`rtp-probe --reply`, benches/load/rtp_probe.rs),
# not by their SIPp: their answer's SDP names the probe's port (a copy of
# benches/load/agent_answer.xml without its rtp_stream), and the probe answers every packet the
# engine relays to an agent with 20 ms of the agent's 600 Hz (A-law, as that SDP offers), and
# measures, from the kernel's receive times over the same 10 s at full load as the engine's
# figures, the pacing of what reaches the agents: per stream, the gaps between consecutive
# packets (p50/p99/p99.9) and the packets later than 10 ms after their due instant. The relay
# keeps the caller's pace and RTP clock, so the callers' own jitter is in these figures: SIPp's
# rtp_stream alone (caller to probe, no engine) measures p99 36 ms, 78 % late (PERFORMANCE.md).
#
#   benches/load_bridged.sh [concurrent_calls] [hold_seconds] [agents] [calls_per_second]
#
# defaults: 1000 calls, each held 60 s from the key press, 1.2 × calls agents, 50 calls/s.
# Set KEEP=1 to keep the work folder (config, data, recordings, SIPp logs) for a look after.
#
# THREE_WAY=1: three-party recorded calls (issue 14). The run's hotline.toml names a
# [transfer] gateway, played by a third SIPp that answers every INVITE like an agent's phone
# (benches/load/agent_answer.xml, speaking unit.alaw: 800 Hz); once the callers talk, one HTTP
# connection conferences the water unit (its phone 96116, config/dispatch.toml) into every
# talking call (POST /api/calls/{id}/parties as demo-supervisor), and the full-load
# measurement waits for the conferences. It also reports the calls three-way at the peak
# (/api/calls: a party talking), the mixer's counters, the unit side's failed calls, and in
# the recordings: the 400 Hz left and both 600 and 800 Hz right after the unit joined, and
# the unit's span in every call record.
#
# Reports: peak calls talking at once (sampled from /metrics every second), failed calls on
# both SIPp sides, engine CPU and RSS at full load, RTP packets/s received and relayed, the
# probe's lines ("probe: ...", the pacing of the caller's audio as the agents receive it), and
# for the recordings: count, valid stereo WAV, duration against the call's talk time, and
# lost frames: the engine's counters (hotline_recording_frames_filled_total: a channel frame
# filled with silence between two frames of that side's audio; ..._dropped_total: audio that
# was received but never written; hotline_rtp_packets_lost_total: sequence gaps on arrival),
# cross-checked offline (silent 20 ms frames inside each channel's tone) and, in a sample,
# that the left channel carries the caller's 400 Hz and the right the agent's 600 Hz.
# Everything is bounded (SIPp -m and -timeout, counted loops) and stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

CONC=${1:-1000}
HOLD=${2:-60}
AGENTS=${3:-$((CONC + CONC / 5))}
RATE=${4:-50}
THREE=${THREE_WAY:-0}
LEGS=$((THREE == 1 ? 3 : 2))
[ "$AGENTS" -ge "$CONC" ] || { echo "need at least as many agents ($AGENTS) as calls ($CONC)" >&2; exit 2; }
[ "$CONC" -le $((8000 / LEGS)) ] || { echo "at most $((8000 / LEGS)) calls: the RTP range holds 5000 ports, $LEGS legs per call" >&2; exit 2; }
command -v sipp >/dev/null || { echo "sipp missing: apt-get install sip-tester" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl missing" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
cargo build --release --quiet

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
[rtp]
# Below the test suite's port leases (20000-32600): a load run beside a test run takes none
# of their ports (the engine would refuse their calls 503).
port_min = 10000
port_max = 19998

[registrar]
# SIPp answers MD5 digest challenges only.
md5_only_agents = ["SIPp hotline load agent"]
CONF
if [ "$THREE" = 1 ]; then
  GATEWAY=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  printf '\n[transfer]\n# The third SIPp: the public network behind which the units answer.\ngateway = "127.0.0.1:%s"\n' \
    "$GATEWAY" >> "$work/config/hotline.toml"
fi
python3 - "$work" "$AGENTS" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
with open(f"{work}/config/agents.toml", "w") as a, open(f"{work}/agents.csv", "w") as c:
    a.write('realm = "hotline"\n')
    c.write("SEQUENTIAL\n")
    for i in range(n):
        aid = str(20001 + i)
        a.write(f'\n[[agent]]\nid = "{aid}"\nname = "Load {aid}"\npassword = "load-{aid}"\n'
                'skills = [{ skill = "general", level = 5 }, { skill = "enterprise", level = 5 }]\n')
        c.write(f"{aid};[authentication username={aid} password=load-{aid}]\n")
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
write("agent.alaw", [8000 * math.sin(2 * math.pi * 600 * t / 8000) for t in range(8000)])
write("unit.alaw", [8000 * math.sin(2 * math.pi * 800 * t / 8000) for t in range(8000)])
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

# ---- the agents' media: the probe, on a port the OS hands out (free when asked), named by the
# agents' answer. It measures from SIGUSR1 (sent when the full-load measurement starts) for
# 10 s, and answers every stream until it is stopped at the end of the run.
PROBE_PORT=${PROBE_PORT:-$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
sed -e "s/m=audio \[rtpstream_audio_port\]/m=audio $PROBE_PORT/" -e '/<nop>/,/<\/nop>/d' \
  -e 's/load agent answer/load agent answer (media: rtp-probe)/' \
  benches/load/agent_answer.xml > "$work/agent_answer.xml"
if grep -q "rtp_stream=" "$work/agent_answer.xml" || ! grep -q "m=audio $PROBE_PORT " "$work/agent_answer.xml"; then
  echo "could not point the agents' SDP at the probe (benches/load/agent_answer.xml changed?)" >&2
  exit 1
fi
PROBE_STAY=$((AGENTS / 100 + CONC / RATE + HOLD + 600))
./target/release/rtp-probe --reply "127.0.0.1:$PROBE_PORT" 10 "$PROBE_STAY" "$PROBE_STAY" > "$work/probe.out" 2> "$work/probe.err" &
PROBE=$!
PIDS+=("$PROBE")
sleep 0.5
kill -0 "$PROBE" 2>/dev/null || { echo "rtp-probe did not start:" >&2; cat "$work/probe.err" >&2; exit 1; }

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

echo "machine: $(nproc) cores, $(uname -r); engine pid $ENGINE; sip $SIP; $CONC calls held ${HOLD}s, $AGENTS agents, $RATE calls/s"
BASE_RSS=$(rss_kib)

# ---- the agents' phones: one SIPp registers every agent from its own socket and answers the
# engine's INVITEs there (out-of-call scenario); they stay registered for the whole run.
RAMP=$(((CONC + RATE - 1) / RATE))
STAY=$((AGENTS / 200 + RAMP + HOLD + 120))
(cd "$work" && exec sipp "$SIP" -sf "$ROOT/benches/load/agent_register.xml" \
  -oocsf "$work/agent_answer.xml" -inf "$work/agents.csv" \
  -i 127.0.0.1 -mi 127.0.0.1 -p 0 -mp 40000 -r 200 -m "$AGENTS" -l "$AGENTS" -d $((STAY * 1000)) \
  -nostdin -timeout $((STAY + 30))s -timeout_error -max_socket 100000 \
  -trace_stat -stf "$work/agents.csv.stat" -fd 1 -trace_err -error_file "$work/agents.err" \
  > "$work/sipp-agents.log" 2>&1) &
AGENT_SIPP=$!
PIDS+=("$AGENT_SIPP")
registered() {
  curl -s --max-time 10 -H "$AUTH" "http://$HTTP/api/agents" |
    python3 -c "import json,sys; print(sum(1 for a in json.load(sys.stdin) if a['registered']))"
}
REG=0
for _ in $(seq $((AGENTS / 100 + 30))); do
  REG=$(registered)
  [ "$REG" -ge "$AGENTS" ] && break
  sleep 1
done
echo "agents registered: $REG of $AGENTS"
[ "$REG" -ge "$AGENTS" ] || { echo "registration failed; see $work/sipp-agents.log" >&2; tail -5 "$work/agents.err" >&2 || true; exit 1; }
python3 - "$HTTP" "$AGENTS" <<'PY'
import http.client, json, sys
host, port = sys.argv[1].rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port), timeout=10)
bad = 0
for i in range(int(sys.argv[2])):
    conn.request("POST", f"/api/agents/{20001 + i}/state", body=json.dumps({"state": "ready"}),
                 headers={"Authorization": "Bearer demo-supervisor", "Content-Type": "application/json"})
    r = conn.getresponse(); r.read()
    bad += r.status != 204
print(f"agents set ready: {int(sys.argv[2]) - bad} of {sys.argv[2]}")
sys.exit(1 if bad else 0)
PY

# ---- the units' phones behind the gateway (THREE_WAY=1): a SIPp server answering every INVITE
# with agent_answer.xml, speaking unit.alaw.
if [ "$THREE" = 1 ]; then
  sed -e 's/agent\.alaw/unit.alaw/' -e 's/load agent answer/load unit answer (gateway)/' \
    "$ROOT/benches/load/agent_answer.xml" > "$work/unit_answer.xml"
  (cd "$work" && exec sipp -sf "$work/unit_answer.xml" -i 127.0.0.1 -mi 127.0.0.1 -p "$GATEWAY" \
    -mp 50000 -m "$CONC" -nostdin -timeout $((RAMP + HOLD + 150))s -timeout_error -max_socket 100000 \
    -trace_stat -stf "$work/unit.csv.stat" -fd 1 -trace_err -error_file "$work/unit.err" \
    > "$work/sipp-unit.log" 2>&1) &
  GW_SIPP=$!
  PIDS+=("$GW_SIPP")
fi
# Calls with a party talking besides the caller and the agent (/api/calls).
three_way() {
  curl -s --max-time 10 -H "$AUTH" "http://$HTTP/api/calls" | python3 -c '
import json, sys
try:
    calls = json.load(sys.stdin)
except ValueError:
    calls = []
print(sum(1 for c in calls if any(p["state"] == "talking" for p in c.get("parties", []))))'
}
# One HTTP connection lists the live calls and conferences the water unit into every talking
# call without a party, until all CONC calls are three-way (or $1 seconds, 1000 rounds).
conference_all() {
  python3 - "$HTTP" "$CONC" "$1" <<'PY'
import http.client, json, sys, time
host, port = sys.argv[1].rsplit(":", 1)
conc, bound = int(sys.argv[2]), float(sys.argv[3])
headers = {"Authorization": "Bearer demo-supervisor", "Content-Type": "application/json"}
conn = http.client.HTTPConnection(host, int(port), timeout=10)
t0 = time.monotonic()
posted, created, refused, errors, three, rounds = set(), 0, {}, 0, 0, 0
while rounds < 1000 and time.monotonic() - t0 < bound:
    rounds += 1
    try:
        conn.request("GET", "/api/calls", headers=headers)
        r = conn.getresponse()
        calls = json.loads(r.read()) if r.status == 200 else []
        three = sum(1 for c in calls if any(p["state"] == "talking" for p in c.get("parties", [])))
        if three >= conc:
            break
        for c in calls:
            if c["state"] != "talking" or c["id"] in posted or c.get("parties"):
                continue
            conn.request("POST", f"/api/calls/{c['id']}/parties", headers=headers,
                         body=b'{"unit":"water","mode":"conference"}')
            r = conn.getresponse()
            body = r.read()
            if r.status == 201:
                posted.add(c["id"])
                created += 1
            else:
                try:
                    code = f"{r.status} {json.loads(body).get('code')}"
                except ValueError:
                    code = str(r.status)
                refused[code] = refused.get(code, 0) + 1
    except (OSError, http.client.HTTPException):
        errors += 1
        conn.close()
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
    time.sleep(0.2)
print(f"conferences: {created} created (201), refused {sum(refused.values())} {refused}, "
      f"{errors} HTTP errors; {three} of {conc} calls three-way after {time.monotonic() - t0:.1f} s ({rounds} rounds)")
PY
}

# ---- the callers
metrics > "$work/m0"
(cd "$work" && exec sipp "$SIP" -sf "$ROOT/benches/load/caller.xml" -s 12345 \
  -i 127.0.0.1 -mi 127.0.0.1 -p 0 -mp 30000 -r "$RATE" -m "$CONC" -l "$CONC" -d $((HOLD * 1000)) \
  -nostdin -timeout $((RAMP + HOLD + 90))s -timeout_error -max_socket 100000 \
  -trace_stat -stf "$work/callers.csv.stat" -fd 1 -trace_err -error_file "$work/callers.err" \
  > "$work/sipp-callers.log" 2>&1) &
CALLER_SIPP=$!
PIDS+=("$CALLER_SIPP")

# Peak calls talking at once, sampled every second while the callers run.
PEAK=0
PEAK3=0
CONFERENCED=0
MEASURED=0
T_START=$(date +%s)
for _ in $(seq $((RAMP + HOLD + 120))); do
  kill -0 "$CALLER_SIPP" 2>/dev/null || break
  metrics > "$work/m" || true
  TALK=$(metric 'hotline_calls{state="talking"}' "$work/m")
  [ "${TALK:-0}" -gt "$PEAK" ] && PEAK=$TALK
  ELAPSED=$(($(date +%s) - T_START))
  if [ "$THREE" = 1 ]; then
    # Once the callers talk (all of them, or the ramp is over): conference the unit in.
    if [ "$CONFERENCED" = 0 ] && { [ "${TALK:-0}" -ge "$CONC" ] || [ "$ELAPSED" -ge $((RAMP + 6)) ]; }; then
      CONFERENCED=1
      conference_all $((HOLD / 2)) | tee "$work/conferences" || true
      continue
    fi
    N3=$(three_way)
    [ "${N3:-0}" -gt "$PEAK3" ] && PEAK3=$N3
    # Full load is with the conferences up, before the first caller hangs up.
    FULL=$((CONFERENCED == 1 && ELAPSED + 12 <= HOLD))
  else
    # Once every call had time to connect (and before the first hangs up).
    FULL=$((HOLD >= RAMP + 18 && ELAPSED >= RAMP + 6))
  fi
  # Measure 10 s at full load.
  if [ "$MEASURED" = 0 ] && [ "$FULL" = 1 ]; then
    MEASURED=1
    cp "$work/m" "$work/m1"
    kill -USR1 "$PROBE" 2>/dev/null || true
    C0=$(cpu_ticks "$ENGINE"); SA0=$(cpu_ticks "$AGENT_SIPP"); SC0=$(cpu_ticks "$CALLER_SIPP"); SP0=$(cpu_ticks "$PROBE" 2>/dev/null || echo 0); T0=$(date +%s.%N)
    [ "$THREE" = 1 ] && SG0=$(cpu_ticks "$GW_SIPP")
    sleep 10
    metrics > "$work/m2"
    C1=$(cpu_ticks "$ENGINE"); SA1=$(cpu_ticks "$AGENT_SIPP"); SC1=$(cpu_ticks "$CALLER_SIPP"); SP1=$(cpu_ticks "$PROBE" 2>/dev/null || echo 0); T1=$(date +%s.%N)
    [ "$THREE" = 1 ] && { SG1=$(cpu_ticks "$GW_SIPP"); N3=$(three_way); THREE_AT=$N3; [ "${N3:-0}" -gt "$PEAK3" ] && PEAK3=$N3; }
    RSS=$(rss_kib)
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
# Records are written once a recording is finished and hashed (off the media tasks).
for _ in $(seq 120); do
  RECORDS=$(cat "$work"/data/calls/*.jsonl 2>/dev/null | wc -l || true)
  [ "${RECORDS:-0}" -ge "$CONC" ] && break
  sleep 1
done
metrics > "$work/m3"
kill "$AGENT_SIPP" 2>/dev/null || true
wait "$AGENT_SIPP" 2>/dev/null || true
kill "$PROBE" 2>/dev/null || true
wait "$PROBE" 2>/dev/null || true
if [ "$THREE" = 1 ]; then
  kill "$GW_SIPP" 2>/dev/null || true
  wait "$GW_SIPP" 2>/dev/null || true
fi

echo "--- SIPp"
echo "callers: $(sipp_stat 'SuccessfulCall(C)' "$work/callers.csv.stat") ok, $(sipp_stat 'FailedCall(C)' "$work/callers.csv.stat") failed of $CONC"
echo "agents' phones: $(sipp_stat 'FailedCall(C)' "$work/agents.csv.stat") failed registrations; $(grep -o 'out-of-call INVITE' "$work/agents.err" 2>/dev/null | wc -l || true) INVITEs answered"
if [ "$THREE" = 1 ]; then
  echo "unit's phone (gateway): $(sipp_stat 'SuccessfulCall(C)' "$work/unit.csv.stat") ok, $(sipp_stat 'FailedCall(C)' "$work/unit.csv.stat") failed of $(sipp_stat 'IncomingCall(C)' "$work/unit.csv.stat") INVITEs"
fi
for f in callers agents $([ "$THREE" = 1 ] && echo unit); do
  # SIPp logs every out-of-call INVITE as an event; anything else is an error.
  n=$(grep -o -E 'Aborting|unexpected|Dead call|timeout|Timeout' "$work/$f.err" 2>/dev/null | wc -l || true)
  echo "$f: ${n:-0} SIPp error events"
  if [ "${n:-0}" -gt 0 ]; then
    grep -o -E '.{0,160}(Aborting|unexpected|Dead call|timeout|Timeout).{0,160}' "$work/$f.err" | head -3 || true
  fi
done
echo "--- engine"
python3 - "$work" "$PEAK" "$CONC" "${MEASURED}" "${T0:-0}" "${T1:-0}" "${C0:-0}" "${C1:-0}" \
  "${SA0:-0}" "${SA1:-0}" "${SC0:-0}" "${SC1:-0}" "${RSS:-0}" "$BASE_RSS" "$HZ" \
  "$THREE" "$PEAK3" "${THREE_AT:-0}" "${SG0:-0}" "${SG1:-0}" "${SP0:-0}" "${SP1:-0}" <<'PY'
import sys
work, peak, conc, measured = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
t0, t1 = float(sys.argv[5]), float(sys.argv[6])
c0, c1, sa0, sa1, sc0, sc1, rss, base, hz = map(int, sys.argv[7:16])
three, peak3, three_at, sg0, sg1 = sys.argv[16] == "1", *map(int, sys.argv[17:21])
sp0, sp1 = map(int, sys.argv[21:23])
def load(name):
    out = {}
    for line in open(f"{work}/{name}"):
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            out[k] = float(v)
    return out
print(f"peak calls talking at once: {peak} of {conc}")
if three:
    print(f"peak calls three-way at once (/api/calls, a party talking): {peak3} of {conc}"
          + (f"; {three_at} at the end of the full-load measurement" if measured else ""))
if measured:
    m1, m2, dt = load("m1"), load("m2"), t1 - t0
    d = lambda k: m2.get(k, 0) - m1.get(k, 0)
    talking = m2.get('hotline_calls{state="talking"}', 0)
    print(f"at full load ({talking:.0f} talking, {dt:.1f} s): RTP received {d('hotline_rtp_packets_received_total')/dt:.0f}/s, "
          f"sent {d('hotline_rtp_packets_sent_total')/dt:.0f}/s; lost on arrival {d('hotline_rtp_packets_lost_total'):.0f}, "
          f"send errors {d('hotline_rtp_send_errors_total'):.0f}")
    print(f"engine CPU {100*(c1-c0)/hz/dt:.0f}% of one core; RSS {rss} KiB ({(rss-base)/max(talking,1):.0f} KiB per call over the idle {base} KiB); "
          f"SIPp CPU: agents {100*(sa1-sa0)/hz/dt:.0f}%, callers {100*(sc1-sc0)/hz/dt:.0f}%"
          + (f", unit {100*(sg1-sg0)/hz/dt:.0f}%" if three else "")
          + f"; the agents' media (rtp-probe) {100*(sp1-sp0)/hz/dt:.0f}%")
else:
    print("no full-load measurement (the hold was too short)")
m0, m3 = load("m0"), load("m3")
d = lambda k: m3.get(k, 0) - m0.get(k, 0)
print(f"whole run: RTP lost on arrival {d('hotline_rtp_packets_lost_total'):.0f}, send errors {d('hotline_rtp_send_errors_total'):.0f}; recording frames written {d('hotline_recording_frames_total'):.0f}, "
      f"filled {d('hotline_recording_frames_filled_total'):.0f}, dropped {d('hotline_recording_frames_dropped_total'):.0f}; "
      f"late paced packets {d('hotline_rtp_packets_late_total'):.0f}")
if three:
    print(f"whole run, mixer: underruns {d('hotline_mixer_underruns_total'):.0f}, frames dropped {d('hotline_mixer_frames_dropped_total'):.0f}, "
          f"clipped samples {d('hotline_mixer_clipped_samples_total'):.0f}")
# Where a late frame is lost: the media ticks' lateness, and packets' delay from the kernel's
# receipt to the media task (all packets, and those that ended a mixer underrun).
def hist(name):
    b = sorted((float(k.split('le="')[1].rstrip('"}')), v) for k, v in m3.items()
               if k.startswith(name + "_bucket{") and "+Inf" not in k)
    total = m3.get(name + "_count", 0)
    if not total:
        return "none"
    over = ", ".join(f">{le * 1000:g} ms {total - n:.0f}" for le, n in b if le >= 0.005 and total - n > 0)
    return f"{total:.0f}, mean {1000 * m3.get(name + '_sum', 0) / total:.2f} ms" + (f"; {over}" if over else "; none over the first bounds")
print(f"whole run, media ticks: {hist('hotline_media_tick_lateness_seconds')}; most commands waiting at a tick "
      f"{m3.get('hotline_media_queued_at_tick_max', 0):.0f}")
print(f"whole run, packets kernel → media task: {hist('hotline_media_packet_delay_seconds')}")
if three:
    print(f"whole run, packets that ended an underrun: {hist('hotline_mixer_underrun_packet_delay_seconds')}")
    print(f"whole run, their gap after the party's previous packet (kernel time): {hist('hotline_mixer_underrun_arrival_gap_seconds')}")
PY

echo "--- the agents' side (rtp-probe: the caller's audio as relayed to the agents, kernel receive times, the 10 s at full load)"
if [ "$MEASURED" = 1 ] && grep -q '^probe:' "$work/probe.out"; then
  cat "$work/probe.out"
else
  echo "probe: no window (no full-load measurement, or the probe reported nothing)"
  head -3 "$work/probe.err" 2>/dev/null || true
fi

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
