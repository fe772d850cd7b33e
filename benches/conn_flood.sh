#!/usr/bin/env bash
# Issue 12, item 3: thousands of idle or half-sent TCP connections and idle live streams must
# neither stop calls nor flood the log. A Python client opens N SIP TCP connections (half of
# them send half an INVITE, half nothing) from 50 loopback addresses and S wallboard streams
# (never read) from 20, holds them for HOLD seconds while SIPp places a call a second over
# UDP and curl asks /api/health; the run reports what the engine kept open, refused and
# timed out (from /metrics), the calls answered, and how many log lines the engine wrote.
#
#   benches/conn_flood.sh [sip_conns] [streams] [hold_s]    (defaults: 3000 1000 15)
#   BIN=target/debug/hotline benches/conn_flood.sh           (skip the release build)
#   MAX_STREAMS=1000 benches/conn_flood.sh                   (let every stream in)
#
# The shipped limits apply, except the header timeouts (5 s, so the run is short).
# Bounded: fixed counts, SIPp -m, curl -m, the client's own deadline; loopback only; the
# engine and the client are stopped by their PIDs.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-3000}
S=${2:-1000}
HOLD=${3:-15}
BIN=${BIN:-}
MAX_STREAMS=${MAX_STREAMS:-200}

command -v sipp >/dev/null || { echo "sipp missing: apt-get install sip-tester" >&2; exit 2; }
if [ -z "$BIN" ]; then cargo build --release --quiet; BIN=target/release/hotline; fi
work=$(mktemp -d)
CLIENT=
trap 'kill "$ENGINE" 2>/dev/null || true; wait "$ENGINE" 2>/dev/null || true; [ -n "$CLIENT" ] && kill "$CLIENT" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/config"
ln -s "$PWD/ivr-menus" "$work/ivr-menus"
for f in config/*; do [ "$f" = config/hotline.toml ] || ln -s "$PWD/$f" "$work/$f"; done
cat > "$work/config/hotline.toml" <<CONF
[sip]
tcp_header_timeout = "5s"
[http]
header_timeout = "5s"
max_streams = $MAX_STREAMS
[rtp]
port_min = 34000
port_max = 34998
CONF
RUST_LOG=info "$BIN" serve --config "$work/config/hotline.toml" \
  --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --data-dir "$work/data" > "$work/out" 2> "$work/err" &
ENGINE=$!
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$work/out" || { echo "engine did not start:" >&2; cat "$work/err" >&2; exit 1; }
SIP=$(grep -o 'sip=[0-9.:]*' "$work/out" | cut -d= -f2)
HTTP=$(grep -o 'http=[0-9.:]*' "$work/out" | cut -d= -f2)
metric() { curl -s -m 5 "http://$HTTP/metrics" | awk -v m="$1" '$1==m {print $2}'; }
LINES0=$(wc -l < "$work/err")

python3 - "$SIP" "$HTTP" "$N" "$S" "$HOLD" > "$work/client.log" 2>&1 <<'PY' &
import resource, socket, sys, time
sip, http, n, s, hold = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
def addr(a):
    h, p = a.rsplit(":", 1)
    return (h, int(p))
def open_conn(src, to, first):
    c = socket.socket()
    c.bind((src, 0))
    c.settimeout(5)
    c.connect(to)
    if first:
        try:
            c.send(first)
        except OSError:
            pass
    c.setblocking(False)
    return c
def alive(conns):
    up = 0
    for c in conns:
        try:
            while True:
                if not c.recv(65536):
                    break
        except BlockingIOError:
            up += 1
        except OSError:
            pass
    return up
half = b"INVITE sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999\r\n"
stream = b"GET /api/wallboard/stream?access_token=demo-supervisor HTTP/1.1\r\nHost: t\r\n\r\n"
t0 = time.monotonic()
sips = [open_conn(f"127.0.1.{1 + i % 50}", addr(sip), half if i % 2 == 0 else b"") for i in range(n)]
streams = [open_conn(f"127.0.2.{1 + i % 20}", addr(http), stream) for i in range(s)]
print(f"opened {n} SIP TCP connections and {s} streams in {time.monotonic() - t0:.1f}s", flush=True)
time.sleep(1)
print(f"after 1s: {alive(sips)} SIP connections open", flush=True)
time.sleep(max(0.0, hold - 1))
print(f"after {hold:.0f}s: {alive(sips)} SIP connections open", flush=True)
PY
CLIENT=$!
sleep 2
CALLS=0; ANSWERED=0; HEALTH=0
for _ in $(seq $((HOLD - 3))); do
  CALLS=$((CALLS + 1))
  if sipp "$SIP" -sf tests/sipp/uac_call.xml -s 12345 -i 127.0.0.1 -p 0 -mp 45000 -m 1 -d 200 \
      -nostdin -timeout 10s -timeout_error > "$work/call.log" 2>&1; then ANSWERED=$((ANSWERED + 1)); fi
  [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$HTTP/api/health")" = 200 ] && HEALTH=$((HEALTH + 1))
  sleep 0.5
done
OPEN_SIP=$(metric 'hotline_connections_open{listener="sip_tcp"}')
STREAMS=$(metric hotline_live_streams)
wait "$CLIENT" || true
CLIENT=
LINES=$(( $(wc -l < "$work/err") - LINES0 ))
cat "$work/client.log"
echo "machine: $(nproc) cores; engine $BIN; shipped caps (SIP TCP 1024 / 64 per source, HTTP 1024 / 128), max_streams $MAX_STREAMS, header timeouts 5 s"
echo "during the flood: $OPEN_SIP SIP TCP connections and $STREAMS live streams open; calls answered: $ANSWERED of $CALLS; /api/health 200: $HEALTH of $CALLS"
for r in total per_source; do
  echo "refused sip_tcp/$r: $(metric "hotline_connections_refused_total{listener=\"sip_tcp\",reason=\"$r\"}"), http/$r: $(metric "hotline_connections_refused_total{listener=\"http\",reason=\"$r\"}")"
done
echo "timed out sip_tcp/header: $(metric 'hotline_connections_timed_out_total{listener="sip_tcp",reason="header"}'); streams refused (503): $(metric hotline_live_streams_refused_total); accept errors: $(metric 'hotline_accept_errors_total{listener="sip_tcp"}')"
echo "engine log: $LINES lines during the run ($(wc -c < "$work/err") bytes in all)"
