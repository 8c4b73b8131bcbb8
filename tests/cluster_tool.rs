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

/// A directory for one node, on tmpfs when available; removed on drop.
struct NodeDir(PathBuf);

impl NodeDir {
    fn new() -> NodeDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let base = if Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = base.join(format!("slotbox-cluster-tool-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create node dir");
        NodeDir(path)
    }
}

impl Drop for NodeDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Slotbox,
    Redis,
}

/// One node process (killed on drop).
struct Node {
    child: Child,
    port: u16,
    _dir: NodeDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free port whose bus port (+10000) is free too.
fn free_port_pair() -> u16 {
    for _ in 0..200 {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        if port < 55000 && TcpListener::bind(("127.0.0.1", port + 10000)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair");
}

impl Node {
    fn start(kind: Kind, cluster: bool) -> Node {
        for _ in 0..5 {
            let (port, dir) = (free_port_pair(), NodeDir::new());
            let p = port.to_string();
            let enabled = if cluster { "yes" } else { "no" };
            let mut cmd = match kind {
                Kind::Slotbox => Command::new(binary("slotbox-server")),
                Kind::Redis => Command::new("redis-server"),
            };
            cmd.args(["--port", &p, "--bind", "127.0.0.1", "--save", "", "--cluster-enabled", enabled]);
            cmd.args(["--cluster-node-timeout", "15000", "--dir"]).arg(&dir.0);
            if kind == Kind::Redis {
                cmd.args(["--appendonly", "no", "--daemonize", "no"]);
            }
            let log = std::fs::File::create(dir.0.join("log")).unwrap();
            cmd.stdin(Stdio::null()).stdout(log.try_clone().unwrap()).stderr(log);
            let mut node = Node { child: cmd.spawn().expect("start node"), port, _dir: dir };
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
        Frame::Bulk(b) | Frame::Simple(b) | Frame::Error(b) | Frame::Verbatim(_, b) => String::from_utf8_lossy(b).into(),
        other => format!("{other:?}"),
    }
}

/// Run the tool; returns (success, stdout + stderr).
fn tool(args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new(binary("slotbox-cluster"));
    cmd.args(args).env_remove("REDISCLI_AUTH").env_remove("REDISCLI_CLUSTER_YES");
    let (status, out, err) = run_bounded(&mut cmd, TOOL_LIMIT).unwrap_or_else(|| panic!("slotbox-cluster {args:?} hung"));
    (status.success(), format!("{out}{err}"))
}

fn tool_ok(args: &[&str]) -> String {
    let (ok, out) = tool(args);
    assert!(ok, "slotbox-cluster {args:?} failed:\n{out}");
    out
}

fn need_redis() -> bool {
    if on_path("redis-server") {
        return true;
    }
    assert_eq!(std::env::var("SLOTBOX_SKIP_DIFFERENTIAL").as_deref(), Ok("1"), "redis-server is not on PATH");
    false
}

fn start_nodes(kind: Kind, n: usize) -> Vec<Node> {
    (0..n).map(|_| Node::start(kind, true)).collect()
}

/// `create` the nodes into a cluster and wait until every node says cluster_state:ok.
fn create(nodes: &[Node], replicas: usize) -> String {
    let mut args: Vec<String> = vec!["create".into()];
    args.extend(nodes.iter().map(Node::hostport));
    args.extend(["--cluster-replicas".into(), replicas.to_string(), "--cluster-yes".into()]);
    let out = tool_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let settled = || {
        nodes.iter().all(|n| {
            let view = text(&n.call(&["CLUSTER", "NODES"]));
            view.lines().count() == nodes.len()
                && view.matches("slave").count() == nodes.len() - nodes.len() / (replicas + 1)
                && text(&n.call(&["CLUSTER", "INFO"])).contains("cluster_state:ok")
        })
    };
    assert!(wait_for(settled), "the cluster never settled after create:\n{out}");
    out
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

/// `check` passes once gossip has told every node (replicas too) about the last change.
fn check_converges(entry: &str) {
    assert!(wait_for(|| tool(&["check", entry]).0), "check never passed:\n{}", tool(&["check", entry]).1);
}

fn cluster_client(nodes: &[Node]) -> redis::cluster::ClusterConnection {
    let urls: Vec<String> = nodes.iter().map(|n| format!("redis://{}/", n.hostport())).collect();
    let client = redis::cluster::ClusterClientBuilder::new(urls).retries(64).build().unwrap();
    client.get_connection().unwrap()
}

/// Write `count` keys straight to their owners, pipelined (owners from CLUSTER SLOTS).
fn load_keys(nodes: &[Node], prefix: &str, count: usize) {
    let Frame::Array(ranges) = nodes[0].call(&["CLUSTER", "SLOTS"]) else { panic!("CLUSTER SLOTS") };
    let mut owner = vec![0u16; 16384];
    for r in &ranges {
        let Frame::Array(f) = r else { continue };
        let (Frame::Integer(a), Frame::Integer(b), Frame::Array(m)) = (&f[0], &f[1], &f[2]) else { continue };
        let Frame::Integer(port) = m[1] else { continue };
        (*a..=*b).for_each(|s| owner[s as usize] = port as u16);
    }
    for node in nodes {
        let mine: Vec<String> = (0..count)
            .map(|i| format!("{prefix}{i}"))
            .filter(|k| owner[key_hash_slot(k.as_bytes()) as usize] == node.port)
            .collect();
        let mut c = RawClient::connect(node.addr());
        for chunk in mine.chunks(1000) {
            let bytes: Vec<u8> = chunk.iter().flat_map(|k| common::encode_command(&["SET", k, &format!("v-{k}")])).collect();
            c.send_raw(&bytes);
            chunk.iter().for_each(|_| assert_eq!(c.read_reply().0, Frame::ok()));
        }
    }
}

fn masters(node: &Node) -> Vec<String> {
    let nodes = text(&node.call(&["CLUSTER", "NODES"]));
    nodes.lines().filter(|l| l.contains("master")).map(|l| l.to_string()).collect()
}

fn slot_count(line: &str) -> usize {
    line.split(' ').skip(8).filter(|t| !t.starts_with('[')).map(|r| match r.split_once('-') {
        Some((a, b)) => b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1,
        None => 1,
    }).sum()
}

/// The scenario run against both servers: create 6 nodes with one replica each, check,
/// info, call, then reshard 1000 slots holding keys while a client writes.
fn create_check_reshard(kind: Kind) {
    let nodes = start_nodes(kind, 6);
    let out = create(&nodes, 1);
    assert!(out.contains("Master[2] -> Slots 10923 - 16383"), "{out}");
    assert!(out.contains(&format!("Adding replica {} to {}", nodes[4].hostport(), nodes[0].hostport())), "{out}");
    assert!(out.contains("[OK] All 16384 slots covered."), "{out}");
    let view = text(&nodes[0].call(&["CLUSTER", "NODES"]));
    assert_eq!(view.lines().filter(|l| l.contains("slave")).count(), 3, "{view}");
    let entry = nodes[0].hostport();
    let out = tool_ok(&["check", &entry]);
    assert!(out.contains("[OK] All nodes agree about slots configuration."), "{out}");
    load_keys(&nodes, "key:", 20_000);
    let out = tool_ok(&["info", &entry]);
    assert!(out.contains("[OK] 20000 keys in 3 masters.") && out.contains("1 slaves."), "{out}");
    let out = tool_ok(&["call", &entry, "PING"]);
    assert_eq!(out.matches(": PONG").count(), 6, "{out}");

    let stop = Arc::new(AtomicBool::new(false));
    let urls: Vec<String> = nodes.iter().map(|n| format!("redis://{}/", n.hostport())).collect();
    let stop2 = stop.clone();
    let writer = std::thread::spawn(move || {
        let client = redis::cluster::ClusterClientBuilder::new(urls).retries(64).build().unwrap();
        let mut con = client.get_connection().unwrap();
        let mut acked = 0usize;
        while !stop2.load(Ordering::Relaxed) {
            let r: redis::RedisResult<()> = redis::cmd("SET").arg(format!("w:{acked}")).arg(acked).query(&mut con);
            r.unwrap_or_else(|e| panic!("write {acked} failed during reshard: {e}"));
            acked += 1;
        }
        acked
    });
    let target = nodes[1].id();
    let out = tool_ok(&["reshard", &entry, "--cluster-from", "all", "--cluster-to", &target, "--cluster-slots", "1000", "--cluster-yes"]);
    stop.store(true, Ordering::Relaxed);
    let acked = writer.join().expect("writer thread");
    assert!(out.contains("Ready to move 1000 slots.") && out.matches("Moving slot ").count() >= 2000, "{out}");
    assert!(acked > 0);
    let line = masters(&nodes[1]).into_iter().find(|l| l.starts_with(&target)).unwrap();
    assert_eq!(slot_count(&line), 6462, "{line}");
    check_converges(&entry);
    let mut con = cluster_client(&nodes);
    for i in 0..20_000 {
        let v: Option<String> = redis::cmd("GET").arg(format!("key:{i}")).query(&mut con).unwrap();
        assert_eq!(v, Some(format!("v-key:{i}")), "key:{i} lost");
    }
    for i in 0..acked {
        let v: Option<usize> = redis::cmd("GET").arg(format!("w:{i}")).query(&mut con).unwrap();
        assert_eq!(v, Some(i), "acknowledged write w:{i} lost");
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
    let out = tool_ok(&["add-node", &nodes[3].hostport(), &entry]);
    assert!(out.contains("[OK] New node added correctly."), "{out}");
    let joined = || nodes.iter().all(|n| masters(n).len() == 4 && text(&n.call(&["CLUSTER", "INFO"])).contains("cluster_state:ok"));
    assert!(wait_for(joined), "the new node never joined");
    let out = tool_ok(&["rebalance", &entry, "--cluster-use-empty-masters"]);
    assert!(out.contains(">>> Rebalancing across 4 nodes. Total weight = 4.00"), "{out}");
    for line in masters(&nodes[0]) {
        let slots = slot_count(&line) as f64;
        assert!((100.0 - 100.0 * 4096.0 / slots).abs() <= 2.0, "outside the 2% threshold: {line}");
    }
    let out = tool_ok(&["rebalance", &entry]);
    assert!(out.contains("*** No rebalancing needed! All nodes are within the 2.00% threshold."), "{out}");
    let mut con = cluster_client(&nodes);
    for i in (0..5000).step_by(7) {
        let v: Option<String> = redis::cmd("GET").arg(format!("r:{i}")).query(&mut con).unwrap();
        assert_eq!(v, Some(format!("v-r:{i}")));
    }
    // A master with slots cannot be removed; an empty one can.
    let (ok, out) = tool(&["del-node", &entry, &nodes[3].id()]);
    assert!(!ok && out.contains(&format!("[ERR] Node {} is not empty!", nodes[3].hostport())), "{out}");
    nodes.push(Node::start(Kind::Slotbox, true));
    tool_ok(&["add-node", &nodes[4].hostport(), &entry, "--cluster-slave"]);
    let gone = nodes[4].id();
    assert!(wait_for(|| nodes[..4].iter().all(|n| text(&n.call(&["CLUSTER", "NODES"])).contains(&gone))));
    let out = tool_ok(&["del-node", &entry, &gone]);
    assert!(out.contains(">>> Sending CLUSTER RESET SOFT to the deleted node."), "{out}");
    for n in &nodes[..4] {
        assert!(!text(&n.call(&["CLUSTER", "NODES"])).contains(&gone), "{} still knows the deleted node", n.port);
    }
}

/// Write `n` keys `{tag}i` on `node`.
fn fill_slot(node: &Node, tag: &str, n: usize) -> Vec<String> {
    let keys: Vec<String> = (0..n).map(|i| format!("{{{tag}}}{i}")).collect();
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(node.call(&["SET", k, &i.to_string()]), Frame::ok());
    }
    keys
}

#[test]
fn fix_closes_slots_left_open() {
    let nodes = start_nodes(Kind::Slotbox, 3);
    create(&nodes, 0);
    let entry = nodes[0].hostport();
    let (a, b) = (&nodes[0], &nodes[1]);
    let (a_id, b_id) = (a.id(), b.id());
    let open = |node: &Node, slot: u16, state: &str, other: &str| {
        assert_eq!(node.call(&["CLUSTER", "SETSLOT", &slot.to_string(), state, other]), Frame::ok());
    };
    // Slot of "fixme": a reshard stopped right after opening it on both sides.
    let (s1, s2) = (key_hash_slot(b"fixme"), key_hash_slot(b"b1"));
    assert!(s1 <= 5460 && s2 <= 5460, "both slots belong to the first master");
    let k1 = fill_slot(a, "fixme", 100);
    open(b, s1, "IMPORTING", &a_id);
    open(a, s1, "MIGRATING", &b_id);
    // Slot of "b1": stopped after moving 30 of 100 keys.
    let k2 = fill_slot(a, "b1", 100);
    open(b, s2, "IMPORTING", &a_id);
    open(a, s2, "MIGRATING", &b_id);
    let mut migrate: Vec<String> = ["MIGRATE", "127.0.0.1", &b.port.to_string(), "", "0", "5000", "KEYS"].map(String::from).to_vec();
    migrate.extend(k2[..30].iter().cloned());
    assert_eq!(a.call(&migrate.iter().map(String::as_str).collect::<Vec<_>>()), Frame::ok());
    // Slot 1: left MIGRATING on its owner only.
    open(a, 1, "MIGRATING", &b_id);
    let (ok, out) = tool(&["check", &entry]);
    let mut open_slots = [1, s1, s2];
    open_slots.sort();
    let list = open_slots.map(|s| s.to_string()).join(",");
    assert!(!ok && out.contains(&format!("[WARNING] The following slots are open: {list}.")), "{out}");
    let out = tool_ok(&["fix", &entry]);
    assert!(out.contains(&format!(">>> Case 1: Moving slot {s1} from {} to {}", a.hostport(), b.hostport())), "{out}");
    assert!(out.contains(&format!(">>> Case 2: Moving all the {s2} slot keys to its owner {}", a.hostport())), "{out}");
    assert!(out.contains(&format!(">>> Case 4: Closing slot 1 on {}", a.hostport())), "{out}");
    check_converges(&entry);
    assert_eq!(b.call(&["CLUSTER", "COUNTKEYSINSLOT", &s1.to_string()]), Frame::Integer(100));
    assert_eq!(a.call(&["CLUSTER", "COUNTKEYSINSLOT", &s2.to_string()]), Frame::Integer(100));
    let mut con = cluster_client(&nodes);
    for keys in [k1, k2] {
        for (i, k) in keys.iter().enumerate() {
            let v: Option<usize> = redis::cmd("GET").arg(k).query(&mut con).unwrap();
            assert_eq!(v, Some(i), "{k}");
        }
    }
}

#[test]
fn errors_name_the_node_and_exit_non_zero() {
    let dead = free_port_pair();
    let (ok, out) = tool(&["check", &format!("127.0.0.1:{dead}")]);
    assert!(!ok && out.contains(&format!("Could not connect to Redis at 127.0.0.1:{dead}: Connection refused")), "{out}");
    let standalone = Node::start(Kind::Slotbox, false);
    let (ok, out) = tool(&["info", &standalone.hostport()]);
    assert!(!ok && out.contains(&format!("[ERR] Node {} is not configured as a cluster node.", standalone.hostport())), "{out}");
    let nodes = start_nodes(Kind::Slotbox, 4);
    assert_eq!(nodes[2].call(&["CLUSTER", "MEET", "127.0.0.1", &nodes[3].port.to_string()]), Frame::ok());
    let args: Vec<String> = nodes.iter().map(Node::hostport).collect();
    let (ok, out) = tool(&["create", &args[0], &args[1], &args[2], "--cluster-yes"]);
    assert!(!ok && out.contains(&format!("[ERR] Node {} is not empty.", args[2])), "{out}");
    let (ok, out) = tool(&["create", &args[0], &args[1], "--cluster-yes"]);
    assert!(!ok && out.contains("*** Redis Cluster requires at least 3 master nodes."), "{out}");
    let (ok, out) = tool(&["reshard"]);
    assert!(!ok && out.contains("[ERR] Wrong number of arguments for specified --cluster sub command"), "{out}");
}
