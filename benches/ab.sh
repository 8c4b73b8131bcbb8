#!/usr/bin/env bash
# Old against new: two slotbox-server binaries and redis-server 7.0 side by side, in one go.
# A benchmark, not a test: it prints numbers and asserts nothing.
#
#   benches/ab.sh OLD_BINARY NEW_BINARY
#
# For each row (TESTS, default "set get incr lpush") and pipeline depth (PIPES, default
# "1 16") it runs redis-benchmark REPEAT times (default 3) against each server in turn and
# prints the median rps of each, new/old and new/redis, and each server's CPU time per
# request (user + system from /proc/<pid>/stat around the run, in ns; 10 ms ticks, so keep N
# large enough for a few hundred ticks). CPU per request moves less with a noisy machine than
# rps does; compare both.
#
# CMD (a redis-benchmark command, e.g. "pfadd hll:__rand_int__ e__rand_int__") measures that
# command instead of the TESTS rows; SETUP names a file of redis-cli commands each server
# runs first (a SCRIPT LOAD before an EVALSHA row: the SHA is the body's sha1sum).
#
# Keep a copy of the old binary first, e.g.
#   cp target/release/slotbox-server /tmp/slotbox-old   # then change, rebuild, and
#   benches/ab.sh /tmp/slotbox-old target/release/slotbox-server
# Environment: N (requests per run, default 300000), CLIENTS (50), SIZE (100), RANGE (100000),
# SLOTBOX_ARGS (flags for both slotbox servers). Servers listen on 127.0.0.1 only, on free
# ports; everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 2 ]; then
    sed -n '2,23p' "$0" >&2
    exit 2
fi
OLD=$1
NEW=$2
TESTS=${TESTS:-set get incr lpush}
PIPES=${PIPES:-1 16}
N=${N:-300000}
CLIENTS=${CLIENTS:-50}
SIZE=${SIZE:-100}
RANGE=${RANGE:-100000}
REPEAT=${REPEAT:-3}
SLOTBOX_ARGS=${SLOTBOX_ARGS:-}
CMD=${CMD:-}
SETUP=${SETUP:-}
if [ -n "$CMD" ]; then TESTS=${CMD%% *}; fi

TMP_TAG=slotbox-ab
# shellcheck source=benches/lib.sh
source benches/lib.sh

# shellcheck disable=SC2086 # SLOTBOX_ARGS is a list of flags
start old "$OLD" $SLOTBOX_ARGS
OLD_PORT=$STARTED_PORT OLD_PID=$STARTED_PID
# shellcheck disable=SC2086
start new "$NEW" $SLOTBOX_ARGS
NEW_PORT=$STARTED_PORT NEW_PID=$STARTED_PID
start redis redis-server
REDIS_PORT=$STARTED_PORT REDIS_PID=$STARTED_PID

if [ -n "$SETUP" ]; then
    for port in "$OLD_PORT" "$NEW_PORT" "$REDIS_PORT"; do
        redis-cli -h 127.0.0.1 -p "$port" <"$SETUP" >/dev/null
    done
fi

TICK_NS=$((1000000000 / $(getconf CLK_TCK)))
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# one_run PORT PID TEST PIPE -> "rps cpu_ns_per_request"
one_run() {
    local before after rps
    before=$(cpu_ticks "$2")
    local what=(-t "$3")
    # shellcheck disable=SC2206 # CMD is a command line: its words are the arguments
    if [ -n "$CMD" ]; then what=($CMD); fi
    rps=$(redis-benchmark -h 127.0.0.1 -p "$1" -n "$N" -c "$CLIENTS" -d "$SIZE" -r "$RANGE" \
        -P "$4" --csv "${what[@]}" 2>/dev/null | tail -1 | cut -d, -f2 | tr -d '"')
    after=$(cpu_ticks "$2")
    echo "$rps $(((after - before) * TICK_NS / N))"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'; }

echo "old: $OLD   new: $NEW   redis: $(redis-server --version | awk '{ print $3 }')"
echo "load: -c $CLIENTS -d $SIZE -r $RANGE -n $N, $REPEAT runs each (medians)"
echo
printf '%-11s %3s %11s %11s %11s %7s %9s | %s\n' test P "old rps" "new rps" "redis rps" new/old new/redis \
    "CPU ns/request: old new redis"
for t in $TESTS; do
    for p in $PIPES; do
        o=() n=() r=() oc=() nc=() rc=()
        for _ in $(seq "$REPEAT"); do
            read -r x y < <(one_run "$OLD_PORT" "$OLD_PID" "$t" "$p")
            o+=("$x") oc+=("$y")
            read -r x y < <(one_run "$NEW_PORT" "$NEW_PID" "$t" "$p")
            n+=("$x") nc+=("$y")
            read -r x y < <(one_run "$REDIS_PORT" "$REDIS_PID" "$t" "$p")
            r+=("$x") rc+=("$y")
        done
        mo=$(median "${o[@]}") mn=$(median "${n[@]}") mr=$(median "${r[@]}")
        printf '%-11s %3s %11.0f %11.0f %11.0f %7.2f %9.2f | %8s %6s %6s\n' "$t" "$p" "$mo" "$mn" "$mr" \
            "$(echo "$mn / $mo" | bc -l)" "$(echo "$mn / $mr" | bc -l)" \
            "$(median "${oc[@]}")" "$(median "${nc[@]}")" "$(median "${rc[@]}")"
    done
done
