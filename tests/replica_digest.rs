//! DEBUG DIGEST as the replication check it exists for: a master and its replica report the
//! same dataset digest (and the same per-key DEBUG DIGEST-VALUE) once the replica has applied
//! the stream: data sent by the full sync, live writes of every type, a transaction, commands
//! with random effects (propagated as their effects), deletes, renames and expiries.

mod common;

use common::{text, wait_for, RawClient};
use slotbox::protocol::Frame;
use std::time::Duration;

const ZEROS: &str = "0000000000000000000000000000000000000000";

fn digest(c: &mut RawClient) -> String {
    text(&c.call(&["DEBUG", "DIGEST"]))
}

fn ok(f: Frame) {
    assert!(!f.is_error(), "{f:?}");
}

/// Keys of every type under `prefix`, some with a TTL.
fn write_every_type(c: &mut RawClient, prefix: &str) {
    let k = |name: &str| format!("{prefix}:{name}");
    let fields: Vec<String> = (0..150).flat_map(|i| [format!("f{i}"), format!("{}", i * 3)]).collect();
    let mut hset = vec!["HSET".to_string(), k("bighash")];
    hset.extend(fields);
    ok(c.call(&hset));
    ok(c.call(&["HSET", &k("hash"), "a", "1", "b", "2"]));
    ok(c.call(&["HINCRBYFLOAT", &k("hash"), "a", "0.1"]));
    let mut zadd = vec!["ZADD".to_string(), k("bigzset")];
    zadd.extend((0..150).flat_map(|i| [format!("{}", f64::from(i) / 3.0), format!("m{i}")]));
    ok(c.call(&zadd));
    ok(c.call(&["ZADD", &k("zset"), "1.5", "a", "-inf", "b", "-0", "c"]));
    ok(c.call(&["ZINCRBY", &k("zset"), "0.1", "a"]));
    let mut sadd = vec!["SADD".to_string(), k("bigset")];
    sadd.extend((0..600).map(|i| i.to_string()));
    ok(c.call(&sadd));
    ok(c.call(&["SADD", &k("set"), "x", "y", "z", "1"]));
    let mut rpush = vec!["RPUSH".to_string(), k("list")];
    rpush.extend((0..2000).map(|i| format!("item-{i}")));
    ok(c.call(&rpush));
    ok(c.call(&["LMOVE", &k("list"), &k("list"), "LEFT", "RIGHT"]));
    ok(c.call(&["SET", &k("str"), &"v".repeat(10_000)]));
    ok(c.call(&["SET", &k("int"), "41"]));
    ok(c.call(&["INCR", &k("int")]));
    ok(c.call(&["INCRBYFLOAT", &k("float"), "2.5"]));
    ok(c.call(&["APPEND", &k("str"), "tail"]));
    ok(c.call(&["SET", &k("ttl"), "v", "EX", "10000"]));
    ok(c.call(&["EXPIRE", &k("bighash"), "20000"]));
    ok(c.call(&["SET", &k("renamed-from"), "r"]));
    ok(c.call(&["RENAME", &k("renamed-from"), &k("renamed-to")]));
    ok(c.call(&["SET", &k("deleted"), "d"]));
    ok(c.call(&["DEL", &k("deleted")]));
}

#[test]
fn master_and_replica_report_the_same_digest() {
    let master = slotbox::Server::start().expect("master");
    let replica = slotbox::Server::start().expect("replica");
    let mut m = RawClient::connect(master.addr());
    let mut r = RawClient::connect(replica.addr());
    write_every_type(&mut m, "before-sync");
    let port = master.addr().port().to_string();
    assert_eq!(r.call(&["REPLICAOF", "127.0.0.1", &port]), Frame::ok());
    assert!(
        wait_for(Duration::from_secs(10), || text(&r.call(&["INFO", "replication"])).contains("master_link_status:up"))
    );

    write_every_type(&mut m, "live");
    // Random effects reach the replica as what they did (SPOP as SREM, ...).
    ok(m.call(&["SPOP", "live:set"]));
    ok(m.call(&["SPOP", "live:bigset", "7"]));
    // A transaction reaches the replica whole.
    for args in [&["MULTI"][..], &["INCR", "live:int"], &["HSET", "live:hash", "tx", "1"], &["LPOP", "live:list"]] {
        ok(m.call(args));
    }
    assert!(matches!(m.call(&["EXEC"]), Frame::Array(ref replies) if replies.len() == 3));
    // A key that expires: the master reclaims it and sends a DEL.
    ok(m.call(&["SET", "short", "gone soon", "PX", "50"]));
    assert_eq!(m.call(&["WAIT", "1", "5000"]), Frame::Integer(1));

    let same = || {
        let mut m = RawClient::connect(master.addr());
        let mut r = RawClient::connect(replica.addr());
        move || {
            let (md, rd) = (digest(&mut m), digest(&mut r));
            md == rd && m.call(&["EXISTS", "short"]) == Frame::Integer(0)
        }
    };
    assert!(
        wait_for(Duration::from_secs(15), same()),
        "digests differ: master {} replica {}",
        digest(&mut m),
        digest(&mut r)
    );
    let d = digest(&mut m);
    assert_eq!(d.len(), 40);
    assert_ne!(d, ZEROS);
    let keys = ["DEBUG", "DIGEST-VALUE", "before-sync:bigzset", "live:list", "live:bigset", "live:hash", "nokey"];
    let (mv, rv) = (m.call(&keys), r.call(&keys));
    assert_eq!(mv, rv);
    let Frame::Array(values) = mv else { panic!("{mv:?}") };
    assert_eq!(values.len(), 5);
    assert_eq!(text(&values[4]), ZEROS);

    // More writes after the check, and the digests meet again.
    ok(m.call(&["LPOP", "live:list", "10"]));
    ok(m.call(&["ZREM", "before-sync:bigzset", "m3"]));
    ok(m.call(&["PERSIST", "live:bighash"]));
    assert_eq!(m.call(&["WAIT", "1", "5000"]), Frame::Integer(1));
    assert!(wait_for(Duration::from_secs(10), same()));
    assert_ne!(digest(&mut m), d);
}
