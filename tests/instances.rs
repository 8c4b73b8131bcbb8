//! Several servers in one process (the embedded API) keep their own state: access-clock
//! settings (`maxmemory-policy`, `lfu-log-factor`) and their own append-only file, each synced
//! by its own syncer, with nothing bound to the first server that started.

mod common;

use common::{RawClient, TempDir};
use slotbox::protocol::Frame;
use slotbox::{Config, Server};

fn server(dir: &TempDir, log_factor: u32) -> Server {
    let mut cfg = Config::ephemeral();
    cfg.dir = dir.path().to_path_buf();
    cfg.appendonly = true;
    cfg.appendfsync = "always".into();
    cfg.maxmemory_policy = "allkeys-lfu".into();
    cfg.lfu_log_factor = log_factor;
    Server::with_config(cfg).unwrap()
}

fn freq_after_hits(c: &mut RawClient, key: &str, hits: usize) -> i64 {
    c.call(&["SET", key, "v"]);
    for _ in 0..hits {
        c.call(&["GET", key]);
    }
    match c.call(&["OBJECT", "FREQ", key]) {
        Frame::Integer(n) => n,
        other => panic!("OBJECT FREQ: {other:?}"),
    }
}

#[test]
fn two_embedded_servers_keep_their_own_settings_and_files() {
    let (da, db) = (TempDir::new("inst-a"), TempDir::new("inst-b"));
    let (a, b) = (server(&da, 0), server(&db, 100));
    let (mut ca, mut cb) = (RawClient::connect(a.addr()), RawClient::connect(b.addr()));
    // lfu-log-factor 0 counts every hit; 100 makes the counter grow very slowly. Interleave
    // the two so neither server's setting could be the process's last-written one.
    let (mut fa, mut fb) = (0, 0);
    for round in 0..3 {
        fa = freq_after_hits(&mut ca, &format!("hot{round}"), 100);
        fb = freq_after_hits(&mut cb, &format!("hot{round}"), 100);
    }
    assert!(fa >= 100, "server a (factor 0): {fa}");
    assert!(fb < 30, "server b (factor 100): {fb}");
    assert_eq!(cb.call(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]), Frame::ok());
    assert!(matches!(ca.call(&["OBJECT", "FREQ", "hot0"]), Frame::Integer(_)), "a is still in LFU mode");
    assert!(matches!(cb.call(&["OBJECT", "FREQ", "hot0"]), Frame::Error(_)), "b left LFU mode");

    // appendfsync always on both: a write is in its own server's file when it is acknowledged.
    for i in 0..20 {
        assert_eq!(ca.call(&["SET", &format!("only-a-{i}"), "1"]), Frame::ok());
        assert_eq!(cb.call(&["SET", &format!("only-b-{i}"), "1"]), Frame::ok());
        let fa = std::fs::read(da.path().join("appendonlydir/appendonly.aof")).unwrap();
        let fb = std::fs::read(db.path().join("appendonlydir/appendonly.aof")).unwrap();
        let has = |f: &[u8], k: &str| f.windows(k.len()).any(|w| w == k.as_bytes());
        assert!(has(&fa, &format!("only-a-{i}")) && !has(&fa, "only-b-"));
        assert!(has(&fb, &format!("only-b-{i}")) && !has(&fb, "only-a-"));
    }
}
