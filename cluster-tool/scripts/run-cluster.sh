#!/bin/sh
# run-cluster.sh: start a 6-node slotbox cluster (3 masters, 3 replicas) on
# 127.0.0.1:7000-7005, assemble it with `slotbox-cluster create --cluster-replicas 1`, and
# start slotbox-proxy with conf/nutcracker.yml: pool `cluster` on 127.0.0.1:22121 (reads and
# writes on the masters) and pool `cluster_replicas` on 127.0.0.1:22123 (reads from replicas),
# stats on 127.0.0.1:22222, Prometheus metrics on 127.0.0.1:9121, and the dashboard
# (`slotbox-cluster dashboard`) on http://127.0.0.1:7080/ (used by `make run-cluster`, after
# the release build).
# Node data and logs live in ./run/<port>/ (ignored by git), each node's command line in
# run/<port>/argv (for `slotbox-cluster chaos restart`). Safe to run twice: a healthy running
# cluster is left alone; nodes restarted from their nodes.conf are not re-created.
# Every wait is bounded. Stop with stop-cluster.sh (`make stop-cluster`).
#
# Tests run a second sandbox beside a user's with these overrides (defaults in brackets):
# SLOTBOX_RUN_DIR [./run], SLOTBOX_PORTS [7000 ... 7005: 3 masters then 3 replicas],
# SLOTBOX_PROXY_PORT [22121], SLOTBOX_REPLICA_PROXY_PORT [22123], SLOTBOX_STATS_PORT [22222],
# SLOTBOX_METRICS_PORT [9121], SLOTBOX_DASHBOARD_PORT [7080], SLOTBOX_NODE_TIMEOUT [5000 ms].
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUN="${SLOTBOX_RUN_DIR:-$ROOT/run}"
SERVER="$ROOT/target/release/slotbox-server"
TOOL="$ROOT/target/release/slotbox-cluster"
PROXY="$ROOT/target/release/slotbox-proxy"
PORTS="${SLOTBOX_PORTS:-7000 7001 7002 7003 7004 7005}"
PROXY_PORT="${SLOTBOX_PROXY_PORT:-22121}"
REPLICA_PROXY_PORT="${SLOTBOX_REPLICA_PROXY_PORT:-22123}"
STATS_PORT="${SLOTBOX_STATS_PORT:-22222}"
METRICS_PORT="${SLOTBOX_METRICS_PORT:-9121}"
DASHBOARD_PORT="${SLOTBOX_DASHBOARD_PORT:-7080}"
NODE_TIMEOUT="${SLOTBOX_NODE_TIMEOUT:-5000}"
ADDRS=""
for port in $PORTS; do ADDRS="$ADDRS 127.0.0.1:$port"; done
set -- $PORTS
FIRST=$1
[ $# -eq 6 ] || { echo "SLOTBOX_PORTS must list 6 ports" >&2; exit 1; }
mkdir -p "$RUN"

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
    n=$("$TOOL" call "127.0.0.1:$FIRST" CLUSTER INFO 2>/dev/null | grep -c 'cluster_state:ok' || true)
    [ "${n:-0}" -ge 6 ] && "$TOOL" check "127.0.0.1:$FIRST" >/dev/null 2>&1
}

# Is the process in pid file $1 alive and named $2?
running() {
    [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null && [ "$(ps -p "$(cat "$1")" -o comm= 2>/dev/null)" = "$2" ]
}

# Start the proxy unless it already runs (with the default ports, conf/nutcracker.yml as is;
# otherwise a copy with the ports replaced, in the run directory).
start_proxy() {
    if running "$RUN/proxy.pid" slotbox-proxy; then
        echo "slotbox-proxy already running (pid $(cat "$RUN/proxy.pid"))"
        return
    fi
    conf="$ROOT/conf/nutcracker.yml"
    if [ "$PORTS $PROXY_PORT $REPLICA_PROXY_PORT" != "7000 7001 7002 7003 7004 7005 22121 22123" ]; then
        set -- $PORTS
        sed -e "s/127.0.0.1:22121/127.0.0.1:$PROXY_PORT/; s/127.0.0.1:22123/127.0.0.1:$REPLICA_PROXY_PORT/" \
            -e "s/127.0.0.1:7000:/127.0.0.1:$1:/; s/127.0.0.1:7001:/127.0.0.1:$2:/; s/127.0.0.1:7002:/127.0.0.1:$3:/" \
            "$conf" >"$RUN/nutcracker.yml"
        conf="$RUN/nutcracker.yml"
    fi
    "$PROXY" -c "$conf" -s "$STATS_PORT" -a 127.0.0.1 --metrics-port "$METRICS_PORT" >>"$RUN/proxy.log" 2>&1 &
    echo $! >"$RUN/proxy.pid"
    echo "started slotbox-proxy (pid $!): 127.0.0.1:$PROXY_PORT pool cluster (masters, reads its writes),"
    echo "    127.0.0.1:$REPLICA_PROXY_PORT pool cluster_replicas (reads from replicas), stats on 127.0.0.1:$STATS_PORT,"
    echo "    Prometheus metrics on http://127.0.0.1:$METRICS_PORT/metrics"
}

# Start the dashboard unless it already runs.
start_dashboard() {
    if ! running "$RUN/dashboard.pid" slotbox-cluster; then
        "$TOOL" dashboard "127.0.0.1:$FIRST" --listen "127.0.0.1:$DASHBOARD_PORT" \
            --proxy-metrics "127.0.0.1:$METRICS_PORT" >>"$RUN/dashboard.log" 2>&1 &
        echo $! >"$RUN/dashboard.pid"
    fi
    echo "Dashboard: http://127.0.0.1:$DASHBOARD_PORT/  (JSON: http://127.0.0.1:$DASHBOARD_PORT/api/cluster)"
}

connect_hint() {
    echo "Connect with: redis-cli -c -p $FIRST      (cluster client)"
    echo "          or: redis-cli -p $PROXY_PORT        (plain client, through slotbox-proxy: masters)"
    echo "          or: redis-cli -p $REPLICA_PROXY_PORT        (plain client, reads from replicas: may lag writes)"
    echo "Logs: $RUN/<port>/log, proxy.log, dashboard.log   Stop with: make stop-cluster"
}

all_alive() {
    for port in $PORTS; do alive "$port" || return 1; done
}

if all_alive && healthy; then
    echo "slotbox cluster already running on 127.0.0.1 ports $PORTS and healthy."
    start_proxy
    start_dashboard
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
    # DEBUG from local clients: `redis-cli -p 7000 debug digest` compares a master with its
    # replica, `slotbox-cluster chaos partition` uses DEBUG PARTITION.
    set -- "$SERVER" --port "$port" --bind 127.0.0.1 --cluster-enabled yes --dir "$dir" \
        --save '' --cluster-node-timeout "$NODE_TIMEOUT" --enable-debug-command local
    printf '%s\n' "$@" >"$dir/argv"
    "$@" >>"$dir/log" 2>&1 &
    echo $! >"$dir/pid"
    echo "started node $port (pid $!)"
done

# Wait (bounded) until every node answers.
for port in $PORTS; do
    tries=0
    until "$TOOL" info "127.0.0.1:$port" >/dev/null 2>&1; do
        tries=$((tries + 1))
        if ! alive "$port" || [ "$tries" -gt 100 ]; then
            echo "node $port did not come up; last lines of $RUN/$port/log:" >&2
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
    # shellcheck disable=SC2086
    "$TOOL" create $ADDRS --cluster-replicas 1 --cluster-yes
elif [ "$fresh" -ne 0 ]; then
    echo "the nodes in $RUN are half assembled; run 'make stop-cluster' and remove $RUN, then retry" >&2
    exit 1
fi

tries=0
until healthy; do
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ]; then
        echo "the cluster did not become ok (cluster_state, slot agreement) within 30 s; see $RUN/<port>/log" >&2
        exit 1
    fi
    sleep 0.1
done
echo "slotbox cluster is up on 127.0.0.1 ports $PORTS (3 masters, 3 replicas, cluster_state:ok, nodes agree)."
start_proxy
start_dashboard
connect_hint
