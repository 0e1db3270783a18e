# shellcheck shell=bash disable=SC2034
# The Swift gateway: gateway HS256, default loops.
PORT=18095
TOKEN=hs256
AUTH=hs256
DESC="gateway HS256, default loops"
GATEWAY_CONF=gateway-hs256.yml
GATEWAY_LOOPS=
FRESH_TOKENS=
source "$BENCH_DIR/targets/gateway.inc"
