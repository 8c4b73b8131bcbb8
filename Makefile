# slotbox — build, test, benchmark and run. See README.md.
#
#   make build     release build of the whole workspace
#   make test      what CI runs: every unit and integration test, including the differential
#                  test against a real redis-server (DIFF_COMMANDS / DIFF_SEED tune it)
#   make bench     criterion benches of the protocol crate
#   make compare   side-by-side redis-benchmark table: redis-server vs slotbox-server
#   make lint      rustfmt check and clippy with warnings as errors (the fuzz crate too)
#   make fuzz      libFuzzer on every decoder, FUZZ_SECONDS (default 60) per target (fuzz/run.sh)
#   make redis-suite  Redis 7.0.15's own Tcl suite against a fresh slotbox-server, with the
#                  ratchet of tests/redis-suite/ (REDIS_TESTS=<dir with run.sh>, SUITE_UNITS)
#   make chaos     the chaos soak: 10 minutes of load and faults on a 6-node cluster (seeded)
#   make run       one slotbox-server on port 6379, in the foreground

CARGO ?= cargo
PORT ?= 6379
FUZZ_SECONDS ?= 60

# cargo-nextest runs test binaries in parallel; plain `cargo test` is the fallback.
HAVE_NEXTEST := $(shell $(CARGO) nextest --version >/dev/null 2>&1 && echo yes)

.PHONY: build test bench compare lint fuzz chaos run run-cluster stop-cluster redis-suite run-sentinel stop-sentinel

build:
	$(CARGO) build --release --workspace

# tests/tools.rs starts the debug slotbox-server binary; tests/cluster_tool.rs, tests/chaos.rs,
# tests/dashboard.rs and tests/tutorial.rs drive release binaries (a 1000-slot reshard is too
# slow on debug nodes; the tutorial runs the client-partitioning example), so both are built first.
test:
	$(CARGO) build -p slotbox-server --bin slotbox-server
	$(CARGO) build --release -p slotbox-server -p slotbox-cluster -p slotbox-proxy --bins
	$(CARGO) build --release --example client_partitioning
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

# The chaos soak (tests/chaos.rs; make test runs it too, with 60 s of load): 3 masters +
# 3 replicas of the release binaries under a mixed workload and seeded faults (SIGSTOP,
# CLIENT KILL, kill -9 and restarts, failovers, reshards), then the invariants: no hang,
# replicas converge (DEBUG DIGEST), no WAIT-acknowledged write lost, no replica detached,
# cluster ok. Prints its seed; CHAOS_SEED=<n> reruns one schedule, CHAOS_SECONDS=<n> sets the
# load duration, CHAOS_FAULTS=<kind,...> limits the fault kinds (see tests/chaos.rs).
CHAOS_SECONDS ?= 600
chaos:
	$(CARGO) build --release -p slotbox-server -p slotbox-cluster
	CHAOS_SECONDS=$(CHAOS_SECONDS) $(CARGO) test --test chaos -- --nocapture

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) fmt --manifest-path fuzz/Cargo.toml -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	cp Cargo.lock fuzz/Cargo.lock
	$(CARGO) clippy --manifest-path fuzz/Cargo.toml --all-targets -- -D warnings

# Coverage-guided fuzzing (libFuzzer, stable Rust; fuzz/ is its own workspace and target dir).
# Prints executions and coverage per target; fails on any crash, hang or huge allocation.
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh

run:
	$(CARGO) build --release -p slotbox-server --bin slotbox-server
	target/release/slotbox-server --port $(PORT)

# A 6-node slotbox cluster (3 masters + 3 replicas) on 127.0.0.1:7000-7005 (data and logs in
# ./run/), assembled with slotbox-cluster create, plus slotbox-proxy on 127.0.0.1:22121
# (masters) and 127.0.0.1:22123 (reads from replicas), metrics on 127.0.0.1:9121, and the
# dashboard on http://127.0.0.1:7080/ (printed). `slotbox-cluster chaos` injects faults.
# Safe to run twice; stop-cluster stops exactly those processes (by pid file).
run-cluster:
	$(CARGO) build --release -p slotbox-server -p slotbox-cluster -p slotbox-proxy
	cluster-tool/scripts/run-cluster.sh

stop-cluster:
	cluster-tool/scripts/stop-cluster.sh

# A Sentinel-managed group without cluster mode: master 127.0.0.1:6380, replicas 6381-6382,
# three slotbox sentinels on 26379-26381 (`slotbox-server sentinel.conf --sentinel`), and
# slotbox-proxy following the master (conf/sentinel-proxy.yml: 22125, replica reads 22126).
# Data, configs and logs in ./run/sentinel/. Safe to run twice; stop-sentinel stops exactly
# those processes (by pid file).
run-sentinel:
	$(CARGO) build --release -p slotbox-server -p slotbox-proxy
	server/scripts/run-sentinel.sh

stop-sentinel:
	server/scripts/stop-sentinel.sh

# Redis's own test suite (needs tclsh and redis-cli): every test real Redis passes must pass,
# but for tests/redis-suite/expected-failures.txt. REDIS_TESTS defaults to ../shared/redis-suite.
redis-suite:
	$(CARGO) build --release -p slotbox-server --bin slotbox-server
	tests/redis-suite/check.sh
