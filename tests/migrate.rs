//! MIGRATE between two embedded slotbox servers over real sockets: every type and encoding,
//! single keys and KEYS batches, TTLs, COPY and REPLACE, target errors relayed, AUTH and
//! SELECT. (MIGRATE to a real redis-server cannot work: the DUMP formats differ.)

mod common;

use common::{bulk, error, simple, RawClient};
use slotbox::protocol::Frame;
use slotbox::{Config, Server};

fn client(server: &Server) -> RawClient {
    RawClient::connect(server.addr())
}

fn port(server: &Server) -> String {
    server.addr().port().to_string()
}

/// Fill `c` with one key of every type and encoding; returns the key names.
fn fill(c: &mut RawClient) -> Vec<String> {
    c.call(&["SET", "str", "hello world"]);
    c.call(&["SET", "int", "12345"]);
    c.call(&["HSET", "hash", "a", "1", "b", "2"]);
    c.call(&["RPUSH", "list", "x", "y", "z", "x"]);
    c.call(&["SADD", "intset", "1", "2", "3"]);
    c.call(&["SADD", "set", "a", "b", "c"]);
    c.call(&["ZADD", "zset", "1.5", "a", "-2", "b", "inf", "c"]);
    for i in 0..300 {
        let (f, v) = (format!("f{i}"), format!("{i}"));
        c.call(&["HSET", "bighash", &f, &v]);
        c.call(&["SADD", "bigset", &v]);
        c.call(&["ZADD", "bigzset", &v, &f]);
        c.call(&["RPUSH", "biglist", &f]);
    }
    c.call(&["SET", "volatile", "v", "PX", "500000"]);
    ["str", "int", "hash", "list", "intset", "set", "zset", "bighash", "bigset", "bigzset", "biglist", "volatile"]
        .map(String::from)
        .to_vec()
}

/// Sorted bulk strings of an array reply.
fn sorted(f: Frame) -> Vec<Vec<u8>> {
    let Frame::Array(items) = f else { panic!("not an array: {f:?}") };
    let mut v: Vec<Vec<u8>> = items.iter().map(|i| i.as_bytes().expect("bulk").to_vec()).collect();
    v.sort();
    v
}

/// Everything a user can see of a key except its TTL: type, encoding, contents.
fn snapshot(c: &mut RawClient, key: &str) -> (Frame, Frame, Vec<Vec<u8>>) {
    let ty = c.call(&["TYPE", key]);
    let enc = c.call(&["OBJECT", "ENCODING", key]);
    let contents = match ty.as_bytes().unwrap_or_default() {
        b"string" => vec![c.call(&["GET", key]).as_bytes().expect("value").to_vec()],
        b"hash" => sorted(c.call(&["HGETALL", key])),
        b"list" => sorted(c.call(&["LRANGE", key, "0", "-1"])),
        b"set" => sorted(c.call(&["SMEMBERS", key])),
        b"zset" => sorted(c.call(&["ZRANGE", key, "0", "-1", "WITHSCORES"])),
        _ => Vec::new(),
    };
    (ty, enc, contents)
}

fn exists(c: &mut RawClient, key: &str) -> bool {
    c.call(&["EXISTS", key]) == Frame::Integer(1)
}

#[test]
fn migrate_every_type_single_and_batch() {
    let (a, b) = (Server::start().unwrap(), Server::start().unwrap());
    let (mut ca, mut cb) = (client(&a), client(&b));
    let keys = fill(&mut ca);
    let before: Vec<_> = keys.iter().map(|k| snapshot(&mut ca, k)).collect();
    let pttl_before = ca.call(&["PTTL", "volatile"]).as_integer().unwrap();

    // Two single keys, then the rest as one KEYS batch (plus a missing key, skipped).
    for k in ["str", "volatile"] {
        assert_eq!(ca.call(&["MIGRATE", "127.0.0.1", &port(&b), k, "0", "5000"]), simple("OK"));
    }
    let p = port(&b);
    let mut batch = vec!["MIGRATE", "127.0.0.1", &p, "", "0", "5000", "KEYS", "missing"];
    batch.extend(keys.iter().filter(|k| *k != "str" && *k != "volatile").map(|k| k.as_str()));
    assert_eq!(ca.call(&batch), simple("OK"));

    for (k, snap) in keys.iter().zip(&before) {
        assert!(!exists(&mut ca, k), "{k} still on the source");
        assert_eq!(&snapshot(&mut cb, k), snap, "{k}");
    }
    assert!(!exists(&mut cb, "missing"));
    let pttl = cb.call(&["PTTL", "volatile"]).as_integer().unwrap();
    assert!(pttl > 0 && pttl <= pttl_before, "{pttl} vs {pttl_before}");
    assert_eq!(cb.call(&["TTL", "bighash"]), Frame::Integer(-1));

    // Nothing left to move.
    let reply = ca.call(&["MIGRATE", "127.0.0.1", &port(&b), "str", "0", "5000"]);
    assert_eq!(reply, simple("NOKEY"));
}

#[test]
fn migrate_copy_and_replace() {
    let (a, b) = (Server::start().unwrap(), Server::start().unwrap());
    let (mut ca, mut cb) = (client(&a), client(&b));
    let p = port(&b);
    ca.call(&["SET", "k", "source"]);
    ca.call(&["RPUSH", "l", "1", "2"]);
    cb.call(&["SET", "k", "target"]);

    // The target already has k: its BUSYKEY error is relayed and the source keeps its key;
    // l in the same batch was accepted, so it moved.
    let reply = ca.call(&["MIGRATE", "127.0.0.1", &p, "", "0", "5000", "KEYS", "l", "k"]);
    let busy = "ERR Target instance replied with error: BUSYKEY Target key name already exists.";
    assert_eq!(reply, error(busy));
    assert_eq!(ca.call(&["GET", "k"]), bulk("source"));
    assert_eq!(cb.call(&["GET", "k"]), bulk("target"));
    assert!(!exists(&mut ca, "l") && exists(&mut cb, "l"));

    // COPY: the target gets it, the source keeps it.
    let reply = ca.call(&["MIGRATE", "127.0.0.1", &p, "k", "0", "5000", "COPY", "REPLACE"]);
    assert_eq!(reply, simple("OK"));
    assert_eq!(ca.call(&["GET", "k"]), bulk("source"));
    assert_eq!(cb.call(&["GET", "k"]), bulk("source"));

    // REPLACE without COPY: overwritten there, gone here.
    ca.call(&["SET", "k", "newer"]);
    let reply = ca.call(&["MIGRATE", "127.0.0.1", &p, "k", "0", "5000", "REPLACE"]);
    assert_eq!(reply, simple("OK"));
    assert!(!exists(&mut ca, "k"));
    assert_eq!(cb.call(&["GET", "k"]), bulk("newer"));

    // COPY without REPLACE onto an existing key: relayed error, both unchanged.
    ca.call(&["SET", "k", "again"]);
    let reply = ca.call(&["MIGRATE", "127.0.0.1", &p, "k", "0", "5000", "COPY"]);
    assert_eq!(reply, error(busy));
    assert_eq!(cb.call(&["GET", "k"]), bulk("newer"));
}

#[test]
fn migrate_auth_select_and_connection_errors() {
    let a = Server::start().unwrap();
    let mut config = Config::ephemeral();
    config.requirepass = Some(b"secret".to_vec());
    let b = Server::with_config(config).unwrap();
    let mut ca = client(&a);
    let p = port(&b);
    ca.call(&["SET", "k", "v"]);

    let reply = ca.call(&["MIGRATE", "127.0.0.1", &p, "k", "0", "5000"]);
    assert_eq!(reply, error("ERR Target instance replied with error: NOAUTH Authentication required."));
    let reply = ca.call(&["MIGRATE", "127.0.0.1", &p, "k", "0", "5000", "AUTH", "wrong"]);
    let text = String::from_utf8_lossy(reply.error_text().expect("error")).into_owned();
    assert!(text.starts_with("ERR Target instance replied with error: WRONGPASS"), "{text}");
    // A database the target does not have: the SELECT error is relayed and the source keeps the
    // key (the pipelined RESTORE behind it still ran in the target's current db, as with Redis).
    let reply = ca.call(&["MIGRATE", "127.0.0.1", &p, "k", "16", "5000", "AUTH", "secret"]);
    assert_eq!(reply, error("ERR Target instance replied with error: ERR DB index is out of range"));
    assert!(exists(&mut ca, "k"));
    // Into database 1 of the target: the key leaves the source, and is there.
    ca.call(&["SET", "k1", "v1"]);
    let reply = ca.call(&["MIGRATE", "127.0.0.1", &p, "k1", "1", "5000", "AUTH", "secret"]);
    assert_eq!(reply, simple("OK"));
    assert!(!exists(&mut ca, "k1"));
    let mut in_b = client(&b);
    in_b.call(&["AUTH", "secret"]);
    in_b.call(&["SELECT", "1"]);
    assert_eq!(in_b.call(&["GET", "k1"]), Frame::bulk_static("v1"));

    let reply = ca.call(&["MIGRATE", "127.0.0.1", &p, "k", "0", "5000", "REPLACE", "AUTH2", "default", "secret"]);
    assert_eq!(reply, simple("OK"));
    let mut cb = client(&b);
    assert_eq!(cb.call(&["AUTH", "secret"]), simple("OK"));
    assert_eq!(cb.call(&["GET", "k"]), bulk("v"));
    assert!(!exists(&mut ca, "k"));

    // Target gone: the cached connection is dead, the retry is refused.
    ca.call(&["SET", "k", "v"]);
    drop(cb);
    drop(b);
    let reply = ca.call(&["MIGRATE", "127.0.0.1", &p, "k", "0", "1000", "AUTH", "secret"]);
    assert!(reply.is_error(), "{reply:?}");
    assert!(exists(&mut ca, "k"));
}
