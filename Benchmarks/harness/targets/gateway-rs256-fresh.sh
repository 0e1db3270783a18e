# shellcheck shell=bash disable=SC2034
# The Swift gateway: gateway RS256, a fresh token every request (12,000 in rotation: cache misses).
PORT=18092
TOKEN=rs256
AUTH=rs256
DESC="gateway RS256, a fresh token every request (12,000 in rotation: cache misses)"
GATEWAY_CONF=gateway-rs256.yml
GATEWAY_LOOPS=
FRESH_TOKENS=12000
source "$BENCH_DIR/targets/gateway.inc"
