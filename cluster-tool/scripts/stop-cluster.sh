#!/bin/sh
# stop-cluster.sh: stop the nodes started by run-cluster.sh, and only those: each by the pid
# in run/<port>/pid, checked to still be a slotbox-server. Waits (bounded) for each to exit.
# Node data stays in run/ so the next run-cluster restarts the same cluster.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUN="$ROOT/run"
stopped=0

if [ -f "$RUN/proxy.pid" ]; then
    pid=$(cat "$RUN/proxy.pid")
    if kill -0 "$pid" 2>/dev/null && [ "$(ps -p "$pid" -o comm= 2>/dev/null)" = "slotbox-proxy" ]; then
        kill "$pid"
        echo "stopped slotbox-proxy (pid $pid)"
    fi
    rm -f "$RUN/proxy.pid"
fi

for port in 7000 7001 7002 7003 7004 7005; do
    pidfile="$RUN/$port/pid"
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null && [ "$(ps -p "$pid" -o comm= 2>/dev/null)" = "slotbox-server" ]; then
        kill "$pid"
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
