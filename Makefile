# The two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
export GCBULK_REDIS_URL ?= redis://127.0.0.1:6379

.PHONY: test lint fmt build release demo bench clean

## test: the whole test suite (unit, contract, end-to-end, deploy manifests) against a real Redis.
test:
	@scripts/ensure-redis.sh >/dev/null
	$(CARGO) build --release -p gcbulk --locked
	GCBULK_BIN=$(CURDIR)/target/release/gcbulk $(CARGO) test --workspace --locked --release -- --test-threads=4

## lint: what CI holds every commit to.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt --all

build:
	$(CARGO) build --workspace

release:
	$(CARGO) build --release -p gcbulk --locked

## demo: the main job on the embedded look-alike, end to end, in under three minutes.
demo: release
	scripts/demo.sh

## bench: measured figures into docs/benchmarks.md (release build, 127.0.0.1 only).
bench: release
	scripts/bench.sh

clean:
	$(CARGO) clean
