#!/usr/bin/env python3
"""SET followed by WAIT 1, one client, against a master with one replica: slotbox-server vs
redis-server, in one run. A benchmark, not a test: it prints pairs per second and the ratio.

    benches/wait-compare.py [--pairs 2000] [--rounds 3]

Needs redis-server and redis-py (Debian: python3-redis); builds nothing (run `cargo build
--release -p slotbox-server` first). Every server listens on 127.0.0.1, on free ports, in a
temporary directory, and is stopped on exit.
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLOTBOX = os.path.join(ROOT, "target", "release", "slotbox-server")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(binary, tmp, name, extra):
    port = free_port()
    d = os.path.join(tmp, name)
    os.makedirs(d)
    log = open(os.path.join(d, "log"), "w")
    p = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", d] + extra,
                         stdout=log, stderr=log)
    return p, port


def pair_rate(binary, tmp, tag, pairs):
    procs = []
    try:
        m, mport = start(binary, tmp, tag + "-master", [])
        procs.append(m)
        time.sleep(0.3)
        r, rport = start(binary, tmp, tag + "-replica", ["--replicaof", "127.0.0.1", str(mport)])
        procs.append(r)
        c = redis.Redis(port=mport, socket_timeout=10)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if c.execute_command("WAIT", 1, 100) == 1 and c.set("probe", "1") and c.execute_command("WAIT", 1, 100) == 1:
                    break
            except redis.ConnectionError:
                pass
            time.sleep(0.1)
        else:
            sys.exit("%s: the replica did not come up" % tag)
        t = time.time()
        for i in range(pairs):
            c.set("k%d" % i, "v")
            if c.execute_command("WAIT", 1, 1000) != 1:
                sys.exit("%s: WAIT timed out" % tag)
        return pairs / (time.time() - t)
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    if not os.access(SLOTBOX, os.X_OK):
        sys.exit("missing %s: cargo build --release -p slotbox-server" % SLOTBOX)
    redis_bin = shutil.which("redis-server") or sys.exit("redis-server not found")
    tmp = tempfile.mkdtemp(prefix="slotbox-wait-")
    try:
        rates = {"slotbox": [], "redis": []}
        for i in range(a.rounds):
            order = [("slotbox", SLOTBOX), ("redis", redis_bin)]
            if i % 2:
                order.reverse()
            for tag, binary in order:
                rates[tag].append(pair_rate(binary, tmp, "%s%d" % (tag, i), a.pairs))
        med = {k: sorted(v)[len(v) // 2] for k, v in rates.items()}
        print("SET + WAIT 1 (one client, %d pairs, median of %d rounds)" % (a.pairs, a.rounds))
        print("  redis-server   %8.0f pairs/s" % med["redis"])
        print("  slotbox-server %8.0f pairs/s   ratio %.2f" % (med["slotbox"], med["slotbox"] / med["redis"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
