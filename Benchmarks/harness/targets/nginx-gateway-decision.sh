# shellcheck shell=bash disable=SC2034
# nginx auth_request asking the gateway's decision listener, then proxying to the upstream
# itself: forward auth end to end (compare with nginx-proxy, nginx alone).
PORT=18062
TOKEN=rs256
AUTH=rs256
DESC="nginx auth_request + gateway decision RS256"
INSUFFICIENT_SCOPE_STATUS=403
EMPTY_BEARER_STATUS=500         # nginx turns any decision other than 2xx/401/403 (here 400) into 500
GATEWAY_BIN=${GATEWAY_BIN:-gateway}

available() {
  command -v "$GATEWAY_BIN" >/dev/null 2>&1 && command -v nginx >/dev/null 2>&1
}

start() {
  # Both in this target's process group: the harness stops the group.
  export BENCH_DECISION_PORT=$((PORT + 1)) BENCH_PORT=$((PORT + 2000)) BENCH_ADMIN_PORT=$((PORT + 1000))
  export BENCH_UPSTREAM=$UPSTREAM_ADDR
  "$GATEWAY_BIN" serve --config "$BENCH_DIR/conf/gateway-decision.yml" &
  mkdir -p "$RUN_DIR/tmp"
  sed -e "s/@PORT@/$PORT/" -e "s/@DECISION@/$BENCH_DECISION_PORT/" -e "s/@UPSTREAM@/$UPSTREAM_ADDR/" \
    "$BENCH_DIR/conf/nginx-decision.conf.in" >"$RUN_DIR/nginx.conf"
  local i
  for ((i = 0; i < 100; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$BENCH_DECISION_PORT") 2>/dev/null && break
    sleep 0.05
  done
  exec nginx -p "$RUN_DIR/" -e stderr -c "$RUN_DIR/nginx.conf" -g 'daemon off;'
}
