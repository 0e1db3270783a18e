# gateway — build, test and demo entry points. See README.md.
SHELL := /bin/bash
SWIFT ?= swift
SYSTEM_PACKAGES := libcurl4-openssl-dev libssl-dev pkg-config curl openssl
CONFIG ?= debug

.PHONY: all deps test-deps build release test policy-test demo lint-deploy clean fuzz-jose bench-jose bench-stream fuzz-http bench bench-tls bench-deps bench-idle bench-idle-tls bench-micro bench-instructions bench-slowread bench-revocation bench-introspection

all: build

# What only `make test` needs: Debian's chromium for the real-browser check
# (Tests/GatewayIntegrationTests/BrowserChromiumTests.swift, docs/browser-apps.md).
TEST_PACKAGES := chromium nginx caddy

# Installs the system libraries (Debian) when any is missing.
deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build -c $(CONFIG)

release: deps
	$(SWIFT) build -c release

# The test-only packages (TEST_PACKAGES), installed when any is missing: chromium (the
# browser test), and the real ingresses the forward-auth tests start
# (IngressForwardAuthIntegrationTests): nginx with its auth_request module (checked with
# `nginx -V`) and caddy. A test whose peer is missing fails, it never skips.
test-deps: deps
	@missing=""; for p in $(TEST_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi; \
	nginx -V 2>&1 | grep -q -- --with-http_auth_request_module || { echo "nginx lacks the auth_request module" >&2; exit 1; }

# Every test is XCTest (no swift-testing suites): the closing line counts them.
test: test-deps
	$(SWIFT) build --build-tests
	@mkdir -p .build
	set -o pipefail; $(SWIFT) test --skip-build --disable-swift-testing 2>&1 | tee .build/test-output.txt
	@awk '/Executed [0-9]+ tests?, with [0-9]+ failures?/ { n = $$2; f = $$5 } END { if (n == "") exit 1; printf "tests: %d passed, %d failed\n", n - f, f }' .build/test-output.txt

# Policy tests (tests/policy/*.yml) against the example gateway.yml, through the real decision
# code, offline (`gateway test`). Also run by `make test` (PolicyTestCommandTests).
policy-test: deps
	$(SWIFT) build -c $(CONFIG) --product gateway
	"$$($(SWIFT) build -c $(CONFIG) --show-bin-path)/gateway" test --config gateway.yml tests/policy/*.yml

demo: build
	@bash scripts/demo.sh "$$($(SWIFT) build -c $(CONFIG) --show-bin-path)/gateway"

# libFuzzer over the JOSE token parser/verifier (not part of `make test`): builds
# Sources/GatewayJOSE + Fuzz/JOSEFuzz.swift with -sanitize=fuzzer,address, then runs it for
# FUZZ_SECONDS with the seed corpus Fuzz/corpus (the test vectors); new inputs go to
# .build/fuzz/corpus, crashes to .build/fuzz/crash-*.
SWIFTC ?= swiftc
FUZZ_SECONDS ?= 60
fuzz-jose: deps
	mkdir -p .build/fuzz/corpus && rm -f .build/fuzz/jose-fuzz
	$(SWIFTC) -sanitize=fuzzer,address -parse-as-library -module-name GatewayJOSEFuzz -g \
	  -I Sources/COpenSSL $$(pkg-config --cflags-only-I openssl | sed 's/-I/-Xcc -I/g') \
	  Sources/GatewayJOSE/*.swift Fuzz/JOSEFuzz.swift -o .build/fuzz/jose-fuzz \
	  $$(pkg-config --libs openssl) 2>&1 | grep -v "Cannot export local symbol" || true
	test -x .build/fuzz/jose-fuzz
	.build/fuzz/jose-fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=9000 -print_final_stats=1 \
	  -artifact_prefix=.build/fuzz/ .build/fuzz/corpus Fuzz/corpus

# Release-build timing of verify per algorithm and of a verified-token cache hit, then
# `openssl speed` for the same primitives on this machine (numbers in README).
BENCH_SECONDS ?= 1
bench-jose: deps
	mkdir -p .build/bench && rm -f .build/bench/jose-bench
	$(SWIFTC) -O -parse-as-library -module-name GatewayJOSE -package-name gateway \
	  -I Sources/COpenSSL $$(pkg-config --cflags-only-I openssl | sed 's/-I/-Xcc -I/g') \
	  Sources/GatewayJOSE/*.swift Sources/GatewayCore/VerifiedTokenCache.swift Sources/GatewayCore/IssuerKeyStore.swift \
	  Benchmarks/JOSEBench.swift -o .build/bench/jose-bench $$(pkg-config --libs openssl)
	.build/bench/jose-bench $(BENCH_SECONDS)
	openssl speed -seconds $(BENCH_SECONDS) rsa2048 rsa3072 ecdsap256 ecdsap384 ecdsap521 ed25519 2>/dev/null | grep -E "sign/s|rsa [0-9]+ bits|bits ecdsa|bits EdDSA" || true
	openssl speed -seconds $(BENCH_SECONDS) -bytes 256 -hmac sha256 2>/dev/null | tail -2 || true

# Release-build timing of the revocation check (one lookup in 100,000- and 1,000,000-entry
# lists) and of parsing a 100,000-entry document (numbers in docs/revocation.md).
bench-revocation: deps
	mkdir -p .build/bench && rm -f .build/bench/revocation-bench
	$(SWIFTC) -O -parse-as-library -module-name GatewayJOSE -package-name gateway \
	  -I Sources/COpenSSL $$(pkg-config --cflags-only-I openssl | sed 's/-I/-Xcc -I/g') \
	  Sources/GatewayJOSE/*.swift Sources/GatewayCore/RevocationList.swift Sources/GatewayCore/RevocationKey.swift \
	  Sources/GatewayCore/RevocationDocument.swift Sources/GatewayCore/RevocationDocumentError.swift \
	  Benchmarks/RevocationBench.swift -o .build/bench/revocation-bench $$(pkg-config --libs openssl)
	.build/bench/revocation-bench

# A cached introspection answer beside a verified-token cache hit (docs/revocation.md).
bench-introspection: deps
	mkdir -p .build/bench && rm -f .build/bench/introspection-bench
	$(SWIFTC) -O -parse-as-library -module-name GatewayJOSE -package-name gateway \
	  -I Sources/COpenSSL $$(pkg-config --cflags-only-I openssl | sed 's/-I/-Xcc -I/g') \
	  Sources/GatewayJOSE/*.swift Sources/GatewayCore/VerifiedTokenCache.swift Sources/GatewayCore/RevocationKey.swift \
	  Sources/GatewayCore/IntrospectionCache.swift Sources/GatewayCore/IntrospectionAnswer.swift \
	  Benchmarks/IntrospectionBench.swift -o .build/bench/introspection-bench $$(pkg-config --libs openssl)
	.build/bench/introspection-bench

# Streaming backpressure benchmark: 1 GiB through the gateway to a client reading at
# 10 MiB/s; fails if the gateway's RSS goes over 64 MiB. About 2 minutes.
bench-stream: release
	bash scripts/bench-stream-rss.sh "$$($(SWIFT) build -c release --show-bin-path)/gateway"

# Load benchmark: Benchmarks/harness (a copy of shared/bench, loopback only) runs the
# gateway targets (Benchmarks/harness/targets/gateway-*.sh) beside the anchors (direct upstream,
# HAProxy plain, HAProxy JWT per algorithm), interleaved over rounds, and prints the table.
# Forward auth: gateway-decision (the decision listener alone, beside HAProxy JWT RS256) and
# nginx-gateway-decision (nginx auth_request + the decision listener, beside nginx-proxy alone).
# HTTPS (BENCH_TLS_TARGETS, also alone: `make bench-tls`): HAProxy terminating TLS with the
# same ECDSA P-256 certificate and TLS policy (no auth; JWT RS256) beside the gateway with
# `listen.tls` (--loops 1 and default loops), keep-alive; and a full TLS handshake per
# request (a new connection each, no resumption: Benchmarks/harness/tlsload.c) for HAProxy
# TLS without auth and the gateway --loops 1.
# Installs wrk/nginx/haproxy first (Benchmarks/harness/setup.sh). ~9 minutes with the defaults.
BENCH_ROUNDS ?= 3
BENCH_DURATION ?= 5
BENCH_WARMUP ?= 1
BENCH_TLS_TARGETS ?= haproxy-tls-proxy haproxy-tls-jwt-rs256 gateway-tls-rs256-1loop gateway-tls-rs256 haproxy-tls-proxy-handshake gateway-tls-rs256-1loop-handshake
BENCH_TARGETS ?= haproxy-proxy gateway-rs256 gateway-rs256-revoked gateway-rs256-1loop gateway-rs256-fresh gateway-rs256-nocache gateway-es256 gateway-hs256 gateway-decision nginx-proxy nginx-gateway-decision $(BENCH_TLS_TARGETS)
bench-deps: deps
	bash Benchmarks/harness/setup.sh

bench: bench-deps release
	@# The bin path is asked here: under Benchmarks/ swift would find the micro-benchmark package.
	bin="$$($(SWIFT) build -c release --show-bin-path)/gateway"; test -x "$$bin" || { echo "no $$bin" >&2; exit 1; }; \
	cd Benchmarks/harness && GATEWAY_BIN="$$bin" \
	  ROUNDS=$(BENCH_ROUNDS) DURATION=$(BENCH_DURATION) WARMUP=$(BENCH_WARMUP) ./run.sh $(BENCH_TARGETS)

# The HTTPS rows alone (BENCH_TLS_TARGETS with their anchors and direct; ~4 minutes).
bench-tls: bench-deps release
	bin="$$($(SWIFT) build -c release --show-bin-path)/gateway"; test -x "$$bin" || { echo "no $$bin" >&2; exit 1; }; \
	cd Benchmarks/harness && GATEWAY_BIN="$$bin" \
	  ROUNDS=$(BENCH_ROUNDS) DURATION=$(BENCH_DURATION) WARMUP=$(BENCH_WARMUP) ./run.sh $(BENCH_TLS_TARGETS)

# Instructions/request (callgrind) and system calls/request (strace) of the gateway (token-cache
# hit, cache miss with a fresh token per request, public route; --loops 1) and the anchors (nginx
# proxy, HAProxy proxy, HAProxy JWT RS256): ICOUNT_WARMUP requests, then exactly ICOUNT_REQUESTS
# keep-alive requests over 32 connections, same token. Loopback only. Prints a markdown table;
# raw data in Benchmarks/harness/results/icount-*/. How and why: Benchmarks/harness/instructions.sh.
# About 25 minutes on 2 cores (callgrind runs the targets ~50x slower).
ICOUNT_REQUESTS ?= 20000
ICOUNT_WARMUP ?= 2000
ICOUNT_TARGETS ?=
bench-instructions: bench-deps release
	@missing=""; for p in valgrind strace binutils; do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	bin="$$($(SWIFT) build -c release --show-bin-path)/gateway"; test -x "$$bin" || { echo "no $$bin" >&2; exit 1; }; \
	cd Benchmarks/harness && GATEWAY_BIN="$$bin" REQUESTS=$(ICOUNT_REQUESTS) WARMUP_REQUESTS=$(ICOUNT_WARMUP) \
	  ./instructions.sh $(ICOUNT_TARGETS)

# RSS with 5,000 idle keep-alive connections (each answered once); fails over 100 MiB.
bench-idle: release
	bash scripts/bench-idle-rss.sh "$$($(SWIFT) build -c release --show-bin-path)/gateway"

# The same with HTTPS: 5,000 idle TLS keep-alive connections (limit 150 MiB).
bench-idle-tls: release
	TLS=1 bash scripts/bench-idle-rss.sh "$$($(SWIFT) build -c release --show-bin-path)/gateway"

# RSS with 1,000 clients that request a large response and never read it (before, peak,
# after they close); fails when the peak is more than 100 MiB over the start.
bench-slowread: release
	bash scripts/bench-slowread-rss.sh "$$($(SWIFT) build -c release --show-bin-path)/gateway"

# Micro-benchmarks (ordo-one/benchmark, separate package in Benchmarks/ so `make test` never
# builds it): time and mallocs per operation of the per-request steps. Release build.
bench-micro: deps
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark --no-progress

# libFuzzer on the HTTP request parser for FUZZ_SECONDS (default 60); not part of `make test`.
# Builds Sources/GatewayHTTP + Fuzz/HTTPParser with -sanitize=fuzzer,address into .build/fuzz.
fuzz-http:
	mkdir -p .build/fuzz/corpus-http
	$(SWIFTC) -sanitize=fuzzer,address -parse-as-library -O -module-name GatewayHTTP \
	  Sources/GatewayHTTP/*.swift Fuzz/HTTPParser/FuzzHTTPParser.swift -o .build/fuzz/fuzz-http
	.build/fuzz/fuzz-http -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -detect_leaks=1 \
	  -artifact_prefix=.build/fuzz/ .build/fuzz/corpus-http Fuzz/HTTPParser/corpus

# Validates deploy/ (Dockerfile, Kubernetes manifests, systemd unit, the ConfigMap's
# gateway.yml through `gateway check`); installs its own tools. See deploy/README.md.
lint-deploy: deps
	$(SWIFT) build -c $(CONFIG) --product gateway
	bash deploy/lint/lint-deploy.sh "$$($(SWIFT) build -c $(CONFIG) --show-bin-path)/gateway"

clean:
	rm -rf .build
