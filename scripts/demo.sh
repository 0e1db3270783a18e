#!/usr/bin/env bash
# Runs `gateway demo`, then every curl command it prints (each shown in full, ready to
# paste), showing each result.
# Usage: scripts/demo.sh PATH/TO/gateway
set -euo pipefail
bin=${1:?usage: demo.sh PATH/TO/gateway}
out=$(mktemp)
"$bin" demo --port 0 --admin-port 0 >"$out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 100); do
  grep -q '^ready' "$out" && break
  kill -0 $pid 2>/dev/null || { cat "$out"; exit 1; }
  sleep 0.1
done
grep -q '^ready' "$out" || { echo "gateway demo did not start"; cat "$out"; exit 1; }
sed -n '1,2p' "$out"
echo
n=0
while IFS= read -r line; do
  case "$line" in
    "# "*) title=${line#\# } ;;
    curl*)
      n=$((n + 1))
      echo "== $title"
      echo "\$ $line"
      bash -c "$line" | tr -d '\r' | grep -Ev '^(date|content-length|x-request-id):' -i || true
      echo; echo
      ;;
  esac
done < "$out"
echo "ran $n requests against the demo gateway (pid $pid); stopping it."
