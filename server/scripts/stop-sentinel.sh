#!/bin/sh
# stop-sentinel.sh: stop what run-sentinel.sh started, and only that: each process by the pid
# in run/sentinel/<port>/pid (or run/sentinel/proxy.pid), checked to still be a slotbox
# process. Waits (bounded) for each to exit. Configs and logs stay in run/sentinel/.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUN="$ROOT/run/sentinel"
stopped=0

# Stop the process of pid file $1 if it is a $2; $3 names it.
stop() {
    [ -f "$1" ] || return 0
    pid=$(cat "$1")
    if kill -0 "$pid" 2>/dev/null && [ "$(ps -p "$pid" -o comm= 2>/dev/null)" = "$2" ]; then
        kill "$pid"
        tries=0
        while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 100 ]; do
            tries=$((tries + 1))
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        echo "stopped $3 (pid $pid)"
        stopped=$((stopped + 1))
    fi
    rm -f "$1"
}

stop "$RUN/proxy.pid" slotbox-proxy slotbox-proxy
for port in 26379 26380 26381; do
    stop "$RUN/$port/pid" slotbox-server "sentinel $port"
done
for port in 6380 6381 6382; do
    stop "$RUN/$port/pid" slotbox-server "data server $port"
done
[ "$stopped" -gt 0 ] || echo "nothing from run-sentinel was running"
