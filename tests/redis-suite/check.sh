#!/usr/bin/env bash
# make redis-suite: run Redis 7.0.15's own Tcl test suite (external-server mode, see
# $REDIS_TESTS/README.md) against a fresh release slotbox-server on a free port, then hold the
# line: every test that real Redis 7.0.15 passes with the same flags (redis-passes.txt) must
# pass here, except the ones listed in expected-failures.txt, each under a comment saying why.
# A ratchet that only tightens: a test that starts passing is reported so its line can go.
#
#   REDIS_TESTS   directory with run.sh and redis-7.0.15/tests (default ../shared/redis-suite)
#   SUITE_UNITS   units to run (default "all"; "core", or names like type/zset)
#   SUITE_OUT     where logs and the pass list go (default: a temp dir)
#   TEST_TIMEOUT  seconds without progress before a unit is given up (default 45)
#
# Needs tclsh (Debian package tcl) and redis-cli (redis-tools). Exit 1 on a regression.
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=tests/redis-suite
# The suite sits beside the checkout (../shared/redis-suite); a clone made elsewhere on this
# machine finds it at /work/shared/redis-suite.
if [ -z "${REDIS_TESTS:-}" ]; then
    for d in ../shared/redis-suite /work/shared/redis-suite; do
        [ -x "$d/run.sh" ] && REDIS_TESTS=$d && break
    done
fi
REDIS_TESTS=${REDIS_TESTS:-../shared/redis-suite}
UNITS=${SUITE_UNITS:-all}
OUT=${SUITE_OUT:-$(mktemp -d /tmp/slotbox-redis-suite.XXXXXX)}
mkdir -p "$OUT"
BIN=target/release/slotbox-server

for tool in tclsh redis-cli python3; do
    command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install tcl redis-tools python3)" >&2; exit 1; }
done
[ -x "$REDIS_TESTS/run.sh" ] || { echo "no run.sh in $REDIS_TESTS (set REDIS_TESTS)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "missing $BIN: cargo build --release -p slotbox-server" >&2; exit 1; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" --port "$port" --bind 127.0.0.1 --save '' --dir "$OUT" >"$OUT/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
done

# runtest's control socket and the ports it hands its tests ([B-32, B+40)): a free block, so
# two runs on one machine do not collide.
if [ -z "${SUITE_BASEPORT:-}" ]; then
    SUITE_BASEPORT=$(python3 - <<'PY'
import random, socket
for _ in range(200):
    base = random.randrange(21000, 39000)
    socks = []
    try:
        for p in range(base - 32, base + 40):
            s = socket.socket()
            s.bind(("127.0.0.1", p))
            socks.append(s)
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(base)
    break
PY
)
fi
export SUITE_BASEPORT

echo "Redis's own suite ($UNITS) against slotbox-server on 127.0.0.1:$port; logs in $OUT/logs"
# A unit that hangs (a feature slotbox lacks) is given up after TEST_TIMEOUT seconds without
# progress (run.sh's default is 120).
TEST_TIMEOUT=${TEST_TIMEOUT:-45} SUITE_LOG_DIR="$OUT/logs" "$REDIS_TESTS/run.sh" 127.0.0.1 "$port" $UNITS | tee "$OUT/run.log" | grep -E '^(unit|#|[0-9]+ passed)' || true

python3 "$HERE/ratchet.py" "$OUT/logs" "$HERE/redis-passes.txt" "$HERE/expected-failures.txt" "$UNITS"
