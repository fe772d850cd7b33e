#!/usr/bin/env bash
# Load run: the callback robot at scale (issue 15). TICKETS tickets wait for their callback;
# the engine's dialler calls them through a SIPp trunk that answers every INVITE as the
# citizen, presses 1, 1, 1, 2 (RFC 4733; consent, in contact, solved, 基本满意) and waits for
# the robot's BYE. `[outbound]` holds max_concurrent = CONCURRENT and calls_per_second = RATE.
#
#   benches/load_callback.sh [tickets] [concurrent] [calls_per_second]
#
# defaults: 300 tickets, 200 concurrent robot calls, 20 calls/s.
# Reports, from the call records (exact, not sampled): the most outbound calls up at once,
# the most dials in any 1 s and the shortest gap between two dials, against the configured
# limits; how the tickets ended (callback_made with the rating, or missed); failed calls on
# the SIPp side; the engine's CPU and RSS at the peak. KEEP=1 keeps the work folder.
# Everything is bounded (SIPp -m and -timeout, counted loops) and stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

TICKETS=${1:-300}
CONC=${2:-200}
RATE=${3:-20}
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

TRUNK=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/config"
ln -s "$ROOT/ivr-menus" "$work/ivr-menus"
for f in config/*; do
  [ "$f" = config/hotline.toml ] || ln -s "$ROOT/$f" "$work/$f"
done
cat > "$work/config/hotline.toml" <<CONF
[trunk]
address = "127.0.0.1:$TRUNK"

[callback]
scan_every = "1s"

[outbound]
window_start = "00:00:00"
window_end = "23:59:59"
max_attempts = 1
max_concurrent = $CONC
calls_per_second = $RATE
ring_timeout = "10s"
CONF

# Four key presses, each with its own RTP timestamp (one pcap each), and the citizen's
# scenario playing them while the robot asks.
python3 - "$work" <<'PY'
import struct, sys
work = sys.argv[1]
def pcap(path, key, ts, seq0):
    out = bytearray(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(10):
        end = i >= 7
        rtp = struct.pack(">BBHII", 0x80, (0x80 if i == 0 else 0) | 101, seq0 + i, ts, 0x12345678)
        rtp += struct.pack(">BBH", key, (0x80 if end else 0) | 10, 160 * (min(i, 7) + 1))
        udp = struct.pack(">HHHH", 5000, 5002, 8 + len(rtp), 0) + rtp
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp
        eth = bytes([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 8, 0]) + ip
        out += struct.pack("<IIII", 0, i * 20000, len(eth), len(eth)) + eth
    open(path, "wb").write(out)
for i, key in enumerate([1, 1, 1, 2]):
    pcap(f"{work}/key{i}.pcap", key, 40000 + 16000 * i, 100 + 20 * i)
PY
python3 - "$work" "$ROOT" <<'PY'
import sys, re
work, root = sys.argv[1], sys.argv[2]
# The busy scenario's frame, answered instead: 180, 200 with A-law + telephone-event, the keys.
steps = "".join(
    f'  <pause milliseconds="{p}"/>\n  <nop><action><exec play_pcap_audio="{work}/key{i}.pcap"/></action></nop>\n'
    for i, p in enumerate([2500, 1500, 1500, 1500]))
xml = f'''<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="load: citizens answering the callback robot">
  <recv request="INVITE" crlf="true"/>
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <send retrans="500">
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:citizen@[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=citizen 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=ptime:20

    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
{steps}  <recv request="BYE" timeout="120000"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
'''
open(f"{work}/citizen.xml", "w").write(xml)
PY

RUST_LOG=warn ./target/release/hotline serve --config "$work/config/hotline.toml" \
  --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --data-dir "$work/data" > "$work/out" 2> "$work/err" &
ENGINE=$!
PIDS+=("$ENGINE")
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$work/out" || { echo "engine did not start:" >&2; cat "$work/err" >&2; exit 1; }
HTTP=$(grep -o 'http=[0-9.:]*' "$work/out" | cut -d= -f2)
echo "machine: $(nproc) cores, $(uname -r); engine pid $ENGINE; $TICKETS tickets, max_concurrent $CONC, calls_per_second $RATE"
BASE_RSS=$(awk '/VmRSS/ {print $2}' "/proc/$ENGINE/status")

# The trunk: one SIPp answering every call as the citizen.
RUN_FOR=$((TICKETS / RATE + TICKETS * 30 / CONC + 120))
(cd "$work" && exec sipp -sf "$work/citizen.xml" -i 127.0.0.1 -mi 127.0.0.1 -p "$TRUNK" -mp 40000 \
  -m "$TICKETS" -nostdin -timeout "${RUN_FOR}s" -timeout_error -max_socket 100000 \
  -trace_stat -stf "$work/citizen.csv.stat" -fd 1 -trace_err -error_file "$work/citizen.err" \
  > "$work/sipp.log" 2>&1) &
SIPP=$!
PIDS+=("$SIPP")

# The tickets: created, dispatched, answered by the unit and reviewed over the API.
python3 - "$HTTP" "$TICKETS" <<'PY'
import http.client, json, sys
host, port = sys.argv[1].rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port), timeout=30)
def req(method, path, token, body):
    conn.request(method, path, body=json.dumps(body),
                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    r = conn.getresponse(); data = r.read()
    if r.status not in (200, 201):
        raise SystemExit(f"{method} {path}: {r.status} {data[:200]}")
    return json.loads(data)
for i in range(int(sys.argv[2])):
    t = req("POST", "/api/tickets", "demo-agent-1001",
            {"channel": "web", "caller": {"phone": f"139{i:08d}"}, "content": f"路灯不亮 {i}",
             "urgency": "non_urgent", "type": "help", "domain": "social_management"})
    tid = t["id"]
    for token, body in [("demo-agent-1001", {"action": "dispatch", "lead": "hrss"}),
                        ("demo-unit-hrss", {"action": "sign"}),
                        ("demo-unit-hrss", {"action": "feedback", "contact": "电话", "verification": "查看",
                                            "legal_basis": "办法", "result": "已修复", "caller_informed": True}),
                        ("demo-reviewer", {"action": "review_pass"})]:
        req("POST", f"/api/tickets/{tid}/actions", token, body)
print(f"tickets awaiting their callback: {sys.argv[2]}")
PY

# Wait for every call to end (bounded), sampling CPU at the peak.
HZ=$(getconf CLK_TCK)
PEAK_CPU=0; PEAK_RSS=0
for _ in $(seq "$RUN_FOR"); do
  t0=$(awk '{print $14+$15}' "/proc/$ENGINE/stat")
  sleep 1
  t1=$(awk '{print $14+$15}' "/proc/$ENGINE/stat")
  cpu=$(( (t1 - t0) * 100 / HZ ))
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$ENGINE/status")
  [ "$cpu" -gt "$PEAK_CPU" ] && PEAK_CPU=$cpu
  [ "$rss" -gt "$PEAK_RSS" ] && PEAK_RSS=$rss
  kill -0 "$SIPP" 2>/dev/null || break
done
sleep 2
wait "$SIPP" 2>/dev/null || true
echo "--- SIPp (citizens)"
python3 - "$work/citizen.csv.stat" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
h, last = rows[0], rows[-1]
print(f"calls: {last[h.index('SuccessfulCall(C)')]} ok, {last[h.index('FailedCall(C)')]} failed")
PY
echo "--- engine"
echo "peak CPU ${PEAK_CPU}% of one core (1 s samples); peak RSS ${PEAK_RSS} KiB (idle ${BASE_RSS} KiB)"
python3 - "$work/data" "$CONC" "$RATE" "$HTTP" <<'PY'
import glob, json, sys, datetime, http.client
data, conc, rate, http_addr = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
recs = []
for f in glob.glob(f"{data}/calls/*.jsonl"):
    for line in open(f):
        r = json.loads(line)
        if r.get("direction") == "outbound":
            recs.append(r)
t = lambda s: datetime.datetime.fromisoformat(s)
starts = sorted(t(r["started_at"]) for r in recs)
events = sorted([(t(r["started_at"]), 1) for r in recs] + [(t(r["ended_at"]), -1) for r in recs],
                key=lambda e: (e[0], e[1]))
up = peak = 0
for _, d in events:
    up += d; peak = max(peak, up)
most_in_1s = 0; j = 0
for i in range(len(starts)):
    while starts[i] - starts[j] >= datetime.timedelta(seconds=1):
        j += 1
    most_in_1s = max(most_in_1s, i - j + 1)
gaps = [(b - a).total_seconds() for a, b in zip(starts, starts[1:])]
ended = {}
for r in recs:
    k = (r.get("outbound") or {}).get("robot", {}).get("ended", "none")
    ended[k] = ended.get(k, 0) + 1
span = (starts[-1] - starts[0]).total_seconds() if starts else 0
print(f"outbound call records: {len(recs)}; robot results {ended}")
print(f"most outbound calls up at once: {peak} (max_concurrent {conc})")
print(f"most dials in any 1 s: {most_in_1s} (calls_per_second {rate}); shortest gap {min(gaps) * 1000 if gaps else 0:.1f} ms"
      f" (spacing {1000 / rate:.1f} ms); {len(starts)} dials over {span:.1f} s = {len(starts) / span if span else 0:.1f}/s")
host, port = http_addr.rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port), timeout=30)
states = {}
after = None
for _ in range(100):
    q = "/api/tickets?limit=200" + (f"&after={after}" if after else "")
    conn.request("GET", q, headers={"Authorization": "Bearer demo-supervisor"})
    r = conn.getresponse(); page = json.loads(r.read())
    for it in page.get("items", []):
        states[it["state"]] = states.get(it["state"], 0) + 1
    after = page.get("next")
    if not after:
        break
print(f"tickets by state: {states}")
PY
