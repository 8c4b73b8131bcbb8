# Shared by benches/compare.sh, ab.sh and proxy-compare.sh (bash; source it after setting
# TMP_TAG): a temp dir TMP, the PIDS of everything started (all stopped on exit), free-port
# picking, waiting for PING and starting a server on a free port with retries.

TMP=$(mktemp -d -t "${TMP_TAG:-slotbox-bench}.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port on 127.0.0.1 that nothing listens on right now.
pick_port() {
    local port
    while true; do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
}

# wait_ping PORT PID: PING answered within 10 s (0), or the process died / never answered (1).
wait_ping() {
    for _ in $(seq 100); do
        kill -0 "$2" 2>/dev/null || return 1
        if [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = "PONG" ]; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# median_run "rps p50 p99"... -> the run with the median rps (REPEAT in the compare scripts).
median_run() {
    printf '%s\n' "$@" | sort -n -k1,1 | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'
}

# start_on_free_port NAME LAUNCH ARGS...: up to 5 attempts, each on a fresh free port PORT:
# `LAUNCH PORT ARGS...` starts the program in the background, its output in $TMP/NAME.log;
# then wait for PING. Sets STARTED_PORT and STARTED_PID.
start_on_free_port() {
    local name=$1 launch=$2 attempt port pid
    shift 2
    for attempt in 1 2 3 4 5; do
        port=$(pick_port)
        "$launch" "$port" "$@"
        pid=$!
        PIDS+=("$pid")
        if wait_ping "$port" "$pid"; then
            STARTED_PORT=$port
            STARTED_PID=$pid
            return 0
        fi
        kill "$pid" 2>/dev/null || true
        echo "$name did not start on port $port (attempt $attempt of 5; retrying on another port):" >&2
        tail -5 "$TMP/$name.log" >&2
    done
    echo "giving up on $name" >&2
    exit 1
}

# launch_server PORT NAME CMD...: run CMD with the port flags appended, in $TMP/NAME.
# AUTO_BUS_PORT in CMD becomes a fresh free port on every attempt (cluster bus).
launch_server() {
    local port=$1 name=$2 a
    shift 2
    local args=()
    for a in "$@"; do
        if [ "$a" = AUTO_BUS_PORT ]; then a=$(pick_port); fi
        args+=("$a")
    done
    "${args[@]}" --port "$port" --bind 127.0.0.1 --save '' --dir "$TMP/$name" >"$TMP/$name.log" 2>&1 &
}

# start NAME CMD... : start a server (the port flags are appended), wait for PING (10 s at
# most), retry on another port if it died. Sets STARTED_PORT and STARTED_PID.
start() {
    local name=$1
    shift
    mkdir -p "$TMP/$name"
    start_on_free_port "$name" launch_server "$name" "$@"
}
