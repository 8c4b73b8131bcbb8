"""redis-py's script users against one address: Lock (acquire, extend, reacquire, release, its
owner checks) and register_script (EVALSHA, then EVAL after SCRIPT FLUSH makes it NOSCRIPT).

    python3 redis_py_scripts.py plain HOST PORT      a server, or a proxy in front of servers
    python3 redis_py_scripts.py cluster HOST PORT    a Redis Cluster (redis.cluster.RedisCluster)

Prints "ok" and exits 0 when every check holds; raises (exit 1) naming the first that fails.
"""
import sys
import threading
import time

import redis
from redis.cluster import RedisCluster
from redis.exceptions import LockError, LockNotOwnedError


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def locks(r, name):
    lock = r.lock(name, timeout=5, blocking_timeout=0.2)
    check(lock.acquire(), "acquire a free lock")
    check(r.pttl(name) > 0, "the lock key has a TTL")
    other = r.lock(name, timeout=5, blocking_timeout=0.2)
    check(not other.acquire(), "a second lock on the same name waits, then gives up")
    check(lock.extend(10), "extend the lock (a Lua script)")
    check(r.pttl(name) > 5000, "extend added time: %r" % r.pttl(name))
    check(lock.reacquire(), "reacquire the lock (a Lua script)")
    check(lock.owned(), "the lock is owned")
    lock.release()
    check(r.get(name) is None, "release removed the key")
    try:
        lock.release()
        raise AssertionError("releasing an unowned lock must fail")
    except LockError:
        pass
    # Another client's lock is not released by ours: the release script checks the token.
    a = r.lock(name, timeout=5)
    check(a.acquire(blocking=False), "acquire again")
    stolen = r.lock(name, timeout=5)
    stolen.local.token = b"not-the-owner"
    try:
        stolen.release()
        raise AssertionError("a wrong token must not release")
    except LockNotOwnedError:
        pass
    check(r.get(name) is not None, "the owner's lock survived")
    a.release()
    # Contention: two threads count under the lock without losing an increment.
    counter = name + ":n"
    r.delete(counter)

    def work():
        for _ in range(20):
            with r.lock(name, timeout=5, blocking_timeout=10, sleep=0.001):
                v = int(r.get(counter) or 0)
                r.set(counter, v + 1)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    check(int(r.get(counter)) == 40, "40 increments under the lock, got %r" % r.get(counter))


def scripts(r, key, flush):
    incr_by = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    r.delete(key)
    check(incr_by(keys=[key], args=[5]) == 5, "register_script runs (EVAL first, or EVALSHA)")
    check(incr_by(keys=[key], args=[2]) == 7, "and again by SHA")
    flush()
    check(incr_by(keys=[key], args=[1]) == 8, "after SCRIPT FLUSH: NOSCRIPT, then EVAL")
    pair = r.register_script("return {KEYS[1], ARGV[1], redis.call('get', KEYS[1])}")
    check(pair(keys=[key], args=["x"]) == [key.encode(), b"x", b"8"], "arrays come back as lists")
    err = r.register_script("return redis.error_reply('MYERR custom')")
    try:
        err(keys=[key])
        raise AssertionError("an error reply must raise")
    except redis.ResponseError as e:
        check("custom" in str(e), "the script's error text: %s" % e)


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "cluster":
        r = RedisCluster(host=host, port=port, socket_timeout=10)
        flush = lambda: r.execute_command("SCRIPT FLUSH", target_nodes=RedisCluster.ALL_NODES)
    else:
        r = redis.Redis(host=host, port=port, socket_timeout=10)
        flush = lambda: r.script_flush()
    # Keys on several slots (and backends): one name per lock.
    for i in range(3):
        locks(r, "pylock:%d:%d" % (i, int(time.time() * 1000) % 100000))
        scripts(r, "pyscript:%d" % i, flush)
    print("ok")


if __name__ == "__main__":
    main()
