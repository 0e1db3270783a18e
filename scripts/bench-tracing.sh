#!/usr/bin/env bash
# What span export costs per request: the example gateway.yml with and without `tracing:`,
# measured in the same run, interleaved (off, on, off, on ...), loopback only.
#
#   scripts/bench-tracing.sh path/to/gateway [ROUNDS] [SECONDS]
#
# Upstream and collector: nginx (200 for anything; the collector answers POST /v1/traces with
# 200 "{}" without storing). Load: wrk -t1 -c32 on GET /orders/1 with a valid RS256 token.
set -euo pipefail
bin=${1:?usage: $0 GATEWAY_BIN [ROUNDS] [SECONDS]}
rounds=${2:-2}
secs=${3:-8}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/bench-tracing.XXXXXX)
up_port=$((20000 + RANDOM % 5000)); col_port=$((up_port + 1)); gw_port=$((up_port + 2)); adm_port=$((up_port + 3))
mkdir -p "$work/nginx/tmp"
cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
pid nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
    client_max_body_size 64m;
    server { listen 127.0.0.1:$up_port; location / { default_type text/plain; return 200 "ok\n"; } }
    server { listen 127.0.0.1:$col_port; location / { client_body_buffer_size 8m; default_type application/json; return 200 "{}"; } }
}
NGINX
nginx -p "$work/nginx/" -e stderr -c "$work/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
gw_pid=""
cleanup() { [[ -n $gw_pid ]] && kill "$gw_pid" 2>/dev/null; kill "$nginx_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
sed -e "s#url: http://127.0.0.1:9000#url: http://127.0.0.1:$up_port#" \
    -e "s#jwks_file: Tests/#jwks_file: $repo/Tests/#" "$repo/gateway.yml" > "$work/off.yml"
cp "$work/off.yml" "$work/on.yml"
printf 'tracing: {otlp_endpoint: "http://127.0.0.1:%s", service_name: gateway, sample_ratio: 1.0}\n' "$col_port" >> "$work/on.yml"
token=$("$bin" token mint --key "$repo/Tests/Fixtures/vectors/keys/rsa-1.pem" --alg RS256 --kid rsa-1 \
  --claim iss=https://issuer.test.example/ --claim aud=orders-api --claim sub=bench --claim scope=read:orders --ttl 1h)
for ((r = 1; r <= rounds; r++)); do
  for mode in off on; do
    "$bin" serve --config "$work/$mode.yml" --listen "127.0.0.1:$gw_port" --admin "127.0.0.1:$adm_port" \
      --log-level warning > "$work/gw.log" 2>&1 &
    gw_pid=$!
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$adm_port/healthz" && break; sleep 0.1; done
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:$gw_port/orders/1")
    [[ $status == 200 ]] || { echo "gateway answered $status" >&2; cat "$work/gw.log" >&2; exit 1; }
    wrk -t1 -c32 -d2s -H "Authorization: Bearer $token" "http://127.0.0.1:$gw_port/orders/1" > /dev/null
    ticks() { awk '{print $14 + $15}' "/proc/$gw_pid/stat"; }
    before=$(ticks)
    # PERF=1: a cpu-clock profile of the gateway during the "on" runs (perf.<round>.data here).
    if [[ ${PERF:-0} == 1 && $mode == on ]]; then
      perf record -e cpu-clock -g -p "$gw_pid" -o "perf.$r.data" -- sleep "$secs" > /dev/null 2>&1 &
    fi
    out=$(wrk -t1 -c32 -d"${secs}s" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$gw_port/orders/1")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    after=$(ticks)
    reqs=$(awk '/requests in/ {print $1}' <<<"$out")
    # Gateway CPU (user + system) over the measured run, per request (clock ticks of 10 ms).
    cpu_us=$(awk -v t=$((after - before)) -v n="$reqs" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
    exported=$(curl -s "http://127.0.0.1:$adm_port/metrics" | awk '/^gateway_tracing_spans_exported_total/ {print $2}')
    dropped=$(curl -s "http://127.0.0.1:$adm_port/metrics" | awk '/^gateway_tracing_spans_dropped_total/ {s += $2} END {print s + 0}')
    echo "round=$r tracing=$mode rps=$rps p50=$p50 p99=$p99 requests=$reqs gateway_cpu_us_per_request=$cpu_us spans_exported=${exported:--} spans_dropped=$dropped"
    kill "$gw_pid"; wait "$gw_pid" 2>/dev/null || true; gw_pid=""
  done
done
