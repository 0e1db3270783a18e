#!/usr/bin/env bash
# Streaming backpressure benchmark: proxies a large response through the gateway
# to a client reading at a limited rate, sampling the gateway's resident memory (VmRSS from
# /proc/PID/status) every 0.5 s. The gateway must not buffer what the client has not read
# (libcurl is paused at the high-water mark), so RSS stays flat however large the body is.
#
# Usage: scripts/bench-stream-rss.sh [GATEWAY_BINARY]
#   SIZE_MIB  response size in MiB (default 1024)
#   RATE      client read rate for curl --limit-rate (default 10M)
#   LIMIT_MIB peak RSS allowed (default 64); exit 1 when exceeded
# Needs python3 (loopback upstream) and curl. Everything listens on 127.0.0.1.
set -euo pipefail

BIN=${1:-.build/release/gateway}
SIZE_MIB=${SIZE_MIB:-1024}
RATE=${RATE:-10M}
LIMIT_MIB=${LIMIT_MIB:-64}
[ -x "$BIN" ] || { echo "no gateway binary at $BIN (build it: swift build -c release)" >&2; exit 2; }

WORK=$(mktemp -d)
UP_PID=""; GW_PID=""
cleanup() {
  [ -n "$GW_PID" ] && kill "$GW_PID" 2>/dev/null || true
  [ -n "$UP_PID" ] && kill "$UP_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Upstream: streams SIZE_MIB MiB of zeros with Content-Length, 1 MiB per write; never holds it all.
cat > "$WORK/upstream.py" <<'PY'
import http.server, sys
SIZE = int(sys.argv[1]) * 1024 * 1024
BLOCK = b"\0" * (1024 * 1024)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(SIZE))
        self.end_headers()
        left = SIZE
        try:
            while left > 0:
                n = min(left, len(BLOCK))
                self.wfile.write(BLOCK[:n])
                left -= n
        except (BrokenPipeError, ConnectionResetError):
            pass
    def log_message(self, *args):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
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
issuers:
  - name: none
    issuer: https://unused.example/
    algorithms: [HS256]
    secret_env: BENCH_SECRET
upstreams:
  gen:
    url: http://127.0.0.1:$UP_PORT
    timeout: 3600s
routes:
  - name: blob
    match: {path_prefix: /}
    upstream: gen
    auth: public
YML
BENCH_SECRET=0123456789abcdef0123456789abcdef "$BIN" serve --config "$WORK/gateway.yml" --loops 1 \
  > "$WORK/gateway.log" 2>&1 &
GW_PID=$!
GW_PORT=""
for _ in $(seq 100); do
  # The "listening" line (JSON on stdout, or key=value with another log handler).
  GW_PORT=$(grep -oE '"port":[0-9]+|[^_]port=[0-9]+' "$WORK/gateway.log" | head -1 | grep -oE '[0-9]+$' || true)
  [ -n "$GW_PORT" ] && break; sleep 0.1
done
[ -n "$GW_PORT" ] || { cat "$WORK/gateway.log" >&2; exit 1; }

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$GW_PID/status"; }
START_KIB=$(rss_kib)
echo "gateway pid $GW_PID on port $GW_PORT; upstream on $UP_PORT; ${SIZE_MIB} MiB at $RATE"
echo "RSS at start: $((START_KIB / 1024)) MiB"

curl -sS --limit-rate "$RATE" -o /dev/null -w '%{http_code} %{size_download} bytes in %{time_total}s\n' \
  "http://127.0.0.1:$GW_PORT/blob" > "$WORK/curl.out" &
CURL_PID=$!
PEAK_KIB=$START_KIB
SAMPLES=0
while kill -0 "$CURL_PID" 2>/dev/null; do
  R=$(rss_kib || echo 0)
  [ "$R" -gt "$PEAK_KIB" ] && PEAK_KIB=$R
  SAMPLES=$((SAMPLES + 1))
  if [ $((SAMPLES % 20)) -eq 0 ]; then echo "  t=$((SAMPLES / 2))s RSS $((R / 1024)) MiB"; fi
  sleep 0.5
done
wait "$CURL_PID"
cat "$WORK/curl.out"
EXPECTED=$((SIZE_MIB * 1024 * 1024))
grep -q "^200 $EXPECTED " "$WORK/curl.out" || { echo "FAIL: incomplete download" >&2; exit 1; }
echo "peak RSS: $((PEAK_KIB / 1024)) MiB ($PEAK_KIB KiB, $SAMPLES samples; limit $LIMIT_MIB MiB)"
if [ "$PEAK_KIB" -gt $((LIMIT_MIB * 1024)) ]; then echo "FAIL: RSS over limit" >&2; exit 1; fi
echo "PASS"
