#!/bin/sh
# failover-soak.sh: a healthy cluster under full load must not fail over. A 6-node slotbox
# cluster (3 masters + 3 replicas, cluster-node-timeout NODE_TIMEOUT, default 1000 ms) on
# free ports in a temp dir, assembled with `slotbox-cluster create --cluster-replicas 1`, gets
# back-to-back `redis-benchmark --cluster -t set,get -c CLIENTS -P PIPELINE` runs (defaults
# 50 and 16, 100-byte values, 100000 random keys) for DURATION seconds (default 300). Every
# 5 s it samples every node's view; at the end it compares with the snapshot taken before
# the load. It fails (exit 1) if any node changed role or master, a master set changed, the
# current epoch moved, or a node was marked FAIL or started an election; "possibly failing"
# (PFAIL) sightings are reported as a warning. Also prints the benchmark throughput.
# Needs the release builds (cargo build --release -p slotbox-server -p slotbox-cluster),
# redis-cli, redis-benchmark and python3. Everything started here is stopped on exit.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SERVER="$ROOT/target/release/slotbox-server"
TOOL="$ROOT/target/release/slotbox-cluster"
DURATION=${DURATION:-300}
NODE_TIMEOUT=${NODE_TIMEOUT:-1000}
CLIENTS=${CLIENTS:-50}
PIPELINE=${PIPELINE:-16}
N=${N:-1000000}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slotbox-bench-soak.XXXXXX")
PIDS=""
BENCH_PID=""

for bin in "$SERVER" "$TOOL"; do
    [ -x "$bin" ] || { echo "missing $bin: cargo build --release -p slotbox-server -p slotbox-cluster" >&2; exit 1; }
done
for tool in redis-cli redis-benchmark python3; do
    command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 1; }
done

cleanup() {
    [ -z "$BENCH_PID" ] || kill "$BENCH_PID" 2>/dev/null || true
    for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
    for pid in $PIDS; do
        tries=0
        while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 50 ]; do sleep 0.1; tries=$((tries + 1)); done
        kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# n "port:busport" pairs that are free right now.
free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(2 * int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
p = [s.getsockname()[1] for s in socks]
print(" ".join("%d:%d" % (p[i], p[i + 1]) for i in range(0, len(p), 2)))
EOF
}

all_ok() {
    for p in $PORTS; do
        redis-cli -p "$p" cluster info 2>/dev/null | grep -q 'cluster_state:ok' || return 1
        [ "$(redis-cli -p "$p" cluster nodes 2>/dev/null | grep -c slave)" -eq 3 ] || return 1
        if redis-cli -p "$p" role 2>/dev/null | head -n 1 | grep -q slave; then
            redis-cli -p "$p" info replication | grep -q 'master_link_status:up' || return 1
        fi
    done
}

# Every node's own line (id, role, master) and current epoch, one line per node.
snapshot() {
    for p in $PORTS; do
        me=$(redis-cli -p "$p" cluster nodes | awk '$3 ~ /myself/ { r = ($3 ~ /master/) ? "master" : "slave"; print $1, r, $4 }')
        epoch=$(redis-cli -p "$p" cluster info | tr -d '\r' | awk -F: '$1 == "cluster_current_epoch" { print $2 }')
        echo "$p $me epoch=$epoch"
    done
}

PORTS="" ADDRS=""
for pair in $(free_ports 6); do
    port=${pair%:*}
    dir="$WORK/$port"
    mkdir -p "$dir"
    "$SERVER" --port "$port" --cluster-port "${pair#*:}" --bind 127.0.0.1 --cluster-enabled yes \
        --cluster-node-timeout "$NODE_TIMEOUT" --dir "$dir" --save '' >"$dir/log" 2>&1 &
    PIDS="$PIDS $!"
    PORTS="$PORTS $port"
    ADDRS="$ADDRS 127.0.0.1:$port"
done
for p in $PORTS; do
    tries=0
    until [ "$(redis-cli -p "$p" ping 2>/dev/null)" = PONG ]; do
        tries=$((tries + 1))
        [ "$tries" -lt 100 ] || { echo "node $p did not start" >&2; tail -5 "$WORK/$p/log" >&2; exit 1; }
        sleep 0.1
    done
done
# shellcheck disable=SC2086 # ADDRS is a list
"$TOOL" create $ADDRS --cluster-replicas 1 --cluster-yes >"$WORK/create.log" 2>&1 ||
    { echo "create failed:" >&2; tail -5 "$WORK/create.log" >&2; exit 1; }
tries=0
until all_ok; do
    tries=$((tries + 1))
    [ "$tries" -lt 600 ] || { echo "cluster not ready within 60 s" >&2; exit 1; }
    sleep 0.1
done
sleep 2
snapshot >"$WORK/before"
FIRST=${PORTS# }
FIRST=${FIRST%% *}
echo "slotbox cluster:$ADDRS (node-timeout $NODE_TIMEOUT ms); load for $DURATION s:"
echo "  redis-benchmark --cluster -t set,get -c $CLIENTS -P $PIPELINE -d 100 -r 100000 -n $N (back to back)"
cat "$WORK/before"

# The load: back-to-back benchmark runs until the deadline.
(
    end=$(($(date +%s) + DURATION))
    while [ "$(date +%s)" -lt "$end" ]; do
        redis-benchmark --cluster -h 127.0.0.1 -p "$FIRST" -t set,get -c "$CLIENTS" -P "$PIPELINE" -d 100 \
            -r 100000 -n "$N" -q --csv 2>>"$WORK/bench.err" | grep -E '^"(SET|GET)"' >>"$WORK/bench.csv" || true
    done
) &
BENCH_PID=$!

start=$(date +%s)
samples=0 pfail=0 changed=0
while kill -0 "$BENCH_PID" 2>/dev/null; do
    sleep 5
    samples=$((samples + 1))
    for p in $PORTS; do
        nodes=$(redis-cli -p "$p" cluster nodes 2>/dev/null || echo unreachable)
        if echo "$nodes" | grep -q 'fail?'; then pfail=$((pfail + 1)); fi
        if echo "$nodes" | grep -qE 'unreachable|[ ,]fail[ ,]'; then changed=$((changed + 1)); fi
    done
done
BENCH_PID=""
elapsed=$(($(date +%s) - start))
snapshot >"$WORK/after"

echo
echo "after $elapsed s ($samples samples of every node):"
cat "$WORK/after"
awk -F, '{ gsub(/"/, ""); n[$1]++; s[$1] += $2 } END { for (t in n) printf "  %s: %d runs, mean %.0f requests/s\n", t, n[t], s[t] / n[t] }' "$WORK/bench.csv"
elections=$(cat "$WORK"/*/log | grep -c 'Starting a failover election' || true)
marked=$(cat "$WORK"/*/log | grep -cE 'Marking node .* as failing|FAIL message received' || true)
possibly=$(cat "$WORK"/*/log | grep -c 'possibly failing' || true)
echo "  log lines: $elections election(s), $marked FAIL marking(s), $possibly PFAIL sighting(s)"
echo "  sampled views: $changed showing FAIL or an unreachable node, $pfail showing fail?"
[ ! -s "$WORK/bench.err" ] || { echo "  redis-benchmark stderr (last lines):"; tail -3 "$WORK/bench.err"; }
status=0
if ! diff "$WORK/before" "$WORK/after" >/dev/null; then
    echo "FAIL: roles, masters or epochs changed:"
    diff "$WORK/before" "$WORK/after" || true
    status=1
fi
if [ "$elections" -ne 0 ] || [ "$marked" -ne 0 ] || [ "$changed" -ne 0 ]; then
    echo "FAIL: a node was marked FAIL or an election started under load"
    status=1
fi
[ "$possibly" -eq 0 ] && [ "$pfail" -eq 0 ] || echo "WARNING: nodes were flagged PFAIL under load (no failover followed)"
[ "$status" -ne 0 ] || echo "OK: no failover in $elapsed s of full load"
exit "$status"
