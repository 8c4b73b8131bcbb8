#!/bin/sh
# failover.sh: automatic failover time, slotbox vs redis-server 7.0, side by side in one run.
# A benchmark, not a test: it prints numbers and asserts nothing (lost writes are reported).
#
# For each cluster-node-timeout in TIMEOUTS (default "1000 5000") and RUNS runs (default 10),
# alternating which server goes first, a fresh 6-node cluster (3 masters + 3 replicas) is
# started on free ports in a temp dir and assembled (`slotbox-cluster create
# --cluster-replicas 1` for slotbox, `redis-cli --cluster create --cluster-replicas 1` for
# Redis). KEYS keys (default 200) are written to the master of the slot of "{TAG}" (TAG
# default "b", slot 3300, i.e. master 1) with SET + WAIT 1; then that master is killed with
# SIGKILL, and the time from the kill to the first successful SET in that slot (a cluster
# client: every live node is tried in turn, MOVED is followed, 200 ms socket timeouts, 10 ms
# between failed attempts) is measured. Every key whose WAIT 1 returned 1 is then read back
# from the new master: a missing one is a lost acknowledged write.
#
# Prints each run, then per node-timeout the median and max for slotbox and redis and the
# slotbox/redis ratios. LIMIT (default 60) bounds each failover wait in seconds.
# Needs the release builds (cargo build --release -p slotbox-server -p slotbox-cluster),
# redis-server, redis-cli and python3. Everything started here is stopped on exit.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SERVER="$ROOT/target/release/slotbox-server"
TOOL="$ROOT/target/release/slotbox-cluster"
RUNS=${RUNS:-10}
TIMEOUTS=${TIMEOUTS:-1000 5000}
KEYS=${KEYS:-200}
TAG=${TAG:-b}
LIMIT=${LIMIT:-60}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slotbox-bench-failover.XXXXXX")
PIDS=""

for bin in "$SERVER" "$TOOL"; do
    [ -x "$bin" ] || { echo "missing $bin: cargo build --release -p slotbox-server -p slotbox-cluster" >&2; exit 1; }
done
for tool in redis-server redis-cli python3; do
    command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 1; }
done

stop_all() {
    for pid in $PIDS; do kill -9 "$pid" 2>/dev/null || true; done
    for pid in $PIDS; do
        tries=0
        while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 50 ]; do sleep 0.1; tries=$((tries + 1)); done
    done
    PIDS=""
}
cleanup() {
    stop_all
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The client side, in Python: free ports, acknowledged writes, kill + failover timing.
helper() {
    python3 - "$@" <<'EOF'
import os, signal, socket, sys, time

def enc(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)

class Conn:
    def __init__(self, port, timeout):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.s.settimeout(timeout)
        self.buf = b""
    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise OSError("closed")
            self.buf += d
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l
    def call(self, *args):
        self.s.sendall(enc(args))
        l = self.line()
        if l[:1] == b"$" and int(l[1:]) >= 0:
            n = int(l[1:])
            while len(self.buf) < n + 2:
                d = self.s.recv(65536)
                if not d:
                    raise OSError("closed")
                self.buf += d
            v, self.buf = self.buf[:n], self.buf[n + 2:]
            return b"$" + v
        return l
    def close(self):
        self.s.close()

def moved_port(r):
    return int(r.split()[2].rsplit(b":", 1)[1]) if r.startswith(b"-MOVED") else None

cmd = sys.argv[1]
if cmd == "ports":  # n: "port:busport" pairs that are free right now
    socks = []
    for _ in range(2 * int(sys.argv[2])):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    p = [s.getsockname()[1] for s in socks]
    print(" ".join("%d:%d" % (p[i], p[i + 1]) for i in range(0, len(p), 2)))
elif cmd == "write":  # port tag n keyfile
    port, tag, n, keyfile = int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
    c = Conn(port, 5)
    acked = []
    for i in range(n):
        k = "{%s}k%d" % (tag, i)
        if c.call("SET", k, i) == b"+OK" and c.call("WAIT", 1, 1000) == b":1":
            acked.append(k)
    open(keyfile, "w").write("\n".join(acked) + "\n")
    print(len(acked))
elif cmd == "failover":  # pid dead_port tag keyfile limit live_ports...
    pid, dead, tag, keyfile, limit = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], float(sys.argv[6])
    live = [int(p) for p in sys.argv[7:]]
    probe = "{%s}probe" % tag
    idx, target, ok = 0, live[0], False
    t0 = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    while time.monotonic() - t0 < limit:
        r = None
        try:
            c = Conn(target, 0.2)
            r = c.call("SET", probe, "v")
            c.close()
        except OSError:
            pass
        if r == b"+OK":
            ok = True
            break
        m = moved_port(r) if r else None
        if m is not None and m != target and m != dead:
            target = m
            continue
        idx = (idx + 1) % len(live)
        target = live[idx]
        time.sleep(0.01)
    ms = (time.monotonic() - t0) * 1000
    if not ok:
        print("timeout -1")
        sys.exit(0)
    keys = [k for k in open(keyfile).read().split() if k]
    lost = 0
    c = Conn(target, 5)
    for k in keys:
        r = c.call("GET", k)
        m = moved_port(r)
        if m is not None:
            c2 = Conn(m, 5)
            r = c2.call("GET", k)
            c2.close()
        if not r.startswith(b"$"):
            lost += 1
    print("%.0f %d" % (ms, lost))
elif cmd == "summary":  # results file: kind timeout run ms acked lost
    import statistics
    rows = [l.split() for l in open(sys.argv[2]) if l.strip()]
    print("\n%-12s %5s %11s %8s %11s %8s %11s %10s %5s" % (
        "node-timeout", "runs", "slotbox med", "max", "redis med", "max", "ratio(med)", "ratio(max)", "lost"))
    for t in sorted({int(r[1]) for r in rows}):
        val = {}
        lost = 0
        for kind in ("slotbox", "redis"):
            ms = [float(r[3]) for r in rows if r[0] == kind and int(r[1]) == t and r[3] != "timeout"]
            lost += sum(int(r[5]) for r in rows if r[0] == kind and int(r[1]) == t and r[3] != "timeout")
            val[kind] = (statistics.median(ms), max(ms), len(ms)) if ms else (float("nan"), float("nan"), 0)
        s, r = val["slotbox"], val["redis"]
        print("%-12s %5s %9.0fms %6.0fms %9.0fms %6.0fms %10.2fx %9.2fx %5d" % (
            "%d ms" % t, "%d/%d" % (s[2], r[2]), s[0], s[1], r[0], r[1], s[0] / r[0], s[1] / r[1], lost))
    timeouts = [r for r in rows if r[3] == "timeout"]
    if timeouts:
        print("runs without a failover within the limit: %d" % len(timeouts))
EOF
}

# wait_until SECONDS CMD...: run CMD every 0.1 s until it succeeds; fail after SECONDS.
wait_until() {
    limit=$(($1 * 10))
    shift
    tries=0
    until "$@" >/dev/null 2>&1; do
        tries=$((tries + 1))
        [ "$tries" -lt "$limit" ] || return 1
        sleep 0.1
    done
}

all_ok() { # ports...
    for p in "$@"; do
        redis-cli -p "$p" cluster info 2>/dev/null | grep -q 'cluster_state:ok' || return 1
        [ "$(redis-cli -p "$p" cluster nodes 2>/dev/null | grep -c slave)" -eq 3 ] || return 1
        role=$(redis-cli -p "$p" role 2>/dev/null | head -n 1)
        if [ "$role" = slave ]; then
            redis-cli -p "$p" info replication | grep -q 'master_link_status:up' || return 1
        fi
    done
}

start_node() { # kind port busport timeout
    dir="$WORK/$2"
    mkdir -p "$dir"
    if [ "$1" = slotbox ]; then
        "$SERVER" --port "$2" --cluster-port "$3" --bind 127.0.0.1 --cluster-enabled yes \
            --cluster-node-timeout "$4" --dir "$dir" --save '' >"$dir/log" 2>&1 &
    else
        redis-server --port "$2" --cluster-port "$3" --bind 127.0.0.1 --cluster-enabled yes \
            --cluster-node-timeout "$4" --dir "$dir" --save '' --appendonly no \
            --repl-diskless-sync-delay 0 --daemonize no >"$dir/log" 2>&1 &
    fi
    echo $! >"$dir/pid"
    PIDS="$PIDS $!"
}

# One run: kind timeout run. Appends "kind timeout run ms acked lost" to results.
run() {
    kind=$1 timeout=$2 n=$3
    ports="" addrs=""
    for pair in $(helper ports 6); do
        start_node "$kind" "${pair%:*}" "${pair#*:}" "$timeout"
        ports="$ports ${pair%:*}"
        addrs="$addrs 127.0.0.1:${pair%:*}"
    done
    for p in $ports; do
        wait_until 10 redis-cli -p "$p" ping || { echo "$kind node $p did not start" >&2; tail -5 "$WORK/$p/log" >&2; exit 1; }
    done
    # shellcheck disable=SC2086 # addrs is a list
    if [ "$kind" = slotbox ]; then
        "$TOOL" create $addrs --cluster-replicas 1 --cluster-yes >"$WORK/create.log" 2>&1
    else
        redis-cli --cluster create $addrs --cluster-replicas 1 --cluster-yes >"$WORK/create.log" 2>&1
    fi || { echo "$kind: create failed" >&2; tail -5 "$WORK/create.log" >&2; exit 1; }
    # shellcheck disable=SC2086
    wait_until 60 all_ok $ports || { echo "$kind: cluster not ready" >&2; exit 1; }
    first=${ports# }
    first=${first%% *}
    slot=$(redis-cli -p "$first" cluster keyslot "{$TAG}")
    master=$(redis-cli -p "$first" cluster nodes | awk -v s="$slot" '
        $3 ~ /master/ { for (i = 9; i <= NF; i++) { split($i, r, "-"); if (r[2] == "") r[2] = r[1];
            if (s + 0 >= r[1] + 0 && s + 0 <= r[2] + 0) { split($2, a, "[:@]"); print a[2] } } }')
    [ -n "$master" ] || { echo "$kind: no master for slot $slot" >&2; exit 1; }
    acked=$(helper write "$master" "$TAG" "$KEYS" "$WORK/keys")
    live=""
    for p in $ports; do [ "$p" = "$master" ] || live="$live $p"; done
    # shellcheck disable=SC2086
    res=$(helper failover "$(cat "$WORK/$master/pid")" "$master" "$TAG" "$WORK/keys" "$LIMIT" $live)
    line="$kind $timeout $n ${res%% *} $acked ${res#* }"
    echo "$line" >>"$WORK/results"
    echo "$line" | awk '{ printf "%-8s node-timeout %5d  run %2d  failover %6s ms  acked %4d  lost %d\n", $1, $2, $3, $4, $5, $6 }'
    stop_all
    for p in $ports; do rm -rf "${WORK:?}/$p"; done
}

echo "failover time: kill -9 of the master of slot {$TAG}, until a SET in that slot succeeds"
echo "redis-server $(redis-server --version | awk '{print $3}' | sed 's/^v=//'); $RUNS runs per node-timeout; $KEYS keys written with WAIT 1"
: >"$WORK/results"
for timeout in $TIMEOUTS; do
    i=1
    while [ "$i" -le "$RUNS" ]; do
        if [ $((i % 2)) -eq 1 ]; then
            run slotbox "$timeout" "$i"
            run redis "$timeout" "$i"
        else
            run redis "$timeout" "$i"
            run slotbox "$timeout" "$i"
        fi
        i=$((i + 1))
    done
done
helper summary "$WORK/results"
