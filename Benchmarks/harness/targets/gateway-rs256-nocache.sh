# shellcheck shell=bash disable=SC2034
# The Swift gateway: gateway RS256, token_cache disabled.
PORT=18093
TOKEN=rs256
AUTH=rs256
DESC="gateway RS256, token_cache disabled"
GATEWAY_CONF=gateway-rs256-nocache.yml
GATEWAY_LOOPS=
FRESH_TOKENS=
source "$BENCH_DIR/targets/gateway.inc"
