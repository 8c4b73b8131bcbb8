//! `slotbox-cluster` end to end, as a user runs it: real node processes on free loopback
//! ports (slotbox-server, and real redis-server 7.0 for the same commands), the tool run as
//! a child process with a time limit, and the cluster verified through redis-rs's cluster
//! client and raw RESP. Covers create (6 nodes, 1 replica each), check, info, call, reshard
//! of 1000 slots holding keys while a client writes, add-node + rebalance with empty
//! masters, del-node, fix of slots left MIGRATING / IMPORTING, and human errors.
//!
//! Nodes and the tool are the release builds (`cargo build --release` runs once, bounded):
//! debug slotbox-server spends ~25 ms per CLUSTER SETSLOT, which makes a 1000-slot reshard
//! take minutes. `SLOTBOX_CLUSTER_TEST_PROFILE=debug` uses the debug builds instead. Node
//! directories go to /dev/shm when it exists, so nodes.conf fsyncs do not dominate.

mod common;

use common::{on_path, run_bounded, RawClient};
use slotbox::protocol::{key_hash_slot, Frame};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

const TOOL_LIMIT: Duration = Duration::from_secs(300);

fn profile() -> String {
    std::env::var("SLOTBOX_CLUSTER_TEST_PROFILE").unwrap_or_else(|_| "release".into())
}

/// `target/<profile>/<name>`, building slotbox-server and slotbox-cluster once.
fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let exe = std::env::current_exe().expect("current_exe");
        let target = exe.ancestors().nth(3).expect("target dir").to_path_buf();
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(["build", "-p", "slotbox-server", "-p", "slotbox-cluster"]).current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile() == "release" {
            cmd.arg("--release");
        }
        let out = run_bounded(&mut cmd, Duration::from_secs(900)).expect("cargo build timed out");
        assert!(out.0.success(), "cargo build failed:\n{}", out.2);
        target.join(profile())
    });
    dir.join(name)
}

/// A fresh directory for one node, on tmpfs when available.
fn node_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
    let n = N.fetch_add(1, Ordering::Relaxed);
    let path = base.join(format!("slotbox-cluster-tool-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).expect("create node dir");
    path
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Slotbox,
    Redis,
}

/// One node process, killed (and its directory removed) on drop.
struct Node {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A free port whose bus port (+10000) is free too.
fn free_port_pair() -> u16 {
    for _ in 0..200 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        if port < 55000 && TcpListener::bind(("127.0.0.1", port + 10000)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair");
}

impl Node {
    fn start(kind: Kind, cluster: bool) -> Node {
        for _ in 0..5 {
            let (port, dir) = (free_port_pair(), node_dir());
            let enabled = if cluster { "yes" } else { "no" };
            let mut cmd = match kind {
                Kind::Slotbox => Command::new(binary("slotbox-server")),
                Kind::Redis => Command::new("redis-server"),
            };
            let flags = format!("--port {port} --bind 127.0.0.1 --cluster-enabled {enabled}");
            cmd.args(flags.split(' ')).args(["--cluster-node-timeout", "15000", "--save", ""]);
            if kind == Kind::Redis {
                cmd.args(["--appendonly", "no", "--daemonize", "no"]);
            }
            let log = std::fs::File::create(dir.join("log")).unwrap();
            cmd.arg("--dir").arg(&dir).stdin(Stdio::null()).stderr(log.try_clone().unwrap());
            let child = cmd.stdout(log).spawn().expect("start node");
            let mut node = Node { child, port, dir };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline && node.child.try_wait().unwrap().is_none() {
                if let Ok(mut c) = RawClient::try_connect(node.addr()) {
                    if matches!(c.try_call(&["PING"]), Ok(Frame::Simple(_))) {
                        return node;
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("{kind:?} node did not start");
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn hostport(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn call(&self, args: &[&str]) -> Frame {
        RawClient::connect(self.addr()).call(args)
    }

    fn id(&self) -> String {
        text(&self.call(&["CLUSTER", "MYID"]))
    }
}

fn text(f: &Frame) -> String {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::Error(b) | Frame::Verbatim(_, b) => {
            String::from_utf8_lossy(b).into()
        }
        other => format!("{other:?}"),
    }
}

/// Run the tool with space-separated `args`; returns (success, stdout + stderr).
fn tool(args: impl AsRef<str>) -> (bool, String) {
    let args = args.as_ref();
    let mut cmd = Command::new(binary("slotbox-cluster"));
    cmd.args(args.split(' ')).env_remove("REDISCLI_AUTH").env_remove("REDISCLI_CLUSTER_YES");
    let (status, out, err) = run_bounded(&mut cmd, TOOL_LIMIT).unwrap_or_else(|| panic!("slotbox-cluster {args} hung"));
    (status.success(), format!("{out}{err}"))
}

/// Run the tool, which must succeed and print every one of `needles`.
fn tool_ok(args: impl AsRef<str>, needles: &[&str]) -> String {
    let (ok, out) = tool(&args);
    assert!(ok, "slotbox-cluster {} failed:\n{out}", args.as_ref());
    needles.iter().for_each(|n| assert!(out.contains(n), "no {n:?} in:\n{out}"));
    out
}

/// Run the tool, which must fail and print `needle`.
fn tool_fails(args: impl AsRef<str>, needle: &str) {
    let (ok, out) = tool(&args);
    let args = args.as_ref();
    assert!(!ok && out.contains(needle), "{args}: want a failure with {needle:?}:\n{out}");
}

fn get<T: redis::FromRedisValue>(con: &mut redis::cluster::ClusterConnection, key: &str) -> Option<T> {
    redis::Cmd::get(key).query(con).unwrap()
}

fn need_redis() -> bool {
    let skip = std::env::var("SLOTBOX_SKIP_DIFFERENTIAL").as_deref() == Ok("1");
    assert!(on_path("redis-server") || skip, "redis-server is not on PATH");
    on_path("redis-server")
}

fn start_nodes(kind: Kind, n: usize) -> Vec<Node> {
    (0..n).map(|_| Node::start(kind, true)).collect()
}

/// Poll `f` for up to 30 s.
fn wait_for(mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}

fn views(nodes: &[Node], args: &[&str]) -> Vec<String> {
    nodes.iter().map(|n| text(&n.call(args))).collect()
}

/// Does every node say `cluster_state:ok`?
fn all_ok(nodes: &[Node]) -> bool {
    let infos = views(nodes, &["CLUSTER", "INFO"]);
    infos.iter().all(|v| v.contains("cluster_state:ok"))
}

fn urls(nodes: &[Node]) -> Vec<String> {
    nodes.iter().map(|n| format!("redis://{}/", n.hostport())).collect()
}

/// `create` the nodes into a cluster and wait until every node knows every node and role
/// and says cluster_state:ok.
fn create(nodes: &[Node], replicas: usize) -> String {
    let addrs: Vec<String> = nodes.iter().map(Node::hostport).collect();
    let args = format!("create {} --cluster-replicas {replicas} --cluster-yes", addrs.join(" "));
    let out = tool_ok(&args, &["[OK] All 16384 slots covered."]);
    let slaves = nodes.len() - nodes.len() / (replicas + 1);
    let settled = || {
        let all_known = |v: &String| v.lines().count() == nodes.len() && v.matches("slave").count() == slaves;
        all_ok(nodes) && views(nodes, &["CLUSTER", "NODES"]).iter().all(all_known)
    };
    let msg = "the cluster never settled after create";
    assert!(wait_for(settled), "{msg}:\n{out}");
    out
}

/// `check` passes once gossip has told every node (replicas too) about the last change.
/// Do all nodes report the same config epoch for every node, distinct among the masters?
fn epochs_settled(nodes: &[Node]) -> bool {
    let views: Vec<Vec<(String, String, bool)>> = views(nodes, &["CLUSTER", "NODES"])
        .iter()
        .map(|v| {
            let mut rows: Vec<_> = v
                .lines()
                .filter_map(|l| {
                    let f: Vec<&str> = l.split(' ').collect();
                    (f.len() > 7).then(|| (f[0].to_string(), f[6].to_string(), f[2].contains("master")))
                })
                .collect();
            rows.sort();
            rows
        })
        .collect();
    let mut epochs: Vec<&String> = views[0].iter().filter(|r| r.2).map(|r| &r.1).collect();
    let masters = epochs.len();
    epochs.sort();
    epochs.dedup();
    views.iter().all(|v| *v == views[0]) && epochs.len() == masters
}

fn check_converges(entry: &str) {
    let args = format!("check {entry}");
    let passed = wait_for(|| tool(&args).0);
    assert!(passed, "check never passed:\n{}", tool(&args).1);
}

fn cluster_client(nodes: &[Node]) -> redis::cluster::ClusterConnection {
    let client = redis::cluster::ClusterClientBuilder::new(urls(nodes)).retries(64);
    client.build().unwrap().get_connection().unwrap()
}

/// Write `count` keys straight to their owners, pipelined (owners from CLUSTER SLOTS).
fn load_keys(nodes: &[Node], prefix: &str, count: usize) {
    let Frame::Array(ranges) = nodes[0].call(&["CLUSTER", "SLOTS"]) else { panic!() };
    let mut owner = vec![0u16; 16384];
    for r in &ranges {
        let Frame::Array(f) = r else { continue };
        let (Frame::Integer(a), Frame::Integer(b), Frame::Array(m)) = (&f[0], &f[1], &f[2]) else {
            continue;
        };
        let Frame::Integer(port) = m[1] else { continue };
        (*a..=*b).for_each(|s| owner[s as usize] = port as u16);
    }
    for node in nodes {
        let mut c = RawClient::connect(node.addr());
        let keys = (0..count).map(|i| format!("{prefix}{i}"));
        let mine = |k: &String| owner[key_hash_slot(k.as_bytes()) as usize] == node.port;
        for chunk in keys.filter(mine).collect::<Vec<_>>().chunks(1000) {
            let set = |k: &String| common::encode_command(&["SET", k, &format!("v-{k}")]);
            c.send_raw(&chunk.iter().flat_map(set).collect::<Vec<u8>>());
            chunk.iter().for_each(|_| assert_eq!(c.read_reply().0, Frame::ok()));
        }
    }
}

/// Slot count of every master, as `node` sees them.
fn master_slots(node: &Node) -> Vec<(String, usize)> {
    let span = |r: &str| match r.split_once('-') {
        Some((a, b)) => b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1,
        None => 1,
    };
    let count = |l: &str| l.split(' ').skip(8).filter(|t| !t.starts_with('[')).map(span).sum();
    let view = text(&node.call(&["CLUSTER", "NODES"]));
    let masters = view.lines().filter(|l| l.contains("master"));
    masters.map(|l| (l[..40].to_string(), count(l))).collect()
}

/// Keep writing new keys (about 1000/s) through a cluster client until `stop`; returns how
/// many were acknowledged.
fn writer(nodes: &[Node], stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    let builder = redis::cluster::ClusterClientBuilder::new(urls(nodes)).retries(64);
    std::thread::spawn(move || {
        let mut con = builder.build().unwrap().get_connection().unwrap();
        let mut acked = 0usize;
        while !stop.load(Ordering::Relaxed) {
            let r = redis::Cmd::set(format!("w:{acked}"), acked).query::<()>(&mut con);
            r.unwrap_or_else(|e| panic!("write {acked} failed during reshard: {e}"));
            acked += 1;
            std::thread::sleep(Duration::from_millis(1));
        }
        acked
    })
}

/// The scenario run against both servers: create 6 nodes with one replica each, check,
/// info, call, then reshard 1000 slots holding keys while a client writes.
fn create_check_reshard(kind: Kind) {
    let nodes = start_nodes(kind, 6);
    let (first, fifth) = (nodes[0].hostport(), nodes[4].hostport());
    let out = create(&nodes, 1);
    assert!(out.contains("Master[2] -> Slots 10923 - 16383"), "{out}");
    assert!(out.contains(&format!("Adding replica {fifth} to {first}")), "{out}");
    let agree = "[OK] All nodes agree about slots configuration.";
    tool_ok(format!("check {first}"), &[agree]);
    load_keys(&nodes, "key:", 20_000);
    let keys = "[OK] 20000 keys in 3 masters.";
    tool_ok(format!("info {first}"), &[keys, "| 1 slaves."]);
    let out = tool_ok(format!("call {first} PING"), &[]);
    assert_eq!(out.matches(": PONG").count(), 6, "{out}");

    let stop = Arc::new(AtomicBool::new(false));
    let writes = writer(&nodes, stop.clone());
    let to = nodes[1].id();
    let args = format!("reshard {first} --cluster-from all --cluster-to {to} --cluster-slots 1000");
    let out = tool_ok(args + " --cluster-yes", &["Ready to move 1000 slots."]);
    stop.store(true, Ordering::Relaxed);
    let acked = writes.join().expect("writer thread");
    assert!(acked > 0 && out.matches("Moving slot ").count() == 2000, "{out}");
    assert!(master_slots(&nodes[1]).contains(&(to, 6462)));
    check_converges(&first);
    let mut con = cluster_client(&nodes);
    for i in 0..20_000 {
        let (k, v) = (format!("key:{i}"), format!("v-key:{i}"));
        assert_eq!(get(&mut con, &k), Some(v), "{k} lost");
    }
    for i in 0..acked {
        let k = format!("w:{i}");
        assert_eq!(get(&mut con, &k), Some(i), "acknowledged write {k} lost");
    }
}

#[test]
fn slotbox_create_check_info_reshard_under_writes() {
    create_check_reshard(Kind::Slotbox);
}

#[test]
fn redis_create_check_reshard_with_the_same_commands() {
    if need_redis() {
        create_check_reshard(Kind::Redis);
    }
}

#[test]
fn add_node_rebalance_and_del_node() {
    let mut nodes = start_nodes(Kind::Slotbox, 3);
    create(&nodes, 0);
    load_keys(&nodes, "r:", 5000);
    let entry = nodes[0].hostport();
    nodes.push(Node::start(Kind::Slotbox, true));
    let added = "[OK] New node added correctly.";
    tool_ok(format!("add-node {} {entry}", nodes[3].hostport()), &[added]);
    let joined = || all_ok(&nodes) && nodes.iter().all(|n| master_slots(n).len() == 4);
    assert!(wait_for(joined), "the new node never joined");
    let across = ">>> Rebalancing across 4 nodes. Total weight = 4.00";
    tool_ok(format!("rebalance {entry} --cluster-use-empty-masters"), &[across]);
    for (id, slots) in master_slots(&nodes[0]) {
        let off = (100.0 - 100.0 * 4096.0 / slots as f64).abs();
        assert!(off <= 2.0, "{id} has {slots} slots, outside the 2% threshold");
    }
    let no_need = "*** No rebalancing needed! All nodes are within the 2.00% threshold.";
    tool_ok(format!("rebalance {entry}"), &[no_need]);
    let mut con = cluster_client(&nodes);
    for i in (0..5000).step_by(7) {
        assert_eq!(get(&mut con, &format!("r:{i}")), Some(format!("v-r:{i}")));
    }
    // A master with slots cannot be removed; an empty replica can.
    let not_empty = format!("[ERR] Node {} is not empty!", nodes[3].hostport());
    tool_fails(format!("del-node {entry} {}", nodes[3].id()), &not_empty);
    nodes.push(Node::start(Kind::Slotbox, true));
    tool_ok(format!("add-node {} {entry} --cluster-slave", nodes[4].hostport()), &[]);
    let gone = nodes[4].id();
    let nodes_views = || views(&nodes[..4], &["CLUSTER", "NODES"]);
    let knowing = || nodes_views().iter().filter(|v| v.contains(&gone)).count();
    assert!(wait_for(|| knowing() == 4), "the replica never joined");
    let reset = ">>> Sending CLUSTER RESET SOFT to the deleted node.";
    tool_ok(format!("del-node {entry} {gone}"), &[reset]);
    assert_eq!(knowing(), 0, "a node still knows the deleted node");
}

/// Write 100 keys `{tag}i` = i on `node`.
fn fill_slot(node: &Node, tag: &str) -> Vec<String> {
    let keys: Vec<String> = (0..100).map(|i| format!("{{{tag}}}{i}")).collect();
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(node.call(&["SET", k, &i.to_string()]), Frame::ok());
    }
    keys
}

#[test]
fn fix_closes_slots_left_open() {
    let nodes = start_nodes(Kind::Slotbox, 3);
    create(&nodes, 0);
    let (a, b, entry) = (&nodes[0], &nodes[1], nodes[0].hostport());
    let (a_id, b_id) = (a.id(), b.id());
    let open = |node: &Node, slot: u16, state: &str, other: &str| {
        let reply = node.call(&["CLUSTER", "SETSLOT", &slot.to_string(), state, other]);
        assert_eq!(reply, Frame::ok());
    };
    let (s1, s2) = (key_hash_slot(b"fixme"), key_hash_slot(b"b1"));
    assert!(s1 <= 5460 && s2 <= 5460, "both belong to the first master");
    // s1: a reshard stopped right after opening the slot on both sides.
    let k1 = fill_slot(a, "fixme");
    open(b, s1, "IMPORTING", &a_id);
    open(a, s1, "MIGRATING", &b_id);
    // s2: stopped after moving 30 of 100 keys; slot 1: left MIGRATING on its owner only.
    let k2 = fill_slot(a, "b1");
    open(b, s2, "IMPORTING", &a_id);
    open(a, s2, "MIGRATING", &b_id);
    let port = b.port.to_string();
    let mut migrate = vec!["MIGRATE", "127.0.0.1", &port, "", "0", "5000", "KEYS"];
    migrate.extend(k2[..30].iter().map(String::as_str));
    assert_eq!(a.call(&migrate), Frame::ok());
    open(a, 1, "MIGRATING", &b_id);
    let mut open_slots = [1, s1, s2];
    open_slots.sort();
    let list = open_slots.map(|s| s.to_string()).join(",");
    let warning = format!("[WARNING] The following slots are open: {list}.");
    tool_fails(format!("check {entry}"), &warning);
    let (a_addr, b_addr) = (a.hostport(), b.hostport());
    let case1 = format!(">>> Case 1: Moving slot {s1} from {a_addr} to {b_addr}");
    let case2 = format!(">>> Case 2: Moving all the {s2} slot keys to its owner {a_addr}");
    let case4 = format!(">>> Case 4: Closing slot 1 on {a_addr}");
    tool_ok(format!("fix {entry}"), &[&case1, &case2, &case4]);
    check_converges(&entry);
    let count = |n: &Node, s: u16| n.call(&["CLUSTER", "COUNTKEYSINSLOT", &s.to_string()]);
    assert_eq!((count(b, s1), count(a, s2)), (Frame::Integer(100), Frame::Integer(100)));
    let mut con = cluster_client(&nodes);
    for (i, k) in k1.iter().chain(&k2).enumerate() {
        assert_eq!(get(&mut con, k), Some(i % 100), "{k}");
    }
    // A reshard killed half way: fix finishes it, no key is lost, no slot stays open.
    load_keys(&nodes, "i:", 10_000);
    // The fix above bumped epochs; a reshard started while a configEpoch collision is still
    // being resolved can lose a slot to the old owner's stale claim (as in Redis), so start
    // once every node knows every master's final, distinct epoch.
    assert!(wait_for(|| epochs_settled(&nodes)), "config epochs never settled");
    let to = nodes[2].id();
    let args = format!("reshard {entry} --cluster-from all --cluster-to {to} --cluster-slots 3000");
    let out_path = node_dir().join("reshard.out");
    let out = std::fs::File::create(&out_path).unwrap();
    let mut cmd = Command::new(binary("slotbox-cluster"));
    let mut reshard = cmd.args(args.split(' ')).arg("--cluster-yes").stdout(out).stderr(Stdio::null()).spawn().unwrap();
    // Kill it once it is moving slots (each move prints "Moving slot N from A to B: " as it
    // starts, the plan's lines are indented), whatever time that takes on this machine.
    let moves_started = || {
        let text = std::fs::read_to_string(&out_path).unwrap_or_default();
        text.lines().filter(|l| l.starts_with("Moving slot ")).count()
    };
    common::wait_until_value(
        Duration::from_secs(60),
        "the reshard to start moving slots (moves started so far)",
        || (moves_started(), reshard.try_wait().unwrap()),
        |&(moves, exited)| moves >= 20 || exited.is_some(),
    );
    reshard.kill().unwrap();
    let status = reshard.wait().unwrap();
    if status.success() {
        // Not a failure of what is tested (fix and check below still run), but this run did
        // not exercise a half-done reshard.
        eprintln!("note: the reshard finished before it was killed");
    }
    let _ = std::fs::remove_dir_all(out_path.parent().unwrap());
    tool_ok(format!("fix {entry}"), &[]);
    check_converges(&entry);
    for i in 0..10_000 {
        assert_eq!(get(&mut con, &format!("i:{i}")), Some(format!("v-i:{i}")));
    }
}

#[test]
fn errors_name_the_node_and_exit_non_zero() {
    let dead = free_port_pair();
    let refused = format!("Could not connect to Redis at 127.0.0.1:{dead}: Connection refused");
    tool_fails(format!("check 127.0.0.1:{dead}"), &refused);
    let standalone = Node::start(Kind::Slotbox, false);
    let lone = standalone.hostport();
    let not_cluster = format!("[ERR] Node {lone} is not configured as a cluster node.");
    tool_fails(format!("info {lone}"), &not_cluster);
    let nodes = start_nodes(Kind::Slotbox, 4);
    let meet = ["CLUSTER", "MEET", "127.0.0.1", &nodes[3].port.to_string()];
    assert_eq!(nodes[2].call(&meet), Frame::ok());
    let a: Vec<String> = nodes.iter().map(Node::hostport).collect();
    let not_empty = format!("[ERR] Node {} is not empty.", a[2]);
    tool_fails(format!("create {} {} {} --cluster-yes", a[0], a[1], a[2]), &not_empty);
    let too_few = "*** Redis Cluster requires at least 3 master nodes.";
    tool_fails(format!("create {} {} --cluster-yes", a[0], a[1]), too_few);
    let arity = "[ERR] Wrong number of arguments for specified --cluster sub command";
    tool_fails("reshard", arity);
}
