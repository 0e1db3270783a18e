# gateway — build, test and demo entry points. See README.md.
SHELL := /bin/bash
SWIFT ?= swift
SYSTEM_PACKAGES := libcurl4-openssl-dev libssl-dev pkg-config curl openssl
CONFIG ?= debug

.PHONY: all deps build release test demo lint-deploy clean

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

# Validates deploy/ (Dockerfile, Kubernetes manifests, systemd unit, the ConfigMap's
# gateway.yml through `gateway check`); installs its own tools. See deploy/README.md.
lint-deploy: deps
	$(SWIFT) build -c $(CONFIG) --product gateway
	bash deploy/lint/lint-deploy.sh "$$($(SWIFT) build -c $(CONFIG) --show-bin-path)/gateway"

clean:
	rm -rf .build
