//! Every path that holds the exec gate, run while other event loops run EXEC: a replica
//! applying transactions and doing full syncs, BGSAVE, BGREWRITEAOF, MIGRATE, and the AOF
//! (with its MULTI … EXEC blocks) loaded again at restart. The server is embedded in a debug
//! build, so the lock-order checks of `slotbox_server::gate` are on: a violation panics in the
//! server thread and the test sees a command that never answers (RawClient reads time out
//! after 10 s) instead of hanging. The end state must add up on every node.

mod common;

use common::{text, wait_for, RawClient, TempDir};
use slotbox::protocol::Frame;
use slotbox::{Config, Server};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WRITERS: usize = 4;

fn info(c: &mut RawClient, field: &str) -> String {
    let all = text(&c.call(&["INFO"]));
    let prefix = format!("{field}:");
    all.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_default().trim().to_string()
}

fn aof_server(dir: &std::path::Path) -> Server {
    let mut cfg = Config::ephemeral();
    cfg.dir = dir.to_path_buf();
    cfg.appendonly = true;
    cfg.io_threads = 2;
    Server::with_config(cfg).unwrap()
}

/// Transactions from several clients (spread over the event loops) until `stop`; returns the
/// number of EXECs that answered with their two replies.
fn exec_load(addr: std::net::SocketAddr, w: usize, stop: Arc<AtomicBool>, done: Arc<AtomicU64>) {
    let mut c = RawClient::connect(addr);
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        c.call(&["MULTI"]);
        c.call(&["INCR", &format!("n{w}")]);
        c.call(&["RPUSH", &format!("l{w}"), &i.to_string()]);
        match c.call(&["EXEC"]) {
            Frame::Array(r) if r.len() == 2 => {}
            other => panic!("EXEC answered {other:?}"),
        }
        i += 1;
        done.fetch_add(1, Ordering::Relaxed);
    }
}

/// Wait until a background job that `field` reports (`rdb_bgsave_in_progress`,
/// `aof_rewrite_in_progress`) has finished.
fn finished(c: &mut RawClient, field: &str) {
    assert!(wait_for(Duration::from_secs(20), || info(c, field) == "0"), "{field} never finished");
}

#[test]
fn gate_holders_run_beside_transactions_on_every_event_loop() {
    let dir = TempDir::new("lock-paths");
    let master = aof_server(dir.path());
    let replica = Server::start().unwrap();
    let target = Server::start().unwrap();
    let (maddr, raddr, taddr) = (master.addr(), replica.addr(), target.addr());
    let stop = Arc::new(AtomicBool::new(false));
    let counts: Vec<Arc<AtomicU64>> = (0..WRITERS).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (stop, done) = (stop.clone(), counts[w].clone());
            std::thread::spawn(move || exec_load(maddr, w, stop, done))
        })
        .collect();

    let mut m = RawClient::connect(maddr);
    let mut r = RawClient::connect(raddr);
    let port = maddr.port().to_string();
    let tport = taddr.port().to_string();
    let started = Instant::now();
    let mut round = 0;
    while round < 3 || started.elapsed() < Duration::from_secs(4) {
        // A full sync: a new history on the replica makes its next PSYNC a full one.
        assert_eq!(r.call(&["REPLICAOF", "NO", "ONE"]), Frame::ok());
        assert_eq!(r.call(&["REPLICAOF", "127.0.0.1", &port]), Frame::ok());
        assert!(matches!(m.call(&["BGSAVE"]), Frame::Simple(_)));
        finished(&mut m, "rdb_bgsave_in_progress");
        assert!(matches!(m.call(&["BGREWRITEAOF"]), Frame::Simple(_)));
        finished(&mut m, "aof_rewrite_in_progress");
        for i in 0..20 {
            let key = format!("m{round}:{i}");
            assert_eq!(m.call(&["SET", &key, "v"]), Frame::ok());
            assert_eq!(m.call(&["MIGRATE", "127.0.0.1", &tport, &key, "0", "5000"]), Frame::ok());
        }
        round += 1;
    }
    // A last stretch of transactions after the last rewrite, so the AOF ends with
    // MULTI … EXEC blocks that the restart below must replay.
    let before = counts.iter().map(|c| c.load(Ordering::Relaxed)).sum::<u64>();
    assert!(wait_for(Duration::from_secs(10), || {
        counts.iter().map(|c| c.load(Ordering::Relaxed)).sum::<u64>() > before + 50
    }));
    stop.store(true, Ordering::Relaxed);
    writers.into_iter().for_each(|w| w.join().unwrap());

    let execs: Vec<u64> = counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    eprintln!("{round} rounds, EXECs per writer: {execs:?}");
    let expect = |c: &mut RawClient, who: &str| {
        for (w, &n) in execs.iter().enumerate() {
            assert_eq!(c.call(&["GET", &format!("n{w}")]), Frame::Bulk(n.to_string().into()), "{who}: n{w}");
            assert_eq!(c.call(&["LLEN", &format!("l{w}")]), Frame::Integer(n as i64), "{who}: l{w}");
        }
    };
    expect(&mut m, "master");
    assert!(
        wait_for(Duration::from_secs(20), || {
            info(&mut r, "slave_repl_offset") == info(&mut m, "master_repl_offset")
                && info(&mut r, "master_link_status") == "up"
        }),
        "the replica never caught up"
    );
    expect(&mut r, "replica");
    let mut t = RawClient::connect(taddr);
    assert_eq!(t.call(&["DBSIZE"]), Frame::Integer(round as i64 * 20), "migrated keys on the target");
    assert_eq!(m.call(&["EXISTS", "m0:0"]), Frame::Integer(0));

    // The AOF (rewritten base + MULTI … EXEC tail) loads back to the same data.
    drop((m, r, t));
    drop(master);
    let reloaded = aof_server(dir.path());
    let mut c = RawClient::connect(reloaded.addr());
    expect(&mut c, "reloaded from the AOF");
}
