//! Processes for the sentinel tests: data servers (slotbox-server or redis-server) on a
//! chosen or free loopback port, and sentinels (slotbox `--sentinel` or `redis-sentinel`)
//! with a config file of their own. Every process is killed (SIGKILL) when dropped; every
//! wait is bounded.

use crate::common::{free_port, slotbox_server_binary, RawClient, TempDir, WAIT};
use slotbox::protocol::Frame;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Impl {
    Slotbox,
    Redis,
}

/// A child process listening on `port`, killed on drop.
pub struct Proc {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
    pub dir: TempDir,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// `kill -9`.
    pub fn kill(self) {}

    pub fn addr_of(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn client(&self) -> RawClient {
        RawClient::connect(([127, 0, 0, 1], self.port).into())
    }

    pub fn call(&self, args: &[&str]) -> Frame {
        let mut c = self.client();
        c.call(args)
    }

    fn start(mut cmd: Command, port: u16, dir: TempDir) -> Result<Proc, String> {
        let log = dir.path().join("log");
        let out = std::fs::File::create(&log).expect("create log");
        let err = out.try_clone().expect("clone log");
        let child = cmd.stdin(Stdio::null()).stdout(out).stderr(err).spawn().map_err(|e| format!("spawn: {e}"))?;
        let mut p = Proc { child, port, log, dir };
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(st)) = p.child.try_wait() {
                return Err(format!("exited with {st}: {}", p.log_text()));
            }
            if let Ok(mut c) = RawClient::try_connect(([127, 0, 0, 1], port).into()) {
                if matches!(c.try_call(&["PING"]), Ok(Frame::Simple(s)) if &s[..] == b"PONG") {
                    return Ok(p);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("not answering PING: {}", p.log_text()))
    }

    /// A data server on `port` (a free one when `None`), a replica of `master` if given.
    pub fn server(which: Impl, port: Option<u16>, master: Option<u16>) -> Proc {
        let mut last = String::new();
        for _ in 0..5 {
            let port = port.unwrap_or_else(free_port);
            let dir = TempDir::new("sentinel-data");
            let mut cmd = match which {
                Impl::Slotbox => Command::new(slotbox_server_binary()),
                Impl::Redis => Command::new("redis-server"),
            };
            cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir"]);
            cmd.arg(dir.path());
            if which == Impl::Redis {
                cmd.args(["--protected-mode", "no"]);
            }
            if let Some(m) = master {
                cmd.args(["--replicaof", "127.0.0.1", &m.to_string()]);
            }
            match Proc::start(cmd, port, dir) {
                Ok(p) => return p,
                Err(e) => last = e,
            }
        }
        panic!("data server did not start: {last}");
    }

    /// A sentinel watching `mymaster` at `master_port`.
    pub fn sentinel(which: Impl, master_port: u16, quorum: u32, down_after_ms: u64) -> Proc {
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let dir = TempDir::new("sentinel");
            let conf = dir.path().join("sentinel.conf");
            let text = format!(
                "port {port}\nbind 127.0.0.1\ndir {}\nsentinel monitor mymaster 127.0.0.1 {master_port} {quorum}\n\
                 sentinel down-after-milliseconds mymaster {down_after_ms}\nsentinel failover-timeout mymaster 6000\n",
                dir.path().display()
            );
            std::fs::write(&conf, text).expect("write sentinel.conf");
            let cmd = match which {
                Impl::Slotbox => {
                    let mut c = Command::new(slotbox_server_binary());
                    c.arg(&conf).arg("--sentinel");
                    c
                }
                Impl::Redis => {
                    let mut c = Command::new("redis-sentinel");
                    c.arg(&conf);
                    c
                }
            };
            match Proc::start(cmd, port, dir) {
                Ok(p) => return p,
                Err(e) => last = e,
            }
        }
        panic!("sentinel did not start: {last}");
    }
}

/// A field of a RESP2 flat map (`SENTINEL MASTER`'s reply).
pub fn field(f: &Frame, name: &str) -> Option<String> {
    let Frame::Array(items) = f else { return None };
    items.chunks(2).find(|kv| matches!(&kv[0], Frame::Bulk(k) if &k[..] == name.as_bytes())).and_then(|kv| {
        match &kv[1] {
            Frame::Bulk(v) => Some(String::from_utf8_lossy(v).into_owned()),
            _ => None,
        }
    })
}

/// Poll `check` every 50 ms until it returns `Some`, for at most `limit`.
pub fn wait_for<T>(limit: Duration, what: &str, check: impl FnMut() -> Option<T>) -> T {
    try_wait_for(limit, check).unwrap_or_else(|| panic!("timed out after {limit:?} waiting for {what}"))
}

/// [`wait_for`] that gives up with `None` (the caller says what it saw last).
pub fn try_wait_for<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The master address a sentinel reports (`GET-MASTER-ADDR-BY-NAME mymaster`).
pub fn master_port_of(s: &Proc) -> Option<u16> {
    let mut c = RawClient::try_connect(([127, 0, 0, 1], s.port).into()).ok()?;
    match c.try_call(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"]).ok()? {
        Frame::Array(v) if v.len() == 2 => match &v[1] {
            Frame::Bulk(p) => std::str::from_utf8(p).ok()?.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

/// `ROLE` of a data server: ("master", _) or ("slave", master port, link state).
pub fn role(port: u16) -> Option<(String, u16, String)> {
    let mut c = RawClient::try_connect(([127, 0, 0, 1], port).into()).ok()?;
    let Frame::Array(v) = c.try_call(&["ROLE"]).ok()? else { return None };
    let s = |f: &Frame| match f {
        Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    };
    let kind = s(v.first()?);
    if kind == "slave" {
        let port = match v.get(2)? {
            Frame::Integer(p) => *p as u16,
            _ => 0,
        };
        return Some((kind, port, s(v.get(3)?)));
    }
    Some((kind, 0, String::new()))
}

/// Start a master and `n` replicas of the same kind; returns once every replica is linked.
pub fn start_group(which: Impl, n: usize) -> (Proc, Vec<Proc>) {
    let master = Proc::server(which, None, None);
    let replicas: Vec<Proc> = (0..n).map(|_| Proc::server(which, None, Some(master.port))).collect();
    for r in &replicas {
        wait_for(WAIT, "replica link up", || {
            role(r.port).filter(|(k, p, st)| k == "slave" && *p == master.port && st == "connected")
        });
    }
    (master, replicas)
}

/// Wait until every sentinel knows `replicas` replicas and the other sentinels.
pub fn wait_discovery(sentinels: &[Proc], replicas: usize) {
    for s in sentinels {
        wait_for(Duration::from_secs(15), "sentinel discovery", || {
            let f = s.call(&["SENTINEL", "MASTER", "mymaster"]);
            let slaves: usize = field(&f, "num-slaves")?.parse().ok()?;
            let others: usize = field(&f, "num-other-sentinels")?.parse().ok()?;
            (slaves == replicas && others == sentinels.len() - 1).then_some(())
        });
    }
}
