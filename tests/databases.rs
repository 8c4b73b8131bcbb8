//! Numbered databases as apps use them (`redis://host:6379/1`): SELECT, MOVE, SWAPDB, COPY ...
//! DB, FLUSHDB and INFO keyspace answer as real Redis 7.0 does (compared reply for reply);
//! each database keeps its keys through a restart (snapshot and AOF) and on a replica (also
//! across a lost link); blocking pops and WATCH are per database.

mod common;

use common::relay::Relay;
use common::{show, text, wait_for, RawClient, ServerProcess, TempDir};
use slotbox::protocol::Frame;
use slotbox::{Config, Server};
use std::time::Duration;

/// The same commands against real Redis and slotbox: identical raw replies.
#[test]
fn database_commands_answer_as_redis() {
    if !common::on_path("redis-server") {
        eprintln!("redis-server not on PATH: skipped");
        return;
    }
    let redis = ServerProcess::redis();
    let slotbox = Server::start().unwrap();
    let mut r = RawClient::connect(redis.addr());
    let mut s = RawClient::connect(slotbox.addr());
    let script: &[&[&str]] = &[
        &["SET", "a", "0"],
        &["SELECT", "1"],
        &["SET", "a", "1"],
        &["SET", "b", "1"],
        &["EXPIRE", "b", "100"],
        &["DBSIZE"],
        &["SELECT", "0"],
        &["GET", "a"],
        &["MOVE", "a", "2"],
        &["MOVE", "a", "2"],
        &["MOVE", "nosuch", "2"],
        &["MOVE", "a", "0"],
        &["MOVE", "a", "16"],
        &["MOVE", "a", "x"],
        &["SET", "c", "c0"],
        &["COPY", "c", "c", "DB", "3"],
        &["COPY", "c", "c", "DB", "3"],
        &["COPY", "c", "c", "DB", "3", "REPLACE"],
        &["COPY", "c", "c"],
        &["COPY", "c", "d", "DB", "99"],
        &["SWAPDB", "0", "1"],
        &["GET", "a"],
        &["TTL", "b"],
        &["SWAPDB", "0", "x"],
        &["SWAPDB", "y", "0"],
        &["SWAPDB", "0", "16"],
        &["SWAPDB", "1", "1"],
        &["SELECT", "2"],
        &["GET", "a"],
        &["FLUSHDB"],
        &["DBSIZE"],
        &["SELECT", "16"],
        &["SELECT", "-1"],
        &["SELECT", "x"],
        &["SELECT", "3"],
        &["GET", "c"],
        &["MULTI"],
        &["SET", "t", "3"],
        &["SELECT", "4"],
        &["SET", "t", "4"],
        &["EXEC"],
        &["GET", "t"],
        &["SELECT", "3"],
        &["GET", "t"],
    ];
    for cmd in script {
        let (want, got) = (r.call_raw(cmd), s.call_raw(cmd));
        assert_eq!(show(&got), show(&want), "{cmd:?}");
    }
    let keyspace = |c: &mut RawClient| -> Vec<String> {
        let t = text(&c.call(&["INFO", "keyspace"]));
        t.lines().filter(|l| l.starts_with("db")).map(|l| l.split(",avg_ttl").next().unwrap_or(l).to_string()).collect()
    };
    assert_eq!(keyspace(&mut s), keyspace(&mut r));
    assert_eq!(s.call(&["FLUSHALL"]), Frame::ok());
    assert_eq!(keyspace(&mut s), Vec::<String>::new());
    let me = text(&s.call(&["CLIENT", "INFO"]));
    assert!(me.contains(" db=3 "), "{me}");
}

fn fill(c: &mut RawClient) {
    for db in 0..4 {
        c.call(&["SELECT", &db.to_string()]);
        c.call(&["SET", "k", &format!("in{db}")]);
        c.call(&["RPUSH", &format!("l{db}"), "x", "y"]);
    }
    c.call(&["SELECT", "0"]);
}

fn check(c: &mut RawClient, who: &str) {
    for db in 0..4 {
        assert_eq!(c.call(&["SELECT", &db.to_string()]), Frame::ok());
        assert_eq!(c.call(&["GET", "k"]), Frame::Bulk(format!("in{db}").into()), "{who}: db {db}");
        assert_eq!(c.call(&["LLEN", &format!("l{db}")]), Frame::Integer(2), "{who}: db {db}");
        assert_eq!(c.call(&["DBSIZE"]), Frame::Integer(2), "{who}: db {db}");
    }
}

#[test]
fn each_database_keeps_its_keys_through_a_restart() {
    for appendonly in [false, true] {
        let dir = TempDir::new("dbs-restart");
        let mut cfg = Config::ephemeral();
        cfg.dir = dir.path().to_path_buf();
        cfg.appendonly = appendonly;
        {
            let server = Server::with_config(cfg.clone()).unwrap();
            let mut c = RawClient::connect(server.addr());
            fill(&mut c);
            if !appendonly {
                assert_eq!(c.call(&["SAVE"]), Frame::ok());
            } else {
                // A rewrite in the middle: its tail starts in database 0 whatever the stream's.
                c.call(&["SELECT", "9"]);
                assert!(matches!(c.call(&["BGREWRITEAOF"]), Frame::Simple(_)));
                assert!(wait_for(Duration::from_secs(10), || text(&c.call(&["INFO", "persistence"]))
                    .contains("aof_rewrite_in_progress:0")));
                c.call(&["SET", "after", "9"]);
                c.call(&["SELECT", "0"]);
            }
        }
        let server = Server::with_config(cfg).unwrap();
        let mut c = RawClient::connect(server.addr());
        check(&mut c, if appendonly { "AOF" } else { "snapshot" });
        if appendonly {
            c.call(&["SELECT", "9"]);
            assert_eq!(c.call(&["GET", "after"]), Frame::bulk_static("9"));
        }
    }
}

fn info(c: &mut RawClient, field: &str) -> String {
    let t = text(&c.call(&["INFO", "replication"]));
    t.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).unwrap_or_default().trim().to_string()
}

#[test]
fn a_replica_applies_each_write_in_its_database_across_a_lost_link() {
    let master = Server::start().unwrap();
    let replica = Server::start().unwrap();
    let relay = Relay::start(master.addr());
    let mut m = RawClient::connect(master.addr());
    let mut r = RawClient::connect(replica.addr());
    fill(&mut m);
    let port = relay.addr().port().to_string();
    assert_eq!(r.call(&["REPLICAOF", "127.0.0.1", &port]), Frame::ok());
    assert!(wait_for(Duration::from_secs(10), || info(&mut r, "master_link_status") == "up"));
    // Writes in several databases, a transaction that switches database, MOVE and SWAPDB.
    m.call(&["SELECT", "5"]);
    m.call(&["SET", "five", "5"]);
    m.call(&["MULTI"]);
    m.call(&["SET", "tx", "5"]);
    m.call(&["SELECT", "6"]);
    m.call(&["SET", "tx", "6"]);
    m.call(&["EXEC"]);
    m.call(&["MOVE", "tx", "7"]);
    m.call(&["SWAPDB", "7", "8"]);
    // The link is lost while the stream is in database 6; the replica resumes partially and
    // must apply the next write (no SELECT before it) in database 6 too.
    let want = |c: &mut RawClient| c.call(&["DEBUG", "DIGEST"]);
    assert!(wait_for(Duration::from_secs(10), || want(&mut r) == want(&mut m)));
    relay.cut();
    m.call(&["SET", "after-cut", "6"]);
    assert!(wait_for(Duration::from_secs(10), || want(&mut r) == want(&mut m)), "replica diverged");
    r.call(&["SELECT", "6"]);
    assert_eq!(r.call(&["GET", "after-cut"]), Frame::bulk_static("6"));
    r.call(&["SELECT", "8"]);
    assert_eq!(r.call(&["GET", "tx"]), Frame::bulk_static("6"));
    check(&mut r, "replica");
}

#[test]
fn blocking_pops_and_watch_are_per_database() {
    let server = Server::start().unwrap();
    let mut waiter = RawClient::connect(server.addr());
    let mut other = RawClient::connect(server.addr());
    waiter.call(&["SELECT", "1"]);
    waiter.send_raw(&common::encode_command(&["BLPOP", "q", "60"]));
    assert!(wait_for(Duration::from_secs(10), || text(&other.call(&["INFO", "clients"])).contains("blocked_clients:1")));
    other.call(&["RPUSH", "q", "in-db0"]);
    other.call(&["SELECT", "2"]);
    other.call(&["RPUSH", "q", "in-db2"]);
    // SWAPDB brings database 2's list into database 1, where the client waits.
    assert_eq!(other.call(&["SWAPDB", "1", "2"]), Frame::ok());
    assert_eq!(waiter.read_reply().0, Frame::Array(vec![Frame::bulk_static("q"), Frame::bulk_static("in-db2")]));

    // WATCH in database 1: a write to the same key in database 0 does not abort EXEC.
    waiter.call(&["WATCH", "w"]);
    other.call(&["SELECT", "0"]);
    other.call(&["SET", "w", "0"]);
    waiter.call(&["MULTI"]);
    waiter.call(&["SET", "w", "1"]);
    assert_eq!(waiter.call(&["EXEC"]), Frame::Array(vec![Frame::ok()]));
    waiter.call(&["WATCH", "w"]);
    other.call(&["SELECT", "1"]);
    other.call(&["SET", "w", "x"]);
    waiter.call(&["MULTI"]);
    waiter.call(&["SET", "w", "2"]);
    assert_eq!(waiter.call(&["EXEC"]), Frame::NullArray);
}
