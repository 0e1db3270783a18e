#!/usr/bin/env bash
# Idle keep-alive memory benchmark: opens CONNS client connections to the gateway,
# sends one authorised request on each (HS256 token, so every connection has been through
# the whole pipeline once and its buffers have been used), reads the 200, and keeps them all
# open and idle. Then samples the gateway's resident memory (VmRSS, /proc/PID/status).
#
# Usage: scripts/bench-idle-rss.sh [GATEWAY_BINARY]
#   CONNS     idle keep-alive connections (default 5000)
#   LIMIT_MIB RSS allowed with them open (default 100; 150 with TLS=1); exit 1 when exceeded
#   TLS=1     HTTPS: the gateway terminates TLS (a throw-away ECDSA P-256 certificate made
#             here with openssl) and every client connection is TLS 1.3 (`make bench-idle-tls`)
# Needs python3 and a file-descriptor limit above CONNS + 100. Loopback only.
set -euo pipefail

BIN=${1:-.build/release/gateway}
CONNS=${CONNS:-5000}
TLS=${TLS:-0}
if [ "$TLS" = 1 ]; then LIMIT_MIB=${LIMIT_MIB:-150}; else LIMIT_MIB=${LIMIT_MIB:-100}; fi
[ -x "$BIN" ] || { echo "no gateway binary at $BIN (build it: swift build -c release)" >&2; exit 2; }
ulimit -n "$((CONNS * 2 + 200))" 2>/dev/null || true

WORK=$(mktemp -d)
UP_PID=""; GW_PID=""
cleanup() {
  [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null || true
  [ -n "$UP_PID" ] && kill "$UP_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Upstream: "ok\n" for every request, keep-alive (the gateway pools its upstream connections).
cat > "$WORK/upstream.py" <<'PY'
import http.server
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "3")
        self.end_headers()
        self.wfile.write(b"ok\n")
    def log_message(self, *args):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$WORK/upstream.py" > "$WORK/upstream.port" &
UP_PID=$!
for _ in $(seq 100); do [ -s "$WORK/upstream.port" ] && break; sleep 0.1; done
UP_PORT=$(head -1 "$WORK/upstream.port")

SECRET=0123456789abcdef0123456789abcdef
LISTEN_TLS=""
CA=""
if [ "$TLS" = 1 ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -keyout "$WORK/tls.key" -out "$WORK/tls.crt" -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost" 2>/dev/null
  LISTEN_TLS="  tls: {certificate: $WORK/tls.crt, private_key: $WORK/tls.key}"
  CA="$WORK/tls.crt"
fi
cat > "$WORK/gateway.yml" <<YML
listen:
  address: 127.0.0.1:0
$LISTEN_TLS
admin:
  address: 127.0.0.1:0
limits:
  idle_timeout: 300s
  max_connections: $((CONNS + 100))
issuers:
  - name: bench
    issuer: https://issuer.bench.local
    audiences: [bench-api]
    algorithms: [HS256]
    secret_env: BENCH_SECRET
upstreams:
  app:
    url: http://127.0.0.1:$UP_PORT
routes:
  - name: all
    match: {path_prefix: /}
    upstream: app
    auth:
      issuers: [bench]
YML
BENCH_SECRET=$SECRET "$BIN" serve --config "$WORK/gateway.yml" > "$WORK/gateway.log" 2>&1 &
GW_PID=$!
GW_PORT=""
for _ in $(seq 100); do
  # The "listening" line (JSON, or key=value with another log handler).
  GW_PORT=$(grep -oE '"port":[0-9]+|[^_]port=[0-9]+' "$WORK/gateway.log" | head -1 | grep -oE '[0-9]+$' || true)
  [ -n "$GW_PORT" ] && break; sleep 0.1
done
[ -n "$GW_PORT" ] || { cat "$WORK/gateway.log" >&2; exit 1; }

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$GW_PID/status"; }
echo "gateway pid $GW_PID on port $GW_PORT; RSS at start: $(( $(rss_kib) / 1024 )) MiB"

# Client: CONNS connections, one request each, then hold them open until told to stop
# (it writes "ready N" once all N have had their 200, then waits for a line on stdin).
cat > "$WORK/client.py" <<'PY'
import base64, hashlib, hmac, json, socket, ssl, sys, time
port, n, secret = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()
ca = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
ctx = ssl.create_default_context(cafile=ca) if ca else None
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
h = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
p = b64(json.dumps({"iss": "https://issuer.bench.local", "aud": "bench-api", "sub": "user-42",
                    "exp": int(time.time()) + 3600}).encode())
tok = f"{h}.{p}." + b64(hmac.new(secret, f"{h}.{p}".encode(), hashlib.sha256).digest())
# Over TLS the Host must be a name of the certificate SNI chose (else 421).
host = "localhost" if ctx else "127.0.0.1"
req = f"GET /idle HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {tok}\r\n\r\n".encode()
socks, ok = [], 0
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if ctx:
        s = ctx.wrap_socket(s, server_hostname="localhost")
    s.sendall(req)
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"ok\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    if data.startswith(b"HTTP/1.1 200"):
        ok += 1
    socks.append(s)
print(f"ready {ok}", flush=True)
sys.stdin.readline()
PY
mkfifo "$WORK/ctl"
python3 "$WORK/client.py" "$GW_PORT" "$CONNS" "$SECRET" "$CA" < "$WORK/ctl" > "$WORK/client.out" &
CL_PID=$!
exec 3> "$WORK/ctl"
for _ in $(seq 1200); do grep -q '^ready' "$WORK/client.out" 2>/dev/null && break; sleep 0.1; done
OK=$(sed -n 's/^ready //p' "$WORK/client.out")
[ -n "$OK" ] || { echo "FAIL: client did not finish opening $CONNS connections" >&2; exit 1; }
sleep 2
PEAK=0
for _ in 1 2 3 4 5; do R=$(rss_kib); [ "$R" -gt "$PEAK" ] && PEAK=$R; sleep 0.5; done
OPEN=$(ls "/proc/$GW_PID/fd" | wc -l)
echo "$OK/$CONNS connections answered 200 and held open idle; gateway fds open: $OPEN"
if [ "$TLS" = 1 ]; then echo "every connection is HTTPS (TLS terminated by the gateway, session buffers released when idle)"; fi
echo "RSS with $CONNS idle keep-alive connections: $((PEAK / 1024)) MiB ($PEAK KiB; limit $LIMIT_MIB MiB)"
echo >&3; exec 3>&-
wait "$CL_PID" || true
[ "$OK" -eq "$CONNS" ] || { echo "FAIL: only $OK of $CONNS requests got 200" >&2; exit 1; }
if [ "$PEAK" -gt $((LIMIT_MIB * 1024)) ]; then echo "FAIL: RSS over limit" >&2; exit 1; fi
echo "PASS"
