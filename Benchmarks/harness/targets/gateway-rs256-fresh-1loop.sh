# shellcheck shell=bash disable=SC2034
# The Swift gateway: gateway RS256, fresh token every request, --loops 1.
PORT=18096
TOKEN=rs256
AUTH=rs256
DESC="gateway RS256, fresh token every request, --loops 1"
GATEWAY_CONF=gateway-rs256.yml
GATEWAY_LOOPS=1
FRESH_TOKENS=12000
source "$BENCH_DIR/targets/gateway.inc"
