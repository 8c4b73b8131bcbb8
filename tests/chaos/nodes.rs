//! The chaos cluster's processes: six release `slotbox-server`s on free loopback port pairs
//! (client port and bus port + 10000), each with its own directory in one temp dir, assembled
//! by the release `slotbox-cluster create --cluster-replicas 1`. Faults act on them by pid only:
//! SIGSTOP / SIGCONT (`kill -STOP <pid>`), kill -9, and a restart on the same port and
//! directory (so the node comes back from its nodes.conf).
//!
//! Each node carries its state (up, paused, down) and a change counter, so a client whose
//! command went unanswered can tell a stall from a node that was paused or killed meanwhile.
//! Dropping the cluster resumes and kills every process it started.

use crate::common::{run_bounded, RawClient, TempDir};
use slotbox::protocol::Frame;
use std::fs::OpenOptions;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `cluster-node-timeout` of the chaos nodes (ms): short, so failovers happen within seconds.
pub const NODE_TIMEOUT_MS: u64 = 3000;
/// `repl-timeout` (s): a replica paused longer than this is dropped by its master.
pub const REPL_TIMEOUT_S: u64 = 6;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NodeState {
    Up = 0,
    Paused = 1,
    Down = 2,
}

pub struct Node {
    pub port: u16,
    pub dir: PathBuf,
    child: Mutex<Option<Child>>,
    state: AtomicU8,
    changes: AtomicU64,
}

impl Node {
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn state(&self) -> NodeState {
        match self.state.load(Ordering::SeqCst) {
            0 => NodeState::Up,
            1 => NodeState::Paused,
            _ => NodeState::Down,
        }
    }

    /// Bumped on every pause, resume, kill and restart.
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::SeqCst)
    }

    fn set_state(&self, s: NodeState) {
        self.changes.fetch_add(1, Ordering::SeqCst);
        self.state.store(s as u8, Ordering::SeqCst);
        self.changes.fetch_add(1, Ordering::SeqCst);
    }

    fn pid(&self) -> Option<u32> {
        self.child.lock().unwrap().as_ref().map(Child::id)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("log")
    }

    /// Append a marker line to the node's log (so the log shows where faults happened).
    pub fn mark(&self, msg: &str) {
        if let Ok(mut f) = OpenOptions::new().append(true).create(true).open(self.log_path()) {
            let _ = writeln!(f, "==== chaos: {msg}");
        }
    }

    /// The last `n` lines of the node's log.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

pub struct Cluster {
    pub nodes: Vec<Node>,
    server: PathBuf,
    tool: PathBuf,
    _root: TempDir,
}

/// A free port whose bus port (+10000) is free too.
fn free_port_pair() -> u16 {
    for _ in 0..500 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local_addr").port();
        if port < 55000 && TcpListener::bind(("127.0.0.1", port + 10000)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair on 127.0.0.1");
}

/// `target/release/<name>` next to this test's target directory, or `$CHAOS_BIN_DIR/<name>`
/// (to run the same schedule against another build, e.g. an older commit's).
pub fn release_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let release = exe.ancestors().nth(3).expect("target dir").join("release");
    let dir = std::env::var_os("CHAOS_BIN_DIR").map_or(release, PathBuf::from);
    let bin = dir.join(name);
    assert!(
        bin.is_file(),
        "{} is missing: build it with `cargo build --release -p slotbox-server -p slotbox-cluster` \
         (make test and make chaos do)",
        bin.display()
    );
    bin
}

impl Cluster {
    /// Start `n` nodes (not yet a cluster).
    pub fn start(n: usize) -> Cluster {
        let root = TempDir::new("chaos");
        let mut cluster = Cluster {
            nodes: Vec::new(),
            server: release_binary("slotbox-server"),
            tool: release_binary("slotbox-cluster"),
            _root: root,
        };
        for i in 0..n {
            let dir = cluster._root.path().join(format!("node{i}"));
            std::fs::create_dir_all(&dir).expect("node dir");
            cluster.nodes.push(Node {
                port: 0,
                dir,
                child: Mutex::new(None),
                state: AtomicU8::new(NodeState::Down as u8),
                changes: AtomicU64::new(0),
            });
        }
        for i in 0..n {
            cluster.first_start(i);
        }
        cluster
    }

    /// Start node `i` on a fresh port pair, retrying on another pair if it was taken meanwhile.
    fn first_start(&mut self, i: usize) {
        let mut last = String::new();
        for _ in 0..5 {
            self.nodes[i].port = free_port_pair();
            match self.spawn(i) {
                Ok(()) => return,
                Err(e) => last = e,
            }
        }
        panic!("node {i} did not start: {last}");
    }

    /// Spawn node `i` on its port and directory; wait (bounded) until it answers PING.
    fn spawn(&self, i: usize) -> Result<(), String> {
        let node = &self.nodes[i];
        let log = OpenOptions::new().append(true).create(true).open(node.log_path()).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&self.server);
        cmd.args(server_args(node.port, &node.dir));
        cmd.stdin(Stdio::null()).stdout(log.try_clone().map_err(|e| e.to_string())?).stderr(log);
        let mut child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", self.server.display()))?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("exited with {status}:\n{}", node.log_tail(10)));
            }
            if let Ok(mut c) = RawClient::try_connect(node.addr()) {
                if matches!(c.try_call(&["PING"]), Ok(Frame::Simple(_))) {
                    *node.child.lock().unwrap() = Some(child);
                    node.set_state(NodeState::Up);
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(format!("not answering PING after 20 s:\n{}", node.log_tail(10)))
    }

    pub fn hostport(&self, i: usize) -> String {
        format!("127.0.0.1:{}", self.nodes[i].port)
    }

    pub fn index_of(&self, port: u16) -> Option<usize> {
        self.nodes.iter().position(|n| n.port == port)
    }

    /// SIGSTOP node `i` (marked paused first, so clients excuse its silence).
    pub fn pause(&self, i: usize) {
        self.nodes[i].set_state(NodeState::Paused);
        self.signal(i, "-STOP");
    }

    /// SIGCONT node `i`.
    pub fn resume(&self, i: usize) {
        self.signal(i, "-CONT");
        self.nodes[i].set_state(NodeState::Up);
    }

    fn signal(&self, i: usize, sig: &str) {
        let Some(pid) = self.nodes[i].pid() else { return };
        let ok = Command::new("kill").args([sig, &pid.to_string()]).status().map(|s| s.success());
        assert!(matches!(ok, Ok(true)), "kill {sig} {pid} failed");
    }

    /// kill -9 node `i` and reap it.
    pub fn kill(&self, i: usize) {
        self.nodes[i].set_state(NodeState::Down);
        if let Some(mut child) = self.nodes[i].child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start node `i` again on its port and directory (it reloads its nodes.conf).
    pub fn restart(&self, i: usize) -> Result<(), String> {
        let mut last = String::new();
        // The port may linger briefly after a kill -9; retry for a few seconds.
        for _ in 0..10 {
            match self.spawn(i) {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        Err(last)
    }

    /// Run `slotbox-cluster <args>` with a time limit; (success, stdout + stderr).
    pub fn tool(&self, args: &[String], limit: Duration) -> (bool, String) {
        let mut cmd = Command::new(&self.tool);
        cmd.args(args).env_remove("REDISCLI_AUTH").env_remove("REDISCLI_CLUSTER_YES");
        match run_bounded(&mut cmd, limit) {
            Some((status, out, err)) => (status.success(), format!("{out}{err}")),
            None => (false, format!("slotbox-cluster {} did not finish within {limit:?}", args.join(" "))),
        }
    }

    /// One command on node `i` over a fresh connection (10 s timeouts), unless it is paused
    /// or down.
    pub fn call(&self, i: usize, args: &[&str]) -> Result<Frame, String> {
        if self.nodes[i].state() != NodeState::Up {
            return Err(format!("node {} is {:?}", self.nodes[i].port, self.nodes[i].state()));
        }
        let mut c = RawClient::try_connect(self.nodes[i].addr()).map_err(|e| e.to_string())?;
        c.try_call(args).map_err(|e| e.to_string())
    }

    /// Nodes whose process ended without being killed by the harness (a crash).
    pub fn crashed(&self) -> Vec<String> {
        let mut out = Vec::new();
        for node in &self.nodes {
            let mut child = node.child.lock().unwrap();
            if let Some(Ok(Some(status))) = child.as_mut().map(Child::try_wait) {
                out.push(format!("127.0.0.1:{} exited by itself ({status})", node.port));
                *child = None;
                drop(child);
                node.set_state(NodeState::Down);
            }
        }
        out
    }

    /// Copy every node's log to `dir` (kept for diagnosis after the temp dir is gone).
    pub fn save_logs(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for (i, node) in self.nodes.iter().enumerate() {
            std::fs::copy(node.log_path(), dir.join(format!("node{i}-{}.log", node.port)))?;
        }
        Ok(())
    }

    /// The last `n` lines of every node's log, for a failure report.
    pub fn log_tails(&self, n: usize) -> String {
        let tails = self.nodes.iter().map(|node| {
            format!(
                "---- 127.0.0.1:{} ({:?}) {}/log ----\n{}",
                node.port,
                node.state(),
                node.dir.display(),
                node.log_tail(n)
            )
        });
        tails.collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            if self.nodes[i].state() == NodeState::Paused {
                self.signal(i, "-CONT");
            }
            self.kill(i);
        }
    }
}

/// The command line of a chaos node: cluster mode, no persistence (a restarted node comes
/// back empty and syncs), DEBUG allowed (DEBUG DIGEST), short node and replication timeouts,
/// and a replica output buffer limit low enough that a long pause under big writes hits it.
fn server_args(port: u16, dir: &Path) -> Vec<String> {
    let flags = format!(
        "--port {port} --bind 127.0.0.1 --cluster-enabled yes --appendonly no \
         --cluster-node-timeout {NODE_TIMEOUT_MS} --enable-debug-command yes \
         --repl-timeout {REPL_TIMEOUT_S} --repl-ping-replica-period 1 --loglevel notice"
    );
    let mut args: Vec<String> = flags.split(' ').map(String::from).collect();
    args.extend(["--save".into(), String::new(), "--dir".into(), dir.display().to_string()]);
    args.extend(["--client-output-buffer-limit".into(), "replica 64mb 16mb 5".into()]);
    args
}
