#!/bin/sh
# bench-reshard.sh: slot migration speed, side by side in one run. Two 3-master clusters
# (slotbox-server and redis-server 7.0) each get KEYS keys (default 200000) in the slots
# of their first master; then all of those slots are resharded to the second master with
# the same flags, by slotbox-cluster on slotbox and by `redis-cli --cluster` on Redis (and
# the crossed pairs), and the keys/s of each run is printed with the ratio to redis-cli on
# Redis. Needs the release builds, redis-server, redis-cli and python3. Ports BASE..BASE+5
# (default 30000) and their bus ports must be free. Nodes live in a temp dir, all stopped
# at the end.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SERVER="$ROOT/target/release/slotbox-server"
TOOL="$ROOT/target/release/slotbox-cluster"
KEYS=${KEYS:-200000}
BASE=${BASE:-30000}
PIPELINE=${PIPELINE:-10}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slotbox-bench-reshard.XXXXXX")
PIDS=""

cleanup() {
    for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
    for pid in $PIDS; do
        tries=0
        while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 50 ]; do sleep 0.1; tries=$((tries + 1)); done
    done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

start_node() { # kind port
    dir="$WORK/$2"
    mkdir -p "$dir"
    if [ "$1" = slotbox ]; then
        "$SERVER" --port "$2" --bind 127.0.0.1 --cluster-enabled yes --dir "$dir" --save '' >"$dir/log" 2>&1 &
    else
        redis-server --port "$2" --bind 127.0.0.1 --cluster-enabled yes --dir "$dir" --save '' \
            --appendonly no >"$dir/log" 2>&1 &
    fi
    PIDS="$PIDS $!"
}

# Fill the first master's slots with KEYS keys, pipelined straight to it.
load() { # port
    python3 - "$1" "$KEYS" <<'EOF'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc
s = socket.create_connection(("127.0.0.1", port))
out, sent, i = [], 0, 0
while sent < n:
    k = b"bench:%d" % i
    i += 1
    if crc16(k) % 16384 > 5460:
        continue
    out.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$3\r\nval\r\n" % (len(k), k))
    sent += 1
s.sendall(b"".join(out))
need, got = len(b"+OK\r\n") * n, 0
while got < need:
    got += len(s.recv(1 << 20))
EOF
}

# One measurement: cluster kind, tool, printed label. Prints "label keys seconds keys/s".
run() { # kind tool label
    p0=$BASE
    p1=$((BASE + 1))
    p2=$((BASE + 2))
    for p in $p0 $p1 $p2; do start_node "$1" "$p"; done
    sleep 0.5
    "$TOOL" create 127.0.0.1:$p0 127.0.0.1:$p1 127.0.0.1:$p2 --cluster-yes >"$WORK/create-$BASE.log" 2>&1 ||
        { echo "create failed, see below" >&2; cat "$WORK/create-$BASE.log" >&2; exit 1; }
    until redis-cli -p $p2 cluster info | grep -q cluster_state:ok; do sleep 0.1; done
    load $p0
    to=$(redis-cli -p $p1 cluster myid)
    from=$(redis-cli -p $p0 cluster myid)
    start=$(date +%s.%N)
    $2 reshard 127.0.0.1:$p0 --cluster-from "$from" --cluster-to "$to" --cluster-slots 5461 \
        --cluster-yes --cluster-pipeline "$PIPELINE" >"$WORK/reshard-$BASE.log" 2>&1 ||
        { echo "$3: reshard failed:" >&2; tail -n 5 "$WORK/reshard-$BASE.log" >&2; exit 1; }
    end=$(date +%s.%N)
    moved=$(redis-cli -p $p1 dbsize)
    echo "$3 $moved $start $end" | awk '{ t = $4 - $3; printf "%-34s %8d keys %7.2f s %9.0f keys/s\n", $1, $2, t, $2 / t }'
    for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
    sleep 1
    PIDS=""
    BASE=$((BASE + 3))
}

echo "reshard of the 5461 slots holding $KEYS keys, --cluster-pipeline $PIPELINE"
run redis "redis-cli --cluster" "redis-cli/redis-server" >"$WORK/ref"
cat "$WORK/ref"
run slotbox "$TOOL" "slotbox-cluster/slotbox-server" >"$WORK/ours"
cat "$WORK/ours"
run redis "$TOOL" "slotbox-cluster/redis-server"
run slotbox "redis-cli --cluster" "redis-cli/slotbox-server"
ref=$(awk '{print $6}' "$WORK/ref")
ours=$(awk '{print $6}' "$WORK/ours")
echo "$ours $ref" | awk '{ printf "slotbox / redis (keys/s): %.2fx\n", $1 / $2 }'
