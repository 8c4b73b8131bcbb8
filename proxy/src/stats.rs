//! nutcracker-compatible statistics: counters shared by the workers (relaxed atomics, no
//! locks on the request path) and the JSON document served on the stats port, with
//! nutcracker 0.5's field names (`client_eof`, `server_ejects`, `requests`, ...).

use crate::latency::Histogram;
use parking_lot::Mutex;
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
    /// Times this server was ejected (auto_eject_hosts).
    pub ejects: AtomicU64,
    pub requests: AtomicU64,
    pub request_bytes: AtomicU64,
    pub responses: AtomicU64,
    pub response_bytes: AtomicU64,
    /// Replies that were errors (`-ERR`, `-MOVED`, ...).
    pub error_replies: AtomicU64,
    /// Request-to-reply time of client requests.
    pub latency: Histogram,
    /// For a replica that a pool reads from: 1 while its link to its master is up (it gets
    /// reads), 0 while down (its reads go to the master); -1 for any other backend.
    pub replica_link: AtomicI64,
    /// Requests (and their bytes) queued to be written to the server, and written but not
    /// answered yet, over every worker's connections (sampled by each worker every 10 ms).
    pub in_queue: AtomicI64,
    pub in_queue_bytes: AtomicI64,
    pub out_queue: AtomicI64,
    pub out_queue_bytes: AtomicI64,
    /// Unix ms of the last connection error logged for this backend, and the errors not
    /// logged since (one line a second at most: a dead backend must not flood the log).
    last_error_log_ms: AtomicU64,
    errors_not_logged: AtomicU64,
}

impl ServerStats {
    /// May a connection error be logged now? `Some(n)`: yes, with `n` errors not logged
    /// since the last line; `None`: one was logged less than a second ago.
    pub fn error_log_due(&self) -> Option<u64> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let last = self.last_error_log_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < 1000
            || self.last_error_log_ms.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_err()
        {
            self.errors_not_logged.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(self.errors_not_logged.swap(0, Ordering::Relaxed))
    }

    /// Move the queue gauges by a worker's change.
    pub fn add_queues(&self, in_queue: i64, in_queue_bytes: i64, out_queue: i64, out_queue_bytes: i64) {
        for (g, d) in [
            (&self.in_queue, in_queue),
            (&self.in_queue_bytes, in_queue_bytes),
            (&self.out_queue, out_queue),
            (&self.out_queue_bytes, out_queue_bytes),
        ] {
            if d != 0 {
                g.fetch_add(d, Ordering::Relaxed);
            }
        }
    }
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
    /// Requests received from clients (local commands included).
    pub requests: AtomicU64,
    /// Error replies sent to clients (the proxy's own and the backends').
    pub errors: AtomicU64,
    /// Clients closed at accept because `client_connections` was reached.
    pub client_rejected: AtomicU64,
    /// The near cache (`hot_key_cache:`) is on: its counters are in the stats document.
    pub hot_cache_enabled: AtomicBool,
    /// Reads answered from the near cache.
    pub hot_cache_hits: AtomicU64,
    /// Cacheable reads sent to a backend (fills included).
    pub hot_cache_misses: AtomicU64,
    /// Replies stored in the near cache.
    pub hot_cache_fills: AtomicU64,
    /// Keys dropped because they changed (a server's invalidation, a write through the proxy,
    /// a flush, a lost tracking connection).
    pub hot_cache_invalidations: AtomicU64,
    /// Keys dropped at their TTL.
    pub hot_cache_expirations: AtomicU64,
    /// Keys held now, all workers together.
    pub hot_cache_entries: AtomicI64,
    /// Requests, error replies and latency per command (the metrics endpoint).
    pub commands: crate::cmdstats::CommandStats,
    /// Every backend the pool has had, by address (configured, reloaded, discovered). Locked
    /// only when a backend is added and when stats are read, never per request: workers keep
    /// their own `Arc` of each entry.
    servers: Mutex<Vec<Arc<ServerStats>>>,
}

impl PoolStats {
    pub fn new(name: &str, servers: &[String]) -> PoolStats {
        let p = PoolStats { name: name.to_string(), ..Default::default() };
        for s in servers {
            p.server(s);
        }
        p
    }

    /// The stats of the backend at `addr`, created on first use.
    pub fn server(&self, addr: &str) -> Arc<ServerStats> {
        let mut list = self.servers.lock();
        if let Some(s) = list.iter().find(|s| s.name == addr) {
            return s.clone();
        }
        let s =
            Arc::new(ServerStats { name: addr.to_string(), replica_link: AtomicI64::new(-1), ..Default::default() });
        list.push(s.clone());
        s
    }

    /// Every backend's stats, in the order they were first seen.
    pub fn servers(&self) -> Vec<Arc<ServerStats>> {
        self.servers.lock().clone()
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
    /// Clients moved between workers by load (see `net::balance`).
    pub client_moves: AtomicU64,
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
            if p.hot_cache_enabled.load(Ordering::Relaxed) {
                let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
                let _ = write!(
                    o,
                    ", \"hot_cache_hits\":{}, \"hot_cache_misses\":{}, \"hot_cache_fills\":{}, \
                     \"hot_cache_invalidations\":{}, \"hot_cache_expirations\":{}, \"hot_cache_entries\":{}",
                    l(&p.hot_cache_hits),
                    l(&p.hot_cache_misses),
                    l(&p.hot_cache_fills),
                    l(&p.hot_cache_invalidations),
                    l(&p.hot_cache_expirations),
                    p.hot_cache_entries.load(Ordering::Relaxed)
                );
            }
            for s in p.servers() {
                let _ = write!(o, ", {}:{}", json_str(&s.name), server_json(&s));
            }
            o.push('}');
        }
        o.push('}');
        o
    }
}

/// nutcracker's per-server fields, plus `replica_link` for a replica a pool reads from.
fn server_json(s: &ServerStats) -> String {
    let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let g = |c: &AtomicI64| c.load(Ordering::Relaxed).max(0);
    let link = match s.replica_link.load(Ordering::Relaxed) {
        -1 => String::new(),
        v => format!(", \"replica_link\":{v}"),
    };
    format!(
        "{{\"server_eof\":{}, \"server_err\":{}, \"server_timedout\":{}, \"server_connections\":{}, \
         \"server_ejected_at\":{}, \"requests\":{}, \"request_bytes\":{}, \"responses\":{}, \
         \"response_bytes\":{}, \"in_queue\":{}, \"in_queue_bytes\":{}, \"out_queue\":{}, \
         \"out_queue_bytes\":{}{link}}}",
        l(&s.server_eof),
        l(&s.server_err),
        l(&s.server_timedout),
        s.server_connections.load(Ordering::Relaxed),
        l(&s.server_ejected_at),
        l(&s.requests),
        l(&s.request_bytes),
        l(&s.responses),
        l(&s.response_bytes),
        g(&s.in_queue),
        g(&s.in_queue_bytes),
        g(&s.out_queue),
        g(&s.out_queue_bytes)
    )
}

/// Serve the stats document to every connection on `listener` (nutcracker writes it and
/// closes) until `stop` is set. With an `interval` (nutcracker's `-i`), the document is
/// aggregated at most once per interval and served as of then; without, it is current.
pub fn serve(listener: TcpListener, stats: Arc<Stats>, stop: Arc<AtomicBool>, interval: Option<Duration>) {
    let _ = listener.set_nonblocking(true);
    let mut aggregated: Option<(std::time::Instant, String)> = None;
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((mut s, _)) => {
                let _ = s.set_nonblocking(false);
                let doc = match interval {
                    None => stats.to_json(),
                    Some(iv) => {
                        if aggregated.as_ref().is_none_or(|(at, _)| at.elapsed() >= iv) {
                            aggregated = Some((std::time::Instant::now(), stats.to_json()));
                        }
                        aggregated.as_ref().map(|(_, d)| d.clone()).unwrap_or_default()
                    }
                };
                let _ = s.write_all(doc.as_bytes());
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

#[cfg(test)]
mod tests {
    #[test]
    fn connection_errors_are_logged_once_a_second_at_most() {
        let s = super::ServerStats::default();
        assert_eq!(s.error_log_due(), Some(0), "the first one is logged");
        assert_eq!(s.error_log_due(), None, "the next within a second is not");
        assert_eq!(s.error_log_due(), None);
        // A second later the line says how many were left out.
        s.last_error_log_ms.fetch_sub(1500, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(s.error_log_due(), Some(2));
    }
}
