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
APT_PACKAGES := pkg-config libgps-dev gpsd libsqlite3-dev libssl-dev libcurl4-openssl-dev openssl libmosquitto-dev mosquitto mosquitto-dev mosquitto-clients \
	python3 python3-venv systemd netcat-openbsd dpkg-dev lintian \
	libp11-kit-dev libengine-pkcs11-openssl softhsm2 \
	gpsbabel libjs-leaflet chromium \
	swtpm tpm2-abrmd libtss2-tcti-tabrmd0 libtss2-tcti-swtpm0 libtpm2-pkcs11-1 libtpm2-pkcs11-tools dbus opensc
# What the system test adds (make test runs it only as root).
SYSTEM_TEST_PACKAGES := debootstrap systemd-container

# From PyPI, in one venv: AWS's IoT Device SDK for Python (the independent check of localcloud)
# and cfn-lint (the check of cloud/aws/trackerd.yaml).
AWSIOT_VENV := .build/awsiot-venv
AWSIOTSDK_VERSION := 1.31.0
CFN_LINT_VERSION := 1.51.0

RUN_SPEED ?= 10

# The release binary: static Swift runtime (the board needs no toolchain), no $$ORIGIN rpath,
# full RELRO and fortified C targets, as Debian builds its own packages. Linked by the
# toolchain's lld with packed relative relocations (DT_RELR, glibc 2.36: 1.1 MB of .rela.dyn
# become 9 KB), without exporting our symbols (the static-stdlib default exports them
# all: 0.8 MB of .dynsym and .dynstr that nothing looks up), and with the code a running
# tracker uses first in .text (`make symbol-order`: 1.8 MiB less of it resident).
RELEASE_FLAGS := -c release -Xswiftc -static-stdlib --disable-local-rpath \
	-Xlinker -z -Xlinker relro -Xlinker -z -Xlinker now -Xcc -D_FORTIFY_SOURCE=2 \
	-Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs -Xlinker --no-export-dynamic \
	-Xlinker --symbol-ordering-file=$(CURDIR)/scripts/trackerd.symbol-order -Xlinker --no-warn-symbol-ordering
# Cross builds (README, "Building for arm64"): a Swift SDK, the package's architecture, its strip.
HOST_ARCH := $(shell dpkg --print-architecture)
SWIFT_SDK ?=
DEB_ARCH ?= $(HOST_ARCH)
STRIP ?= strip
RELEASE_FLAGS += $(if $(SWIFT_SDK),--swift-sdk $(SWIFT_SDK))
VERSION := $(shell sed -n 's/.*static let version = "\(.*\)".*/\1/p' Sources/TrackerCore/TrackerCore.swift)
DEB_DIR := .build/deb
DEB := $(DEB_DIR)/trackerd_$(VERSION)_$(DEB_ARCH).deb
HOST_DEB := $(DEB_DIR)/trackerd_$(VERSION)_$(HOST_ARCH).deb

# $(call apt-install,PACKAGES): installs those of the Debian PACKAGES that are missing.
apt-install = @missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

.PHONY: fuzz deps python-tools lint-cloud build release deb lint-deb test test-system run run-replay check-config bench bench-fleet symbol-order clean

deps:
	@command -v swift >/dev/null || { echo "Swift 6 is required (swift.org toolchain, on PATH or in $(SWIFT_DIR))"; exit 1; }
	$(call apt-install,$(APT_PACKAGES))

build: deps
	swift build

release: deps
	swift build $(RELEASE_FLAGS) --product trackerd

# The Debian package, .build/deb/trackerd_VERSION_ARCH.deb (this machine's architecture unless
# DEB_ARCH says otherwise).
deb: release
	mkdir -p $(DEB_DIR) && swift package show-dependencies --format json > $(DEB_DIR)/dependencies.json
	VERSION=$(VERSION) DEB_ARCH=$(DEB_ARCH) STRIP=$(STRIP) DEPENDENCIES=$(DEB_DIR)/dependencies.json \
	  bash scripts/build-deb.sh "$$(swift build $(RELEASE_FLAGS) --show-bin-path)/trackerd" $(DEB)

# lintian must report no errors (warnings are printed; the run fails on E: lines only).
lint-deb: deb
	lintian --allow-root --fail-on error $(DEB)
	@# Every package the binary links is listed at the exact version Package.swift pins, and
	@# swift-log (the journal) is among them.
	@listed=$$(dpkg-deb --fsys-tarfile $(DEB) | tar -xO ./usr/share/doc/trackerd/swift-packages.txt | grep " https://"); \
	pins=$$(sed -n 's|.*github.com/[^/]*/\([^"]*\)", exact: "\([^"]*\)".*|\1 \2|p' Package.swift); \
	echo "$$listed" | grep -q "^swift-log " || { echo "lint-deb: swift-log is not in swift-packages.txt"; exit 1; }; \
	while read -r name version rest; do \
	  echo "$$pins" | grep -qx "$$name $$version" || { echo "lint-deb: $$name $$version is not pinned so in Package.swift"; exit 1; }; \
	done <<< "$$listed"
	@echo "lintian: $(DEB) has no errors"

python-tools:
	@$(AWSIOT_VENV)/bin/python -c 'import awsiot' 2>/dev/null && [ -x $(AWSIOT_VENV)/bin/cfn-lint ] || { \
	  python3 -m venv $(AWSIOT_VENV) && \
	  $(AWSIOT_VENV)/bin/pip install -q awsiotsdk==$(AWSIOTSDK_VERSION) cfn-lint==$(CFN_LINT_VERSION); }

lint-cloud: python-tools
	$(AWSIOT_VENV)/bin/cfn-lint cloud/aws/trackerd.yaml
	@echo "cfn-lint: cloud/aws/trackerd.yaml passes"

test: deps python-tools lint-cloud lint-deb
	swift build --build-tests
	bash Tests/Fixtures/check-systemd-unit.sh systemd/trackerd.service $(CURDIR)/.build/debug/trackerd
	TRACKERD_SHARED_DIR=$(SHARED) swift test --skip-build
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory test-system; \
	else echo "make test: not root, so the system test under a real systemd (make test-system) is skipped"; fi

# The package installed in a booted Debian bookworm container (systemd-nspawn), with localcloud
# on the host's loopback: READY, provisioning, fixes, journal fields, stop, restart.
test-system: deb build
	$(call apt-install,$(SYSTEM_TEST_PACKAGES))
	SHARED=$(SHARED) bash Tests/System/system-test.sh $(HOST_DEB) .build/debug/localcloud

run: build
	SHARED=$(SHARED) RUN_SPEED=$(RUN_SPEED) bash scripts/run-demo.sh

# trackerd alone on the recorded drive, no cloud: every fix and the zone changes in its log.
run-replay: build
	@echo "== trackerd: replaying $(SHARED)/testdata/tracks/seed-drive.nmea at $(RUN_SPEED)x (Ctrl-C stops) =="
	.build/debug/trackerd run --config etc/trackerd.toml --log-level debug \
	  --replay $(SHARED)/testdata/tracks/seed-drive.nmea --replay-speed $(RUN_SPEED)

# libFuzzer on every parser of outside input (scripts/fuzz.sh), FUZZ_SECONDS per target.
# Swift's -sanitize=fuzzer links libFuzzer's own main, which clashes with the entry point
# SwiftPM gives an executable: the instrumentation is asked for directly and libFuzzer is
# linked without its main (trackerd-fuzz starts the driver itself).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := nmea toml geojson provisioning salvage shadow jobs json
LIBFUZZER = $(shell find $(SWIFT_DIR)/../lib/clang -name 'libclang_rt.fuzzer_no_main-*.a' | head -1)
FUZZ_FLAGS = -c release --scratch-path .build-fuzz -Xswiftc -sanitize=address \
	-Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp -Xswiftc -DFUZZING \
	-Xlinker $(LIBFUZZER) -Xlinker -lstdc++
fuzz: deps
	swift build $(FUZZ_FLAGS) --product trackerd-fuzz
	bash scripts/fuzz.sh "$$(swift build $(FUZZ_FLAGS) --show-bin-path)/trackerd-fuzz" $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Figures, not pass/fail: see Benchmarks/bench.py.
# BENCH_SECTIONS: some of geofences reporting decode idle pipeline (default: all).
BENCH_PACKAGES := valgrind gpsd-clients
# The code a running tracker uses, first in .text (scripts/symbol-order.py says why and how).
symbol-order: release
	$(call apt-install,$(BENCH_PACKAGES))
	python3 scripts/symbol-order.py .build/release/trackerd $(SHARED) > scripts/trackerd.symbol-order.new
	mv scripts/trackerd.symbol-order.new scripts/trackerd.symbol-order

bench: release
	$(call apt-install,$(BENCH_PACKAGES))
	python3 Benchmarks/bench.py .build/release/trackerd $(SHARED) $(BENCH_SECTIONS)

# The fleet after an outage (Benchmarks/fleetsim): trackerd's policies on a virtual clock for
# 10,000 and 1,000,000 trackers, with and without jitter; then 1,000 real first boots at once
# through localcloud, and 1,000 real clients through a broker restart beside the model's
# prediction. JSON and plots in .build/fleetsim/ (about 4 minutes).
FLEET_PACKAGES := python3-matplotlib
bench-fleet: deps
	$(call apt-install,$(FLEET_PACKAGES))
	for product in fleetsim localcloud localcloud-broker-acl; do swift build -c release --product $$product || exit 1; done
	.build/release/fleetsim model --trackers 10000 --out .build/fleetsim/10k
	.build/release/fleetsim model --trackers 1000000 --out .build/fleetsim/1m
	.build/release/fleetsim boots --devices 1000 --out .build/fleetsim
	.build/release/fleetsim real --clients 1000 --outage-s 20 --out .build/fleetsim

check-config: build
	.build/debug/trackerd check-config --config etc/trackerd.toml

clean:
	rm -rf .build
