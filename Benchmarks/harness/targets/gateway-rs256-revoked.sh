# shellcheck shell=bash disable=SC2034
# The Swift gateway: gateway RS256 like gateway-rs256, with a 100,000-entry revocation list
# loaded (none of them the benchmark token), to compare with gateway-rs256 in the same run.
PORT=18190
TOKEN=rs256
AUTH=rs256
DESC="gateway RS256, 100,000-entry revocation list"
GATEWAY_CONF=gateway-rs256-revoked.yml
GATEWAY_LOOPS=
FRESH_TOKENS=
source "$BENCH_DIR/targets/gateway.inc"

# gateway.inc's start, after writing the list once (random jtis, half tokens, half subjects).
eval "$(declare -f start | sed '1s/^start/gateway_start/')"
start() {
  local list="$BENCH_DIR/tokens/revoked-100k.json"
  mkdir -p "$BENCH_DIR/tokens"
  if [[ ! -s $list ]]; then
    python3 - "$list" <<'PY'
import sys, uuid
iss = "https://issuer.bench.local"
tokens = ",".join('{"iss":"%s","jti":"%s","exp":4102444800}' % (iss, uuid.uuid4()) for _ in range(50000))
subjects = ",".join('{"iss":"%s","sub":"%s","issued_before":4102444800}' % (iss, uuid.uuid4()) for _ in range(50000))
open(sys.argv[1], "w").write('{"tokens":[%s],"subjects":[%s]}' % (tokens, subjects))
PY
  fi
  export BENCH_REVOCATION_FILE=$list
  gateway_start
}
