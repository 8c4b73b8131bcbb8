//! One hot key under load through slotbox-proxy, without and with the near cache
//! (`hot_key_cache:`), side by side in one run: client throughput, the GETs that reached the
//! backend, and the staleness after a write — the time from a write's acknowledgement until
//! a read through the proxy returns the new value — for writes straight to the backend
//! (invalidated by CLIENT TRACKING) and through the proxy.
//!
//! ```text
//! cargo bench --bench hot_key                       # 8 clients, 5 s per mode
//! cargo bench --bench hot_key -- --clients 16 --seconds 10 --backend 127.0.0.1:6379
//! ```
//!
//! Without `--backend`, an embedded slotbox-server is the backend. Everything runs on
//! 127.0.0.1; numbers are only comparable within one run.

use slotbox_proxy::{Options, Proxy};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEY: &str = "hot:key";
const CACHE: &str = "  hot_key_cache: {size: 1000, ttl_ms: 1000, min_hits: 10}\n";

/// A blocking RESP connection that sends one command and reads one simple reply.
struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn new(addr: SocketAddr) -> Conn {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_nodelay(true).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Conn { s, buf: Vec::with_capacity(4096) }
    }

    /// Send `args`, return the reply's bytes (bulk, simple, integer or error: one line plus
    /// a bulk payload).
    fn call(&mut self, args: &[&str]) -> Vec<u8> {
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        self.s.write_all(req.as_bytes()).unwrap();
        self.buf.clear();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(len) = complete(&self.buf) {
                return self.buf[..len].to_vec();
            }
            let n = self.s.read(&mut chunk).expect("read");
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn get(&mut self) -> Vec<u8> {
        self.call(&["GET", KEY])
    }
}

/// Length of the first whole reply in `b` (only the reply types used here).
fn complete(b: &[u8]) -> Option<usize> {
    let eol = b.windows(2).position(|w| w == b"\r\n")? + 2;
    if b[0] != b'$' {
        return Some(eol);
    }
    let n: i64 = std::str::from_utf8(&b[1..eol - 2]).ok()?.parse().ok()?;
    let total = if n < 0 { eol } else { eol + n as usize + 2 };
    (b.len() >= total).then_some(total)
}

fn backend_gets(backend: SocketAddr) -> u64 {
    let reply = Conn::new(backend).call(&["INFO", "commandstats"]);
    let text = String::from_utf8_lossy(&reply);
    text.lines()
        .find_map(|l| l.strip_prefix("cmdstat_get:calls="))
        .and_then(|r| r.split(',').next()?.parse().ok())
        .unwrap_or(0)
}

struct Outcome {
    ops: u64,
    backend_gets: u64,
    direct: Vec<Duration>,
    proxied: Vec<Duration>,
}

/// After a write acknowledged at `acked` of `value`: how long until the proxy shows it.
fn staleness(reader: &mut Conn, value: &str, acked: Instant) -> Duration {
    let want = format!("${}\r\n{value}\r\n", value.len()).into_bytes();
    let limit = acked + Duration::from_secs(5);
    while reader.get() != want {
        assert!(Instant::now() < limit, "{value} not seen through the proxy within 5 s");
    }
    acked.elapsed()
}

fn run(backend: SocketAddr, cache: &str, clients: usize, secs: u64) -> Outcome {
    let yaml = format!("p:\n  listen: 127.0.0.1:0\n  redis: true\n{cache}  servers:\n   - {backend}:1\n");
    let proxy = Proxy::start(&yaml, Options { workers: 1, ..Default::default() }).expect("proxy");
    let addr = proxy.addr();
    Conn::new(addr).call(&["SET", KEY, "v0"]);
    let (stop, ops) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
    let before = backend_gets(backend);
    let loaders: Vec<_> = (0..clients)
        .map(|_| {
            let (stop, ops) = (stop.clone(), ops.clone());
            std::thread::spawn(move || {
                let mut c = Conn::new(addr);
                while !stop.load(Ordering::Relaxed) {
                    c.get();
                    ops.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let (mut direct, mut proxied) = (Vec::new(), Vec::new());
    let (mut writer, mut via_proxy, mut reader) = (Conn::new(backend), Conn::new(addr), Conn::new(addr));
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_millis(200));
        n += 1;
        let v = format!("direct{n}");
        writer.call(&["SET", KEY, &v]);
        direct.push(staleness(&mut reader, &v, Instant::now()));
        let v = format!("proxied{n}");
        via_proxy.call(&["SET", KEY, &v]);
        proxied.push(staleness(&mut reader, &v, Instant::now()));
    }
    let elapsed = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    loaders.into_iter().for_each(|t| t.join().unwrap());
    let total = ops.load(Ordering::Relaxed);
    Outcome {
        ops: (total as f64 / elapsed.as_secs_f64()) as u64,
        backend_gets: backend_gets(backend) - before,
        direct,
        proxied,
    }
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e6
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let clients: usize = flag("--clients").and_then(|v| v.parse().ok()).unwrap_or(8);
    let secs: u64 = flag("--seconds").and_then(|v| v.parse().ok()).unwrap_or(5);
    let embedded = match flag("--backend") {
        Some(_) => None,
        None => Some(slotbox::Server::start().expect("embedded server")),
    };
    let backend: SocketAddr = match (&embedded, flag("--backend")) {
        (Some(s), _) => s.addr(),
        (None, Some(a)) => a.parse().expect("--backend HOST:PORT"),
        (None, None) => unreachable!(),
    };
    println!("one hot key, {clients} clients doing GET (-P 1), {secs} s per mode, 1 proxy worker, backend {backend}");
    println!("writes every 200 ms: SET straight to the backend, then SET through the proxy");
    println!(
        "{:<12}{:>14}{:>16}{:>18}{:>26}{:>26}",
        "mode", "client GET/s", "backend GETs", "backend GETs/s", "stale direct p50/max us", "stale proxied p50/max us"
    );
    let mut rates = Vec::new();
    for (mode, cache) in [("no cache", ""), ("near cache", CACHE)] {
        let mut o = run(backend, cache, clients, secs);
        println!(
            "{mode:<12}{:>14}{:>16}{:>18}{:>26}{:>26}",
            o.ops,
            o.backend_gets,
            o.backend_gets / secs,
            format!("{:.0} / {:.0}", pct(&mut o.direct, 0.5), pct(&mut o.direct, 1.0)),
            format!("{:.0} / {:.0}", pct(&mut o.proxied, 0.5), pct(&mut o.proxied, 1.0)),
        );
        rates.push((o.ops, o.backend_gets));
    }
    println!(
        "near cache / no cache: client throughput x{:.2}, backend GETs x{:.4}",
        rates[1].0 as f64 / rates[0].0.max(1) as f64,
        rates[1].1 as f64 / rates[0].1.max(1) as f64
    );
}
