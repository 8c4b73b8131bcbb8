#!/bin/sh
# run-cluster.sh: start a 6-node slotbox cluster (3 masters, 3 replicas) on
# 127.0.0.1:7000-7005, assemble it with `slotbox-cluster create --cluster-replicas 1`, and
# start slotbox-proxy with conf/nutcracker.yml: pool `cluster` on 127.0.0.1:22121 (reads and
# writes on the masters) and pool `cluster_replicas` on 127.0.0.1:22123 (reads from replicas),
# stats on 127.0.0.1:22222 (used by `make run-cluster`, after the release build).
# Node data and logs live in ./run/<port>/ (ignored by git). Safe to run twice: a healthy
# running cluster is left alone; nodes restarted from their nodes.conf are not re-created.
# Every wait is bounded. Stop with stop-cluster.sh (`make stop-cluster`).
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUN="$ROOT/run"
SERVER="$ROOT/target/release/slotbox-server"
TOOL="$ROOT/target/release/slotbox-cluster"
PROXY="$ROOT/target/release/slotbox-proxy"
PORTS="7000 7001 7002 7003 7004 7005"
ADDRS="127.0.0.1:7000 127.0.0.1:7001 127.0.0.1:7002 127.0.0.1:7003 127.0.0.1:7004 127.0.0.1:7005"

for bin in "$SERVER" "$TOOL" "$PROXY"; do
    [ -x "$bin" ] || { echo "missing $bin: run 'cargo build --release' first" >&2; exit 1; }
done

# Is the node on port $1 one of ours and alive?
alive() {
    [ -f "$RUN/$1/pid" ] || return 1
    pid=$(cat "$RUN/$1/pid")
    kill -0 "$pid" 2>/dev/null && [ "$(ps -p "$pid" -o comm= 2>/dev/null)" = "slotbox-server" ]
}

# Do all six nodes report cluster_state:ok, and agree about the slots (a fresh cluster's
# gossip takes a moment to converge after cluster_state turns ok)?
healthy() {
    n=$("$TOOL" call 127.0.0.1:7000 CLUSTER INFO 2>/dev/null | grep -c 'cluster_state:ok' || true)
    [ "${n:-0}" -ge 6 ] && "$TOOL" check 127.0.0.1:7000 >/dev/null 2>&1
}

# Start the proxy unless it already runs.
start_proxy() {
    if [ -f "$RUN/proxy.pid" ] && kill -0 "$(cat "$RUN/proxy.pid")" 2>/dev/null; then
        echo "slotbox-proxy already running (pid $(cat "$RUN/proxy.pid"))"
        return
    fi
    "$PROXY" -c "$ROOT/conf/nutcracker.yml" -s 22222 -a 127.0.0.1 >>"$RUN/proxy.log" 2>&1 &
    echo $! >"$RUN/proxy.pid"
    echo "started slotbox-proxy (pid $!): 127.0.0.1:22121 pool cluster (masters, reads its writes),"
    echo "    127.0.0.1:22123 pool cluster_replicas (reads from replicas), stats on 127.0.0.1:22222"
}

connect_hint() {
    echo "Connect with: redis-cli -c -p 7000      (cluster client)"
    echo "          or: redis-cli -p 22121        (plain client, through slotbox-proxy: masters)"
    echo "          or: redis-cli -p 22123        (plain client, reads from replicas: may lag writes)"
    echo "Logs: run/<port>/log, run/proxy.log   Stop with: make stop-cluster"
}

if alive 7000 && alive 7001 && alive 7002 && alive 7003 && alive 7004 && alive 7005 && healthy; then
    echo "slotbox cluster already running on 127.0.0.1:7000-7005 and healthy."
    start_proxy
    connect_hint
    exit 0
fi

for port in $PORTS; do
    dir="$RUN/$port"
    mkdir -p "$dir"
    if alive "$port"; then
        echo "node $port already running (pid $(cat "$dir/pid"))"
        continue
    fi
    rm -f "$dir/pid"
    # DEBUG from local clients: `redis-cli -p 7000 debug digest` compares a master with its replica.
    "$SERVER" --port "$port" --bind 127.0.0.1 --cluster-enabled yes --dir "$dir" \
        --save '' --cluster-node-timeout 5000 --enable-debug-command local >>"$dir/log" 2>&1 &
    echo $! >"$dir/pid"
    echo "started node $port (pid $!)"
done

# Wait (bounded) until every node answers.
for port in $PORTS; do
    tries=0
    until "$TOOL" info "127.0.0.1:$port" >/dev/null 2>&1; do
        tries=$((tries + 1))
        if ! alive "$port" || [ "$tries" -gt 100 ]; then
            echo "node $port did not come up; last lines of run/$port/log:" >&2
            tail -n 5 "$RUN/$port/log" >&2
            exit 1
        fi
        sleep 0.1
    done
done

# Fresh nodes know only themselves: assemble them. Restarted nodes re-form on their own.
fresh=0
for port in $PORTS; do
    if "$TOOL" call "127.0.0.1:$port" CLUSTER INFO | grep -qE 'cluster_known_nodes:1([^0-9]|$)'; then
        fresh=$((fresh + 1))
    fi
done
if [ "$fresh" -eq 6 ]; then
    "$TOOL" create $ADDRS --cluster-replicas 1 --cluster-yes
elif [ "$fresh" -ne 0 ]; then
    echo "the nodes in run/ are half assembled; run 'make stop-cluster && rm -rf run' and retry" >&2
    exit 1
fi

tries=0
until healthy; do
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ]; then
        echo "the cluster did not become ok (cluster_state, slot agreement) within 30 s; see run/<port>/log" >&2
        exit 1
    fi
    sleep 0.1
done
echo "slotbox cluster is up on 127.0.0.1:7000-7005 (3 masters, 3 replicas, cluster_state:ok, nodes agree)."
start_proxy
connect_hint
