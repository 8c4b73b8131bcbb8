//! The proxy's side of the dashboard: fetch slotbox-proxy's Prometheus text (`GET /metrics`,
//! `--metrics-port`), read its per-backend counters and latency histograms, and turn two
//! successive readings into request rates and latency percentiles (interpolated inside the
//! histogram bucket, as Prometheus's `histogram_quantile` does).

use super::model::Backend;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// One backend's counters at one reading.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    pub requests: u64,
    pub connections: i64,
    pub ejections: u64,
    pub replica_link: Option<bool>,
    /// Cumulative `(upper bound in seconds, count)`, `+Inf` last as `f64::INFINITY`.
    pub buckets: Vec<(f64, u64)>,
}

/// Per `(pool, backend)`.
pub type Readings = BTreeMap<(String, String), Reading>;

/// `GET /metrics` from `addr` (bounded by `timeout`): the body.
pub fn fetch(addr: &str, timeout: Duration) -> Result<String, String> {
    let target = addr
        .to_socket_addrs()
        .map_err(|e| format!("{addr}: {e}"))?
        .next()
        .ok_or_else(|| format!("{addr}: no address"))?;
    let mut s = TcpStream::connect_timeout(&target, timeout).map_err(|e| format!("{addr}: {e}"))?;
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.set_write_timeout(Some(timeout));
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: proxy\r\n\r\n").map_err(|e| format!("{addr}: {e}"))?;
    let mut body = Vec::new();
    s.take(16 << 20).read_to_end(&mut body).map_err(|e| format!("{addr}: {e}"))?;
    let text = String::from_utf8_lossy(&body);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| format!("{addr}: not an HTTP reply"))?;
    if !head.starts_with("HTTP/1.") || head.split_whitespace().nth(1) != Some("200") {
        return Err(format!("{addr}: {}", head.lines().next().unwrap_or("")));
    }
    Ok(body.to_string())
}

/// `name{a="x",b="y"} value` into (name, labels, value).
fn sample(line: &str) -> Option<(&str, BTreeMap<&str, String>, f64)> {
    let (lhs, value) = line.rsplit_once(' ')?;
    let value: f64 = value.parse().ok()?;
    let Some((name, labels)) = lhs.split_once('{') else {
        return Some((lhs, BTreeMap::new(), value));
    };
    let mut out = BTreeMap::new();
    for part in labels.trim_end_matches('}').split("\",") {
        let (k, v) = part.split_once("=\"")?;
        out.insert(k, v.trim_end_matches('"').replace("\\\"", "\"").replace("\\\\", "\\"));
    }
    Some((name, out, value))
}

/// Every backend's counters from the exposition text.
pub fn parse(text: &str) -> Readings {
    let mut r = Readings::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((name, labels, v)) = sample(line) else { continue };
        let (Some(pool), Some(backend)) = (labels.get("pool"), labels.get("backend")) else { continue };
        let e = r.entry((pool.clone(), backend.clone())).or_default();
        match name {
            "slotbox_proxy_backend_requests_total" => e.requests = v as u64,
            "slotbox_proxy_backend_connections" => e.connections = v as i64,
            "slotbox_proxy_backend_ejections_total" => e.ejections = v as u64,
            "slotbox_proxy_backend_replica_link_up" => e.replica_link = Some(v > 0.0),
            "slotbox_proxy_backend_latency_seconds_bucket" => {
                let le = labels.get("le").map(String::as_str).unwrap_or("+Inf");
                let bound = if le == "+Inf" { f64::INFINITY } else { le.parse().unwrap_or(f64::INFINITY) };
                e.buckets.push((bound, v as u64));
            }
            _ => {}
        }
    }
    r
}

/// The `q` quantile (0..1) of the observations between two cumulative histograms, in ms.
pub fn quantile(before: &[(f64, u64)], after: &[(f64, u64)], q: f64) -> Option<f64> {
    let counts: Vec<(f64, u64)> = after
        .iter()
        .map(|(b, c)| (*b, c.saturating_sub(before.iter().find(|x| x.0 == *b).map_or(0, |x| x.1))))
        .collect();
    let total = counts.last()?.1;
    if total == 0 {
        return None;
    }
    let rank = q * total as f64;
    let mut lower = (0.0, 0u64);
    for &(bound, cum) in &counts {
        if cum as f64 >= rank {
            if bound.is_infinite() {
                return Some(lower.0 * 1000.0);
            }
            let inside = (cum - lower.1) as f64;
            let frac = if inside > 0.0 { (rank - lower.1 as f64) / inside } else { 1.0 };
            return Some((lower.0 + (bound - lower.0) * frac) * 1000.0);
        }
        lower = (bound, cum);
    }
    None
}

/// The backends table: rates and percentiles over `secs` between two readings.
pub fn backends(before: Option<&Readings>, after: &Readings, secs: f64) -> Vec<Backend> {
    after
        .iter()
        .map(|((pool, backend), now)| {
            let prev = before.and_then(|b| b.get(&(pool.clone(), backend.clone())));
            let q = |q| prev.and_then(|p| quantile(&p.buckets, &now.buckets, q));
            Backend {
                pool: pool.clone(),
                backend: backend.clone(),
                requests_per_sec: prev
                    .filter(|_| secs > 0.0)
                    .map(|p| now.requests.saturating_sub(p.requests) as f64 / secs),
                p50_ms: q(0.5),
                p90_ms: q(0.9),
                p99_ms: q(0.99),
                connections: now.connections,
                ejections: now.ejections,
                replica_link_up: now.replica_link,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# TYPE slotbox_proxy_backend_requests_total counter
slotbox_proxy_backend_requests_total{pool=\"cluster\",backend=\"127.0.0.1:7000\"} 300
slotbox_proxy_backend_ejections_total{pool=\"cluster\",backend=\"127.0.0.1:7000\"} 2
slotbox_proxy_backend_connections{pool=\"cluster\",backend=\"127.0.0.1:7000\"} 4
slotbox_proxy_backend_latency_seconds_bucket{pool=\"cluster\",backend=\"127.0.0.1:7000\",le=\"0.0001\"} 100
slotbox_proxy_backend_latency_seconds_bucket{pool=\"cluster\",backend=\"127.0.0.1:7000\",le=\"0.001\"} 300
slotbox_proxy_backend_latency_seconds_bucket{pool=\"cluster\",backend=\"127.0.0.1:7000\",le=\"+Inf\"} 300
slotbox_proxy_uptime_seconds 5
";

    #[test]
    fn rates_and_percentiles_between_readings() {
        let after = parse(TEXT);
        let key = ("cluster".to_string(), "127.0.0.1:7000".to_string());
        let r = &after[&key];
        assert_eq!((r.requests, r.ejections, r.connections, r.buckets.len()), (300, 2, 4, 3));
        let before: Readings = [(
            key.clone(),
            Reading {
                requests: 100,
                buckets: vec![(0.0001, 100), (0.001, 100), (f64::INFINITY, 100)],
                ..Default::default()
            },
        )]
        .into();
        let table = backends(Some(&before), &after, 2.0);
        assert_eq!(table[0].requests_per_sec, Some(100.0));
        // All 200 new requests fall in (0.1 ms, 1 ms]: the median is halfway, 0.55 ms.
        let p50 = table[0].p50_ms.unwrap();
        assert!((p50 - 0.55).abs() < 1e-9, "{p50}");
        assert_eq!(backends(None, &after, 1.0)[0].p99_ms, None);
    }
}
