# shellcheck shell=bash disable=SC2034
# The gateway's decision listener alone (forward auth): wrk sends the request itself (the
# Envoy ext_authz convention), the gateway answers 200 with the identity headers; no upstream.
PORT=18060
TOKEN=rs256
AUTH=rs256
DESC="gateway decision listener RS256 (forward auth, no upstream)"
INSUFFICIENT_SCOPE_STATUS=403
EMPTY_BEARER_STATUS=400
GOOD_EXPECT="200:"              # empty body: a decision, not a proxied response
GATEWAY_BIN=${GATEWAY_BIN:-gateway}

available() {
  command -v "$GATEWAY_BIN" >/dev/null 2>&1
}

start() {
  export BENCH_DECISION_PORT=$PORT BENCH_PORT=$((PORT + 2000)) BENCH_ADMIN_PORT=$((PORT + 1000))
  export BENCH_UPSTREAM=$UPSTREAM_ADDR
  exec "$GATEWAY_BIN" serve --config "$BENCH_DIR/conf/gateway-decision.yml"
}
