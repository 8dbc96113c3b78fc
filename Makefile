# Warden: the two README commands are `make demo` and `make test`.
SWIFT ?= swift
SWIFT_FLAGS ?=

.PHONY: setup build release test demo bench clean

setup:
	@./scripts/setup.sh

build: setup
	$(SWIFT) build $(SWIFT_FLAGS)

release: setup
	$(SWIFT) build -c release --static-swift-stdlib $(SWIFT_FLAGS)

## Set everything up and run every test.
test: setup
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	$(SWIFT) test --skip-build $(SWIFT_FLAGS)

## Set everything up and run the built-in demo.
demo: build
	./examples/demo.sh

bench: setup
	./scripts/bench.sh

clean:
	rm -rf .build
