# shellcheck shell=bash disable=SC2034
# The Swift gateway: a public route (no token checked), --loops 1.
PORT=18097
TOKEN=
AUTH=
DESC="gateway public route, --loops 1"
GATEWAY_CONF=gateway-public.yml
GATEWAY_LOOPS=1
FRESH_TOKENS=
source "$BENCH_DIR/targets/gateway.inc"
