# gateway — build, test and demo entry points. See README.md.
SHELL := /bin/bash
SWIFT ?= swift
SYSTEM_PACKAGES := libcurl4-openssl-dev libssl-dev pkg-config curl openssl
CONFIG ?= debug

.PHONY: all deps build release test demo clean bench-stream fuzz-http

all: build

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

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

demo: build
	@bash scripts/demo.sh "$$($(SWIFT) build -c $(CONFIG) --show-bin-path)/gateway"

# Streaming backpressure benchmark: 1 GiB through the gateway to a client reading at
# 10 MiB/s; fails if the gateway's RSS goes over 64 MiB. About 2 minutes.
bench-stream: release
	bash scripts/bench-stream-rss.sh "$$($(SWIFT) build -c release --show-bin-path)/gateway"

# libFuzzer on the HTTP request parser for FUZZ_SECONDS (default 60); not part of `make test`.
# Builds Sources/GatewayHTTP + Fuzz/HTTPParser with -sanitize=fuzzer,address into .build/fuzz.
FUZZ_SECONDS ?= 60
SWIFTC ?= swiftc
fuzz-http:
	mkdir -p .build/fuzz/corpus-http
	$(SWIFTC) -sanitize=fuzzer,address -parse-as-library -O -module-name GatewayHTTP \
	  Sources/GatewayHTTP/*.swift Fuzz/HTTPParser/FuzzHTTPParser.swift -o .build/fuzz/fuzz-http
	.build/fuzz/fuzz-http -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -detect_leaks=1 \
	  -artifact_prefix=.build/fuzz/ .build/fuzz/corpus-http Fuzz/HTTPParser/corpus

clean:
	rm -rf .build
