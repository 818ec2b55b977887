# trackerd: the two commands of the README, and their helpers.
#   make run   the whole local system on a recorded drive
#   make test  every test
# Both install the Debian packages they need first (apt-get, only what is missing).

SHELL := /bin/bash
SHARED ?= $(abspath ../shared)
SWIFT_DIR ?= /opt/swift/usr/bin
export PATH := $(SWIFT_DIR):$(PATH)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Build and test dependencies from Debian bookworm.
APT_PACKAGES := pkg-config libgps-dev gpsd libsqlite3-dev libssl-dev openssl libmosquitto-dev mosquitto mosquitto-clients \
	python3 python3-venv systemd netcat-openbsd

# From PyPI, in one venv: AWS's IoT Device SDK for Python (the independent check of localcloud)
# and cfn-lint (the check of cloud/aws/trackerd.yaml).
AWSIOT_VENV := .build/awsiot-venv
AWSIOTSDK_VERSION := 1.31.0
CFN_LINT_VERSION := 1.51.0

RUN_SPEED ?= 10

.PHONY: deps python-tools lint-cloud build release test run run-replay check-config bench clean

deps:
	@command -v swift >/dev/null || { echo "Swift 6 is required (swift.org toolchain, on PATH or in $(SWIFT_DIR))"; exit 1; }
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

build: deps
	swift build

release: deps
	swift build -c release -Xswiftc -static-stdlib --product trackerd

python-tools:
	@$(AWSIOT_VENV)/bin/python -c 'import awsiot' 2>/dev/null && [ -x $(AWSIOT_VENV)/bin/cfn-lint ] || { \
	  python3 -m venv $(AWSIOT_VENV) && \
	  $(AWSIOT_VENV)/bin/pip install -q awsiotsdk==$(AWSIOTSDK_VERSION) cfn-lint==$(CFN_LINT_VERSION); }

lint-cloud: python-tools
	$(AWSIOT_VENV)/bin/cfn-lint cloud/aws/trackerd.yaml
	@echo "cfn-lint: cloud/aws/trackerd.yaml passes"

test: deps python-tools lint-cloud
	swift build --build-tests
	bash Tests/Fixtures/check-systemd-unit.sh systemd/trackerd.service $(CURDIR)/.build/debug/trackerd
	TRACKERD_SHARED_DIR=$(SHARED) swift test --skip-build

run: build
	SHARED=$(SHARED) RUN_SPEED=$(RUN_SPEED) bash scripts/run-demo.sh

check-config: build
	.build/debug/trackerd check-config --config etc/trackerd.toml

clean:
	rm -rf .build
