#!/usr/bin/env bash
# Slow-reader memory benchmark: CONNS clients on loopback each request a large response
# (SIZE_MIB) and never read it. The gateway may queue at most 64 KiB per client before it
# pauses the upstream transfer, so its resident memory (VmRSS) must not grow by more than
# LIMIT_MIB; after the clients go, the memory must come back down.
#
# Usage: scripts/bench-slowread-rss.sh [GATEWAY_BINARY]
#   CONNS      non-reading clients (default 1000)
#   SIZE_MIB   response size each asks for (default 16)
#   LIMIT_MIB  allowed RSS growth over the start (default 100); exit 1 when exceeded
# Prints RSS before, at the peak, and after the clients closed. Needs python3. Loopback only.
set -euo pipefail

BIN=${1:-.build/release/gateway}
CONNS=${CONNS:-1000}
SIZE_MIB=${SIZE_MIB:-16}
LIMIT_MIB=${LIMIT_MIB:-100}
[ -x "$BIN" ] || { echo "no gateway binary at $BIN (build it: swift build -c release)" >&2; exit 2; }
ulimit -n "$((CONNS * 3 + 200))" 2>/dev/null || true

WORK=$(mktemp -d)
UP_PID=""; GW_PID=""; CL_PID=""
cleanup() {
  [ -n "$CL_PID" ] && kill "$CL_PID" 2>/dev/null || true
  [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null || true
  [ -n "$UP_PID" ] && kill "$UP_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Upstream: SIZE_MIB of bytes per request with Content-Length, written in 64 KiB pieces
# (a thread per connection blocks while the gateway has paused the transfer).
cat > "$WORK/upstream.py" <<'PY'
import http.server, socketserver, sys
size = int(sys.argv[1]) << 20
piece = b"x" * 65536
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        try:
            left = size
            while left > 0:
                n = min(left, len(piece))
                self.wfile.write(piece[:n])
                left -= n
        except OSError:
            pass
    def log_message(self, *args):
        pass
class S(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 4096
s = S(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$WORK/upstream.py" "$SIZE_MIB" > "$WORK/upstream.port" &
UP_PID=$!
for _ in $(seq 100); do [ -s "$WORK/upstream.port" ] && break; sleep 0.1; done
UP_PORT=$(head -1 "$WORK/upstream.port")

cat > "$WORK/gateway.yml" <<YML
listen:
  address: 127.0.0.1:0
admin:
  address: 127.0.0.1:0
limits:
  idle_timeout: 300s
  max_connections: $((CONNS + 100))
upstreams:
  app:
    url: http://127.0.0.1:$UP_PORT
    timeout: 300s
routes:
  - name: all
    match: {path_prefix: /}
    upstream: app
    auth: public
YML
"$BIN" serve --config "$WORK/gateway.yml" > "$WORK/gateway.log" 2>&1 &
GW_PID=$!
GW_PORT=""
for _ in $(seq 100); do
  GW_PORT=$(grep -oE '"port":[0-9]+' "$WORK/gateway.log" | head -1 | grep -oE '[0-9]+$' || true)
  [ -n "$GW_PORT" ] && break; sleep 0.1
done
[ -n "$GW_PORT" ] || { cat "$WORK/gateway.log" >&2; exit 1; }

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$GW_PID/status"; }

# Warm-up: one complete response, so the start figure includes the loaded code and pools.
python3 - "$GW_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(b"GET /warm HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
while s.recv(1 << 20):
    pass
PY
sleep 1
BEFORE=$(rss_kib)
echo "gateway pid $GW_PID on port $GW_PORT; RSS before: $((BEFORE / 1024)) MiB ($BEFORE KiB)"

# Clients: small receive buffers, one request each, never read; hold until told to stop.
cat > "$WORK/client.py" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
for i in range(n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /large HTTP/1.1\r\nHost: x\r\n\r\n")
    socks.append(s)
print(f"ready {len(socks)}", flush=True)
sys.stdin.readline()
for s in socks:
    s.close()
print("closed", flush=True)
PY
mkfifo "$WORK/ctl"
python3 "$WORK/client.py" "$GW_PORT" "$CONNS" < "$WORK/ctl" > "$WORK/client.out" &
CL_PID=$!
exec 3> "$WORK/ctl"
for _ in $(seq 600); do grep -q '^ready' "$WORK/client.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$WORK/client.out" || { echo "FAIL: the client did not open $CONNS connections" >&2; exit 1; }
# Let every response fill the socket buffers and the gateway's queues, sampling the peak.
PEAK=0
for _ in $(seq 20); do R=$(rss_kib); [ "$R" -gt "$PEAK" ] && PEAK=$R; sleep 0.5; done
OPEN=$(ls "/proc/$GW_PID/fd" | wc -l)
echo "RSS peak with $CONNS non-reading clients: $((PEAK / 1024)) MiB ($PEAK KiB); gateway fds open: $OPEN"
echo >&3; exec 3>&-
for _ in $(seq 100); do grep -q '^closed' "$WORK/client.out" 2>/dev/null && break; sleep 0.1; done
sleep 4
AFTER=$(rss_kib)
GROWTH=$(( (PEAK - BEFORE) / 1024 ))
echo "RSS after they closed: $((AFTER / 1024)) MiB ($AFTER KiB)"
echo "growth at the peak: $GROWTH MiB (limit $LIMIT_MIB MiB)"
if [ "$GROWTH" -gt "$LIMIT_MIB" ]; then echo "FAIL: RSS grew by more than $LIMIT_MIB MiB" >&2; exit 1; fi
echo "PASS"
