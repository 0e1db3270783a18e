# shellcheck shell=bash
# Shared helpers for run.sh and verify.sh. Source it; do not execute it.
#
# Process model: every server we start (upstream, each target) is launched as
# its own process group (job control on for the launch), the group id is the
# PID we record, and it is stopped with signals to that recorded group only
# (TERM, then KILL after a grace period). Nothing is ever killed by name.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ ! -w $BENCH_DIR ]]; then
  echo "bench: $BENCH_DIR is read-only; copy the folder somewhere writable first, e.g." >&2
  echo "  cp -r \"$BENCH_DIR\" \"\$(mktemp -d)/bench\"  and run it from there" >&2
  exit 2
fi
RUN_ROOT="$BENCH_DIR/run"            # scratch: per-server prefix dirs and logs (git-ignored)
UPSTREAM_PORT=18080                  # benchmark upstream ("ok\n")
ECHO_PORT=18079                      # verification upstream (echoes X-Auth-Subject)
UPSTREAM_ADDR_BENCH="127.0.0.1:$UPSTREAM_PORT"
UPSTREAM_ADDR_VERIFY="127.0.0.1:$ECHO_PORT"
: "${HAPROXY_NBTHREAD:=1}"
export BENCH_DIR HAPROXY_NBTHREAD

declare -A BENCH_PIDS=()             # name -> pid (= process group id)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need_cmds() {
  local c missing=()
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
  ((${#missing[@]} == 0)) || die "missing commands: ${missing[*]} (run ./setup.sh)"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid_alive PID: running (a zombie counts as dead).
pid_alive() {
  local line st
  { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
  st=${line##*) }
  st=${st%% *}
  [[ $st != Z && $st != X ]]
}

# wait_port PORT TIMEOUT_S [PID]: wait until PORT accepts; fail early if PID dies.
wait_port() {
  local port=$1 deadline=$((SECONDS + $2)) pid=${3:-}
  while ! port_open "$port"; do
    [[ -n $pid ]] && ! pid_alive "$pid" && return 1
    ((SECONDS >= deadline)) && return 1
    sleep 0.05
  done
}

wait_port_closed() {
  local port=$1 deadline=$((SECONDS + $2))
  while port_open "$port"; do
    ((SECONDS >= deadline)) && return 1
    sleep 0.05
  done
}

# ---------------------------------------------------------------- targets
target_file() { printf '%s/targets/%s.sh' "$BENCH_DIR" "$1"; }

all_targets() {
  local f
  for f in "$BENCH_DIR"/targets/*.sh; do
    [[ -e $f ]] || continue
    basename "$f" .sh
  done
}

# load_target NAME: defines PORT TOKEN AUTH DESC INSUFFICIENT_SCOPE_STATUS and
# start()/stop()/available()
load_target() {
  local f
  f=$(target_file "$1")
  [[ -f $f ]] || die "unknown target '$1' (no $f)"
  unset -f start stop available 2>/dev/null
  PORT="" TOKEN="" AUTH="" DESC="" INSUFFICIENT_SCOPE_STATUS=401 FRESH_TOKENS="" EMPTY_BEARER_STATUS=401 GOOD_EXPECT=""
  SCHEME=http LOAD=keepalive REF=""
  # shellcheck disable=SC1090
  source "$f"
  [[ $PORT =~ ^[0-9]+$ ]] || die "target $1: PORT not set"
}

# target_meta NAME -> "PORT|TOKEN|AUTH|DESC|HAS_START|INSUFFICIENT_SCOPE_STATUS|FRESH_TOKENS|EMPTY_BEARER_STATUS|GOOD_EXPECT|SCHEME|LOAD|REF"
# (GOOD_EXPECT: what the good-token check expects instead of the echo upstream's line, e.g.
# "200:" for a decision listener, which answers with an empty body and never calls upstream)
# (FRESH_TOKENS=N: wrk sends N distinct tokens in rotation, wrk/fresh.lua; see gen_fresh_tokens.py)
# (SCHEME=http|https: https targets serve keys/tls.crt + keys/tls.key, see ensure_tls_cert;
#  LOAD=keepalive (wrk) | handshake (tlsload: a new connection and a full TLS handshake per request);
#  REF=the anchor this target's ratio column compares with; default haproxy-jwt-<AUTH>)
target_meta() {
  (
    load_target "$1"
    local has_start=0
    declare -F start >/dev/null && has_start=1
    [[ $SCHEME == http || $SCHEME == https ]] || die "target $1: SCHEME must be http or https"
    [[ $LOAD == keepalive || ( $LOAD == handshake && $SCHEME == https ) ]] || die "target $1: LOAD must be keepalive, or handshake with https"
    printf '%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s\n' "$PORT" "$TOKEN" "$AUTH" "$DESC" "$has_start" "$INSUFFICIENT_SCOPE_STATUS" "$FRESH_TOKENS" "$EMPTY_BEARER_STATUS" "$GOOD_EXPECT" "$SCHEME" "$LOAD" "$REF"
  )
}

# target_available NAME: runs the target's optional available() hook.
target_available() {
  (
    load_target "$1"
    if declare -F available >/dev/null; then available; else true; fi
  )
}

token_for() { # token_for ALG-or-empty -> token text (empty if none)
  [[ -z $1 ]] && return 0
  tr -d '\n' < "$BENCH_DIR/tokens/$1.good.jwt"
}

ensure_tokens() {
  if [[ ! -f $BENCH_DIR/tokens/rs256.good.jwt || ! -f $BENCH_DIR/keys/rs256.pub.pem ]]; then
    log "generating keys and tokens (gen_tokens.py)"
    python3 "$BENCH_DIR/gen_tokens.py" >&2 || die "gen_tokens.py failed"
  fi
}

# ensure_tls_cert: one self-signed ECDSA P-256 certificate for 127.0.0.1 and localhost, made
# once and kept (keys/, git-ignored), served by every https target (HAProxy and the gateway):
#   keys/tls.crt, keys/tls.key (PEM), keys/tls.pem (both, for HAProxy's `crt`).
# Clients that check it use keys/tls.crt as their CA (curl --cacert).
TLS_CERT="$BENCH_DIR/keys/tls.crt"
TLS_KEY="$BENCH_DIR/keys/tls.key"
TLS_PEM="$BENCH_DIR/keys/tls.pem"
export TLS_CERT TLS_KEY TLS_PEM
ensure_tls_cert() {
  [[ -s $TLS_CERT && -s $TLS_KEY && -s $TLS_PEM ]] && return 0
  log "generating the TLS certificate (ECDSA P-256, 127.0.0.1 + localhost) into keys/"
  mkdir -p "$BENCH_DIR/keys"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -keyout "$TLS_KEY" -out "$TLS_CERT" -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null \
    || die "openssl req failed"
  chmod 600 "$TLS_KEY"
  cat "$TLS_CERT" "$TLS_KEY" >"$TLS_PEM"
  chmod 600 "$TLS_PEM"
}

# ensure_tlsload: builds bin/tlsload (tlsload.c) when missing or older than its source.
TLSLOAD="$BENCH_DIR/bin/tlsload"
ensure_tlsload() {
  [[ -x $TLSLOAD && $TLSLOAD -nt $BENCH_DIR/tlsload.c ]] && return 0
  log "building bin/tlsload"
  mkdir -p "$BENCH_DIR/bin"
  # shellcheck disable=SC2046
  cc -O2 -Wall -o "$TLSLOAD" "$BENCH_DIR/tlsload.c" $(pkg-config --cflags --libs openssl) \
    || die "cannot build tlsload.c (needs cc and libssl-dev)"
}

# target_url NAME: the URL wrk/curl use. https targets are asked as localhost (the name the
# certificate and the SNI wrk sends agree on; 127.0.0.1 is resolved from /etc/hosts).
target_url() {
  local port scheme
  IFS='|' read -r port _ _ _ _ _ _ _ _ scheme _ <<<"$(target_meta "$1")"
  if [[ $scheme == https ]]; then
    printf 'https://localhost:%s%s' "$port" "${2:-$BENCH_PATH}"
  else
    printf 'http://127.0.0.1:%s%s' "$port" "${2:-$BENCH_PATH}"
  fi
}

# ------------------------------------------------------------ processes
# _spawn NAME LOGFILE CMD...: start CMD in its own process group (pgid = pid),
# record it in BENCH_PIDS[NAME] and SPAWNED_PID. Must not run in a subshell.
_spawn() {
  local name=$1 logf=$2
  shift 2
  set -m
  "$@" >"$logf" 2>&1 </dev/null &
  SPAWNED_PID=$!
  set +m
  BENCH_PIDS[$name]=$SPAWNED_PID
}

start_upstream() {
  local d="$RUN_ROOT/upstream"
  port_open "$UPSTREAM_PORT" && die "port $UPSTREAM_PORT already in use by something else"
  port_open "$ECHO_PORT" && die "port $ECHO_PORT already in use by something else"
  mkdir -p "$d/tmp"
  _spawn upstream "$d/server.log" \
    nginx -p "$d/" -e stderr -c "$BENCH_DIR/conf/upstream.nginx.conf" -g 'daemon off;'
  local pid=$SPAWNED_PID
  if ! wait_port "$UPSTREAM_PORT" 10 "$pid" || ! wait_port "$ECHO_PORT" 5 "$pid"; then
    cat "$d/server.log" >&2
    stop_pid upstream
    die "upstream failed to start"
  fi
  log "upstream nginx up on 127.0.0.1:$UPSTREAM_PORT (+ echo :$ECHO_PORT), pid $pid"
}

# start_target NAME UPSTREAM_ADDR: returns 0 and sets BENCH_PIDS[NAME] (or
# nothing for start-less targets such as "direct").
start_target() {
  local name=$1 upstream_addr=$2 meta port has_start
  meta=$(target_meta "$name") || return 1
  IFS='|' read -r port _ _ _ has_start _ <<<"$meta"
  if [[ $has_start != 1 ]]; then
    port_open "$port" || { log "target $name has no start() and nothing listens on $port"; return 1; }
    return 0
  fi
  if port_open "$port"; then
    log "port $port for target $name is already in use by something else"
    return 1
  fi
  local d="$RUN_ROOT/$name"
  rm -rf "$d"
  mkdir -p "$d"
  # The target's start() runs in a fresh bash (its own process group) with
  # BENCH_DIR, RUN_DIR, PORT, UPSTREAM_ADDR, HAPROXY_NBTHREAD in the environment.
  _spawn "$name" "$d/server.log" \
    env RUN_DIR="$d" UPSTREAM_ADDR="$upstream_addr" \
    bash -c 'source "$BENCH_DIR/lib.sh"; load_target "$1"; export PORT; cd "$RUN_DIR" && start' _ "$name"
  local pid=$SPAWNED_PID
  if ! wait_port "$port" 15 "$pid"; then
    log "target $name failed to listen on $port; server log:"
    sed 's/^/    /' "$d/server.log" >&2
    stop_pid "$name"
    return 1
  fi
  echo "$pid" >"$d/pid"
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | sed "s#$BENCH_DIR#\$BENCH_DIR#g" >"$d/cmdline" || true
  return 0
}

# stop_pid NAME: TERM the recorded process group, KILL after 5 s, reap.
stop_pid() {
  local name=$1 pid=${BENCH_PIDS[$1]:-}
  [[ -n $pid ]] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 5))
  while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.05; done
  if pid_alive "$pid"; then
    log "process group $pid ($name) ignored TERM for 5 s; sending KILL"
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  # Members of the group that outlived the leader (e.g. orphaned workers).
  if kill -0 -- "-$pid" 2>/dev/null; then
    sleep 0.5
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  unset "BENCH_PIDS[$name]"
}

# stop_target NAME: the target's own stop() hook if it defines one (called
# with the recorded PID; given 5 s), then the default: TERM/KILL the group.
stop_target() {
  local name=$1 meta port pid
  meta=$(target_meta "$name") || return 0
  IFS='|' read -r port _ <<<"$meta"
  pid=${BENCH_PIDS[$name]:-}
  [[ -n $pid ]] || return 0
  if (load_target "$name"; declare -F stop >/dev/null); then
    (load_target "$name"; stop "$pid") || log "stop() hook of $name failed"
    local deadline=$((SECONDS + 5))
    while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.05; done
  fi
  stop_pid "$name"
  wait_port_closed "$port" 5 || log "WARNING: port $port still open after stopping $name (leaked process?)"
}

cleanup_all() {
  local n
  for n in "${!BENCH_PIDS[@]}"; do
    [[ $n == upstream ]] && continue
    stop_pid "$n"
  done
  [[ -n ${BENCH_PIDS[upstream]:-} ]] && stop_pid upstream
  return 0
}

# Sum of utime+stime (clock ticks) of all live processes in process group $1.
pg_cpu_ticks() {
  local pg=$1 total=0 f line rest
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    rest=${line##*) }
    # shellcheck disable=SC2086
    set -- $rest
    [[ $3 == "$pg" ]] && total=$((total + ${12} + ${13}))
  done
  echo "$total"
}

# Whole-VM CPU counters from /proc/stat: "busy_ticks steal_ticks total_ticks".
vm_cpu_ticks() {
  local _cpu user nice sys idle iowait irq softirq steal _rest
  read -r _cpu user nice sys idle iowait irq softirq steal _rest </proc/stat
  echo "$((user + nice + sys + irq + softirq)) $steal $((user + nice + sys + idle + iowait + irq + softirq + steal))"
}

# Machine speed probe: RSA-2048 verifications/s of `openssl speed` (about 2 s:
# it also times signing). Shows when the host is in a slow phase.
cpu_probe() {
  openssl speed -seconds 1 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $NF; exit}'
}

# ------------------------------------------------------------ verification
# verify_target NAME: start NAME against the echo upstream and check it.
# Prints one line per check; returns the number of failed checks.
verify_target() {
  local name=$1 meta port token auth scope_status empty_status good_expect scheme fails=0
  meta=$(target_meta "$name") || return 1
  IFS="|" read -r port token auth _ _ scope_status _ empty_status good_expect scheme _ <<<"$meta"
  start_target "$name" "$UPSTREAM_ADDR_VERIFY" \
    || { echo "FAIL  $name  start"; return 1; }
  local url tls=()
  url=$(target_url "$name" /api/users/42)
  # https: the certificate is checked (curl --cacert) and localhost is pinned to 127.0.0.1
  [[ $scheme == https ]] && tls=(--cacert "$TLS_CERT" --resolve "localhost:$port:127.0.0.1")

  _check() { # _check LABEL EXPECT(code|info) CURL_ARGS...
    local label=$1 expect=$2 code body
    shift 2
    body=$(curl -s -m 5 -o - -w '\n%{http_code}' "${tls[@]}" "$@" "$url" 2>/dev/null) || true
    code=${body##*$'\n'}
    body=${body%$'\n'*}
    body=${body%$'\n'}
    body=${body//$'\n'/ }
    local want=${expect%%:*}
    if [[ $expect == info ]]; then
      printf 'INFO  %-20s %-34s got %s %s\n' "$name" "$label" "$code" "$body"
    elif [[ $code == "$want" && ( $expect != *:* || $body == "${expect#*:}" ) ]]; then
      printf 'PASS  %-20s %-34s got %s%s\n' "$name" "$label" "$code" "${expect#"$want"}"
    else
      printf 'FAIL  %-20s %-34s expected %s, got %s %s\n' "$name" "$label" "$expect" "$code" "$body"
      fails=$((fails + 1))
    fi
  }

  if [[ -z $auth ]]; then
    _check "good token (not checked)" 200 -H "Authorization: Bearer $(token_for "$token")"
    _check "no Authorization" 200
  else
    local f case alg
    # good token, with spoofed identity headers that must not reach the upstream;
    # the echo upstream reports what it received
    _check "$auth.good+spoofed-headers" \
      "${good_expect:-200:sub=user-42|iss=https://issuer.bench.local|scopes=read:users write:projects|role=|authorization=absent}" \
      -H "Authorization: Bearer $(token_for "$auth")" \
      -H "X-Auth-Subject: admin" -H "x-auth-scopes: admin:all" -H "X-AUTH-ISSUER: https://evil.example" \
      -H "X-Auth-Role: admin"
    for f in "$BENCH_DIR"/tokens/"$auth".*.jwt; do
      case=$(basename "$f" .jwt)
      case=${case#"$auth".}
      [[ $case == good ]] && continue
      if [[ $case == edge-* ]]; then
        _check "$auth.$case (RFC-valid)" info -H "Authorization: Bearer $(tr -d '\n' <"$f")"
      elif [[ $case == no-scope || $case == scope-lookalike ]]; then
        _check "$auth.$case" "$scope_status" -H "Authorization: Bearer $(tr -d '\n' <"$f")"
      else
        _check "$auth.$case" 401 -H "Authorization: Bearer $(tr -d '\n' <"$f")"
      fi
    done
    for alg in rs256 es256 hs256; do
      [[ $alg == "$auth" ]] && continue
      _check "$alg.good (other alg)" 401 -H "Authorization: Bearer $(token_for "$alg")"
    done
    _check "no Authorization" 401
    _check "Basic credentials" 401 -u "user-42:secret"
    _check "Bearer, empty token" "$empty_status" -H "Authorization: Bearer "
  fi
  stop_target "$name"
  return "$fails"
}
