#!/bin/sh
# stop-cluster.sh: stop the nodes, proxy and dashboard started by run-cluster.sh, and only
# those: each by the pid in run/<port>/pid, run/proxy.pid, run/dashboard.pid, checked to still
# be a slotbox-server / slotbox-proxy / slotbox-cluster. Waits (bounded) for each node to exit.
# Node data stays in run/ so the next run-cluster restarts the same cluster.
# SLOTBOX_RUN_DIR picks another run directory (as for run-cluster.sh).
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUN="${SLOTBOX_RUN_DIR:-$ROOT/run}"
stopped=0

# stop_helper PIDFILE NAME: stop the process of a pid file if it still is NAME.
stop_helper() {
    [ -f "$1" ] || return 0
    pid=$(cat "$1")
    if kill -0 "$pid" 2>/dev/null && [ "$(ps -p "$pid" -o comm= 2>/dev/null)" = "$2" ]; then
        kill "$pid"
        echo "stopped $2 (pid $pid)"
    fi
    rm -f "$1"
}

stop_helper "$RUN/dashboard.pid" slotbox-cluster
stop_helper "$RUN/proxy.pid" slotbox-proxy

for pidfile in "$RUN"/*/pid; do
    [ -f "$pidfile" ] || continue
    port=$(basename "$(dirname "$pidfile")")
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null && [ "$(ps -p "$pid" -o comm= 2>/dev/null)" = "slotbox-server" ]; then
        # A node stopped by `slotbox-cluster chaos pause` must be continued to exit.
        kill "$pid"
        kill -CONT "$pid" 2>/dev/null || true
        tries=0
        while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 100 ]; do
            tries=$((tries + 1))
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -9 "$pid"
        fi
        echo "stopped node $port (pid $pid)"
        stopped=$((stopped + 1))
    fi
    rm -f "$pidfile"
done

[ "$stopped" -gt 0 ] || echo "no slotbox cluster node was running"
