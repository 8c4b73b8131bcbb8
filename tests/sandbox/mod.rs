//! A whole sandbox as `make run-cluster` starts it (cluster-tool/scripts/run-cluster.sh: six
//! release nodes, slotbox-proxy, the dashboard), on free loopback ports and in a temp run
//! directory (the script's SLOTBOX_* overrides), so it never meets a user's sandbox. Dropping
//! it runs stop-cluster.sh on that directory and then kills, by pid file, anything left.
//! Shared by tests/dashboard.rs, tests/chaos_cli.rs and tests/tutorial.rs.

#![allow(dead_code)] // each test crate uses a different part

use crate::common::{run_bounded, TempDir};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `target/release/<name>`, building the three release binaries and the client-partitioning
/// example once (bounded).
pub fn release_binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let exe = std::env::current_exe().expect("current_exe");
        let target = exe.ancestors().nth(3).expect("target dir").to_path_buf();
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(["build", "--release", "-p", "slotbox-server", "-p", "slotbox-cluster", "-p", "slotbox-proxy"]);
        cmd.current_dir(root());
        let out = run_bounded(&mut cmd, Duration::from_secs(1200)).expect("cargo build timed out");
        assert!(out.0.success(), "cargo build failed:\n{}", out.2);
        // The tutorial runs the client-side partitioning example.
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(["build", "--release", "-p", "slotbox", "--example", "client_partitioning"]);
        cmd.current_dir(root());
        let out = run_bounded(&mut cmd, Duration::from_secs(1200)).expect("cargo build timed out");
        assert!(out.0.success(), "cargo build failed:\n{}", out.2);
        target.join("release")
    });
    dir.join(name)
}

/// A free port whose bus port (+10000) is free too.
fn free_port_pair(taken: &[u16]) -> u16 {
    for _ in 0..500 {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        if port < 55000 && !taken.contains(&port) && TcpListener::bind(("127.0.0.1", port + 10000)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair");
}

/// The well-known sandbox ports (as README and docs/tutorial.md use them) and the free port
/// this sandbox uses for each.
pub const DEFAULT_PORTS: [u16; 11] = [7000, 7001, 7002, 7003, 7004, 7005, 22121, 22123, 22222, 9121, 7080];

pub struct Sandbox {
    pub dir: TempDir,
    /// Node ports: 3 masters then 3 replicas (as create assigns them).
    pub nodes: Vec<u16>,
    pub proxy: u16,
    pub replica_proxy: u16,
    pub stats: u16,
    pub metrics: u16,
    pub dashboard: u16,
}

impl Sandbox {
    /// Start a sandbox with `node_timeout_ms`; panics (after stopping it) if it does not come up.
    pub fn start(node_timeout_ms: u64) -> Sandbox {
        let dir = TempDir::new("sandbox");
        let mut nodes = Vec::new();
        for _ in 0..6 {
            let p = free_port_pair(&nodes);
            nodes.push(p);
        }
        let mut others = Vec::new();
        while others.len() < 5 {
            let p = crate::common::free_port();
            if !nodes.contains(&p) && !nodes.iter().any(|n| n + 10000 == p) && !others.contains(&p) {
                others.push(p);
            }
        }
        let sb = Sandbox {
            dir,
            nodes,
            proxy: others[0],
            replica_proxy: others[1],
            stats: others[2],
            metrics: others[3],
            dashboard: others[4],
        };
        release_binary("slotbox-server");
        let mut cmd = sb.script("run-cluster.sh");
        cmd.env("SLOTBOX_NODE_TIMEOUT", node_timeout_ms.to_string());
        let out = run_bounded(&mut cmd, Duration::from_secs(60)).expect("run-cluster.sh timed out");
        assert!(out.0.success(), "run-cluster.sh failed:\n{}\n{}", out.1, out.2);
        assert!(out.1.contains(&format!("Dashboard: http://127.0.0.1:{}/", sb.dashboard)), "{}", out.1);
        sb
    }

    /// Environment that points the sandbox scripts at this sandbox.
    pub fn env(&self) -> Vec<(String, String)> {
        let ports: Vec<String> = self.nodes.iter().map(u16::to_string).collect();
        vec![
            ("SLOTBOX_RUN_DIR".into(), self.run_dir().display().to_string()),
            ("SLOTBOX_PORTS".into(), ports.join(" ")),
            ("SLOTBOX_PROXY_PORT".into(), self.proxy.to_string()),
            ("SLOTBOX_REPLICA_PROXY_PORT".into(), self.replica_proxy.to_string()),
            ("SLOTBOX_STATS_PORT".into(), self.stats.to_string()),
            ("SLOTBOX_METRICS_PORT".into(), self.metrics.to_string()),
            ("SLOTBOX_DASHBOARD_PORT".into(), self.dashboard.to_string()),
        ]
    }

    /// Each well-known sandbox port and this sandbox's port in its place.
    pub fn port_map(&self) -> HashMap<u16, u16> {
        let mine =
            [&self.nodes[..], &[self.proxy, self.replica_proxy, self.stats, self.metrics, self.dashboard]].concat();
        DEFAULT_PORTS.iter().copied().zip(mine).collect()
    }

    pub fn run_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }

    fn script(&self, name: &str) -> Command {
        let mut cmd = Command::new(root().join("cluster-tool/scripts").join(name));
        cmd.envs(self.env()).current_dir(root());
        cmd
    }

    /// `slotbox-cluster ARGS`, bounded; (success, stdout + stderr).
    pub fn tool(&self, args: &[&str], limit: Duration) -> (bool, String) {
        let mut cmd = Command::new(release_binary("slotbox-cluster"));
        cmd.args(args).envs(self.env());
        let out = run_bounded(&mut cmd, limit).unwrap_or_else(|| panic!("slotbox-cluster {args:?} timed out"));
        (out.0.success(), format!("{}{}", out.1, out.2))
    }

    /// A node's pid from its pid file.
    pub fn pid(&self, port: u16) -> Option<u32> {
        std::fs::read_to_string(self.run_dir().join(port.to_string()).join("pid")).ok()?.trim().parse().ok()
    }

    /// `GET path` on the dashboard: the body of a 200 answer.
    pub fn http_get(&self, path: &str) -> Option<String> {
        http_get(self.dashboard, path)
    }

    /// Poll the dashboard's JSON until `f` accepts it (at most `limit`).
    pub fn wait_api(&self, limit: Duration, f: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(doc) = self.http_get("/api/cluster").filter(|d| f(d)) {
                return Some(doc);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// A bounded HTTP/1.0 GET on 127.0.0.1:port.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    let (head, body) = body.split_once("\r\n\r\n")?;
    (head.starts_with("HTTP/1.") && head.split_whitespace().nth(1) == Some("200")).then(|| body.to_string())
}

/// Kill every process a pid file under `run` (or one level below) names, if it still is one
/// of ours: `pid`, `*.pid`.
fn kill_leftovers(run: &Path) {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut dirs = vec![run.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(run) {
        dirs.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
    }
    for d in dirs {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name == "pid" || name.ends_with(".pid") {
                files.push(e.path());
            }
        }
    }
    for f in files {
        let Some(pid) = std::fs::read_to_string(&f).ok().and_then(|s| s.trim().parse::<u32>().ok()) else { continue };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if ["slotbox-server", "slotbox-proxy", "slotbox-cluster", "redis-benchmark", "nutcracker"]
            .contains(&comm.trim())
        {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let mut cmd = self.script("stop-cluster.sh");
        let _ = run_bounded(&mut cmd, Duration::from_secs(30));
        kill_leftovers(&self.run_dir());
    }
}
