#!/usr/bin/env bash
# Side-by-side comparison of slotbox-proxy against nutcracker (twemproxy 0.5) on this machine,
# both in front of the same three redis-server 7.0 backends, plus redis-benchmark straight to
# one backend as the no-proxy baseline. A benchmark, not a test: it prints numbers and asserts
# nothing. The proxy counterpart of benches/compare.sh (same knobs, same helpers, same table
# style; compare.sh compares the servers).
#
#   benches/proxy-compare.sh      redis-benchmark SET, GET and MSET (10 keys, split over the
#                                 backends by both proxies) at -P 1 and -P 16, rows alternating
#                                 which target goes first, then a table of rps per target, the
#                                 slotbox/nutcracker throughput ratio and p50/p99 latency
#
# TESTS (default "set get mset") picks the rows. Environment: N (requests per row, default
# 200000), CLIENTS (default 50), SIZE (value bytes, default 100), RANGE (random key space,
# default 100000), HASH (default fnv1a_64, nutcracker's default), DISTRIBUTION (default
# ketama), PROXY_ARGS (extra slotbox-proxy flags, e.g. "--workers 1"), REPEAT (run each row
# this many times, alternating the order of the targets, and report each target's run with
# the median rps; default 1).
# Everything listens on free ports on 127.0.0.1 only; everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-200000}
CLIENTS=${CLIENTS:-50}
SIZE=${SIZE:-100}
RANGE=${RANGE:-100000}
HASH=${HASH:-fnv1a_64}
DISTRIBUTION=${DISTRIBUTION:-ketama}
PROXY_ARGS=${PROXY_ARGS:-}
TESTS=${TESTS:-set get mset}
REPEAT=${REPEAT:-1}

for tool in redis-server redis-cli redis-benchmark nutcracker; do
    command -v "$tool" >/dev/null || {
        echo "$tool not found (apt-get install redis-server redis-tools nutcracker)" >&2
        exit 1
    }
done

cargo build --release -p slotbox-proxy --bin slotbox-proxy
PROXY_BIN=target/release/slotbox-proxy

TMP_TAG=slotbox-proxy-compare
# shellcheck source=benches/lib.sh
source benches/lib.sh

# launch_redis PORT NAME: one redis-server backend in $TMP/NAME.
launch_redis() {
    mkdir -p "$TMP/$2"
    redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no --protected-mode no \
        --dir "$TMP/$2" >"$TMP/$2.log" 2>&1 &
}

# start_redis NAME: a backend on a free port (5 attempts); sets STARTED_PORT.
start_redis() {
    start_on_free_port "$1" launch_redis "$1"
}

# pool_yaml LISTEN: the one pool both proxies run, over the three backends.
pool_yaml() {
    printf 'bench:\n  listen: %s\n  hash: %s\n  distribution: %s\n  redis: true\n  auto_eject_hosts: false\n  servers:\n' \
        "$1" "$HASH" "$DISTRIBUTION"
    local p
    for p in "${BACKENDS[@]}"; do
        printf '   - 127.0.0.1:%s:1\n' "$p"
    done
}

# launch_proxy PORT NAME CMD...: a proxy whose config listens on PORT, with a fresh stats
# port; CMD may use @CONF@ and @STATS@.
launch_proxy() {
    local port=$1 name=$2 stats a
    shift 2
    stats=$(pick_port)
    pool_yaml "127.0.0.1:$port" >"$TMP/$name.yml"
    local args=()
    for a in "$@"; do
        a=${a//@CONF@/$TMP/$name.yml}
        a=${a//@STATS@/$stats}
        args+=("$a")
    done
    "${args[@]}" >>"$TMP/$name.log" 2>&1 &
}

# start_proxy NAME CMD...: a proxy on a free port (5 attempts); sets STARTED_PORT.
start_proxy() {
    local name=$1
    shift
    start_on_free_port "$name" launch_proxy "$name" "$@"
}

# bench PORT TEST PIPELINE -> "rps p50 p99" from redis-benchmark's --csv output.
bench() {
    local out
    out=$(redis-benchmark -h 127.0.0.1 -p "$1" -t "$2" -P "$3" -c "$CLIENTS" -d "$SIZE" -r "$RANGE" -n "$N" -q --csv 2>&1)
    if grep -qi 'error' <<<"$out"; then
        echo "redis-benchmark reported errors against port $1:" >&2
        echo "$out" >&2
    fi
    # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    awk -F, 'NF >= 8 && $1 != "\"test\"" { for (i = 1; i <= NF; i++) gsub(/"/, "", $i); print $2, $5, $7; exit }' <<<"$out"
}

BACKENDS=()
for i in 1 2 3; do
    start_redis "redis$i"
    BACKENDS+=("$STARTED_PORT")
done
DIRECT_PORT=${BACKENDS[0]}
start_proxy nutcracker nutcracker -c @CONF@ -s @STATS@ -a 127.0.0.1
NC_PORT=$STARTED_PORT
# shellcheck disable=SC2086 # PROXY_ARGS is a list of flags
start_proxy slotbox "$PROXY_BIN" -c @CONF@ -s @STATS@ -a 127.0.0.1 $PROXY_ARGS
SB_PORT=$STARTED_PORT

echo "redis-server $(redis-server --version | awk '{print $3}') backends on ports ${BACKENDS[*]}"
echo "$(nutcracker --version 2>&1 | head -1) on port $NC_PORT; slotbox-proxy on port $SB_PORT $PROXY_ARGS"
echo "pool: $DISTRIBUTION / $HASH over 3 backends; direct = redis-benchmark to port $DIRECT_PORT alone"
echo "load: -c $CLIENTS -d $SIZE -r $RANGE -n $N on $(nproc) cores, each row $REPEAT time(s), median run shown (runs alternate which target goes first)"
echo
printf '%-5s %3s %11s %11s %11s %6s %15s %15s %15s\n' command P "direct rps" "nutcr rps" "slotbox rps" "sb/nc" \
    "direct p50/p99" "nutcr p50/p99" "slotbox p50/p99"
row=0
for test in $TESTS; do
    for pipe in 1 16; do
        ds=() ns=() ss=()
        for ((k = 0; k < REPEAT; k++)); do
            if (((row + k) % 2 == 0)); then
                ds+=("$(bench "$DIRECT_PORT" "$test" "$pipe")")
                ns+=("$(bench "$NC_PORT" "$test" "$pipe")")
                ss+=("$(bench "$SB_PORT" "$test" "$pipe")")
            else
                ss+=("$(bench "$SB_PORT" "$test" "$pipe")")
                ns+=("$(bench "$NC_PORT" "$test" "$pipe")")
                ds+=("$(bench "$DIRECT_PORT" "$test" "$pipe")")
            fi
        done
        d=$(median_run "${ds[@]}")
        n=$(median_run "${ns[@]}")
        s=$(median_run "${ss[@]}")
        row=$((row + 1))
        awk -v t="${test^^}" -v p="$pipe" -v d="$d" -v n="$n" -v s="$s" 'BEGIN {
            split(d, a, " "); split(n, b, " "); split(s, c, " ")
            ratio = (b[1] > 0) ? sprintf("%.2f", c[1] / b[1]) : "n/a"
            printf "%-5s %3s %11s %11s %11s %6s %15s %15s %15s\n", t, p, a[1], b[1], c[1], ratio,
                a[2] "/" a[3], b[2] "/" b[3], c[2] "/" c[3]
        }'
    done
done
echo
echo "latencies in ms; sb/nc = slotbox-proxy rps / nutcracker rps (same backends, same run)"
