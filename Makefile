# slotbox — build, test, benchmark and run. See README.md.
#
#   make build     release build of the whole workspace
#   make test      what CI runs: every unit and integration test, including the differential
#                  test against a real redis-server (DIFF_COMMANDS / DIFF_SEED tune it)
#   make bench     criterion benches of the protocol crate
#   make compare   side-by-side redis-benchmark table: redis-server vs slotbox-server
#   make lint      rustfmt check and clippy with warnings as errors
#   make run       one slotbox-server on port 6379, in the foreground

CARGO ?= cargo
PORT ?= 6379

# cargo-nextest runs test binaries in parallel; plain `cargo test` is the fallback.
HAVE_NEXTEST := $(shell $(CARGO) nextest --version >/dev/null 2>&1 && echo yes)

.PHONY: build test bench compare lint run

build:
	$(CARGO) build --release --workspace

# tests/tools.rs starts the slotbox-server binary, so it is built first.
test:
	$(CARGO) build -p slotbox-server --bin slotbox-server
ifeq ($(HAVE_NEXTEST),yes)
	$(CARGO) nextest run --workspace --no-fail-fast
	$(CARGO) test --workspace --doc
else
	$(CARGO) test --workspace --no-fail-fast
endif

bench:
	$(CARGO) bench --bench protocol

compare:
	benches/compare.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

run:
	$(CARGO) build --release -p slotbox-server --bin slotbox-server
	target/release/slotbox-server --port $(PORT)
