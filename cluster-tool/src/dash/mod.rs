//! `slotbox-cluster dashboard HOST:PORT [--listen ADDR] [--proxy-metrics HOST:PORT]
//! [--interval-ms N]`: polls the cluster about once a second (`poll.rs`), keeps the events
//! timeline (`events.rs`) and serves, over tiny_http, the page (`page.html`: plain
//! HTML/JS/SVG, no build step, nothing fetched from elsewhere) and its data as JSON at
//! `GET /api/cluster` (`api.rs`). Runs until killed.

mod api;
mod events;
mod hotkeys;
mod json;
mod model;
mod poll;
mod proxy_metrics;

use crate::conn::Auth;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Events kept in the timeline.
const MAX_EVENTS: usize = 200;
/// The page, with `/*INITIAL*/null` replaced by the current JSON so the first paint needs
/// no request.
const PAGE: &str = include_str!("page.html");

/// The command line of `dashboard`.
#[derive(Debug)]
pub struct DashArgs {
    pub seed: String,
    pub listen: String,
    pub proxy: Option<String>,
    pub interval_ms: u64,
    pub auth: Auth,
}

pub const USAGE: &str = "Usage: slotbox-cluster dashboard HOST:PORT [--listen 127.0.0.1:7080] \
[--proxy-metrics HOST:PORT] [--interval-ms 1000] [-a password] [--user name]";

/// Parse the arguments after `dashboard`.
pub fn parse(argv: &[String]) -> Result<DashArgs, String> {
    let mut a = DashArgs {
        seed: String::new(),
        listen: "127.0.0.1:7080".into(),
        proxy: None,
        interval_ms: 1000,
        auth: Auth::default(),
    };
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--listen" => a.listen = value()?,
            "--proxy-metrics" => a.proxy = Some(value()?),
            "--interval-ms" => {
                let v = value()?;
                a.interval_ms = v
                    .parse()
                    .ok()
                    .filter(|n| (100..=60_000).contains(n))
                    .ok_or_else(|| format!("--interval-ms must be 100 to 60000, not '{v}'"))?;
            }
            "-a" | "--pass" => a.auth.pass = Some(value()?),
            "--user" => a.auth.user = Some(value()?),
            s if s.starts_with('-') => return Err(format!("unknown option '{s}'\n{USAGE}")),
            s if a.seed.is_empty() => a.seed = s.to_string(),
            s => return Err(format!("unexpected argument '{s}'\n{USAGE}")),
        }
    }
    if a.seed.is_empty() {
        return Err(USAGE.into());
    }
    if crate::args::parse_host_port(&a.seed).is_none() {
        return Err(format!("invalid node address '{}': expected HOST:PORT", a.seed));
    }
    if let Some(p) = &a.proxy {
        if crate::args::parse_host_port(p).is_none() {
            return Err(format!("invalid --proxy-metrics address '{p}': expected HOST:PORT"));
        }
    }
    Ok(a)
}

/// The last JSON document: written by the poller, read by the HTTP side.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<String>>);

impl Shared {
    fn set(&self, doc: String) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = doc;
    }

    fn get(&self) -> String {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Unix time in ms.
fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Run the dashboard; returns only on a startup error (the message to print).
pub fn run(a: DashArgs) -> Result<(), String> {
    let server = tiny_http::Server::http(&a.listen).map_err(|e| format!("cannot listen on {}: {e}", a.listen))?;
    let bound = server.server_addr().to_ip().map_or(a.listen.clone(), |s| s.to_string());
    let doc = Shared::default();
    let mut poller = poll::Poller::new(a.seed.clone(), a.auth.clone(), a.proxy.clone());
    let interval = a.interval_ms;
    let first = poller.poll(now_ms());
    doc.set(api::render(&first, &[], interval));
    let writer = doc.clone();
    std::thread::Builder::new()
        .name("dashboard-poll".into())
        .spawn(move || poll_loop(poller, first, writer, interval))
        .map_err(|e| format!("cannot start the poller: {e}"))?;
    println!("slotbox dashboard: http://{bound}/  (polling {} every {interval} ms; JSON at /api/cluster)", a.seed);
    use std::io::Write;
    let _ = std::io::stdout().flush();
    for req in server.incoming_requests() {
        respond(req, &doc);
    }
    Ok(())
}

fn poll_loop(mut poller: poll::Poller, mut prev: model::Snapshot, doc: Shared, interval: u64) {
    let mut timeline: Vec<events::Event> = Vec::new();
    loop {
        std::thread::sleep(Duration::from_millis(interval));
        let snap = poller.poll(now_ms());
        timeline.extend(events::diff(&prev, &snap));
        if timeline.len() > MAX_EVENTS {
            timeline.drain(..timeline.len() - MAX_EVENTS);
        }
        doc.set(api::render(&snap, &timeline, interval));
        prev = snap;
    }
}

fn respond(req: tiny_http::Request, doc: &Shared) {
    let header = |v: &str| tiny_http::Header::from_bytes(&b"Content-Type"[..], v.as_bytes()).ok();
    let path = req.url().split('?').next().unwrap_or("").to_string();
    let (status, body, kind) = if *req.method() != tiny_http::Method::Get {
        (405, "only GET\n".to_string(), "text/plain; charset=utf-8")
    } else {
        match path.as_str() {
            "/" | "/index.html" => (200, PAGE.replace("/*INITIAL*/null", &doc.get()), "text/html; charset=utf-8"),
            "/api/cluster" => (200, doc.get(), "application/json"),
            _ => (404, "not found: try / or /api/cluster\n".to_string(), "text/plain; charset=utf-8"),
        }
    };
    let mut resp = tiny_http::Response::from_string(body).with_status_code(status);
    if let Some(h) = header(kind) {
        resp = resp.with_header(h);
    }
    if let Ok(h) = tiny_http::Header::from_bytes(&b"Cache-Control"[..], &b"no-store"[..]) {
        resp = resp.with_header(h);
    }
    let _ = req.respond(resp);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn command_line() {
        let a = parse(&args("127.0.0.1:7000 --listen 127.0.0.1:0 --proxy-metrics 127.0.0.1:9121")).unwrap();
        assert_eq!((a.seed.as_str(), a.listen.as_str()), ("127.0.0.1:7000", "127.0.0.1:0"));
        assert_eq!(a.proxy.as_deref(), Some("127.0.0.1:9121"));
        assert_eq!(parse(&args("")).unwrap_err(), USAGE);
        assert!(parse(&args("nope")).unwrap_err().starts_with("invalid node address 'nope'"));
        assert!(parse(&args("h:1 --listen")).unwrap_err().starts_with("--listen needs a value"));
        assert!(parse(&args("h:1 --interval-ms 5")).unwrap_err().contains("100 to 60000"));
        assert!(parse(&args("h:1 --bogus")).unwrap_err().starts_with("unknown option '--bogus'"));
    }
}
