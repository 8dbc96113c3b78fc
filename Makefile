# Warden: the two README commands are `make demo` and `make test`.
SWIFT ?= swift
SWIFT_FLAGS ?=

.PHONY: setup build release dist test test-dist demo bench clean

setup:
	@./scripts/setup.sh

build: setup
	$(SWIFT) build $(SWIFT_FLAGS)

release: setup
	$(SWIFT) build -c release --static-swift-stdlib $(SWIFT_FLAGS)

## Release artifacts in dist/: tarball, .deb, SHA256SUMS (docs/install.md).
dist: setup
	./scripts/dist.sh

## Install the artifacts into fresh Debian roots and run them there (needs root and
## debootstrap; prints why and skips otherwise).
test-dist: setup
	./scripts/test-dist.sh

## Set everything up and run every test (the release artifacts too: test-dist).
test: setup
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	$(SWIFT) test --skip-build $(SWIFT_FLAGS)
	./scripts/test-dist.sh

## Set everything up and run the built-in demo.
demo: build
	./examples/demo.sh

bench: setup
	./scripts/bench.sh

clean:
	rm -rf .build
