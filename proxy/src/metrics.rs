//! Prometheus metrics over HTTP/1.0: `GET /metrics` answers the text exposition format
//! (version 0.0.4) built from the same counters as the nutcracker stats port, per pool and
//! per backend, plus each backend's round-trip latency histogram. One plain thread serves it;
//! nothing here is on the request path.

use crate::cmdstats;
use crate::latency::BOUNDS_US;
use crate::stats::{PoolStats, ServerStats, Stats};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn family(o: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

type PoolField = fn(&PoolStats) -> i64;
type ServerField = fn(&ServerStats) -> i64;

fn u(c: &AtomicU64) -> i64 {
    c.load(Ordering::Relaxed) as i64
}

fn i(c: &AtomicI64) -> i64 {
    c.load(Ordering::Relaxed)
}

const POOL_METRICS: &[(&str, &str, &str, PoolField)] =
    &[
        ("requests_total", "counter", "Requests received from clients.", |p| u(&p.requests)),
        ("errors_total", "counter", "Error replies sent to clients.", |p| u(&p.errors)),
        ("client_connections", "gauge", "Open client connections.", |p| i(&p.client_connections)),
        ("client_eof_total", "counter", "Clients that closed their connection.", |p| u(&p.client_eof)),
        ("client_err_total", "counter", "Client connections closed on an error.", |p| u(&p.client_err)),
        ("client_rejected_total", "counter", "Clients closed at the client_connections limit.", |p| {
            u(&p.client_rejected)
        }),
        ("server_ejects_total", "counter", "Backends ejected (auto_eject_hosts).", |p| u(&p.server_ejects)),
        ("forward_errors_total", "counter", "Requests that could not be forwarded.", |p| u(&p.forward_error)),
        ("fragments_total", "counter", "Parts of split multi-key requests.", |p| u(&p.fragments)),
        ("hot_cache_hits_total", "counter", "Reads answered from the near cache (hot_key_cache).", |p| {
            u(&p.hot_cache_hits)
        }),
        ("hot_cache_misses_total", "counter", "Cacheable reads sent to a backend.", |p| u(&p.hot_cache_misses)),
        ("hot_cache_fills_total", "counter", "Replies stored in the near cache.", |p| u(&p.hot_cache_fills)),
        ("hot_cache_invalidations_total", "counter", "Near cache keys dropped because they changed.", |p| {
            u(&p.hot_cache_invalidations)
        }),
        ("hot_cache_expirations_total", "counter", "Near cache keys dropped at their TTL.", |p| {
            u(&p.hot_cache_expirations)
        }),
        ("hot_cache_entries", "gauge", "Keys held in the near cache.", |p| i(&p.hot_cache_entries)),
    ];

const SERVER_METRICS: &[(&str, &str, &str, ServerField)] = &[
    ("requests_total", "counter", "Requests sent to the backend.", |s| u(&s.requests)),
    ("responses_total", "counter", "Replies received from the backend.", |s| u(&s.responses)),
    ("errors_total", "counter", "Backend connection errors.", |s| u(&s.server_err)),
    ("timeouts_total", "counter", "Requests that timed out.", |s| u(&s.server_timedout)),
    ("eof_total", "counter", "Connections the backend closed.", |s| u(&s.server_eof)),
    ("in_queue", "gauge", "Requests waiting to be written to the backend.", |s| i(&s.in_queue)),
    ("out_queue", "gauge", "Requests written to the backend, waiting for their reply.", |s| i(&s.out_queue)),
    ("error_replies_total", "counter", "Error replies from the backend.", |s| u(&s.error_replies)),
    ("ejections_total", "counter", "Times the backend was ejected.", |s| u(&s.ejects)),
    ("connections", "gauge", "Open connections to the backend.", |s| i(&s.server_connections)),
    ("request_bytes_total", "counter", "Request bytes sent.", |s| u(&s.request_bytes)),
    ("response_bytes_total", "counter", "Reply bytes received.", |s| u(&s.response_bytes)),
];

/// The whole exposition text.
pub fn render(stats: &Stats) -> String {
    let mut o = String::new();
    family(&mut o, "slotbox_proxy_build_info", "gauge", "Always 1; the labels name the build.");
    let _ = writeln!(
        o,
        "slotbox_proxy_build_info{{version=\"{}\",nutcracker_version=\"0.5.0\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    crate::process::render(&mut o);
    let uptime = stats.started.elapsed().map(|d| d.as_secs()).unwrap_or(0);
    family(&mut o, "slotbox_proxy_uptime_seconds", "gauge", "Seconds since the proxy started.");
    let _ = writeln!(o, "slotbox_proxy_uptime_seconds {uptime}");
    family(&mut o, "slotbox_proxy_connections_total", "counter", "Client connections accepted.");
    let _ = writeln!(o, "slotbox_proxy_connections_total {}", u(&stats.total_connections));
    family(&mut o, "slotbox_proxy_curr_connections", "gauge", "Open client connections, all pools.");
    let _ = writeln!(o, "slotbox_proxy_curr_connections {}", i(&stats.curr_connections));
    family(&mut o, "slotbox_proxy_client_moves_total", "counter", "Clients moved between workers by load.");
    let _ = writeln!(o, "slotbox_proxy_client_moves_total {}", u(&stats.client_moves));
    for (name, kind, help, get) in POOL_METRICS {
        let full = format!("slotbox_proxy_pool_{name}");
        family(&mut o, &full, kind, help);
        for p in &stats.pools {
            let _ = writeln!(o, "{full}{{pool=\"{}\"}} {}", escape(&p.name), get(p));
        }
    }
    let servers: Vec<_> = stats.pools.iter().map(|p| (escape(&p.name), p.servers())).collect();
    for (name, kind, help, get) in SERVER_METRICS {
        let full = format!("slotbox_proxy_backend_{name}");
        family(&mut o, &full, kind, help);
        for (pool, list) in &servers {
            for s in list {
                let _ = writeln!(o, "{full}{{pool=\"{pool}\",backend=\"{}\"}} {}", escape(&s.name), get(s));
            }
        }
    }
    let full = "slotbox_proxy_backend_replica_link_up";
    family(&mut o, full, "gauge", "1 while a replica's link to its master is up (it serves reads), 0 while down.");
    for (pool, list) in &servers {
        for s in list.iter().filter(|s| i(&s.replica_link) >= 0) {
            let _ = writeln!(o, "{full}{{pool=\"{pool}\",backend=\"{}\"}} {}", escape(&s.name), i(&s.replica_link));
        }
    }
    commands(&mut o, stats);
    let full = "slotbox_proxy_backend_latency_seconds";
    family(&mut o, full, "histogram", "Round-trip time of client requests at the backend.");
    for (pool, list) in &servers {
        for s in list {
            let labels = format!("pool=\"{pool}\",backend=\"{}\"", escape(&s.name));
            histogram(&mut o, full, &labels, &s.latency);
        }
    }
    o
}

/// Per pool and command: requests, error replies and the client-side latency histogram.
fn commands(o: &mut String, stats: &Stats) {
    let rows: Vec<_> = stats
        .pools
        .iter()
        .flat_map(|p| p.commands.used().map(move |(i, r)| (escape(&p.name), cmdstats::name_of(i), r)))
        .collect();
    family(o, "slotbox_proxy_command_requests_total", "counter", "Requests of each command, answered.");
    for (pool, cmd, r) in &rows {
        let _ =
            writeln!(o, "slotbox_proxy_command_requests_total{{pool=\"{pool}\",command=\"{cmd}\"}} {}", u(&r.calls));
    }
    family(o, "slotbox_proxy_command_errors_total", "counter", "Error replies to each command.");
    for (pool, cmd, r) in &rows {
        let _ = writeln!(o, "slotbox_proxy_command_errors_total{{pool=\"{pool}\",command=\"{cmd}\"}} {}", u(&r.errors));
    }
    let full = "slotbox_proxy_command_latency_seconds";
    family(o, full, "histogram", "Time from a request's arrival to its reply being queued to the client.");
    for (pool, cmd, r) in &rows {
        histogram(o, full, &format!("pool=\"{pool}\",command=\"{cmd}\""), &r.latency);
    }
}

/// The `_bucket` / `_sum` / `_count` lines of one histogram.
fn histogram(o: &mut String, full: &str, labels: &str, h: &crate::latency::Histogram) {
    let counts = h.cumulative();
    for (b, c) in BOUNDS_US.iter().zip(&counts) {
        let _ = writeln!(o, "{full}_bucket{{{labels},le=\"{}\"}} {c}", *b as f64 / 1e6);
    }
    let total = counts.last().copied().unwrap_or(0);
    let _ = writeln!(o, "{full}_bucket{{{labels},le=\"+Inf\"}} {total}");
    let _ = writeln!(o, "{full}_sum{{{labels}}} {}", h.sum_seconds());
    let _ = writeln!(o, "{full}_count{{{labels}}} {total}");
}

/// Bind the metrics listener.
pub fn bind(addr: &str) -> std::io::Result<(TcpListener, SocketAddr)> {
    let l = TcpListener::bind(addr)?;
    let a = l.local_addr()?;
    l.set_nonblocking(true)?;
    Ok((l, a))
}

/// Answer HTTP requests on `listener` until `stop` is set.
pub fn serve(listener: TcpListener, stats: Arc<Stats>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((s, _)) => answer(s, &stats),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// One HTTP/1.0 exchange: read the request head, answer, close.
fn answer(mut s: TcpStream, stats: &Stats) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") && head.len() < 8192 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&head);
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, body) = match (method, path) {
        ("GET", "/metrics") => ("200 OK", render(stats)),
        ("GET", _) => ("404 Not Found", "not found: try /metrics\n".to_string()),
        _ => ("405 Method Not Allowed", "only GET /metrics\n".to_string()),
    };
    let resp = format!(
        "HTTP/1.0 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.write_all(resp.as_bytes());
}

#[cfg(test)]
mod tests {
    use crate::stats::{PoolStats, Stats};
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    #[test]
    fn replica_link_gauge_is_shown_for_replicas_only() {
        let pool = Arc::new(PoolStats::new("c", &["m:1".to_string(), "r:2".to_string(), "r:3".to_string()]));
        pool.server("r:2").replica_link.store(1, Ordering::Relaxed);
        pool.server("r:3").replica_link.store(0, Ordering::Relaxed);
        let stats = Stats {
            started: std::time::SystemTime::now(),
            total_connections: Default::default(),
            curr_connections: Default::default(),
            pools: vec![pool],
            client_moves: Default::default(),
        };
        let text = super::render(&stats);
        let lines: Vec<&str> =
            text.lines().filter(|l| l.starts_with("slotbox_proxy_backend_replica_link_up{")).collect();
        assert_eq!(
            lines,
            vec![
                "slotbox_proxy_backend_replica_link_up{pool=\"c\",backend=\"r:2\"} 1",
                "slotbox_proxy_backend_replica_link_up{pool=\"c\",backend=\"r:3\"} 0"
            ]
        );
        let json = stats.to_json();
        assert!(json.contains("\"r:2\":{") && json.contains("\"replica_link\":1}"), "{json}");
        assert!(!json[json.find("\"m:1\"").unwrap()..json.find("\"r:2\"").unwrap()].contains("replica_link"));
    }
}
