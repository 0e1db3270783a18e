# shellcheck shell=bash disable=SC2034
# The Swift gateway: gateway RS256 over TLS, --loops 1: a full handshake per request.
PORT=18089
TOKEN=rs256
AUTH=rs256
SCHEME=https
LOAD=handshake
REF=haproxy-tls-proxy-handshake
DESC="gateway RS256 over TLS, --loops 1: a full handshake per request"
GATEWAY_CONF=gateway-tls-rs256.yml
GATEWAY_LOOPS=1
FRESH_TOKENS=
source "$BENCH_DIR/targets/gateway.inc"
