#!/usr/bin/env bash
# Instructions and system calls per request, for the gateway and the anchors.
#
#   GATEWAY_BIN=/path/to/release/gateway ./instructions.sh [TARGET...]
#
# Default targets: gateway-rs256-1loop (token-cache hit), gateway-rs256-fresh-1loop (a fresh
# token every request: cache miss, RSA verify), gateway-public-1loop (public route),
# nginx-proxy, haproxy-proxy, haproxy-jwt-rs256, all against the harness's upstream (18080).
#
# For each target and each mode (a fresh start of the target per mode):
#   callgrind  the target runs under `valgrind --tool=callgrind`; WARMUP_REQUESTS (2,000)
#              requests, then `callgrind_control -z` zeroes the counters, exactly REQUESTS
#              (20,000) requests, then `callgrind_control -d` dumps: instructions/request =
#              the dump's total Ir / REQUESTS (all threads; nothing of start-up, warm-up or
#              shutdown is in it).
#   strace     the target runs natively; after the warm-up `strace -f -c -p PID` attaches
#              to every thread, exactly REQUESTS requests, then strace is stopped (SIGINT);
#              syscalls/request = strace's total calls / REQUESTS.
# Load: loadgen.py, CONNS (32) keep-alive connections, one request outstanding on each,
# the same token every request (or fresh tokens in rotation for FRESH_TOKENS targets);
# SCHEME=https targets over TLS (loadgen.py --tls: the handshakes happen before the counted
# requests); LOAD=handshake targets with bin/tlsload -N: every request on a new connection
# with a full TLS handshake (instructions per handshake + request).
#
# Why zeroing rather than "run N and N' requests and divide the difference": both remove
# start-up and warm-up, but zeroing needs one run per target instead of two (a callgrind run
# of the gateway takes minutes) and has no run-to-run noise in the subtraction; the vgdb
# gdbserver that callgrind_control talks to acts on the process even while all its threads
# are blocked in epoll_wait, so the zero and the dump land exactly between the phases.
#
# Known problems and what this script does about them:
#   - valgrind 3.19 cannot read the DWARF 5 debug sections of a Swift 6 release binary
#     (it aborts reading the .debug_* sections): the gateway runs from a copy stripped with
#     `objcopy --strip-debug` (symbols stay, so callgrind_annotate still names functions).
#   - valgrind 3.19 crashed (SIGSEGV inside valgrind) in the gateway's idle main thread
#     while it sat in libdispatch's sigsuspend, which dispatchMain() reaches from a
#     thread-specific-data destructor after pthread_exit of the main thread. `gateway serve`
#     therefore parks its main thread in pause(2) instead (Sources/gateway/MainThread.swift).
#   - nginx runs with `master_process off` (one process, the worker's work) so that
#     callgrind and strace see the whole request path in the process they were given.
# Knobs: REQUESTS=20000 WARMUP_REQUESTS=2000 CONNS=32 MODES="callgrind strace".
# Results: results/icount-<UTC time>/ (summary.md, per-target logs, callgrind dumps,
# strace tables). Loopback only; every wait is bounded.
set -euo pipefail
shopt -s inherit_errexit   # a failed load inside $(run_target ...) stops the run
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REQUESTS=${REQUESTS:-20000}
WARMUP_REQUESTS=${WARMUP_REQUESTS:-2000}
CONNS=${CONNS:-32}
MODES=${MODES:-callgrind strace}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-1200}   # seconds, per load phase

need_cmds valgrind callgrind_control strace nginx haproxy python3 objcopy timeout
ensure_tokens
ensure_tls_cert
ensure_tlsload

if (($#)); then targets=("$@"); else
  targets=(gateway-rs256-1loop gateway-rs256-fresh-1loop gateway-public-1loop nginx-proxy haproxy-proxy haproxy-jwt-rs256)
fi

# Under valgrind the gateway takes seconds to start: wait longer than lib.sh's 15 s.
eval "_lib_$(declare -f wait_port)"
wait_port() { _lib_wait_port "$1" 180 "${3:-}"; }

ts=$(date -u +%Y%m%dT%H%M%SZ)
RES="$BENCH_DIR/results/icount-$ts"
mkdir -p "$RES/wrap"
trap 'cleanup_all' EXIT INT TERM

# Wrappers put first in the targets' PATH: they run the real binary under $ICOUNT_PREFIX.
for prog in nginx haproxy; do
  real=$(command -v "$prog")
  cat >"$RES/wrap/$prog" <<WRAP
#!/usr/bin/env bash
args=()
for a in "\$@"; do
  [[ $prog == nginx && \$a == 'daemon off;' ]] && a='daemon off; master_process off;'
  args+=("\$a")
done
exec \${ICOUNT_PREFIX:-} "$real" "\${args[@]}"
WRAP
  chmod +x "$RES/wrap/$prog"
done
needs_gateway=0
for t in "${targets[@]}"; do [[ $t == gateway* ]] && needs_gateway=1; done
if ((needs_gateway)); then
  [[ -x ${GATEWAY_BIN:-} ]] || die "GATEWAY_BIN must name the release gateway binary"
  objcopy --strip-debug "$GATEWAY_BIN" "$RES/wrap/gateway.stripped"
  cat >"$RES/wrap/gateway" <<WRAP
#!/usr/bin/env bash
exec \${ICOUNT_PREFIX:-} "$RES/wrap/gateway.stripped" "\$@"
WRAP
  chmod +x "$RES/wrap/gateway"
fi

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "command: REQUESTS=$REQUESTS WARMUP_REQUESTS=$WARMUP_REQUESTS CONNS=$CONNS ./instructions.sh ${targets[*]}"
  echo "gateway: ${GATEWAY_BIN:-} (stripped copy)"
  valgrind --version; strace -V | sed -n 1p; nginx -v 2>&1; haproxy -v | sed -n 1p
  nproc | sed 's/^/cores: /'
} >"$RES/meta.txt"

start_upstream

# load NAME PORT COUNT: exactly COUNT requests with the target's token(s).
load() {
  local name=$1 port=$2 count=$3 token fresh scheme load_kind args=()
  IFS='|' read -r _ token _ _ _ _ fresh _ _ scheme load_kind _ <<<"$(target_meta "$name")"
  if [[ $load_kind == handshake ]]; then
    timeout "$LOAD_TIMEOUT" "$TLSLOAD" -p "$port" -N "$count" -c "$CONNS" -P "${BENCH_PATH:-/api/users/42}" \
      -n localhost -t "$(token_for "$token")"
    return
  fi
  [[ $scheme == https ]] && args+=(--tls)
  if [[ -n $fresh ]]; then
    args+=(--tokens-file "$BENCH_DIR/tokens/$token.fresh.txt")
  elif [[ -n $token ]]; then
    token_for "$token" >"$RES/$name.token"
    args+=(--token-file "$RES/$name.token")
  fi
  python3 "$BENCH_DIR/loadgen.py" "$port" "$count" --conns "$CONNS" --path "${BENCH_PATH:-/api/users/42}" \
    --timeout "$LOAD_TIMEOUT" "${args[@]}"
}

# run_target NAME MODE: prints the per-request number.
run_target() {
  local name=$1 mode=$2 port fresh pid out
  IFS='|' read -r port _ _ _ _ _ fresh _ <<<"$(target_meta "$name")"
  [[ -n $fresh ]] && python3 "$BENCH_DIR/gen_fresh_tokens.py" rs256 "$fresh" >&2
  local d="$RES/$name.$mode"
  mkdir -p "$d"
  local prefix=""
  [[ $mode == callgrind ]] && prefix="valgrind --tool=callgrind --callgrind-out-file=$d/callgrind.out"
  local old_path=$PATH old_bin=${GATEWAY_BIN:-}
  export PATH="$RES/wrap:$PATH" ICOUNT_PREFIX=$prefix GATEWAY_BIN="$RES/wrap/gateway"
  local ok=0
  start_target "$name" "$UPSTREAM_ADDR_BENCH" && ok=1
  export PATH=$old_path GATEWAY_BIN=$old_bin
  unset ICOUNT_PREFIX
  ((ok)) || die "$name did not start ($mode)"
  pid=${BENCH_PIDS[$name]}
  cp "$RUN_ROOT/$name/server.log" "$d/start.log" 2>/dev/null || true
  log "$name/$mode: warm-up, $WARMUP_REQUESTS requests"
  load "$name" "$port" "$WARMUP_REQUESTS" >&2
  if [[ $mode == callgrind ]]; then
    timeout 120 callgrind_control -z "$pid" >"$d/zero.txt" 2>&1 || { cat "$d/zero.txt" >&2; die "callgrind_control -z failed"; }
    log "$name/$mode: measuring $REQUESTS requests"
    load "$name" "$port" "$REQUESTS" >&2
    timeout 300 callgrind_control -d "$pid" >"$d/dump.txt" 2>&1 || { cat "$d/dump.txt" >&2; die "callgrind_control -d failed"; }
    stop_target "$name"
    cp "$RUN_ROOT/$name/server.log" "$d/server.log" 2>/dev/null || true
    # The dump made by -d is the first numbered one (callgrind.out.1); the final one at exit is not.
    out=$(ls "$d"/callgrind.out.1 2>/dev/null || true)
    [[ -n $out ]] || die "$name: no callgrind dump in $d"
    local ir
    ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$out")
    [[ $ir =~ ^[0-9]+$ ]] || die "$name: no total in $out"
    echo "$ir" >"$d/total"
    python3 -c "print(round($ir / $REQUESTS))"
  else
    strace -f -c -q -o "$d/strace.txt" -p "$pid" &
    local spid=$!
    sleep 2   # attach to every thread before the first measured request
    log "$name/$mode: measuring $REQUESTS requests"
    load "$name" "$port" "$REQUESTS" >&2
    kill -INT "$spid"
    wait "$spid" || true
    stop_target "$name"
    local calls
    calls=$(awk '$NF == "total" { print $4 }' "$d/strace.txt")
    [[ $calls =~ ^[0-9]+$ ]] || die "$name: no total in $d/strace.txt"
    python3 -c "print(f'{$calls / $REQUESTS:.2f}')"
  fi
}

declare -A IR=() SC=()
for t in "${targets[@]}"; do
  [[ -f $(target_file "$t") ]] || die "unknown target '$t'"
  for m in $MODES; do
    v=$(run_target "$t" "$m")
    if [[ $m == callgrind ]]; then IR[$t]=$v; else SC[$t]=$v; fi
    log "$t/$m: $v per request"
  done
done

{
  echo "Instructions and system calls per request, $(date -u '+%Y-%m-%d'),"
  echo "\`REQUESTS=$REQUESTS WARMUP_REQUESTS=$WARMUP_REQUESTS CONNS=$CONNS ./instructions.sh\`"
  echo "($WARMUP_REQUESTS warm-up, then exactly $REQUESTS keep-alive requests over $CONNS connections):"
  echo
  echo "| target | instructions/request | syscalls/request |"
  echo "|---|---:|---:|"
  for t in "${targets[@]}"; do
    desc=$(IFS='|' read -r _ _ _ d _ <<<"$(target_meta "$t")"; echo "$d")
    printf '| %s (`%s`) | %s | %s |\n' "$desc" "$t" \
      "$(python3 -c "v='${IR[$t]:-}'; print(f'{int(v):,}' if v else '–')")" "${SC[$t]:-–}"
  done
} | tee "$RES/summary.md"
log "results in $RES"
