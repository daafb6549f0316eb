# LEDSentry: `make demo` and `make test` do all set-up on a fresh Debian machine.
# One Swift build kind (release, with testing enabled) serves the demo, the tests and
# the benchmark, so CI compiles the package once.

SWIFT       ?= swift
SWIFT_FLAGS ?= -c release -Xswiftc -enable-testing
BIN          = $(shell $(SWIFT) build $(SWIFT_FLAGS) --show-bin-path 2>/dev/null)

# What building and running needs, and what only the tests need on top.
RUN_PACKAGES  = pkg-config gcc make libc6-dev libserialport-dev libusb-1.0-0-dev \
                libpng-dev libjpeg62-turbo-dev libsqlite3-dev
TEST_PACKAGES = $(RUN_PACKAGES) python3 umockdev gir1.2-umockdev-1.0 python3-gi \
                gcc-arm-none-eabi libnewlib-arm-none-eabi ola socat

.PHONY: all deps test-deps firmware firmware-test build demo test bench clean

all: build

deps:
	@.ci/ensure-packages $(RUN_PACKAGES)

test-deps:
	@.ci/ensure-packages $(TEST_PACKAGES)

firmware: deps
	$(MAKE) -C Firmware

firmware-test: test-deps
	$(MAKE) -C Firmware test

build: deps firmware
	$(SWIFT) build $(SWIFT_FLAGS)

demo: build
	"$(BIN)/ledsentry" demo

test: test-deps firmware-test
	Tests/Conformance/run-conformance
	$(SWIFT) build $(SWIFT_FLAGS) --build-tests
	Tests/run-swift-tests "$(SWIFT)" $(SWIFT_FLAGS)

bench: build
	"$(BIN)/ledsentry-bench"

clean:
	$(MAKE) -C Firmware clean
	rm -rf .build
