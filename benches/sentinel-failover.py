#!/usr/bin/python3
"""Failover time with slotbox sentinels vs real redis-sentinel 7.0, side by side in one run.

For each sentinel kind (slotbox-server --sentinel, redis-sentinel) and each group kind
(slotbox-server, redis-server), RUNS times: a master and 2 replicas, 3 sentinels (quorum 2,
the same down-after-milliseconds), slotbox-proxy with a sentinel pool over them. A redis-py
Sentinel client writes keys, each acknowledged by both replicas (WAIT 2); the master is
killed with SIGKILL; measured are the time from the kill to the first successful write through
the Sentinel client (to the promoted replica), the acknowledged writes missing on the new
master afterwards (target 0), and through the proxy the time to its first successful write
and the error replies its client saw meanwhile. Prints the medians per configuration.

Usage: benches/sentinel-failover.py [--runs 5] [--down-after 1000] [--groups slotbox,redis]
Needs: release binaries (cargo build --release -p slotbox-server -p slotbox-proxy),
redis-server, redis-sentinel, python3-redis. Everything binds 127.0.0.1; every process is
killed at the end of its run.
"""
import argparse, os, signal, socket, statistics, subprocess, sys, tempfile, threading, time

import redis
from redis.sentinel import Sentinel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = os.environ.get("SLOTBOX_SERVER", os.path.join(ROOT, "target/release/slotbox-server"))
PROXY = os.environ.get("SLOTBOX_PROXY", os.path.join(ROOT, "target/release/slotbox-proxy"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, pred, limit=20.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if pred():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.05)
    raise RuntimeError("timed out waiting for " + what)


class Procs:
    def __init__(self):
        self.procs = []
        self.dir = tempfile.TemporaryDirectory(prefix="sentinel-bench-")

    def start(self, argv, port):
        log = open(os.path.join(self.dir.name, "log-%d" % port), "ab")
        p = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        self.procs.append(p)
        wait_until("port %d" % port, lambda: redis.Redis(port=port, socket_timeout=1).ping())
        return p

    def data(self, kind, port, master=None):
        exe = SERVER if kind == "slotbox" else "redis-server"
        argv = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", self.dir.name]
        if master:
            argv += ["--replicaof", "127.0.0.1", str(master)]
        return self.start(argv, port)

    def sentinel(self, kind, port, master, down_after):
        conf = os.path.join(self.dir.name, "sentinel-%d.conf" % port)
        with open(conf, "w") as f:
            f.write("port %d\nbind 127.0.0.1\nsentinel monitor mymaster 127.0.0.1 %d 2\n" % (port, master))
            f.write("sentinel down-after-milliseconds mymaster %d\nsentinel failover-timeout mymaster 10000\n" % down_after)
        argv = [SERVER, conf, "--sentinel"] if kind == "slotbox" else ["redis-sentinel", conf]
        return self.start(argv, port)

    def proxy(self, sentinel_ports):
        port = free_port()
        yml = os.path.join(self.dir.name, "proxy.yml")
        with open(yml, "w") as f:
            f.write("ha:\n  listen: 127.0.0.1:%d\n  redis: true\n  timeout: 1000\n  master_name: mymaster\n" % port)
            f.write("  sentinels: [%s]\n" % ", ".join("127.0.0.1:%d" % p for p in sentinel_ports))
        self.start([PROXY, "-c", yml, "-s", str(free_port()), "-a", "127.0.0.1"], port)
        return port

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        self.dir.cleanup()


def proxy_writer(port, killed, result):
    """Write through the proxy; after the kill, count error replies until a write succeeds."""
    c = redis.Redis(port=port, socket_timeout=2)
    errors, i = 0, 0
    while True:
        i += 1
        started = time.monotonic()
        try:
            c.set("proxy:%d" % i, i)
            # Only a write sent once the master is surely dead counts.
            if killed.is_set() and started > killed.t0 + 0.05:
                result["proxy_s"] = time.monotonic() - killed.t0
                result["proxy_errors"] = errors
                return
        except redis.RedisError:
            if killed.is_set():
                errors += 1
            time.sleep(0.01)
        if killed.is_set() and time.monotonic() - killed.t0 > 60:
            result["proxy_s"], result["proxy_errors"] = float("nan"), errors
            return


def one_run(sentinel_kind, group_kind, down_after):
    procs = Procs()
    try:
        mport = free_port()
        master = procs.data(group_kind, mport)
        reps = [free_port(), free_port()]
        for r in reps:
            procs.data(group_kind, r, mport)
        for r in reps:
            wait_until("replica link", lambda r=r: redis.Redis(port=r).info("replication")["master_link_status"] == "up")
        sports = [free_port() for _ in range(3)]
        for s in sports:
            procs.sentinel(sentinel_kind, s, mport, down_after)
        for s in sports:
            def known(s=s):
                m = redis.Redis(port=s).sentinel_master("mymaster")
                return m["num-slaves"] == 2 and m["num-other-sentinels"] == 2
            wait_until("sentinel discovery", known, 30)
        pport = procs.proxy(sports)
        sent = Sentinel([("127.0.0.1", p) for p in sports], socket_timeout=0.2)
        client = sent.master_for("mymaster", socket_timeout=0.2)
        acked, i = [], 0
        t_end = time.monotonic() + 1.0
        while time.monotonic() < t_end:
            i += 1
            client.set("k%d" % i, i)
            if client.execute_command("WAIT", 2, 200) == 2:
                acked.append("k%d" % i)
        killed = threading.Event()
        result = {}
        writer = threading.Thread(target=proxy_writer, args=(pport, killed, result))
        writer.start()
        time.sleep(0.2)
        killed.t0 = time.monotonic()
        os.kill(master.pid, signal.SIGKILL)
        killed.set()
        while True:
            i += 1
            try:
                client.set("k%d" % i, i)
                first_write = time.monotonic() - killed.t0
                break
            except redis.RedisError:
                if time.monotonic() - killed.t0 > 60:
                    raise RuntimeError("no write within 60 s of the kill")
                time.sleep(0.01)
        new = sent.discover_master("mymaster")
        values = redis.Redis(host=new[0], port=new[1]).mget(acked) if acked else []
        lost = sum(1 for v in values if v is None)
        writer.join(70)
        return first_write, lost, len(acked), result.get("proxy_s", float("nan")), result.get("proxy_errors", -1)
    finally:
        procs.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--down-after", type=int, default=1000)
    ap.add_argument("--groups", default="slotbox,redis")
    a = ap.parse_args()
    print("failover: kill -9 of the master -> first write; down-after-milliseconds %d, %d runs each" % (a.down_after, a.runs))
    print("%-9s %-15s %14s %10s %12s %14s %13s" % ("group", "sentinels", "first write s", "acked", "acked lost", "proxy write s", "proxy errors"))
    for group in a.groups.split(","):
        for kind in ("slotbox", "redis"):
            rows = [one_run(kind, group, a.down_after) for _ in range(a.runs)]
            med = lambda k: statistics.median(r[k] for r in rows)
            name = "slotbox" if kind == "slotbox" else "redis-sentinel"
            print("%-9s %-15s %14.2f %10d %12d %14.2f %13d   runs: %s" % (
                group, name, med(0), med(2), max(r[1] for r in rows), med(3), med(4),
                " ".join("%.2f" % r[0] for r in rows)))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
