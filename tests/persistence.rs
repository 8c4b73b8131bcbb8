//! Persistence end to end: the AOF survives kill -9 with every fsync policy, damaged files are
//! loaded (truncated tail) or refused with the offset (corrupt middle) and repaired by
//! `--check-aof --fix`, a rewrite under concurrent writes keeps the whole dataset, and
//! snapshots (SAVE, BGSAVE, `save` rules, SHUTDOWN) restore every data type with its TTL.
//!
//! Kill -9 tests run the `slotbox-server` binary as a child; the others embed servers on
//! port 0. Every wait is bounded.

mod common;

use common::{run_bounded, slotbox_server_binary, RawClient, TempDir, WAIT};
use slotbox::protocol::Frame;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `slotbox-server` child on `dir`, killed with SIGKILL on drop.
struct Node {
    child: Child,
    addr: SocketAddr,
}

impl Node {
    fn spawn(dir: &Path, extra: &[&str]) -> Node {
        let port = common::free_port();
        let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("server.log")).unwrap();
        let child = Command::new(slotbox_server_binary())
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(extra)
            .arg("--dir")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start slotbox-server");
        let mut node = Node { child, addr: SocketAddr::from(([127, 0, 0, 1], port)) };
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(mut c) = RawClient::try_connect(node.addr) {
                if matches!(c.try_call(&["PING"]), Ok(Frame::Simple(_))) {
                    return node;
                }
            }
            if let Ok(Some(st)) = node.child.try_wait() {
                panic!(
                    "server exited with {st}: {}",
                    std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn client(&self) -> RawClient {
        RawClient::connect(self.addr)
    }

    fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Wait (bounded) for the process to exit by itself.
    fn wait_exit(mut self) -> bool {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn embedded(
    dir: &Path,
    appendonly: bool,
    tweak: impl FnOnce(&mut slotbox::Config),
) -> std::io::Result<slotbox::Server> {
    let mut cfg = slotbox::Config::ephemeral();
    cfg.dir = dir.to_path_buf();
    cfg.appendonly = appendonly;
    tweak(&mut cfg);
    slotbox::Server::with_config(cfg)
}

fn aof_file(dir: &Path) -> PathBuf {
    dir.join("appendonlydir").join("appendonly.aof")
}

fn text(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::Error(b) | Frame::Verbatim(_, b) => {
            String::from_utf8_lossy(b).into_owned()
        }
        Frame::Integer(i) => i.to_string(),
        Frame::Array(v) | Frame::Set(v) => {
            let mut items: Vec<String> = v.iter().map(text).collect();
            items.sort();
            format!("[{}]", items.join(","))
        }
        other => format!("{other:?}"),
    }
}

fn info_field(c: &mut RawClient, name: &str) -> String {
    let info = text(&c.call(&["INFO", "persistence"]));
    info.lines().find_map(|l| l.strip_prefix(&format!("{name}:"))).unwrap_or_default().trim().to_string()
}

/// Every key with its type, contents (order-insensitive for hashes / sets) and whether it
/// has a TTL.
fn dataset(c: &mut RawClient) -> BTreeMap<String, String> {
    let Frame::Array(keys) = c.call(&["KEYS", "*"]) else { panic!("KEYS") };
    let mut out = BTreeMap::new();
    for k in keys {
        let k = text(&k);
        let ty = text(&c.call(&["TYPE", &k]));
        let v = match ty.as_str() {
            "string" => text(&c.call(&["GET", &k])),
            "list" => format!("{:?}", c.call(&["LRANGE", &k, "0", "-1"])),
            "hash" => text(&c.call(&["HGETALL", &k])),
            "set" => text(&c.call(&["SMEMBERS", &k])),
            "zset" => format!("{:?}", c.call(&["ZRANGE", &k, "0", "-1", "WITHSCORES"])),
            other => other.to_string(),
        };
        let ttl = text(&c.call(&["PTTL", &k])).parse::<i64>().unwrap() > 0;
        out.insert(k, format!("{ty} {v} ttl={ttl}"));
    }
    out
}

fn ok(f: Frame) {
    assert!(matches!(&f, Frame::Simple(s) if &s[..] == b"OK"), "{f:?}");
}

#[test]
fn aof_survives_kill9_with_every_fsync_policy() {
    for policy in ["always", "everysec", "no"] {
        let dir = TempDir::new("aof-kill");
        let node = Node::spawn(dir.path(), &["--appendonly", "yes", "--appendfsync", policy]);
        let mut c = node.client();
        for i in 0..300 {
            ok(c.call(&["SET", &format!("k{i}"), &format!("v{i}")]));
        }
        assert_eq!(c.call(&["INCRBY", "counter", "41"]), Frame::Integer(41));
        ok(c.call(&["SET", "ttl", "x", "EX", "1000"]));
        assert_eq!(c.call(&["RPUSH", "list", "a", "b", "c"]), Frame::Integer(3));
        assert_eq!(c.call(&["DEL", "k0"]), Frame::Integer(1));
        let before = dataset(&mut c);
        // Measured from before the first PTTL is sent, so the span covers both readings.
        let read_at = Instant::now();
        let ttl_before = text(&c.call(&["PTTL", "ttl"])).parse::<i64>().unwrap();
        node.kill9();
        let node = Node::spawn(dir.path(), &["--appendonly", "yes", "--appendfsync", policy]);
        let mut c = node.client();
        assert_eq!(dataset(&mut c), before, "policy {policy}");
        let ttl_after = text(&c.call(&["PTTL", "ttl"])).parse::<i64>().unwrap();
        // Absolute: it went down by the time that passed, however long the restart took.
        let passed = read_at.elapsed().as_millis() as i64;
        assert!(
            ttl_after <= ttl_before && ttl_after >= ttl_before - passed - 1,
            "TTL kept absolute: {ttl_before} -> {ttl_after} in {passed} ms"
        );
        node.kill9();
    }
}

const SET_A: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";
const SET_B: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n";

fn write_aof(dir: &Path, bytes: &[u8]) -> PathBuf {
    let path = aof_file(dir);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn truncated_tail_is_loaded_up_to_the_last_complete_command() {
    let dir = TempDir::new("aof-trunc");
    let mut bytes = [SET_A, SET_B].concat();
    bytes.extend_from_slice(&SET_A[..12]);
    let path = write_aof(dir.path(), &bytes);
    let server = embedded(dir.path(), true, |_| {}).expect("truncated tail loads");
    let mut c = RawClient::connect(server.addr());
    assert_eq!(text(&c.call(&["MGET", "a", "b"])), "[1,2]");
    drop(server);
    assert!(std::fs::read(&path).unwrap().starts_with(&[SET_A, SET_B].concat()));
    // An unfinished MULTI at the end is dropped as a whole.
    let dir = TempDir::new("aof-multi");
    let multi = [SET_A, b"*1\r\n$5\r\nMULTI\r\n", SET_B].concat();
    write_aof(dir.path(), &multi);
    let server = embedded(dir.path(), true, |_| {}).expect("unfinished MULTI loads");
    let mut c = RawClient::connect(server.addr());
    assert_eq!(text(&c.call(&["MGET", "a", "b"])), "[1,Null]");
}

#[test]
fn corrupt_middle_refuses_to_start_and_check_aof_fixes_it() {
    let dir = TempDir::new("aof-corrupt");
    let bad_at = SET_A.len();
    let path = write_aof(dir.path(), &[SET_A, b"garbage!\r\n", SET_B].concat());
    let err = embedded(dir.path(), true, |_| {}).err().expect("a corrupt AOF must refuse the start");
    assert!(err.to_string().contains(&format!("offset {bad_at}")), "{err}");
    let check = |fix: bool| {
        let mut cmd = Command::new(slotbox_server_binary());
        cmd.arg("--check-aof").arg(&path);
        if fix {
            cmd.arg("--fix");
        }
        run_bounded(&mut cmd, WAIT).expect("check-aof finishes")
    };
    let (status, out, _) = check(false);
    assert!(!status.success() && out.contains(&format!("ok_up_to={bad_at}")), "{out}");
    let (status, out, _) = check(true);
    assert!(status.success() && out.contains("Successfully truncated"), "{out}");
    let (status, out, _) = check(false);
    assert!(status.success() && out.contains("is valid"), "{out}");
    let server = embedded(dir.path(), true, |_| {}).expect("fixed AOF loads");
    let mut c = RawClient::connect(server.addr());
    assert_eq!(text(&c.call(&["MGET", "a", "b"])), "[1,Null]");
}

#[test]
fn rewrite_under_concurrent_writes_keeps_the_dataset() {
    let dir = TempDir::new("aof-rewrite");
    let server = embedded(dir.path(), true, |_| {}).unwrap();
    let addr = server.addr();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let rounds = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let (stop, rounds) = (stop.clone(), rounds.clone());
            std::thread::spawn(move || {
                let mut c = RawClient::connect(addr);
                let mut i = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    ok(c.call(&["SET", &format!("s{t}:{}", i % 500), &i.to_string()]));
                    c.call(&["RPUSH", &format!("l{t}:{}", i % 7), &i.to_string()]);
                    c.call(&["HSET", &format!("h{t}"), &format!("f{}", i % 50), &i.to_string()]);
                    c.call(&["INCR", &format!("n{t}")]);
                    i += 1;
                    rounds.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            })
        })
        .collect();
    // Writes land before, between and after the rewrites: wait for the writers' progress
    // rather than for a time in which a slow machine might write nothing.
    let writes_land = |what: &str| {
        let target = rounds.load(std::sync::atomic::Ordering::Relaxed) + 200;
        common::wait_until(WAIT, what, || {
            rounds.load(std::sync::atomic::Ordering::Relaxed) >= target || writers.iter().any(|w| w.is_finished())
        });
    };
    let mut c = RawClient::connect(addr);
    for _ in 0..3 {
        writes_land("writes before a rewrite");
        let r = text(&c.call(&["BGREWRITEAOF"]));
        assert!(r.contains("rewriting started") || r.contains("already in progress"), "{r}");
        let deadline = Instant::now() + WAIT;
        while info_field(&mut c, "aof_rewrite_in_progress") != "0" {
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    writes_land("writes after the last rewrite");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writers.into_iter().for_each(|w| w.join().unwrap());
    assert!(info_field(&mut c, "aof_rewrites").parse::<u64>().unwrap() >= 1);
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok");
    let before = dataset(&mut c);
    assert!(before.len() > 100);
    drop(c);
    drop(server);
    assert!(std::fs::read(aof_file(dir.path())).unwrap().starts_with(b"SBAOFv1\n"));
    let server = embedded(dir.path(), true, |_| {}).unwrap();
    let mut c = RawClient::connect(server.addr());
    assert_eq!(dataset(&mut c), before);
}

fn fill_every_type(c: &mut RawClient) {
    ok(c.call(&["SET", "str", "hello"]));
    ok(c.call(&["SET", "str:ttl", "bye", "PX", "500000"]));
    c.call(&["RPUSH", "list", "a", "b", "c"]);
    c.call(&["HSET", "hash", "f1", "v1", "f2", "v2"]);
    c.call(&["SADD", "set", "x", "y", "z"]);
    c.call(&["ZADD", "zset", "1", "one", "2.5", "two"]);
    c.call(&["EXPIRE", "zset", "300"]);
    c.call(&["EXPIRE", "hash", "400"]);
    ok(c.call(&["SET", "gone", "soon", "PX", "1"]));
}

#[test]
fn snapshot_restores_every_type_with_ttls() {
    for command in ["SAVE", "BGSAVE"] {
        let dir = TempDir::new("snapshot");
        let server = embedded(dir.path(), false, |_| {}).unwrap();
        let mut c = RawClient::connect(server.addr());
        fill_every_type(&mut c);
        // Lets the 1 ms expiry of "gone" pass (the thing under test, not a wait for a state:
        // it was set before its reply came).
        std::thread::sleep(Duration::from_millis(5));
        let before = dataset(&mut c);
        c.call(&[command]);
        let deadline = Instant::now() + WAIT;
        while info_field(&mut c, "rdb_bgsave_in_progress") != "0" || info_field(&mut c, "rdb_saves") == "0" {
            assert!(Instant::now() < deadline, "{command} did not finish");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
        // Measured from before the first PTTL is sent, so the span covers both readings.
        let read_at = Instant::now();
        let ttl = text(&c.call(&["PTTL", "str:ttl"])).parse::<i64>().unwrap();
        drop(c);
        drop(server);
        assert!(dir.path().join("dump.rdb").is_file());
        let server = embedded(dir.path(), false, |_| {}).unwrap();
        let mut c = RawClient::connect(server.addr());
        assert_eq!(dataset(&mut c), before, "after {command}");
        let ttl2 = text(&c.call(&["PTTL", "str:ttl"])).parse::<i64>().unwrap();
        let passed = read_at.elapsed().as_millis() as i64;
        assert!(ttl2 <= ttl && ttl2 >= ttl - passed - 1, "{ttl} -> {ttl2} in {passed} ms");
        assert_eq!(info_field(&mut c, "rdb_last_load_keys_loaded"), before.len().to_string());
    }
}

#[test]
fn save_rules_and_shutdown_write_the_snapshot() {
    let dir = TempDir::new("save-rules");
    let server = embedded(dir.path(), false, |c| c.save = "1 1".into()).unwrap();
    let mut c = RawClient::connect(server.addr());
    ok(c.call(&["SET", "k", "v"]));
    let deadline = Instant::now() + WAIT;
    while info_field(&mut c, "rdb_saves") == "0" {
        assert!(Instant::now() < deadline, "save rule did not fire");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(text(&c.call(&["LASTSAVE"])).len(), 10);
    drop(server);

    let dir = TempDir::new("shutdown-save");
    let node = Node::spawn(dir.path(), &["--save", "3600 1"]);
    let mut c = node.client();
    ok(c.call(&["SET", "k", "v"]));
    c.send_raw(&common::encode_command(&["SHUTDOWN"]));
    assert!(c.is_closed_by_server());
    assert!(node.wait_exit());
    let node = Node::spawn(dir.path(), &[]);
    assert_eq!(node.client().call(&["GET", "k"]), common::bulk("v"));
    let mut c = node.client();
    ok(c.call(&["SET", "k", "changed"]));
    c.send_raw(&common::encode_command(&["SHUTDOWN", "NOSAVE"]));
    assert!(node.wait_exit());
    let node = Node::spawn(dir.path(), &[]);
    assert_eq!(node.client().call(&["GET", "k"]), common::bulk("v"));
}

#[test]
fn aof_rewrites_itself_when_it_grows() {
    let dir = TempDir::new("auto-rewrite");
    let server = embedded(dir.path(), true, |c| {
        c.auto_aof_rewrite_min_size = 16 * 1024;
        c.auto_aof_rewrite_percentage = 100;
    })
    .unwrap();
    let mut c = RawClient::connect(server.addr());
    // Creating the first AOF at start counts as one rewrite.
    let initial = info_field(&mut c, "aof_rewrites");
    // Write until the file passes the minimum size, then stop: what the rewrite leaves is then
    // the 10 keys alone. (A fixed number of writes would leave the file at whatever size the
    // writes made after the rewrite began reached: more on a slow machine.)
    let value = "x".repeat(100);
    let mut i = 0;
    while info_field(&mut c, "aof_current_size").parse::<u64>().unwrap() < 16 * 1024 {
        ok(c.call(&["SET", &format!("k{}", i % 10), &value]));
        i += 1;
        assert!(i < 10_000, "{i} writes and the AOF is still under 16 KB");
    }
    let deadline = Instant::now() + WAIT;
    while info_field(&mut c, "aof_rewrites") == initial || info_field(&mut c, "aof_rewrite_in_progress") != "0" {
        assert!(Instant::now() < deadline, "no automatic rewrite");
        std::thread::sleep(Duration::from_millis(50));
    }
    let size: u64 = info_field(&mut c, "aof_current_size").parse().unwrap();
    assert!(size < 16 * 1024, "compacted to {size} bytes");
}
