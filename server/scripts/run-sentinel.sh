#!/bin/sh
# run-sentinel.sh: a Sentinel-managed group without cluster mode (used by `make
# run-sentinel`, after the release build): slotbox-server master 127.0.0.1:6380, replicas
# 6381 and 6382, three slotbox sentinels (`slotbox-server sentinel.conf --sentinel`) on
# 26379-26381 watching it as `mymaster` (quorum 2, down-after-milliseconds 5000), and
# slotbox-proxy with conf/sentinel-proxy.yml (pool `ha` on 22125, pool `ha_replicas` on 22126,
# stats on 22224). Data, configs and logs live in ./run/sentinel/<port>/. Safe to run twice:
# what runs is left alone; a restarted sentinel keeps what it learned (its config file), and
# a data server restarted after a failover is made a replica of the current master by the
# sentinels. Every wait is bounded. Stop with stop-sentinel.sh (`make stop-sentinel`).
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUN="$ROOT/run/sentinel"
SERVER="$ROOT/target/release/slotbox-server"
PROXY="$ROOT/target/release/slotbox-proxy"

for bin in "$SERVER" "$PROXY"; do
    [ -x "$bin" ] || { echo "missing $bin: run 'cargo build --release' first" >&2; exit 1; }
done

# Is the process of pid file $1 alive and named $2?
alive() {
    [ -f "$1" ] || return 1
    pid=$(cat "$1")
    kill -0 "$pid" 2>/dev/null && [ "$(ps -p "$pid" -o comm= 2>/dev/null)" = "$2" ]
}

# Wait (bounded) until 127.0.0.1:$1 answers PING.
wait_ping() {
    tries=0
    until [ "$(redis-cli -p "$1" ping 2>/dev/null)" = "PONG" ]; do
        tries=$((tries + 1))
        if [ "$tries" -gt 100 ]; then
            echo "127.0.0.1:$1 did not come up; last lines of run/sentinel/$1/log:" >&2
            tail -n 5 "$RUN/$1/log" >&2
            exit 1
        fi
        sleep 0.1
    done
}

# The current master, as a running sentinel says, else as a stopped one's config file
# remembers (else 6380, the first master).
master_port() {
    for s in 26379 26380 26381; do
        p=$(redis-cli -p "$s" sentinel get-master-addr-by-name mymaster 2>/dev/null | sed -n 2p)
        [ -n "$p" ] && { echo "$p"; return; }
    done
    for s in 26379 26380 26381; do
        conf="$RUN/$s/sentinel.conf"
        [ -f "$conf" ] || continue
        p=$(sed -n 's/^sentinel monitor mymaster [^ ]* \([0-9]*\) .*/\1/p' "$conf" | head -n 1)
        [ -n "$p" ] && { echo "$p"; return; }
    done
    echo 6380
}

MASTER=$(master_port)
for port in 6380 6381 6382; do
    dir="$RUN/$port"
    mkdir -p "$dir"
    if alive "$dir/pid" slotbox-server; then
        echo "data server $port already running (pid $(cat "$dir/pid"))"
        continue
    fi
    set -- --port "$port" --bind 127.0.0.1 --dir "$dir" --save ''
    [ "$port" = "$MASTER" ] || set -- "$@" --replicaof 127.0.0.1 "$MASTER"
    "$SERVER" "$@" >>"$dir/log" 2>&1 &
    echo $! >"$dir/pid"
    echo "started data server $port (pid $!)$([ "$port" = "$MASTER" ] && echo ', master' || echo ", replica of $MASTER")"
    wait_ping "$port"
done

for port in 26379 26380 26381; do
    dir="$RUN/$port"
    mkdir -p "$dir"
    if alive "$dir/pid" slotbox-server; then
        echo "sentinel $port already running (pid $(cat "$dir/pid"))"
        continue
    fi
    if [ ! -f "$dir/sentinel.conf" ]; then
        printf 'port %s\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 6380 2\nsentinel down-after-milliseconds mymaster 5000\nsentinel failover-timeout mymaster 20000\n' \
            "$port" >"$dir/sentinel.conf"
    fi
    "$SERVER" "$dir/sentinel.conf" --sentinel --logfile "$dir/log" &
    echo $! >"$dir/pid"
    echo "started sentinel $port (pid $!)"
    wait_ping "$port"
done

if alive "$RUN/proxy.pid" slotbox-proxy; then
    echo "slotbox-proxy already running (pid $(cat "$RUN/proxy.pid"))"
else
    "$PROXY" -c "$ROOT/conf/sentinel-proxy.yml" -s 22224 -a 127.0.0.1 >>"$RUN/proxy.log" 2>&1 &
    echo $! >"$RUN/proxy.pid"
    echo "started slotbox-proxy (pid $!): 127.0.0.1:22125 pool ha (the master), 127.0.0.1:22126 pool ha_replicas"
    wait_ping 22125
fi

echo "Group mymaster: master 127.0.0.1:$(master_port), sentinels on 26379-26381, proxy on 22125 / 22126."
echo "Try: redis-cli -p 26379 sentinel get-master-addr-by-name mymaster"
echo "     redis-cli -p 26379 subscribe +switch-master      (in another terminal)"
echo "     kill -9 \$(cat run/sentinel/\$(redis-cli -p 26379 sentinel get-master-addr-by-name mymaster | sed -n 2p)/pid)"
echo "Logs: run/sentinel/<port>/log, run/sentinel/proxy.log   Stop with: make stop-sentinel"
