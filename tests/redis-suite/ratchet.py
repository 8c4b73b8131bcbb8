"""The redis-suite ratchet: compare the tests that passed in this run (the [ok] lines of each
unit's runtest log) with the tests real Redis 7.0.15 passes (redis-passes.txt) minus the expected
failures (expected-failures.txt). Exit 1 when a test that must pass did not.

usage: ratchet.py LOG_DIR REDIS_PASSES EXPECTED_FAILURES UNITS"""
import collections
import os
import re
import sys

OK = re.compile(r"^\[ok\]: (.*) \(\d+ ms\)$")


def unit_of(log_name):
    # unit_type_zset.log -> unit/type/zset (unit names have no underscores, files use them for /)
    stem = log_name[: -len(".log")]
    parts = stem.split("_")
    return "/".join(parts)


def passed(log_dir):
    got = collections.Counter()
    for name in sorted(os.listdir(log_dir)):
        if not name.endswith(".log"):
            continue
        unit = unit_of(name)
        with open(os.path.join(log_dir, name), errors="replace") as f:
            for line in f:
                m = OK.match(line.rstrip("\n"))
                if m:
                    got[(unit, m.group(1))] += 1
    return got


def read_pairs(path):
    """unit<TAB>test lines (comments and blank lines skipped); a test may be `*`."""
    out = collections.Counter()
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            unit, _, test = line.partition("\t")
            out[(unit, test)] += 1
    return out


def selected(unit, units):
    if units in ("all", ""):
        return True
    if units == "core":
        return unit in CORE
    return any(unit == u or unit == "unit/" + u for u in units.split())


CORE = set(
    "unit/protocol unit/keyspace unit/scan unit/info-command unit/type/string unit/type/incr "
    "unit/type/list unit/type/list-2 unit/type/list-3 unit/type/set unit/type/zset unit/type/hash "
    "unit/expire unit/multi unit/quit unit/pubsub".split()
)


def main():
    log_dir, passes_path, expected_path, units = sys.argv[1:5]
    got = passed(log_dir)
    redis = read_pairs(passes_path)
    expected = read_pairs(expected_path)
    whole_units = {u for (u, t) in expected if t == "*"}
    must = collections.Counter()
    for key, n in redis.items():
        unit, test = key
        if not selected(unit, units) or unit in whole_units:
            continue
        left = n - expected.get(key, 0)
        if left > 0:
            must[key] = left
    regressions = [(k, n - got.get(k, 0)) for k, n in must.items() if got.get(k, 0) < n]
    improved = sorted(k for k, n in expected.items() if k[1] != "*" and got.get(k, 0) >= n + (redis[k] - n))
    total_redis = sum(n for k, n in redis.items() if selected(k[0], units))
    total_ok = sum(min(n, redis.get(k, 0)) for k, n in got.items() if selected(k[0], units))
    print(f"redis-suite: {total_ok} of the {total_redis} tests real Redis passes passed here; "
          f"{sum(must.values())} must pass, {len(regressions)} did not")
    for (unit, test), n in sorted(regressions):
        print(f"  REGRESSION {unit}: {test}" + (f" (x{n})" if n > 1 else ""))
    if improved:
        print(f"  {len(improved)} expected failures now pass: remove them from expected-failures.txt:")
        for unit, test in improved:
            print(f"    {unit}\t{test}")
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
