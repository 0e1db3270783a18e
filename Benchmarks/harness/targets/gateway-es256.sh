# shellcheck shell=bash disable=SC2034
# The Swift gateway: gateway ES256, default loops.
PORT=18094
TOKEN=es256
AUTH=es256
DESC="gateway ES256, default loops"
GATEWAY_CONF=gateway-es256.yml
GATEWAY_LOOPS=
FRESH_TOKENS=
source "$BENCH_DIR/targets/gateway.inc"
