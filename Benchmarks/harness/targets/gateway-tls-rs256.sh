# shellcheck shell=bash disable=SC2034
# The Swift gateway: gateway RS256 over TLS, default loops (1 per core).
PORT=18099
TOKEN=rs256
AUTH=rs256
SCHEME=https
LOAD=keepalive
REF=haproxy-tls-jwt-rs256
DESC="gateway RS256 over TLS, default loops (1 per core)"
GATEWAY_CONF=gateway-tls-rs256.yml
GATEWAY_LOOPS=
FRESH_TOKENS=
source "$BENCH_DIR/targets/gateway.inc"
