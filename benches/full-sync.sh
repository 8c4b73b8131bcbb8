#!/bin/sh
# full-sync.sh: full resynchronisation time of a new replica, slotbox vs redis-server 7.0,
# side by side in one run. A benchmark, not a test: it prints numbers and asserts nothing.
#
# For each server (RUNS rounds, default 1, alternating which goes first): start a master on
# a free port, load KEYS keys (default 1000000) of SIZE-byte values (default 100) with
# pipelined SETs from python3, then start a second server of the same kind with
# `--replicaof 127.0.0.1 <master port>` and measure from the moment it is started until its
# INFO replication shows master_link_status:up and master_sync_in_progress:0 (polled every
# 10 ms). The replica's DBSIZE is checked afterwards. Prints each run, the medians and the
# slotbox/redis ratio.
#
# Redis runs with its defaults (diskless sync) except repl-diskless-sync-delay 0: the default
# 5 s wait for more replicas to join is not transfer time. REDIS_ARGS / SLOTBOX_ARGS add flags.
# Needs target/release/slotbox-server (cargo build --release -p slotbox-server), redis-server,
# redis-cli and python3. Everything started here is stopped on exit.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SERVER="$ROOT/target/release/slotbox-server"
KEYS=${KEYS:-1000000}
SIZE=${SIZE:-100}
RUNS=${RUNS:-1}
LIMIT=${LIMIT:-300}
REDIS_ARGS=${REDIS_ARGS:-}
SLOTBOX_ARGS=${SLOTBOX_ARGS:-}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slotbox-bench-full-sync.XXXXXX")
PIDS=""

[ -x "$SERVER" ] || { echo "missing $SERVER: cargo build --release -p slotbox-server" >&2; exit 1; }
for tool in redis-server redis-cli python3; do
    command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 1; }
done

stop_all() {
    for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
    for pid in $PIDS; do
        tries=0
        while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 100 ]; do sleep 0.1; tries=$((tries + 1)); done
        kill -9 "$pid" 2>/dev/null || true
    done
    PIDS=""
}
cleanup() {
    stop_all
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

helper() {
    python3 - "$@" <<'EOF'
import socket, sys, time

def enc(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)

def info(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(enc("INFO", "replication"))
    buf = b""
    while b"\r\n" not in buf:
        buf += s.recv(65536)
    n = int(buf.split(b"\r\n", 1)[0][1:])
    while len(buf) < len(buf.split(b"\r\n", 1)[0]) + 2 + n:
        buf += s.recv(65536)
    s.close()
    return buf.decode(errors="replace")

cmd = sys.argv[1]
if cmd == "port":
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
elif cmd == "load":  # port keys size
    port, n, size = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    s = socket.create_connection(("127.0.0.1", port))
    value = b"x" * size
    batch, ok = 10000, b"+OK\r\n"
    for start in range(0, n, batch):
        end = min(n, start + batch)
        s.sendall(b"".join(enc(b"SET", b"key:%d" % i, value) for i in range(start, end)))
        need, got = len(ok) * (end - start), b""
        while len(got) < need:
            d = s.recv(1 << 20)
            if not d:
                sys.exit("connection closed while loading")
            got += d
        if got != ok * (end - start):
            sys.exit("unexpected reply while loading: %r" % got[:200])
elif cmd == "wait-sync":  # port t0 limit: print ms from t0 (unix seconds) to synced
    port, t0, limit = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    while time.time() - t0 < limit:
        try:
            i = info(port)
            if "master_link_status:up" in i and "master_sync_in_progress:0" in i:
                print("%.0f" % ((time.time() - t0) * 1000))
                sys.exit(0)
        except OSError:
            pass
        time.sleep(0.01)
    print("timeout")
elif cmd == "now":
    print("%.6f" % time.time())
elif cmd == "summary":  # results: kind run ms dbsize
    import statistics
    rows = [l.split() for l in open(sys.argv[2]) if l.strip()]
    med = {}
    for kind in ("slotbox", "redis"):
        ms = [float(r[2]) for r in rows if r[0] == kind and r[2] != "timeout"]
        med[kind] = statistics.median(ms) if ms else float("nan")
        print("%-8s median %8.0f ms over %d run(s)" % (kind, med[kind], len(ms)))
    print("slotbox / redis (time): %.2fx" % (med["slotbox"] / med["redis"]))
EOF
}

# start KIND NAME [flags...]: start a server on a free port, wait for PING. Sets PORT, PID.
start() {
    kind=$1 name=$2
    shift 2
    PORT=$(helper port)
    dir="$WORK/$name"
    mkdir -p "$dir"
    if [ "$kind" = slotbox ]; then
        # shellcheck disable=SC2086 # SLOTBOX_ARGS is a list of flags
        "$SERVER" --port "$PORT" --bind 127.0.0.1 --save '' --dir "$dir" $SLOTBOX_ARGS "$@" >"$dir/log" 2>&1 &
    else
        # shellcheck disable=SC2086
        redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
            --repl-diskless-sync-delay 0 --protected-mode no $REDIS_ARGS "$@" >"$dir/log" 2>&1 &
    fi
    PID=$!
    PIDS="$PIDS $PID"
}

wait_ping() { # port
    tries=0
    until [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ]; do
        tries=$((tries + 1))
        [ "$tries" -lt 100 ] || { echo "server on port $1 did not start" >&2; exit 1; }
        sleep 0.1
    done
}

run() { # kind round
    start "$1" "$1-master-$2"
    master=$PORT
    wait_ping "$master"
    helper load "$master" "$KEYS" "$SIZE"
    loaded=$(redis-cli -p "$master" dbsize)
    t0=$(helper now)
    start "$1" "$1-replica-$2" --replicaof 127.0.0.1 "$master"
    replica=$PORT
    ms=$(helper wait-sync "$replica" "$t0" "$LIMIT")
    got=$(redis-cli -p "$replica" dbsize)
    echo "$1 $2 $ms $got" >>"$WORK/results"
    printf '%-8s run %2d  master keys %8d  full sync %7s ms  replica keys %8d\n' "$1" "$2" "$loaded" "$ms" "$got"
    stop_all
    rm -rf "${WORK:?}/$1-master-$2" "${WORK:?}/$1-replica-$2"
}

echo "full sync of a new replica: $KEYS keys of $SIZE bytes; redis-server $(redis-server --version | awk '{print $3}' | sed 's/^v=//')"
: >"$WORK/results"
i=1
while [ "$i" -le "$RUNS" ]; do
    if [ $((i % 2)) -eq 1 ]; then
        run redis "$i"
        run slotbox "$i"
    else
        run slotbox "$i"
        run redis "$i"
    fi
    i=$((i + 1))
done
helper summary "$WORK/results"
