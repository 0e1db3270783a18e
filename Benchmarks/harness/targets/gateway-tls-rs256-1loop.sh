# shellcheck shell=bash disable=SC2034
# The Swift gateway: gateway RS256 over TLS, --loops 1.
PORT=18098
TOKEN=rs256
AUTH=rs256
SCHEME=https
LOAD=keepalive
REF=haproxy-tls-jwt-rs256
DESC="gateway RS256 over TLS, --loops 1"
GATEWAY_CONF=gateway-tls-rs256.yml
GATEWAY_LOOPS=1
FRESH_TOKENS=
source "$BENCH_DIR/targets/gateway.inc"
