#!/usr/bin/env bash
# Benchmark targets against the local upstream and print a markdown table.
#
#   ./run.sh [target...]          (default: every targets/*.sh whose available() passes)
#
# "direct" (the upstream itself, the ceiling) is always measured, and for every
# target with AUTH=<alg> the matching haproxy-jwt-<alg> anchor is added, so the
# ratios "target / direct" and "target / haproxy-jwt" come from the same run.
# Targets are interleaved and the order rotates every round.
#
# Knobs (environment):
#   ROUNDS=3  DURATION=10 (s)  WARMUP=2 (s)  CONNS=32  THREADS=1 (wrk -t)
#   COOLDOWN=1 (s between targets)  HAPROXY_NBTHREAD=1  SKIP_VERIFY=0
#   BENCH_PATH=/api/users/42
# Output: results/<UTC timestamp>/{meta.txt,verify.txt,samples.jsonl,rounds.jsonl,summary.md,raw/}
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}
COOLDOWN=${COOLDOWN:-1}
SKIP_VERIFY=${SKIP_VERIFY:-0}
export BENCH_PATH=${BENCH_PATH:-/api/users/42}

need_cmds wrk nginx haproxy curl python3
ensure_tokens

# ---------------------------------------------------------------- selection
if (($#)); then requested=("$@"); else mapfile -t requested < <(all_targets); fi
selected=(direct)
contains() { local x; for x in "${@:2}"; do [[ $x == "$1" ]] && return 0; done; return 1; }
for t in "${requested[@]}"; do
  [[ -f $(target_file "$t") ]] || die "unknown target '$t' (see targets/)"
  if ! target_available "$t"; then
    log "skipping $t: its available() check failed"
    continue
  fi
  contains "$t" "${selected[@]}" || selected+=("$t")
  IFS='|' read -r _ _ auth _ _ _ _ _ _ _ _ ref <<<"$(target_meta "$t")"
  [[ -z $ref && -n $auth ]] && ref="haproxy-jwt-$auth"
  if [[ -n $ref && -f $(target_file "$ref") ]] && ! contains "$ref" "${selected[@]}"; then
    selected+=("$ref")
  fi
done
need_tls=0 need_tlsload=0
for t in "${selected[@]}"; do
  IFS='|' read -r _ _ _ _ _ _ _ _ _ scheme load _ <<<"$(target_meta "$t")"
  [[ $scheme == https ]] && need_tls=1
  [[ $load == handshake ]] && need_tlsload=1
done
((need_tls)) && ensure_tls_cert
((need_tlsload)) && ensure_tlsload
n=${#selected[@]}
for t in "${selected[@]}"; do
  IFS='|' read -r _ token _ _ _ _ fresh _ <<<"$(target_meta "$t")"
  if [[ -n $fresh ]]; then
    log "minting $fresh distinct $token tokens for $t (kept between runs)"
    python3 "$BENCH_DIR/gen_fresh_tokens.py" "$token" "$fresh" || die "gen_fresh_tokens.py failed"
  fi
done

ts=$(date -u +%Y%m%dT%H%M%SZ)
RES="$BENCH_DIR/results/$ts"
[[ -e $RES ]] && RES="$RES-$$"   # two runs started within the same second
mkdir -p "$RES/raw"
: >"$RES/samples.jsonl"
CLK_TCK=$(getconf CLK_TCK)

est=$((ROUNDS * n * (DURATION + WARMUP + COOLDOWN + 1) + 5 * n + 3 * ROUNDS))
log "targets: ${selected[*]}"
log "rounds=$ROUNDS duration=${DURATION}s warmup=${WARMUP}s conns=$CONNS wrk-threads=$THREADS; estimated ~$((est / 60))m$((est % 60))s"
((est > 480)) && log "WARNING: estimated run time exceeds 8 minutes; lower ROUNDS/DURATION or target count"

WRK_TEMPLATE="BENCH_TOKEN=\$(cat tokens/<alg>.good.jwt) wrk -t$THREADS -c$CONNS -d${DURATION}s --latency -s wrk/auth.lua http://127.0.0.1:<port>$BENCH_PATH (SCHEME=https: https://localhost:<port>$BENCH_PATH)"
TLSLOAD_TEMPLATE="bin/tlsload -p <port> -c $CONNS -d $DURATION -P $BENCH_PATH -n localhost -t \$(cat tokens/<alg>.good.jwt)   (LOAD=handshake: a new connection, a full TLS handshake and Connection: close per request)"

# ---------------------------------------------------------------- metadata
{
  echo "date_utc: $(date -u '+%Y-%m-%d %H:%M:%S')"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')" \
    "(family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')," \
    "model $(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | cut -d: -f2 | tr -d ' '))" \
    "$(grep -q hypervisor /proc/cpuinfo && echo '[virtualized]')"
  echo "kernel: $(uname -sr)"
  echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "mem: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "loadavg_before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "wrk: $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
  echo "nginx: $(nginx -v 2>&1 | sed 's/.*: //')"
  echo "haproxy: $(haproxy -v | head -1)"
  echo "openssl: $(openssl version 2>/dev/null || echo n/a)"
  echo "params: ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP CONNS=$CONNS THREADS=$THREADS COOLDOWN=$COOLDOWN HAPROXY_NBTHREAD=$HAPROXY_NBTHREAD BENCH_PATH=$BENCH_PATH"
  echo "targets: ${selected[*]}"
  echo "wrk: $WRK_TEMPLATE"
  echo "tlsload: $TLSLOAD_TEMPLATE"
  echo "upstream: nginx -p run/upstream/ -e stderr -c conf/upstream.nginx.conf -g 'daemon off;'"
  for t in "${selected[@]}"; do
    echo "--- target $t: $(target_meta "$t")"
    (load_target "$t"; declare -F start >/dev/null && declare -f start || echo "(no start: served by the upstream)")
  done
} >"$RES/meta.txt"

trap cleanup_all EXIT
trap 'exit 130' INT TERM

start_upstream

# ---------------------------------------------------------------- verify
if [[ $SKIP_VERIFY != 1 ]]; then
  log "verifying targets (accept/reject matrix) before benchmarking"
  vfail=0
  for t in "${selected[@]}"; do
    k=0
    verify_target "$t" >>"$RES/verify.txt" || k=$?
    vfail=$((vfail + k))
  done
  grep -E '^(FAIL|INFO)' "$RES/verify.txt" >&2 || true
  ((vfail == 0)) || die "verification failed ($vfail checks), see $RES/verify.txt"
  log "verification passed: $(grep -c '^PASS' "$RES/verify.txt") checks"
fi

# ---------------------------------------------------------------- measure
record() { # record JSON_FROM_WRK ROUND TARGET POSITION CPU_T CPU_U META CLK NOTE [VM_BUSY VM_STEAL VM_TOTAL]
  python3 - "$@" <<'PY' >>"$RES/samples.jsonl"
import json, sys
raw, rnd, target, pos, cpu_t, cpu_u, meta, clk, note = sys.argv[1:10]
vm = [int(x) for x in sys.argv[10:13]] if len(sys.argv) >= 13 else None
d = json.loads(raw) if raw else {"requests": 0, "rps": 0.0, "err_status": -1, "err_connect": -1,
                                  "err_read": -1, "err_write": -1, "err_timeout": -1}
fields = meta.split("|")
port, token, auth, desc = fields[:4]
scheme, load, ref = (fields[9:12] + ["http", "keepalive", ""])[:3] if len(fields) >= 12 else ("http", "keepalive", "")
if not ref and auth:
    ref = "haproxy-jwt-" + auth
clk = int(clk)
errs = sum(d.get(k, 0) for k in ("err_connect", "err_read", "err_write", "err_timeout"))
d.update(round=int(rnd), target=target, position=int(pos), port=int(port), token=token,
         auth=auth, desc=desc, note=note, scheme=scheme, load=load, ref=ref,
         valid=bool(raw) and d["requests"] > 0 and d["err_status"] == 0 and errs == 0
         and d.get("resumed", 0) == 0)
if d["requests"] > 0:
    d["cpu_target_s"] = int(cpu_t) / clk
    d["cpu_upstream_s"] = int(cpu_u) / clk
    d["cpu_target_us_per_req"] = int(cpu_t) / clk * 1e6 / d["requests"]
if vm and d["requests"] > 0:
    busy, steal, total = vm
    d["vm_busy_cores"] = busy / clk / d["duration_s"]
    d["vm_steal_pct"] = 100.0 * steal / total if total else 0.0
print(json.dumps(d))
PY
}

for ((r = 1; r <= ROUNDS; r++)); do
  probe=$(cpu_probe || true)
  echo "{\"round\": $r, \"rsa2048_verify_per_s\": ${probe:-null}}" >>"$RES/rounds.jsonl"
  log "round $r: cpu probe ${probe:-n/a} RSA-2048 verify/s (openssl speed)"
  off=$(((r - 1) % n))
  order=("${selected[@]:off}" "${selected[@]:0:off}")
  pos=0
  for t in "${order[@]}"; do
    pos=$((pos + 1))
    meta=$(target_meta "$t")
    IFS='|' read -r port token auth _ _ _ fresh _ _ scheme load _ <<<"$meta"
    # Cache-miss targets (FRESH_TOKENS=N): rotate through N distinct tokens.
    script="$BENCH_DIR/wrk/auth.lua"
    if [[ -n $fresh ]]; then
      script="$BENCH_DIR/wrk/fresh.lua"
      export BENCH_TOKENS_FILE="$BENCH_DIR/tokens/$token.fresh.txt"
    fi
    url=$(target_url "$t")
    tls=()
    [[ $scheme == https ]] && tls=(--cacert "$TLS_CERT" --resolve "localhost:$port:127.0.0.1")
    tok=$(token_for "$token")
    if ! start_target "$t" "$UPSTREAM_ADDR_BENCH"; then
      record "" "$r" "$t" "$pos" 0 0 "$meta" "$CLK_TCK" "failed to start"
      continue
    fi
    [[ $r == 1 && -f $RUN_ROOT/$t/cmdline ]] && echo "cmdline $t: $(cat "$RUN_ROOT/$t/cmdline")" >>"$RES/meta.txt"
    hdr=()
    [[ -n $tok ]] && hdr=(-H "Authorization: Bearer $tok")
    code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "${tls[@]}" "${hdr[@]}" "$url" || true)
    if [[ $code != 200 ]]; then
      log "round $r $t: sanity request returned $code, not 200; skipping"
      stop_target "$t"
      record "" "$r" "$t" "$pos" 0 0 "$meta" "$CLK_TCK" "sanity request returned $code"
      continue
    fi
    # load DURATION: wrk (keep-alive) or tlsload (a full handshake per request)
    load_run() {
      if [[ $load == handshake ]]; then
        "$TLSLOAD" -p "$port" -c "$CONNS" -d "$1" -P "$BENCH_PATH" -n localhost -t "$tok"
      else
        BENCH_TOKEN=$tok wrk -t"$THREADS" -c"$CONNS" -d"${1}s" --latency -s "$script" "$url"
      fi
    }
    load_run "$WARMUP" >"$RES/raw/r$r-$t.warmup.txt" 2>&1 || true
    pg=${BENCH_PIDS[$t]:-${BENCH_PIDS[upstream]}}
    t0=$(pg_cpu_ticks "$pg")
    u0=$(pg_cpu_ticks "${BENCH_PIDS[upstream]}")
    read -r vb0 vs0 vt0 < <(vm_cpu_ticks)
    load_run "$DURATION" >"$RES/raw/r$r-$t.txt" 2>&1 || true
    read -r vb1 vs1 vt1 < <(vm_cpu_ticks)
    t1=$(pg_cpu_ticks "$pg")
    u1=$(pg_cpu_ticks "${BENCH_PIDS[upstream]}")
    json=$(sed -n 's/^BENCH_JSON //p' "$RES/raw/r$r-$t.txt" | tail -1)
    record "$json" "$r" "$t" "$pos" $((t1 - t0)) $((u1 - u0)) "$meta" "$CLK_TCK" "" \
      $((vb1 - vb0)) $((vs1 - vs0)) $((vt1 - vt0))
    rps=$(tail -1 "$RES/samples.jsonl" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.0f req/s, valid=%s" % (d["rps"], d["valid"]))')
    log "round $r/$ROUNDS [$pos/$n] $t: $rps"
    stop_target "$t"
    sleep "$COOLDOWN"
  done
done

echo "loadavg_after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RES/meta.txt"
python3 "$BENCH_DIR/report.py" "$RES" | tee "$RES/summary.md"
log "results in ${RES#"$BENCH_DIR"/}"
if grep -q '"valid": false' "$RES/samples.jsonl"; then
  log "some samples are INVALID (see the end of the table)"
  exit 3
fi
