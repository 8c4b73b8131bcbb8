//! slotbox-proxy operations over real sockets and the real binary: SIGHUP hot reload adding
//! and removing backends while a client stays connected, the Prometheus metrics endpoint
//! (`--metrics-port` and the embedded API), a unix socket `listen:`, `server_connections: 2`
//! keeping pipelined order, `client_connections` closing excess clients, and `preconnect`.
//! Every wait is bounded; the binary is killed when its test ends.

mod common;

use common::{
    bulk, encode_command, free_port, simple, slotbox_proxy_binary, wait_for, wait_until_value, RawClient, TempDir, WAIT,
};
use slotbox::protocol::resp_parse::parse_frame;
use slotbox::protocol::Frame;
use slotbox::Server;
use slotbox_proxy::{ListenAddr, Options, Proxy};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

fn yaml(listen: &str, extra: &str, servers: &[SocketAddr]) -> String {
    let mut y = format!("alpha:\n  listen: {listen}\n  redis: true\n{extra}  servers:\n");
    for s in servers {
        y.push_str(&format!("   - {s}:1\n"));
    }
    y
}

fn dbsize(s: &Server) -> i64 {
    match RawClient::connect(s.addr()).call(&["DBSIZE"]) {
        Frame::Integer(n) => n,
        other => panic!("DBSIZE: {other:?}"),
    }
}

/// Connections the backend sees, less the one asking.
fn backend_clients(s: &Server) -> usize {
    let Frame::Bulk(list) = RawClient::connect(s.addr()).call(&["CLIENT", "LIST"]) else { panic!("CLIENT LIST") };
    String::from_utf8_lossy(&list).lines().filter(|l| !l.trim().is_empty()).count() - 1
}

/// `GET path` over HTTP/1.0; returns the whole response.
fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("connect to metrics");
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// The value of the sample line that starts with `series` (name and labels).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
}

/// The proxy binary, killed on drop.
struct ProxyProcess {
    child: Child,
    _dir: TempDir,
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill").args([sig, &child.id().to_string()]).status().map(|s| s.success());
    assert!(matches!(ok, Ok(true)), "kill {sig} failed");
}

#[test]
fn sighup_reload_adds_and_removes_backends_without_dropping_clients() {
    let servers: Vec<Server> = (0..3).map(|_| Server::start().unwrap()).collect();
    let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr()).collect();
    let dir = TempDir::new("proxy-reload");
    let conf = dir.path().join("nutcracker.yml");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    std::fs::write(&conf, yaml(&listen, "", &addrs[..2])).unwrap();
    let (stats_port, metrics_port) = (free_port(), free_port());
    let log = std::fs::File::create(dir.path().join("proxy.log")).unwrap();
    let child = Command::new(slotbox_proxy_binary())
        .arg("-c")
        .arg(&conf)
        .args(["-a", "127.0.0.1", "-s", &stats_port.to_string(), "--metrics-port", &metrics_port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start slotbox-proxy");
    let log_path = dir.path().join("proxy.log");
    let proc = ProxyProcess { child, _dir: dir };
    // Each SIGHUP ends with one line in the log: "reloaded" or "keeping the running
    // configuration". Wait for it before writing the file again, so every reload reads the
    // file written for it.
    let log_lines = |needle: &str| std::fs::read_to_string(&log_path).unwrap_or_default().matches(needle).count();
    let reload_done = |needle: &str, n: usize| {
        wait_until_value(WAIT, &format!("log line {n} with {needle:?}"), || log_lines(needle), |&c| c >= n);
    };
    let mut c = RawClient::connect(listen.parse().unwrap());
    for i in 0..200 {
        assert_eq!(c.call(&["SET", &format!("r{i}"), "v"]), simple("OK"));
    }
    assert_eq!(dbsize(&servers[2]), 0, "not configured yet");

    // Add the third backend: new writes start landing on it, over the same connection.
    std::fs::write(&conf, yaml(&listen, "", &addrs)).unwrap();
    signal(&proc.child, "-HUP");
    reload_done("reloaded '", 1);
    let mut n = 0;
    let landed = wait_for(LIMIT, || {
        for _ in 0..50 {
            assert_eq!(c.call(&["SET", &format!("n{n}"), "v"]), simple("OK"), "the client keeps its connection");
            n += 1;
        }
        dbsize(&servers[2]) > 0
    });
    assert!(landed, "keys never reached the added backend");

    // An invalid file is ignored: the proxy keeps serving with what it runs.
    std::fs::write(&conf, "alpha:\n  listen: [broken\n").unwrap();
    signal(&proc.child, "-HUP");
    reload_done("keeping the running configuration", 1);
    assert_eq!(c.call(&["SET", "probe", "v"]), simple("OK"));
    assert_eq!(c.call(&["GET", "probe"]), bulk("v"));

    // Remove the first backend: nothing new lands there any more.
    std::fs::write(&conf, yaml(&listen, "", &addrs[1..])).unwrap();
    signal(&proc.child, "-HUP");
    reload_done("reloaded '", 2);
    let removed = wait_for(LIMIT, || {
        let before = dbsize(&servers[0]);
        for i in 0..100 {
            c.call(&["SET", &format!("after{n}-{i}"), "v"]);
        }
        n += 1;
        dbsize(&servers[0]) == before
    });
    assert!(removed, "keys still land on the removed backend");
    assert_eq!(c.call(&["PING"]), simple("PONG"));

    // The binary serves Prometheus metrics on --metrics-port.
    let metrics: SocketAddr = format!("127.0.0.1:{metrics_port}").parse().unwrap();
    let text = http_get(metrics, "/metrics");
    assert!(text.starts_with("HTTP/1.0 200 OK"), "{text}");
    assert!(sample(&text, "slotbox_proxy_pool_requests_total{pool=\"alpha\"}") > 200.0);
}

#[test]
fn metrics_endpoint_counts_requests_and_latency() {
    let servers: Vec<Server> = (0..2).map(|_| Server::start().unwrap()).collect();
    let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr()).collect();
    let mut proxy =
        Proxy::start(&yaml("127.0.0.1:0", "", &addrs), Options { workers: 1, stats_addr: None, ..Default::default() })
            .unwrap();
    let maddr = proxy.serve_metrics("127.0.0.1:0").unwrap();
    let mut c = RawClient::connect(proxy.addrs()[0]);
    for i in 0..20 {
        c.call(&["SET", &format!("m{i}"), "v"]);
    }
    let first = http_get(maddr, "/metrics");
    // Short keys that differ only in their last bytes hash close together under fnv1a_64
    // (nutcracker's default), so they may all land on one backend: follow the busier one.
    let requests_of = |a: &SocketAddr| {
        sample(&first, &format!("slotbox_proxy_backend_requests_total{{pool=\"alpha\",backend=\"{a}\"}}"))
    };
    let busiest = addrs.iter().max_by(|a, b| requests_of(a).total_cmp(&requests_of(b))).unwrap();
    let backend = format!("{busiest}");
    let series = |m: &str| format!("slotbox_proxy_backend_{m}{{pool=\"alpha\",backend=\"{backend}\"}}");
    assert!(first.contains("Content-Type: text/plain; version=0.0.4"), "{first}");
    assert!(first.contains("# TYPE slotbox_proxy_backend_latency_seconds histogram"));
    assert!(first.contains(&format!(
        "slotbox_proxy_backend_latency_seconds_bucket{{pool=\"alpha\",backend=\"{backend}\",le=\"+Inf\"}}"
    )));
    let requests = sample(&first, "slotbox_proxy_pool_requests_total{pool=\"alpha\"}");
    assert!(requests >= 20.0, "{requests}");
    let backend_requests = sample(&first, &series("requests_total"));
    let count =
        sample(&first, &format!("slotbox_proxy_backend_latency_seconds_count{{pool=\"alpha\",backend=\"{backend}\"}}"));
    assert!(backend_requests > 0.0 && count > 0.0, "{backend}: {first}");
    assert_eq!(sample(&first, "slotbox_proxy_pool_client_connections{pool=\"alpha\"}"), 1.0);
    assert!(matches!(c.call(&["NOSUCH"]), Frame::Error(_)));
    for i in 0..20 {
        c.call(&["GET", &format!("m{i}")]);
    }
    let second = http_get(maddr, "/metrics");
    assert!(sample(&second, "slotbox_proxy_pool_requests_total{pool=\"alpha\"}") >= requests + 21.0);
    assert!(sample(&second, "slotbox_proxy_pool_errors_total{pool=\"alpha\"}") >= 1.0);
    assert!(sample(&second, &series("requests_total")) > backend_requests);
    assert!(sample(&second, &series("responses_total")) > backend_requests);
    assert!(http_get(maddr, "/other").starts_with("HTTP/1.0 404"));
}

/// One RESP call over a unix socket.
fn unix_call(s: &mut std::os::unix::net::UnixStream, args: &[&str]) -> Frame {
    s.write_all(&encode_command(args)).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some((f, _)) = parse_frame(&buf).unwrap() {
            return f;
        }
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "proxy closed the unix socket");
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[test]
fn unix_socket_listen_serves_clients() {
    let server = Server::start().unwrap();
    let dir = TempDir::new("proxy-unix");
    let path = dir.path().join("proxy.sock");
    let listen = format!("{} 0770", path.display());
    let proxy = Proxy::start(
        &yaml(&listen, "", &[server.addr()]),
        Options { workers: 1, stats_addr: None, ..Default::default() },
    )
    .unwrap();
    assert_eq!(proxy.listen_addrs(), &[ListenAddr::Unix(path.clone())]);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o770);
    let mut s = std::os::unix::net::UnixStream::connect(&path).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    assert_eq!(unix_call(&mut s, &["SET", "u", "1"]), simple("OK"));
    assert_eq!(unix_call(&mut s, &["GET", "u"]), bulk("1"));
    assert_eq!(RawClient::connect(server.addr()).call(&["GET", "u"]), bulk("1"));
    drop(proxy);
    assert!(!path.exists(), "the socket file is removed when the proxy stops");
}

#[test]
fn two_server_connections_keep_pipelined_order() {
    let server = Server::start().unwrap();
    let extra = "  server_connections: 2\n";
    let proxy = Proxy::start(
        &yaml("127.0.0.1:0", extra, &[server.addr()]),
        Options { workers: 1, stats_addr: None, ..Default::default() },
    )
    .unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let addr = proxy.addrs()[0];
            std::thread::spawn(move || {
                let mut c = RawClient::connect(addr);
                let mut batch = Vec::new();
                for i in 0..300 {
                    batch.extend(encode_command(&["SET", &format!("o{t}:{i}"), &i.to_string()]));
                    batch.extend(encode_command(&["INCR", &format!("o{t}:n")]));
                    batch.extend(encode_command(&["GET", &format!("o{t}:{i}")]));
                }
                c.send_raw(&batch);
                for i in 0..300 {
                    assert_eq!(c.read_reply().0, simple("OK"));
                    assert_eq!(c.read_reply().0, Frame::Integer(i + 1), "replies in request order");
                    assert_eq!(c.read_reply().0, bulk(&i.to_string()));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
    // Connections the proxy opened are accepted by the backend on its own time.
    wait_until_value(WAIT, "one worker, two connections to the backend", || backend_clients(&server), |&n| n == 2);
}

#[test]
fn client_connections_limit_closes_excess_clients() {
    let server = Server::start().unwrap();
    let extra = "  client_connections: 2\n";
    let proxy = Proxy::start(
        &yaml("127.0.0.1:0", extra, &[server.addr()]),
        Options { workers: 1, stats_addr: None, ..Default::default() },
    )
    .unwrap();
    let mut a = RawClient::connect(proxy.addrs()[0]);
    let mut b = RawClient::connect(proxy.addrs()[0]);
    assert_eq!(a.call(&["PING"]), simple("PONG"));
    assert_eq!(b.call(&["PING"]), simple("PONG"));
    let mut c = RawClient::connect(proxy.addrs()[0]);
    assert!(c.try_call(&["PING"]).is_err() || c.is_closed_by_server(), "a third client is closed");
    drop(a);
    let admitted = wait_for(LIMIT, || {
        RawClient::try_connect(proxy.addrs()[0])
            .is_ok_and(|mut d| matches!(d.try_call(&["PING"]), Ok(Frame::Simple(_))))
    });
    assert!(admitted, "a slot frees up when a client leaves");
    assert!(proxy.stats_json().contains("\"alpha\""));
}

#[test]
fn preconnect_opens_backend_connections_at_start() {
    let servers: Vec<Server> = (0..2).map(|_| Server::start().unwrap()).collect();
    let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr()).collect();
    let extra = "  preconnect: true\n  server_connections: 2\n";
    let _proxy = Proxy::start(
        &yaml("127.0.0.1:0", extra, &addrs),
        Options { workers: 1, stats_addr: None, ..Default::default() },
    )
    .unwrap();
    for s in &servers {
        assert!(wait_for(LIMIT, || backend_clients(s) == 2), "no client yet, but 2 connections to {}", s.addr());
    }
}

/// By default a new client goes to the first worker with room, so clients of a light load
/// start out together and never need moving (dealt round-robin, as in the next test, half
/// of them move within about half a second).
#[test]
fn light_load_clients_start_on_one_worker() {
    let server = Server::start().unwrap();
    let proxy =
        Proxy::start(&yaml("127.0.0.1:0", "", &[server.addr()]), Options { workers: 2, ..Default::default() }).unwrap();
    let mut clients: Vec<RawClient> = (0..4).map(|_| RawClient::connect(proxy.addr())).collect();
    // A window in which something must NOT happen (a move): the time is the point, not a
    // stand-in for a state. A loaded machine only makes the proxy's CPU share per window
    // smaller, which never calls for a spread.
    let until = std::time::Instant::now() + Duration::from_millis(1500);
    while std::time::Instant::now() < until {
        for (i, c) in clients.iter_mut().enumerate() {
            assert_eq!(c.call(&["SET", &format!("k{i}"), "v"]), simple("OK"));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(sample(&proxy.metrics_text(), "slotbox_proxy_client_moves_total"), 0.0);
}

/// Dealt round-robin over two workers, a light load's clients of the second worker are moved to the first
/// between their requests (`slotbox_proxy_client_moves_total`), and nothing a client sees
/// changes: every reply is the right one, in order, on the same connection.
#[test]
fn light_load_gathers_clients_on_one_worker_invisibly() {
    let server = Server::start().unwrap();
    let proxy = Proxy::start(
        &yaml("127.0.0.1:0", "", &[server.addr()]),
        Options { workers: 2, stats_addr: None, round_robin: true, ..Default::default() },
    )
    .unwrap();
    let moves = |p: &Proxy| sample(&p.metrics_text(), "slotbox_proxy_client_moves_total");
    let mut clients: Vec<RawClient> = (0..4).map(|_| RawClient::connect(proxy.addr())).collect();
    let deadline = std::time::Instant::now() + LIMIT;
    let mut round = 0u64;
    while moves(&proxy) < 2.0 && std::time::Instant::now() < deadline {
        for (i, c) in clients.iter_mut().enumerate() {
            let key = format!("k{i}");
            let value = format!("{round}");
            assert_eq!(c.call(&["SET", &key, &value]), simple("OK"));
            assert_eq!(c.call(&["GET", &key]), bulk(&value), "client {i} round {round}");
        }
        round += 1;
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(moves(&proxy) >= 2.0, "no client moved after {round} light rounds");
    // Moved clients keep working, pipelines included.
    for (i, c) in clients.iter_mut().enumerate() {
        let mut batch = Vec::new();
        for n in 0..100 {
            batch.extend(encode_command(&["SET", &format!("p{i}:{n}"), &n.to_string()]));
            batch.extend(encode_command(&["GET", &format!("p{i}:{n}")]));
        }
        c.send_raw(&batch);
        for n in 0..100 {
            assert_eq!(c.read_reply().0, simple("OK"));
            assert_eq!(c.read_reply().0, bulk(&n.to_string()));
        }
    }
}
