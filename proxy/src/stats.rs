//! nutcracker-compatible statistics: counters shared by the workers (relaxed atomics, no
//! locks on the request path) and the JSON document served on the stats port, with
//! nutcracker 0.5's field names (`client_eof`, `server_ejects`, `requests`, ...).

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Counters of one backend server.
#[derive(Debug, Default)]
pub struct ServerStats {
    pub name: String,
    pub server_eof: AtomicU64,
    pub server_err: AtomicU64,
    pub server_timedout: AtomicU64,
    pub server_connections: AtomicI64,
    pub server_ejected_at: AtomicU64,
    pub requests: AtomicU64,
    pub request_bytes: AtomicU64,
    pub responses: AtomicU64,
    pub response_bytes: AtomicU64,
}

/// Counters of one pool.
#[derive(Debug, Default)]
pub struct PoolStats {
    pub name: String,
    pub client_eof: AtomicU64,
    pub client_err: AtomicU64,
    pub client_connections: AtomicI64,
    pub server_ejects: AtomicU64,
    pub forward_error: AtomicU64,
    pub fragments: AtomicU64,
    pub servers: Vec<ServerStats>,
}

impl PoolStats {
    pub fn new(name: &str, servers: &[String]) -> PoolStats {
        PoolStats {
            name: name.to_string(),
            servers: servers.iter().map(|s| ServerStats { name: s.clone(), ..Default::default() }).collect(),
            ..Default::default()
        }
    }

    /// The stats of server `i` (configured servers only; discovered cluster nodes have none).
    pub fn server(&self, i: usize) -> Option<&ServerStats> {
        self.servers.get(i)
    }
}

/// Add one to a counter.
pub fn incr(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// All pools plus process-wide counters.
#[derive(Debug)]
pub struct Stats {
    pub started: SystemTime,
    pub total_connections: AtomicU64,
    pub curr_connections: AtomicI64,
    pub pools: Vec<Arc<PoolStats>>,
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

impl Stats {
    /// The nutcracker stats document.
    pub fn to_json(&self) -> String {
        let uptime = self.started.elapsed().map(|d| d.as_secs()).unwrap_or(0);
        let mut o = format!(
            "{{\"service\":\"nutcracker\", \"source\":\"slotbox-proxy\", \"version\":\"0.5.0\", \
             \"uptime\":{uptime}, \"timestamp\":{}, \"total_connections\":{}, \"curr_connections\":{}",
            now_secs(),
            self.total_connections.load(Ordering::Relaxed),
            self.curr_connections.load(Ordering::Relaxed)
        );
        for p in &self.pools {
            let _ = write!(o, ", {}:{{", json_str(&p.name));
            let _ = write!(
                o,
                "\"client_eof\":{}, \"client_err\":{}, \"client_connections\":{}, \
                 \"server_ejects\":{}, \"forward_error\":{}, \"fragments\":{}",
                p.client_eof.load(Ordering::Relaxed),
                p.client_err.load(Ordering::Relaxed),
                p.client_connections.load(Ordering::Relaxed),
                p.server_ejects.load(Ordering::Relaxed),
                p.forward_error.load(Ordering::Relaxed),
                p.fragments.load(Ordering::Relaxed)
            );
            for s in &p.servers {
                let _ = write!(o, ", {}:{}", json_str(&s.name), server_json(s));
            }
            o.push('}');
        }
        o.push('}');
        o
    }
}

fn server_json(s: &ServerStats) -> String {
    let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
    format!(
        "{{\"server_eof\":{}, \"server_err\":{}, \"server_timedout\":{}, \"server_connections\":{}, \
         \"server_ejected_at\":{}, \"requests\":{}, \"request_bytes\":{}, \"responses\":{}, \
         \"response_bytes\":{}, \"in_queue\":0, \"in_queue_bytes\":0, \"out_queue\":0, \
         \"out_queue_bytes\":0}}",
        l(&s.server_eof),
        l(&s.server_err),
        l(&s.server_timedout),
        s.server_connections.load(Ordering::Relaxed),
        l(&s.server_ejected_at),
        l(&s.requests),
        l(&s.request_bytes),
        l(&s.responses),
        l(&s.response_bytes)
    )
}

/// Serve the stats document to every connection on `listener` (nutcracker writes it and
/// closes) until `stop` is set.
pub fn serve(listener: TcpListener, stats: Arc<Stats>, stop: Arc<AtomicBool>) {
    let _ = listener.set_nonblocking(true);
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((mut s, _)) => {
                let _ = s.set_nonblocking(false);
                let _ = s.write_all(stats.to_json().as_bytes());
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Bind the stats listener.
pub fn bind(addr: &str) -> std::io::Result<(TcpListener, SocketAddr)> {
    let l = TcpListener::bind(addr)?;
    let a = l.local_addr()?;
    Ok((l, a))
}
