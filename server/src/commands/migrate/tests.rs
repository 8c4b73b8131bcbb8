//! Tests of DUMP / RESTORE / MIGRATE through `commands::execute`, with the replies
//! redis-server 7.0.15 gives. MIGRATE's network side is exercised against a scripted fake
//! target here and between two real slotbox servers in `tests/migrate.rs`.

use super::conn;
use crate::commands::keys::testkit::{bulk, err, int, nil, ok, Harness};
use slotbox_protocol::Frame;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;

fn dump(h: &mut Harness, key: &str) -> Vec<u8> {
    match h.call(&["DUMP", key]) {
        Frame::Bulk(b) => b.to_vec(),
        other => panic!("DUMP {key}: {other:?}"),
    }
}

fn restore(h: &mut Harness, key: &str, ttl: &str, payload: &[u8], opts: &[&str]) -> Frame {
    let mut argv: Vec<&[u8]> = vec![b"RESTORE", key.as_bytes(), ttl.as_bytes(), payload];
    argv.extend(opts.iter().map(|o| o.as_bytes()));
    h.call_raw(&argv)
}

#[test]
fn dump_restore_round_trips_every_type() {
    let mut h = Harness::new();
    h.call(&["SET", "s", "hello"]);
    h.call(&["SET", "n", "-42"]);
    h.call(&["HSET", "h", "f1", "v1", "f2", "v2"]);
    h.call(&["RPUSH", "l", "a", "b", "c"]);
    h.call(&["SADD", "si", "1", "2", "3"]);
    h.call(&["SADD", "ss", "a", "b"]);
    h.call(&["ZADD", "z", "1.5", "a", "-2", "b"]);
    for key in ["s", "n", "h", "l", "si", "ss", "z"] {
        let payload = dump(&mut h, key);
        let copy = format!("{key}-copy");
        assert_eq!(restore(&mut h, &copy, "0", &payload, &[]), ok());
        assert_eq!(h.entry(key).unwrap().value, h.entry(&copy).unwrap().value, "{key}");
        let enc = h.call(&["OBJECT", "ENCODING", key]);
        assert_eq!(h.call(&["OBJECT", "ENCODING", &copy]), enc, "{key}");
    }
    assert_eq!(h.call(&["LRANGE", "l-copy", "0", "-1"]), Frame::Array(vec![bulk("a"), bulk("b"), bulk("c")]));
    assert_eq!(h.call(&["ZSCORE", "z-copy", "a"]), Frame::Double(1.5));
    assert_eq!(h.call(&["DUMP", "nope"]), nil());
}

#[test]
fn big_encodings_survive() {
    let mut h = Harness::new();
    for i in 0..600 {
        let (f, v) = (format!("f{i}"), format!("{i}"));
        h.call(&["HSET", "h", &f, &v]);
        h.call(&["SADD", "s", &v]);
        h.call(&["ZADD", "z", &v, &f]);
    }
    h.call(&["SADD", "s", "x"]);
    for (key, enc) in [("h", "hashtable"), ("s", "hashtable"), ("z", "skiplist")] {
        let payload = dump(&mut h, key);
        assert_eq!(restore(&mut h, "copy", "0", &payload, &["REPLACE"]), ok());
        assert_eq!(h.call(&["OBJECT", "ENCODING", "copy"]), Frame::bulk_static(enc), "{key}");
        assert_eq!(h.entry(key).unwrap().value, h.entry("copy").unwrap().value, "{key}");
    }
}

#[test]
fn restore_errors_in_redis_order() {
    let mut h = Harness::new();
    h.call(&["SET", "k", "v"]);
    let p = dump(&mut h, "k");
    let busy = err("BUSYKEY Target key name already exists.");
    assert_eq!(restore(&mut h, "x", "0", b"garbage", &[]), err("ERR DUMP payload version or checksum are wrong"));
    assert_eq!(restore(&mut h, "k", "0", b"garbage", &[]), busy);
    assert_eq!(restore(&mut h, "k", "-1", &p, &[]), busy);
    assert_eq!(restore(&mut h, "k", "-1", &p, &["REPLACE"]), err("ERR Invalid TTL value, must be >= 0"));
    assert_eq!(restore(&mut h, "k", "abc", &p, &["REPLACE"]), err("ERR value is not an integer or out of range"));
    assert_eq!(restore(&mut h, "x", "0", &p, &["IDLETIME", "-1"]), err("ERR Invalid IDLETIME value, must be >= 0"));
    assert_eq!(restore(&mut h, "x", "0", &p, &["IDLETIME", "x"]), err("ERR value is not an integer or out of range"));
    assert_eq!(restore(&mut h, "x", "0", &p, &["FREQ", "256"]), err("ERR Invalid FREQ value, must be >= 0 and <= 255"));
    for opts in [&["FREQ", "1", "IDLETIME", "1"][..], &["IDLETIME", "1", "FREQ", "1"], &["IDLETIME"], &["bogus"]] {
        assert_eq!(restore(&mut h, "x", "0", &p, opts), err("ERR syntax error"), "{opts:?}");
    }
    assert_eq!(h.call(&["EXISTS", "x"]), int(0));
    let mut bad = p.clone();
    bad[1] ^= 1;
    assert_eq!(restore(&mut h, "x", "0", &bad, &[]), err("ERR DUMP payload version or checksum are wrong"));
    assert_eq!(restore(&mut h, "x", "0", &p, &["replace", "absttl", "idletime", "5"]), ok());
    assert_eq!(restore(&mut h, "y", "0", &p, &["FREQ", "255"]), ok());
    assert_eq!(h.call(&["GET", "y"]), bulk("v"));
}

#[test]
fn restore_ttl_forms() {
    let mut h = Harness::new();
    h.call(&["SET", "k", "v"]);
    let p = dump(&mut h, "k");
    let now = crate::clock::unix_time_ms();
    assert_eq!(restore(&mut h, "rel", "100000", &p, &[]), ok());
    let at = h.entry("rel").unwrap().expire_at;
    assert!(at >= now + 100_000 && at < now + 200_000, "{at}");
    let abs = (now + 500_000).to_string();
    assert_eq!(restore(&mut h, "abs", &abs, &p, &["ABSTTL"]), ok());
    assert_eq!(h.entry("abs").unwrap().expire_at, now + 500_000);
    // An absolute TTL in the past: OK, but no key; with REPLACE the old key is gone too.
    assert_eq!(restore(&mut h, "past", "1000", &p, &["ABSTTL"]), ok());
    assert_eq!(h.call(&["EXISTS", "past"]), int(0));
    assert_eq!(restore(&mut h, "k", "1000", &p, &["ABSTTL", "REPLACE"]), ok());
    assert_eq!(h.call(&["EXISTS", "k"]), int(0));
    assert_eq!(restore(&mut h, "k", "0", &p, &["ABSTTL"]), ok());
    assert_eq!(h.entry("k").unwrap().expire_at, 0);
    // An expired key does not count as existing.
    h.force_expire("k", 1);
    assert_eq!(restore(&mut h, "k", "0", &p, &[]), ok());
    assert_eq!(h.call(&["RESTORE-ASKING", "k", "0", "x"]), err("BUSYKEY Target key name already exists."));
}

#[test]
fn migrate_argument_errors_and_nokey() {
    let mut h = Harness::new();
    h.call(&["SET", "s", "1"]);
    let syntax = err("ERR syntax error");
    assert_eq!(h.call(&["MIGRATE", "127.0.0.1", "1", "s", "0", "10", "AUTH"]), syntax);
    assert_eq!(h.call(&["MIGRATE", "127.0.0.1", "1", "s", "0", "10", "AUTH2", "u"]), syntax);
    assert_eq!(h.call(&["MIGRATE", "127.0.0.1", "1", "s", "0", "10", "bogus"]), syntax);
    assert_eq!(
        h.call(&["MIGRATE", "127.0.0.1", "1", "s", "0", "10", "KEYS", "a"]),
        err("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string")
    );
    assert_eq!(
        h.call(&["MIGRATE", "127.0.0.1", "1", "s", "x", "10"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(h.call(&["MIGRATE", "127.0.0.1", "1", "nope", "0", "10"]), Frame::simple_static("NOKEY"));
    assert_eq!(h.call(&["MIGRATE", "127.0.0.1", "1", "", "0", "10", "KEYS"]), Frame::simple_static("NOKEY"));
    assert_eq!(h.call(&["MIGRATE", "127.0.0.1", "1", "", "0", "10", "KEYS", "a", "b"]), Frame::simple_static("NOKEY"));
}

/// A port nothing listens on.
fn closed_port() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port().to_string()
}

#[test]
fn migrate_connection_failures_keep_the_key() {
    let mut h = Harness::new();
    h.call(&["SET", "s", "1"]);
    let port = closed_port();
    // Redis 7.0 reports a refused connection as a failed write.
    assert_eq!(
        h.call(&["MIGRATE", "127.0.0.1", &port, "s", "0", "100"]),
        err("IOERR error or timeout writing to target instance")
    );
    assert_eq!(
        h.call(&["MIGRATE", "no-such-host.invalid", "6379", "s", "0", "100"]),
        err("IOERR error or timeout connecting to the client")
    );
    assert_eq!(
        h.call(&["MIGRATE", "127.0.0.1", "notaport", "s", "0", "100"]),
        err("IOERR error or timeout connecting to the client")
    );
    assert_eq!(h.call(&["GET", "s"]), bulk("1"));
}

/// A fake target: accepts one connection, answers `reply` after the first bytes arrive (then
/// closes if `hang_up`), and returns everything it received once the client disconnects.
fn fake_target(reply: &'static [u8], hang_up: bool) -> (String, JoinHandle<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    let t = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 65536];
        let mut replied = false;
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            if !replied {
                replied = true;
                s.write_all(reply).unwrap();
                if hang_up {
                    break;
                }
            }
        }
        got
    });
    (port, t)
}

#[test]
fn migrate_pipelines_auth_select_and_restore_asking() {
    let mut h = Harness::new();
    h.shared.config.write().cluster_enabled = true;
    h.call(&["SET", "{t}a", "1"]);
    h.call(&["SET", "{t}b", "2"]);
    let (port, t) = fake_target(b"+OK\r\n+OK\r\n+OK\r\n-BUSYKEY Target key name already exists.\r\n", false);
    let reply = h.call(&[
        "MIGRATE",
        "127.0.0.1",
        &port,
        "",
        "3",
        // The fake target is a thread that must be scheduled to answer: a timeout a loaded
        // machine cannot miss (it is not what this test is about).
        "5000",
        "AUTH2",
        "u",
        "pw",
        "REPLACE",
        "KEYS",
        "{t}a",
        "{t}b",
        "{t}c",
    ]);
    conn::close_all();
    let sent = t.join().unwrap();
    assert_eq!(reply, err("ERR Target instance replied with error: BUSYKEY Target key name already exists."));
    // The key the target accepted moved; the refused one stayed.
    assert_eq!(h.call(&["EXISTS", "{t}a"]), int(0));
    assert_eq!(h.call(&["GET", "{t}b"]), bulk("2"));
    let sent = String::from_utf8_lossy(&sent);
    assert!(sent.starts_with("*3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$2\r\npw\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"), "{sent}");
    assert_eq!(sent.matches("RESTORE-ASKING").count(), 2, "{sent}");
    assert_eq!(sent.matches("REPLACE").count(), 2, "{sent}");
}

#[test]
fn migrate_relays_auth_error_and_keeps_keys() {
    let mut h = Harness::new();
    h.call(&["SET", "k", "1"]);
    let (port, t) = fake_target(b"-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n", false);
    // A timeout the fake target's thread cannot miss on a loaded machine.
    let reply = h.call(&["MIGRATE", "127.0.0.1", &port, "k", "0", "5000", "AUTH", "bad", "COPY"]);
    conn::close_all();
    let sent = String::from_utf8_lossy(&t.join().unwrap()).into_owned();
    assert_eq!(
        reply,
        err("ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(h.call(&["GET", "k"]), bulk("1"));
    assert!(!sent.contains("SELECT") && sent.contains("$7\r\nRESTORE\r\n"), "{sent}");
}

#[test]
fn migrate_reading_error_when_target_hangs_up() {
    let mut h = Harness::new();
    h.call(&["SET", "k", "1"]);
    // The first attempt's connection is closed before any reply; the retry finds no listener.
    let (port, t) = fake_target(b"", true);
    let reply = h.call(&["MIGRATE", "127.0.0.1", &port, "k", "0", "1000"]);
    t.join().unwrap();
    assert!(
        reply == err("IOERR error or timeout reading to target instance")
            || reply == err("IOERR error or timeout writing to target instance"),
        "{reply:?}"
    );
    assert_eq!(h.call(&["GET", "k"]), bulk("1"));
}
