//! HyperLogLog and GEO against real `redis-server` 7.0: the same commands to both servers give
//! byte-identical replies in RESP2 and RESP3 — PFCOUNT from 0 to 100k elements, the HLL bytes
//! themselves (GET), PFMERGE, and GEO searches over a few hundred random points — and HLL
//! strings move between the two servers (GET from one, SET into the other) with the same
//! counts. Also the keyspace events of these commands. Skipped when `redis-server` is missing.

mod common;

use common::{show, RawClient, ServerProcess};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use slotbox::protocol::Frame;
use slotbox::Server;

struct Pair {
    _redis: ServerProcess,
    _slotbox: Server,
    r: RawClient,
    s: RawClient,
}

impl Pair {
    fn start() -> Option<Pair> {
        if !common::on_path("redis-server") {
            eprintln!("redis-server not on PATH: skipped");
            return None;
        }
        let redis = ServerProcess::redis();
        let slotbox = Server::start().expect("start slotbox");
        let (r, s) = (RawClient::connect(redis.addr()), RawClient::connect(slotbox.addr()));
        Some(Pair { _redis: redis, _slotbox: slotbox, r, s })
    }

    /// Send to both; the raw replies must be identical. Returns the reply.
    fn same<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Vec<u8> {
        let want = self.r.call_raw(args);
        let got = self.s.call_raw(args);
        if want != got {
            let shown: Vec<String> = args.iter().take(12).map(|a| String::from_utf8_lossy(a.as_ref()).into()).collect();
            panic!("{shown:?}\n redis:   {}\n slotbox: {}", show(&want), show(&got));
        }
        want
    }

    /// Switch both connections to RESP `proto` (the HELLO replies differ in the client id).
    fn hello(&mut self, proto: u8) {
        for c in [&mut self.r, &mut self.s] {
            assert!(!matches!(c.call(&["HELLO", &proto.to_string()]), Frame::Error(_)));
        }
    }
}

fn bulk_bytes(f: Frame) -> Vec<u8> {
    match f {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("not a bulk: {other:?}"),
    }
}

/// PFADD `e{from}`..`e{to-1}` to `key` (one call).
fn pfadd_range(key: &str, from: usize, to: usize) -> Vec<Vec<u8>> {
    let mut args = vec![b"PFADD".to_vec(), key.as_bytes().to_vec()];
    args.extend((from..to).map(|j| format!("e{j}").into_bytes()));
    args
}

#[test]
fn hll_counts_and_bytes_equal_redis() {
    let Some(mut p) = Pair::start() else { return };
    for proto in [2u8, 3] {
        p.hello(proto);
        p.same(&["FLUSHALL"]);
        // Growth from sparse to dense: count, bytes and encoding after every step.
        let mut n = 0;
        while n < 100_000 {
            let step = if n < 2000 { 50 } else { 2000 };
            p.same(&pfadd_range("h", n, n + step));
            n += step;
            p.same(&["PFCOUNT", "h"]);
            p.same(&["GET", "h"]);
            p.same(&["PFDEBUG", "ENCODING", "h"]);
        }
        // Small sparse HLLs, one element at a time (opcode splits and merges).
        for i in 0..300 {
            p.same(&["PFADD", "small", &format!("x{i}"), &format!("y{}", i * 7)]);
            p.same(&["GET", "small"]);
        }
        p.same(&["PFCOUNT", "small"]);
        p.same(&["PFDEBUG", "DECODE", "small"]);
        p.same(&["PFADD", "small", "x1"]);
        p.same(&["PFADD", "empty"]);
        p.same(&["GET", "empty"]);
        p.same(&["PFCOUNT", "h", "small", "empty", "missing"]);
        p.same(&["PFMERGE", "m", "small", "empty"]);
        p.same(&["GET", "m"]);
        p.same(&["PFMERGE", "m", "h"]);
        p.same(&["GET", "m"]);
        p.same(&["PFCOUNT", "m"]);
        p.same(&["PFMERGE", "m2", "small"]);
        p.same(&["GET", "m2"]);
        p.same(&["SET", "str", "no"]);
        p.same(&["PFADD", "str", "a"]);
        p.same(&["PFMERGE", "m", "str"]);
        p.same(&["APPEND", "small", "tail"]);
        p.same(&["PFCOUNT", "small"]);
        p.same(&["PFADD", "small", "zz"]);
    }
}

#[test]
fn hll_strings_move_between_servers() {
    let Some(mut p) = Pair::start() else { return };
    for (i, n) in [0usize, 1, 10, 200, 1500, 5000, 40_000].into_iter().enumerate() {
        let (mine, theirs) = (format!("s{i}"), format!("r{i}"));
        p.s.call(&["PFADD", &mine]);
        p.r.call(&["PFADD", &theirs]);
        for start in (0..n).step_by(1000) {
            p.s.call(&pfadd_range(&mine, start, n.min(start + 1000)));
            p.r.call(&pfadd_range(&theirs, start, n.min(start + 1000)));
        }
        // slotbox's bytes into Redis and Redis's into slotbox.
        let from_slotbox = bulk_bytes(p.s.call(&["GET", &mine]));
        let from_redis = bulk_bytes(p.r.call(&["GET", &theirs]));
        assert_eq!(show(&from_slotbox), show(&from_redis), "{n} elements");
        p.r.call(&[b"SET".to_vec(), mine.as_bytes().to_vec(), from_slotbox]);
        p.s.call(&[b"SET".to_vec(), theirs.as_bytes().to_vec(), from_redis]);
        p.same(&["PFCOUNT", &mine]);
        p.same(&["PFCOUNT", &theirs]);
        p.same(&["PFADD", &mine, "more", "and", "more"]);
        p.same(&["GET", &mine]);
    }
}

/// A few hundred random points, then random searches of every kind.
#[test]
fn geo_searches_equal_redis() {
    let Some(mut p) = Pair::start() else { return };
    let mut rng = StdRng::seed_from_u64(20261207);
    for proto in [2u8, 3] {
        p.hello(proto);
        p.same(&["FLUSHALL"]);
        for i in 0..400 {
            let (lon, lat) = (rng.gen_range(-180.0..180.0f64), rng.gen_range(-85.0..85.0f64));
            // A third of the points cluster around one city, so small radii find something.
            let (lon, lat) = if i % 3 == 0 { (13.36 + lon / 400.0, 38.11 + lat / 400.0) } else { (lon, lat) };
            p.same(&["GEOADD", "pts", &lon.to_string(), &lat.to_string(), &format!("m{i}")]);
        }
        p.same(&["ZRANGE", "pts", "0", "-1", "WITHSCORES"]);
        for _ in 0..150 {
            geo_queries(&mut p, &mut rng);
        }
    }
}

/// Many points at a few identical positions: COUNT (Redis's partial quicksort) and full sorts
/// (glibc's merge sort) order equal distances as Redis does.
#[test]
fn geo_ties_are_ordered_as_redis() {
    let Some(mut p) = Pair::start() else { return };
    let mut rng = StdRng::seed_from_u64(7);
    let spots: Vec<(String, String)> =
        (0..4).map(|_| (rng.gen_range(13.0..13.5f64).to_string(), rng.gen_range(38.0..38.3f64).to_string())).collect();
    for i in 0..250 {
        let (lon, lat) = &spots[rng.gen_range(0..spots.len())];
        p.same(&["GEOADD", "g", lon, lat, &format!("m{i}")]);
    }
    for _ in 0..60 {
        let count = rng.gen_range(1..300).to_string();
        let order = ["ASC", "DESC"][rng.gen_range(0..2)];
        p.same(&["GEORADIUS", "g", "13.2", "38.1", "100", "km", "COUNT", &count, order, "WITHDIST"]);
        p.same(&["GEOSEARCH", "g", "FROMLONLAT", "13.2", "38.1", "BYBOX", "200", "200", "km", order]);
        p.same(&["GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "13.2", "38.1", "BYRADIUS", "100", "km", "COUNT", &count]);
        p.same(&["ZRANGE", "d", "0", "-1"]);
    }
}

fn geo_queries(p: &mut Pair, rng: &mut StdRng) {
    let (lon, lat) = if rng.gen_bool(0.5) {
        (13.36 + rng.gen_range(-0.2..0.2), 38.11 + rng.gen_range(-0.2..0.2))
    } else {
        (rng.gen_range(-180.0..180.0f64), rng.gen_range(-85.0..85.0f64))
    };
    let (lon, lat) = (lon.to_string(), lat.to_string());
    let unit = ["m", "km", "mi", "ft"][rng.gen_range(0..4)];
    let per_km = match unit {
        "m" => 1000.0,
        "km" => 1.0,
        "mi" => 0.621,
        _ => 3280.0,
    };
    let km = [0.5, 5.0, 30.0, 200.0, 1000.0, 5000.0][rng.gen_range(0..6)];
    let r = (km * per_km).to_string();
    let h = (km * per_km / 2.0).to_string();
    let mut opts: Vec<&str> =
        ["WITHDIST", "WITHHASH", "WITHCOORD", "ASC", "DESC"].into_iter().filter(|_| rng.gen_bool(0.35)).collect();
    let count = rng.gen_range(1..15).to_string();
    if rng.gen_bool(0.3) {
        opts.extend(["COUNT", &count]);
        if rng.gen_bool(0.3) {
            opts.push("ANY");
        }
    }
    let member = format!("m{}", rng.gen_range(0..400));
    let cmds: Vec<Vec<&str>> = vec![
        [&["GEORADIUS", "pts", &lon, &lat, &r, unit][..], &opts].concat(),
        [&["GEORADIUS_RO", "pts", &lon, &lat, &r, unit][..], &opts].concat(),
        [&["GEORADIUSBYMEMBER", "pts", &member, &r, unit][..], &opts].concat(),
        [&["GEOSEARCH", "pts", "FROMLONLAT", &lon, &lat, "BYBOX", &r, &h, unit][..], &opts].concat(),
        [&["GEOSEARCH", "pts", "FROMMEMBER", &member, "BYRADIUS", &r, unit][..], &opts].concat(),
        vec!["GEOSEARCHSTORE", "dst", "pts", "FROMMEMBER", &member, "BYBOX", &r, &r, unit, "STOREDIST"],
        vec!["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        vec!["GEORADIUS", "pts", &lon, &lat, &r, unit, "STORE", "dst2"],
        vec!["ZRANGE", "dst2", "0", "-1", "WITHSCORES"],
        vec!["GEODIST", "pts", &member, "m1", unit],
        vec!["GEOPOS", "pts", &member, "nosuch", "m2"],
        vec!["GEOHASH", "pts", &member, "nosuch"],
    ];
    for c in cmds {
        p.same(&c);
    }
}

/// The events of these commands, as Redis publishes them.
#[test]
fn keyspace_events_equal_redis() {
    let Some(mut p) = Pair::start() else { return };
    let script: &[&[&str]] = &[
        &["CONFIG", "SET", "notify-keyspace-events", "KEA"],
        &["PFADD", "h", "a"],
        &["PFADD", "h", "a"],
        &["PFMERGE", "h2", "h"],
        &["GEOADD", "g", "13.361389", "38.115556", "Palermo"],
        &["GEOADD", "g", "13.361389", "38.115556", "Palermo"],
        &["GEOSEARCHSTORE", "d", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "10", "km"],
        &["GEORADIUS", "g", "13", "38", "100", "km", "STORE", "d"],
        &["GEORADIUS", "g", "0", "0", "1", "km", "STORE", "d"],
        &["SET", "done", "1"],
        &["DEL", "done"],
    ];
    let mut events = Vec::new();
    for addr in [p._redis.addr(), p._slotbox.addr()] {
        let mut sub = RawClient::connect(addr);
        sub.call(&["PSUBSCRIBE", "__keyevent@*__:*"]);
        let mut c = RawClient::connect(addr);
        for cmd in script {
            c.call(cmd);
        }
        let mut got = Vec::new();
        loop {
            let (f, _) = sub.read_reply();
            let (Frame::Array(parts) | Frame::Push(parts)) = f else { panic!("not a message: {f:?}") };
            let text: Vec<String> = parts.iter().map(common::text).collect();
            if text[3] == "done" {
                break;
            }
            got.push(text[2..].join(" "));
        }
        events.push(got);
    }
    assert_eq!(events[1], events[0]);
    for event in ["pfadd", "zadd", "geosearchstore", "georadiusstore", "del"] {
        assert!(events[0].iter().any(|e| e.contains(event)), "{event}: {:?}", events[0]);
    }
    p.same(&["PING"]);
}

/// A field of `INFO <section>` (empty if absent).
fn info(c: &mut RawClient, section: &str, field: &str) -> String {
    let all = common::text(&c.call(&["INFO", section]));
    let prefix = format!("{field}:");
    all.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_default().trim().to_string()
}

/// HLLs (cached cardinality included) and GEO sets reach a replica byte for byte.
#[test]
fn replicas_get_the_same_bytes() {
    use std::time::Duration;
    let master = Server::with_config(slotbox::Config::ephemeral()).unwrap();
    let replica = Server::with_config(slotbox::Config::ephemeral()).unwrap();
    let mut m = RawClient::connect(master.addr());
    let mut r = RawClient::connect(replica.addr());
    assert_eq!(r.call(&["REPLICAOF", "127.0.0.1", &master.addr().port().to_string()]), Frame::ok());
    let linked =
        common::wait_for(Duration::from_secs(10), || info(&mut r, "replication", "master_link_status") == "up");
    assert!(linked, "replica never linked");
    m.call(&pfadd_range("h", 0, 3000));
    m.call(&["PFADD", "s", "a", "b", "c"]);
    m.call(&["PFCOUNT", "h"]);
    m.call(&["PFCOUNT", "s"]);
    m.call(&["PFMERGE", "u", "h", "s"]);
    m.call(&["PFADD", "t", "x"]);
    m.call(&["PFDEBUG", "TODENSE", "t"]);
    m.call(&["GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]);
    m.call(&["GEOADD", "g", "CH", "XX", "13.5", "38", "Palermo"]);
    m.call(&["GEORADIUS", "g", "15", "37", "200", "km", "STOREDIST", "d1"]);
    m.call(&["GEOSEARCHSTORE", "d2", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "500", "km"]);
    m.call(&["SET", "done", "1"]);
    let caught_up = common::wait_for(Duration::from_secs(15), || {
        info(&mut r, "replication", "slave_repl_offset") == info(&mut m, "replication", "master_repl_offset")
            && r.call(&["EXISTS", "done"]) == Frame::Integer(1)
    });
    assert!(caught_up, "replica never caught up");
    for key in ["h", "s", "u", "t"] {
        assert_eq!(r.call(&["GET", key]), m.call(&["GET", key]), "{key}");
    }
    for key in ["g", "d1", "d2"] {
        let range = ["ZRANGE", key, "0", "-1", "WITHSCORES"];
        assert_eq!(r.call(&range), m.call(&range), "{key}");
    }
    // TODENSE reached the replica (a dense HLL is 12304 bytes).
    assert_eq!(r.call(&["STRLEN", "t"]), Frame::Integer(12304));
}

/// In cluster mode the keys of PFCOUNT, PFMERGE, GEOSEARCHSTORE and GEORADIUS ... STORE must
/// share a slot (their key specs say where the keys are).
#[test]
fn cluster_mode_checks_the_slots_of_every_key() {
    let cluster = slotbox::Cluster::start(3).unwrap();
    // "bar" hashes to slot 5061, on the first node; "foo" to 12182, on the third.
    let mut c = RawClient::connect(cluster.addrs()[0]);
    let crossslot = b"-CROSSSLOT Keys in request don't hash to the same slot\r\n".to_vec();
    let cases: &[&[&str]] = &[
        &["PFCOUNT", "bar", "foo"],
        &["PFMERGE", "bar", "foo"],
        &["GEOSEARCHSTORE", "bar", "foo", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
        &["GEORADIUS", "bar", "0", "0", "1", "km", "STORE", "foo"],
        &["GEORADIUSBYMEMBER", "bar", "m", "1", "km", "STOREDIST", "foo"],
    ];
    for cmd in cases {
        assert_eq!(c.call_raw(cmd), crossslot, "{cmd:?}");
    }
    assert_eq!(c.call_raw(&["PFADD", "{bar}a", "x"]), b":1\r\n".to_vec());
    assert_eq!(c.call_raw(&["PFMERGE", "{bar}m", "{bar}a", "bar"]), b"+OK\r\n".to_vec());
    assert_eq!(c.call_raw(&["PFCOUNT", "{bar}m", "bar"]), b":1\r\n".to_vec());
    assert_eq!(c.call_raw(&["GEOADD", "{bar}g", "13.361389", "38.115556", "m"]), b":1\r\n".to_vec());
    assert_eq!(c.call_raw(&["GEORADIUS", "{bar}g", "13", "38", "100", "km", "STORE", "bar"]), b":1\r\n".to_vec());
    assert!(common::text(&c.call(&["GEOPOS", "foo", "m"])).starts_with("MOVED 12182"));
}

/// Corrupt HLL strings (crafted opcode runs, and random bytes written into real HLLs) get the
/// same replies and leave the same bytes as on redis-server.
#[test]
fn corrupt_hlls_answer_as_redis() {
    let Some(mut p) = Pair::start() else { return };
    let header = b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80".to_vec();
    let xzero = |n: usize| vec![0x40 | ((n - 1) >> 8) as u8, ((n - 1) & 0xff) as u8];
    let val = |v: u8, n: u8| vec![0x80 | ((v - 1) << 2) | (n - 1)];
    let bodies: Vec<Vec<u8>> = vec![
        [xzero(16384), val(1, 1)].concat(),
        [xzero(16383), val(1, 2)].concat(),
        [xzero(16383), vec![1]].concat(),
        [val(1, 1), xzero(16384)].concat(),
        [xzero(100)].concat(),
        [xzero(16384), xzero(16384)].concat(),
        [xzero(16383), val(3, 1), vec![0x40]].concat(),
    ];
    let mut rng = StdRng::seed_from_u64(99);
    let check = |p: &mut Pair, bytes: &[u8]| {
        for cmd in
            [&["PFCOUNT", "x", "y"][..], &["PFMERGE", "m", "x"], &["PFCOUNT", "x"], &["PFADD", "x", "a", "b", "c"]]
        {
            p.same(&[&b"SET"[..], b"x", bytes]);
            p.same(&["PFADD", "y", "q"]);
            p.same(cmd);
            p.same(&["GET", "x"]);
        }
        p.same(&[&b"SET"[..], b"x", bytes]);
        p.same(&["PFDEBUG", "TODENSE", "x"]);
        p.same(&["GET", "x"]);
    };
    for body in &bodies {
        check(&mut p, &[header.clone(), body.clone()].concat());
    }
    for round in 0..200 {
        p.same(&["DEL", "h"]);
        p.same(&pfadd_range("h", round * 7, round * 7 + rng.gen_range(1..2500)));
        let mut bytes = bulk_bytes(p.s.call(&["GET", "h"]));
        for _ in 0..rng.gen_range(1..4) {
            let at = rng.gen_range(16..bytes.len());
            bytes[at] = rng.gen();
        }
        check(&mut p, &bytes);
    }
}
