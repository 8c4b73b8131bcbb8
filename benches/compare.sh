#!/usr/bin/env bash
# Side-by-side comparison of slotbox-server against redis-server 7.0 on this machine.
# A benchmark, not a test: it prints numbers and asserts nothing.
#
#   benches/compare.sh            throughput: redis-benchmark SET/GET/INCR/MSET at -P 1 and
#                                 -P 16 against each server, alternating, then a table of
#                                 rps, slotbox/redis ratio and p50/p99 latency (-P 1 rows)
#   benches/compare.sh memory     load KEYS (default 1M) keys with 100-byte values into each
#                                 and print used_memory and RSS per key
#   benches/compare.sh memory-hash the same with KEYS small hashes (3 fields of 10 bytes)
#   benches/compare.sh memory-zset the same with KEYS small sorted sets (10 members of 10
#                                 bytes, integer scores)
#   benches/compare.sh memory-ttl  the 100-byte strings, each SET with EX 100000 (a cache)
#   benches/compare.sh memory-list KEYS 15-byte elements RPUSHed into KEYS/1000 lists; the
#                                 table's "keys" are then elements
#   benches/compare.sh memory-hll KEYS_HLL (default 10000) HyperLogLogs of ELEMENTS (default
#                                 1000) elements each: bytes per HLL key
#   benches/compare.sh hllgeo     throughput of PFADD, PFCOUNT, GEOADD and GEOSEARCH (random keys,
#                                 elements and members) at -P 1 and -P 16, as the default mode
#   benches/compare.sh scripts    EVALSHA / EVAL / FCALL of a one-command script (INCR of a random
#                                 key) at -P 1 and -P 16, as the hllgeo mode
#   benches/compare.sh aof        throughput (TESTS default "set") with appendonly yes and each
#                                 appendfsync policy (no, everysec, always) on both servers
#   benches/compare.sh restart    load KEYS keys, shut down, start again and time until the
#                                 server answers PING: from the AOF (appendonly yes) and from
#                                 the snapshot (SAVE; appendonly no), each server in turn
#   benches/compare.sh proxy      slotbox-proxy vs nutcracker vs direct (benches/proxy-compare.sh)
#   benches/compare.sh cluster    a 3-master slotbox cluster vs a 3-master redis-server cluster
#                                 (both assembled with redis-cli --cluster create), then
#                                 redis-benchmark --cluster -t set,get at -P 1 and -P 16
#   benches/compare.sh streams    XADD (random streams, one hot stream), XREADGROUP > on a
#                                 stream prefilled with PREFILL (default 1M) entries, XRANGE
#   benches/compare.sh bitmaps    SETBIT / GETBIT / BITCOUNT / BITPOS / BITFIELD / BITOP rows
#                                 (redis-benchmark's command form) at -P 1 and -P 16, then GROW
#                                 (default 2000000) SETBITs at increasing offsets through one
#                                 redis-cli --pipe, timed (a bitmap growing bit by bit)
#
# TESTS (default "set get incr mset lpush lpop sadd hset zadd lrange_100") picks the rows.
# Environment: N (requests per row, default 200000), CLIENTS (default 50), SIZE (value bytes,
# default 100), RANGE (random key space, default 100000), KEYS (memory mode, default 1000000),
# SLOTBOX_ARGS (extra slotbox-server flags, e.g. "--threads 1"), REPEAT (rows of every throughput mode:
# run each row this many times, alternating which server goes first, and report the run
# with the median rps of each side; default 1).
# Both servers listen on free ports on 127.0.0.1 only; everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-throughput}
N=${N:-200000}
CLIENTS=${CLIENTS:-50}
SIZE=${SIZE:-100}
RANGE=${RANGE:-100000}
KEYS=${KEYS:-1000000}
SLOTBOX_ARGS=${SLOTBOX_ARGS:-}
TESTS=${TESTS:-set get incr mset lpush lpop sadd hset zadd lrange_100}
REPEAT=${REPEAT:-1}

for tool in redis-server redis-cli redis-benchmark; do
    command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install redis-server redis-tools)" >&2; exit 1; }
done

cargo build --release -p slotbox-server --bin slotbox-server
SLOTBOX_BIN=target/release/slotbox-server

TMP_TAG=slotbox-compare
# shellcheck source=benches/lib.sh
source benches/lib.sh

# shellcheck disable=SC2086 # SLOTBOX_ARGS and PERSIST_ARGS are lists of flags
start_both() {
    start redis redis-server ${PERSIST_ARGS:---appendonly no} --protected-mode no
    REDIS_PORT=$STARTED_PORT
    REDIS_PID=$STARTED_PID
    start slotbox "$SLOTBOX_BIN" $SLOTBOX_ARGS ${PERSIST_ARGS:-}
    SLOTBOX_PORT=$STARTED_PORT
    SLOTBOX_PID=$STARTED_PID
    echo "redis-server $(redis-server --version | awk '{print $3}') on port $REDIS_PORT (pid $REDIS_PID)"
    echo "slotbox-server on port $SLOTBOX_PORT (pid $SLOTBOX_PID) $SLOTBOX_ARGS"
}

# bench PORT TEST PIPELINE -> "rps p50 p99" from redis-benchmark's --csv output.
bench() {
    bench_args "$1" -t "$2" -P "$3" -d "$SIZE"
}

# cpu_ns PID -> nanoseconds the process's threads have run on a CPU (schedstat, exact to the
# nanosecond, where /proc/PID/stat counts 10 ms ticks).
cpu_ns() {
    cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# bench_args PORT ARGS... -> "rps p50 p99 cpu" of redis-benchmark with ARGS (a -t list, or a
# command as its trailing arguments) and the common load flags; cpu is the server's CPU µs
# per request over the whole run (every request redis-benchmark sent, an LRANGE row's LPUSH
# fill included), "-" for a port that is not one of start_both's servers.
bench_args() {
    local port=$1 out pid="" c0=0 c1=0
    shift
    [[ $port == "${REDIS_PORT:-}" ]] && pid=${REDIS_PID:-}
    [[ $port == "${SLOTBOX_PORT:-}" ]] && pid=${SLOTBOX_PID:-}
    [[ -n $pid ]] && c0=$(cpu_ns "$pid")
    out=$(redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" -r "$RANGE" -n "$N" -q --csv ${CLUSTER_FLAG:-} "$@" 2>&1)
    [[ -n $pid ]] && c1=$(cpu_ns "$pid")
    if grep -qi 'error' <<<"$out"; then
        echo "redis-benchmark reported errors against port $port:" >&2
        echo "$out" >&2
    fi
    # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    # The last row: for LRANGE_* redis-benchmark first prints the LPUSH that fills the list.
    awk -F, -v n="$N" -v cpu="$((c1 - c0))" -v known="$pid" '
        NF >= 8 && $1 != "\"test\"" { for (i = 1; i <= NF; i++) gsub(/"/, "", $i); rows++; row = $(NF - 6) " " $(NF - 3) " " $(NF - 1) }
        END { if (row != "") print row " " ((known != "" && rows > 0) ? sprintf("%.2f", cpu / 1000 / (n * rows)) : "-") }' <<<"$out"
}

throughput() {
    start_both
    throughput_rows
}

# HyperLogLog and GEO rows (as the throughput rows: REPEAT runs, alternating who goes first).
hllgeo_mode() {
    start_both
    ROWS=(
        "PFADD|pfadd hll:__rand_int__ e__rand_int__"
        "PFCOUNT|pfcount hll:__rand_int__"
        "GEOADD|geoadd geo:__rand_int__ 13.361389 38.115556 m__rand_int__"
        "GEOSEARCH|geosearch geo:__rand_int__ fromlonlat 13.36 38.11 byradius 10 km count 5"
    )
    bench_rows
}

# Scripts: a one-command script by SHA (loaded on both first), the same by EVAL (cached after
# the first call), and a function doing the same through FCALL.
scripts_mode() {
    start_both
    # The body has no spaces: a row's command is split on whitespace (see bench_rows).
    local body="return(redis.call('incr',KEYS[1]))" sha port
    local lib="#!lua name=benchlib
redis.register_function('bench_incr', function(keys, args) return redis.call('incr', keys[1]) end)"
    for port in "$REDIS_PORT" "$SLOTBOX_PORT"; do
        sha=$(redis-cli -p "$port" script load "$body")
        redis-cli -p "$port" function load replace "$lib" >/dev/null
    done
    ROWS=(
        "EVALSHA|evalsha $sha 1 counter:__rand_int__"
        "EVAL|eval $body 1 counter:__rand_int__"
        "FCALL|fcall bench_incr 1 counter:__rand_int__"
    )
    bench_rows
}

throughput_rows() {
    local test
    ROWS=()
    for test in $TESTS; do ROWS+=("${test^^}|-t $test -d $SIZE"); done
    bench_rows
}

# bench_rows: one table row per ROWS entry "LABEL|redis-benchmark arguments" (split on
# whitespace, no shell quoting) and pipeline.
bench_rows() {
    echo "load: -c $CLIENTS -d $SIZE -r $RANGE -n $N, each row $REPEAT time(s), median run shown (runs alternate which server goes first)"
    echo
    echo "cpu: each server's CPU µs per request in the run shown (from /proc/PID/task/*/schedstat), and slotbox's over redis's"
    echo
    printf '%-14s %3s %12s %12s %7s %17s %17s %15s %6s\n' command P "redis rps" "slotbox rps" ratio "redis p50/p99" "slotbox p50/p99" "cpu redis/slot" "ratio"
    local row=0 k entry label pipe r s
    local -a cmd
    for entry in "${ROWS[@]}"; do
        label=${entry%%|*}
        read -r -a cmd <<<"${entry#*|}"
        for pipe in 1 16; do
            local rs=() ss=()
            for ((k = 0; k < REPEAT; k++)); do
                if (((row + k) % 2 == 0)); then
                    rs+=("$(bench_args "$REDIS_PORT" -P "$pipe" "${cmd[@]}")")
                    ss+=("$(bench_args "$SLOTBOX_PORT" -P "$pipe" "${cmd[@]}")")
                else
                    ss+=("$(bench_args "$SLOTBOX_PORT" -P "$pipe" "${cmd[@]}")")
                    rs+=("$(bench_args "$REDIS_PORT" -P "$pipe" "${cmd[@]}")")
                fi
            done
            r=$(median_run "${rs[@]}")
            s=$(median_run "${ss[@]}")
            row=$((row + 1))
            awk -v t="$label" -v p="$pipe" -v r="$r" -v s="$s" 'BEGIN {
                split(r, a, " "); split(s, b, " ")
                ratio = (a[1] > 0) ? sprintf("%.2f", b[1] / a[1]) : "n/a"
                lr = (p == 1) ? sprintf("%s/%s ms", a[2], a[3]) : "-"
                ls = (p == 1) ? sprintf("%s/%s ms", b[2], b[3]) : "-"
                cr = (a[4] > 0 && b[4] != "-") ? sprintf("%.2f", b[4] / a[4]) : "n/a"
                printf "%-14s %3s %12s %12s %7s %17s %17s %15s %6s\n", t, p, a[1], b[1], ratio, lr, ls, a[4] "/" b[4], cr
            }'
        done
    done
}

# Bitmap rows. Offsets are fixed: __rand_int__ is zero-padded, which both servers refuse as
# an offset; random keys get their own small bitmaps.
BITMAP_ROWS=(
    "SETBIT rand key|SETBIT bits:__rand_int__ 7 1"
    "SETBIT 500KB|SETBIT presence 1234567 1"
    "GETBIT 500KB|GETBIT presence 1234567"
    "BITCOUNT 64KB|BITCOUNT scan"
    "BITPOS 64KB|BITPOS scan 1"
    "BITFIELD|BITFIELD counters:__rand_int__ INCRBY u8 #3 1"
    "BITOP OR 8KB|BITOP OR {b}dst {b}src1 {b}src2"
)

# bitmaps_grow PORT: seconds for GROW SETBITs at offsets 0, 1, 2... of a new key, pipelined.
bitmaps_grow() {
    local t0 t1
    redis-cli -h 127.0.0.1 -p "$1" del grow >/dev/null
    t0=$(date +%s.%N)
    redis-cli -h 127.0.0.1 -p "$1" --pipe <"$TMP/grow.resp" >/dev/null
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}

bitmaps_mode() {
    start_both
    local port
    for port in "$REDIS_PORT" "$SLOTBOX_PORT"; do
        printf 'SETBIT presence 3999999 1\nSETBIT scan 524287 1\nSETBIT {b}src1 65535 1\nSETBIT {b}src2 60000 1\n' |
            redis-cli -h 127.0.0.1 -p "$port" >/dev/null
    done
    ROWS=("${BITMAP_ROWS[@]}")
    bench_rows
    local grow=${GROW:-2000000} r s
    awk -v n="$grow" 'BEGIN { for (i = 0; i < n; i++) printf "*4\r\n$6\r\nSETBIT\r\n$4\r\ngrow\r\n$%d\r\n%d\r\n$1\r\n1\r\n", length(i ""), i }' >"$TMP/grow.resp"
    r=$(bitmaps_grow "$REDIS_PORT")
    s=$(bitmaps_grow "$SLOTBOX_PORT")
    echo
    echo "$grow SETBITs at increasing offsets, one pipelined client: redis $r s, slotbox $s s" |
        awk -v r="$r" -v s="$s" '{ printf "%s (slotbox/redis speed %.2f)\n", $0, r / s }'
}

# Stream rows: XADD to random streams and to one hot stream, XREADGROUP > on a prefilled
# stream (PREFILL entries, default 1M, so every run reads new entries), XRANGE of 10.
streams_mode() {
    start_both
    local port
    for port in "$REDIS_PORT" "$SLOTBOX_PORT"; do
        redis-benchmark -h 127.0.0.1 -p "$port" -c 4 -P 64 -n "${PREFILL:-1000000}" -q XADD jobs '*' f v >/dev/null
        redis-cli -h 127.0.0.1 -p "$port" XGROUP CREATE jobs g 0 >/dev/null
    done
    ROWS=(
        "XADD rand key|XADD s:__rand_int__ * f v"
        "XADD 1 stream|XADD events * f v"
        "XREADGROUP|XREADGROUP GROUP g c COUNT 1 STREAMS jobs >"
        "XRANGE 10|XRANGE jobs - + COUNT 10"
    )
    bench_rows
}

# info_field PORT FIELD: a field of INFO memory ("" if the server does not report it).
info_field() {
    redis-cli -h 127.0.0.1 -p "$1" info memory 2>/dev/null | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'
}

rss_bytes() {
    awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$1/status"
}

# load PORT: KEYS x "SET key:NNNNNNNNNN <SIZE bytes>" (or, with HASHES=1, small hashes
# "HSET key:NNNNNNNNNN f1 v f2 v f3 v" with 10-byte values; with LISTS=1, KEYS elements
# "element-NNNNNNN" RPUSHed round-robin into KEYS/1000 lists) through redis-cli --pipe.
load() {
    if [ "${HLLS:-0}" = 1 ]; then
        awk -v n="$KEYS" -v e="${ELEMENTS:-1000}" 'BEGIN {
            for (i = 0; i < n; i++) {
                k = sprintf("hll:%010d", i)
                printf "*%d\r\n$5\r\nPFADD\r\n$%d\r\n%s\r\n", e + 2, length(k), k
                for (j = 0; j < e; j++) {
                    v = sprintf("element-%d", (i * 7919 + j) % 5000000)
                    printf "$%d\r\n%s\r\n", length(v), v
                }
            }
        }' | redis-cli -h 127.0.0.1 -p "$1" --pipe | tail -1
        return
    fi
    if [ "${LISTS:-0}" = 1 ]; then
        awk -v n="$KEYS" 'BEGIN {
            lists = int(n / 1000); if (lists < 1) lists = 1
            for (i = 0; i < n; i++) {
                k = sprintf("list:%d", i % lists); v = sprintf("element-%07d", i)
                printf "*3\r\n$5\r\nRPUSH\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v
            }
        }' | redis-cli -h 127.0.0.1 -p "$1" --pipe | tail -1
        return
    fi
    if [ "${ZSETS:-0}" = 1 ]; then
        # Small sorted sets: 10 members of 10 bytes, integer scores (a leaderboard per key).
        awk -v n="$KEYS" 'BEGIN {
            for (i = 0; i < n; i++) {
                k = sprintf("key:%010d", i)
                printf "*22\r\n$4\r\nZADD\r\n$%d\r\n%s\r\n", length(k), k
                for (j = 0; j < 10; j++) {
                    sc = sprintf("%d", (i * 31 + j * 977) % 100000); m = sprintf("member-%03d", j)
                    printf "$%d\r\n%s\r\n$%d\r\n%s\r\n", length(sc), sc, length(m), m
                }
            }
        }' | redis-cli -h 127.0.0.1 -p "$1" --pipe | tail -1
        return
    fi
    if [ "${HASHES:-0}" = 1 ]; then
        awk -v n="$KEYS" 'BEGIN {
            for (i = 0; i < n; i++) {
                k = sprintf("key:%010d", i)
                printf "*8\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n$2\r\nf1\r\n$10\r\nvvvvvvvvvv\r\n$2\r\nf2\r\n$10\r\nvvvvvvvvvv\r\n$2\r\nf3\r\n$10\r\nvvvvvvvvvv\r\n", length(k), k
            }
        }' | redis-cli -h 127.0.0.1 -p "$1" --pipe | tail -1
        return
    fi
    awk -v n="$KEYS" -v size="$SIZE" -v ttl="${TTL:-0}" 'BEGIN {
        v = sprintf("%*s", size, ""); gsub(/ /, "v", v)
        for (i = 0; i < n; i++) {
            k = sprintf("key:%010d", i)
            if (ttl > 0)
                printf "*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$2\r\nEX\r\n$%d\r\n%d\r\n", length(k), k, size, v, length(ttl ""), ttl
            else
                printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, size, v
        }
    }' | redis-cli -h 127.0.0.1 -p "$1" --pipe | tail -1
}

memory_one() {
    local name=$1 port=$2 pid=$3
    local used0 rss0 used1 rss1 keys
    used0=$(info_field "$port" used_memory)
    rss0=$(rss_bytes "$pid")
    echo "$name: $(load "$port")"
    keys=$(redis-cli -h 127.0.0.1 -p "$port" dbsize)
    if [ "${LISTS:-0}" = 1 ]; then
        # Count elements: the sum of the lists' lengths.
        keys=$(redis-cli -h 127.0.0.1 -p "$port" --scan --pattern 'list:*' |
            awk -v p="$port" '{ printf "LLEN %s\n", $0 }' | redis-cli -h 127.0.0.1 -p "$port" |
            awk '{ s += $1 } END { print s }')
    fi
    if [ "$keys" != "$KEYS" ]; then
        echo "WARNING: $name holds $keys keys after loading $KEYS: the load did not complete" >&2
    fi
    used1=$(info_field "$port" used_memory)
    rss1=$(rss_bytes "$pid")
    awk -v name="$name" -v k="$keys" -v u0="$used0" -v u1="$used1" -v r0="$rss0" -v r1="$rss1" 'BEGIN {
        per_used = (u1 != "" && k > 0) ? sprintf("%.1f", (u1 - u0) / k) : "n/a"
        printf "%-8s %10d %14s %14s %14d %12.1f\n", name, k, (u1 == "" ? "n/a" : u1), per_used, r1, (r1 - r0) / k
    }' >>"$TMP/memory.txt"
}

memory() {
    start_both
    echo "loading $KEYS keys with $SIZE-byte values into each server"
    : >"$TMP/memory.txt"
    memory_one redis "$REDIS_PORT" "$REDIS_PID"
    memory_one slotbox "$SLOTBOX_PORT" "$SLOTBOX_PID"
    echo
    printf '%-8s %10s %14s %14s %14s %12s\n' server keys used_memory "used B/key" "RSS" "RSS B/key"
    cat "$TMP/memory.txt"
}

# start_cluster NAME CMD... : three cluster-enabled nodes assembled by redis-cli; sets
# CLUSTER_PORT to the first node's port.
start_cluster() {
    local name=$1
    shift
    local addrs=() i
    for i in 1 2 3; do
        start "$name$i" "$@" --cluster-enabled yes --cluster-config-file nodes.conf --cluster-port AUTO_BUS_PORT
        addrs+=("127.0.0.1:$STARTED_PORT")
        [ "$i" = 1 ] && CLUSTER_PORT=$STARTED_PORT
    done
    redis-cli --cluster create "${addrs[@]}" --cluster-yes >"$TMP/$name-create.log" 2>&1 ||
        { echo "cluster create failed for $name:" >&2; cat "$TMP/$name-create.log" >&2; exit 1; }
    for _ in $(seq 100); do
        if redis-cli -h 127.0.0.1 -p "$CLUSTER_PORT" cluster info | grep -q 'cluster_state:ok'; then
            return 0
        fi
        sleep 0.1
    done
    echo "$name cluster never reached cluster_state:ok" >&2
    exit 1
}

# shellcheck disable=SC2086
cluster_mode() {
    start_cluster redis redis-server --appendonly no --protected-mode no
    REDIS_PORT=$CLUSTER_PORT
    start_cluster slotbox "$SLOTBOX_BIN" $SLOTBOX_ARGS
    SLOTBOX_PORT=$CLUSTER_PORT
    echo "3-master clusters: redis-server from port $REDIS_PORT, slotbox-server from port $SLOTBOX_PORT"
    CLUSTER_FLAG=--cluster TESTS=${CLUSTER_TESTS:-set get} throughput_rows
}

# stop_server PORT PID: SHUTDOWN (which persists as configured) and wait for the exit.
stop_server() {
    redis-cli -h 127.0.0.1 -p "$1" shutdown >/dev/null 2>&1 || true
    for _ in $(seq 600); do
        kill -0 "$2" 2>/dev/null || return 0
        sleep 0.1
    done
    echo "server on port $1 did not stop" >&2
    exit 1
}

aof_mode() {
    local policy
    TESTS=${AOF_TESTS:-set}
    for policy in no everysec always; do
        echo
        echo "== appendonly yes, appendfsync $policy"
        PERSIST_ARGS="--appendonly yes --appendfsync $policy" start_both
        throughput_rows
        stop_server "$REDIS_PORT" "$REDIS_PID"
        stop_server "$SLOTBOX_PORT" "$SLOTBOX_PID"
        rm -rf "$TMP/redis" "$TMP/slotbox"
    done
}

# restart_one NAME KIND ARGS...: load KEYS keys, stop, start again on the same dir and print
# "NAME KIND seconds keys" (time from the start to the first PONG).
# shellcheck disable=SC2086
restart_one() {
    local name=$1 kind=$2 t0 t1 keys
    shift 2
    rm -rf "${TMP:?}/$name"
    start "$name" "$@"
    load "$STARTED_PORT" >/dev/null
    if [ "$kind" = snapshot ]; then redis-cli -h 127.0.0.1 -p "$STARTED_PORT" save >/dev/null; fi
    stop_server "$STARTED_PORT" "$STARTED_PID"
    t0=$(date +%s.%N)
    start "$name" "$@"
    t1=$(date +%s.%N)
    keys=$(redis-cli -h 127.0.0.1 -p "$STARTED_PORT" dbsize)
    echo "$name $kind $t0 $t1 $keys" | awk '{ printf "%-8s %-9s %8.2f s %10d keys\n", $1, $2, $4 - $3, $5 }' | tee -a "$TMP/restart.txt"
    stop_server "$STARTED_PORT" "$STARTED_PID"
}

# shellcheck disable=SC2086
restart_mode() {
    echo "restart after loading $KEYS keys with $SIZE-byte values (time to the first PONG)"
    : >"$TMP/restart.txt"
    restart_one redis aof redis-server --appendonly yes --protected-mode no
    restart_one slotbox aof "$SLOTBOX_BIN" $SLOTBOX_ARGS --appendonly yes
    restart_one redis snapshot redis-server --appendonly no --protected-mode no --dbfilename dump.rdb
    restart_one slotbox snapshot "$SLOTBOX_BIN" $SLOTBOX_ARGS --appendonly no
    awk '{ t[$1 " " $2] = $3 } END {
        printf "slotbox / redis load speed: aof %.2fx, snapshot %.2fx\n", t["redis aof"] / t["slotbox aof"], t["redis snapshot"] / t["slotbox snapshot"]
    }' "$TMP/restart.txt"
}

case "$MODE" in
    throughput) throughput ;;
    aof) aof_mode ;;
    restart) restart_mode ;;
    proxy) exec benches/proxy-compare.sh ;;
    memory) memory ;;
    memory-hash) HASHES=1 memory ;;
    memory-zset) ZSETS=1 memory ;;
    memory-ttl) TTL=100000 memory ;;
    memory-list) LISTS=1 memory ;;
    memory-hll)
        KEYS=${KEYS_HLL:-10000}
        echo "HyperLogLogs of ${ELEMENTS:-1000} elements each"
        HLLS=1 memory
        ;;
    hllgeo) hllgeo_mode ;;
    scripts) scripts_mode ;;
    cluster) cluster_mode ;;
    bitmaps) bitmaps_mode ;;
    streams) streams_mode ;;
    *)
        echo "usage: $0 [throughput|memory|memory-hash|memory-zset|memory-ttl|memory-list|memory-hll|hllgeo|scripts|aof|restart|proxy|cluster|bitmaps|streams]" >&2
        exit 2
        ;;
esac
