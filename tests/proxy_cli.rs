//! slotbox-proxy as a nutcracker drop-in on the command line, with the real binary: an init
//! script's `-d -p -o -v -s -a -i -m` gives a daemon with a pid file and a log (which records
//! ejections, failed connections and the signal that stops it, then the pid file is gone);
//! `-h`, `-V`, `-D` exit 0 as nutcracker's do; a memcached pool (`redis: false`) is refused.
//! Also `--help` / `--version` of every binary, and the stats JSON's queues and `server_eof`
//! (embedded proxy in front of a backend that never answers).
//!
//! Everything listens on 127.0.0.1 free ports; the daemon is killed by its pid on drop; every
//! wait is bounded.

mod common;

use common::{free_port, run_bounded, slotbox_proxy_binary, slotbox_server_binary, wait_for, RawClient, TempDir, WAIT};
use slotbox::protocol::Frame;
use slotbox::Server;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn cluster_tool_binary() -> std::path::PathBuf {
    let bin = slotbox_server_binary().with_file_name("slotbox-cluster");
    if !bin.is_file() {
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(["build", "-p", "slotbox-cluster", "--bin", "slotbox-cluster"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        run_bounded(&mut cmd, Duration::from_secs(600));
    }
    bin
}

/// Run `bin args` to completion (bounded): (exit code, stdout, stderr).
fn run(bin: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let (status, out, err) =
        run_bounded(Command::new(bin).args(args), WAIT).unwrap_or_else(|| panic!("{} {args:?} hung", bin.display()));
    (status.code(), out, err)
}

#[test]
fn help_and_version_exit_zero_on_every_binary() {
    let server = slotbox_server_binary();
    let proxy = slotbox_proxy_binary();
    let tool = cluster_tool_binary();
    for (bin, args, needle) in [
        (&server, &["--help"][..], "Usage: ./slotbox-server"),
        (&server, &["--version"][..], "slotbox-server v="),
        (&proxy, &["--help"][..], "-d, --daemonize"),
        (&proxy, &["-h"][..], "-p, --pid-file=S"),
        (&proxy, &["--version"][..], "This is slotbox-proxy-"),
        (&proxy, &["-V"][..], "nutcracker-0.5.0 compatible"),
        (&proxy, &["-D"][..], "out_queue_bytes     \"current request bytes in outgoing queue\""),
        (&tool, &["--help"][..], "Cluster Manager Commands:"),
        (&tool, &["--version"][..], "slotbox-cluster "),
    ] {
        let (code, out, err) = run(bin, args);
        assert_eq!(code, Some(0), "{} {args:?}: {out}{err}", bin.display());
        assert!(out.contains(needle), "{} {args:?} printed:\n{out}{err}", bin.display());
    }
    let (code, _, err) = run(&proxy, &["-m", "10"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("mbuf chunk size must be between 512 and 16777216 bytes"), "{err}");
}

#[test]
fn a_memcached_pool_is_refused() {
    let dir = TempDir::new("proxy-memcache");
    let conf = dir.path().join("nutcracker.yml");
    std::fs::write(&conf, "mc:\n  listen: 127.0.0.1:22121\n  redis: false\n  servers:\n   - 127.0.0.1:11211:1\n")
        .unwrap();
    let (code, _, err) = run(&slotbox_proxy_binary(), &["-t", "-c", conf.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("pool 'mc': key 'redis': false (a memcached pool) is not supported"), "{err}");
    assert!(err.contains("syntax is invalid"), "{err}");
}

/// A daemon started by pid file; SIGKILLed on drop if still there.
struct Daemon {
    pid: Option<i32>,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
    }
}

fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

#[test]
fn init_style_invocation_gives_a_daemon_with_pid_file_and_log() {
    let backend = Server::start().unwrap();
    let dir = TempDir::new("proxy-daemon");
    let (conf, pidfile, logfile) =
        (dir.path().join("nutcracker.yml"), dir.path().join("nc.pid"), dir.path().join("nc.log"));
    let (port, stats_port, metrics_port) = (free_port(), free_port(), free_port());
    // The second server refuses connections: its requests fail and it is ejected.
    let dead = free_port();
    std::fs::write(
        &conf,
        format!(
            "alpha:\n  listen: 127.0.0.1:{port}\n  redis: true\n  tcpkeepalive: true\n  auto_eject_hosts: true\n  \
             server_failure_limit: 1\n  server_retry_timeout: 60000\n  distribution: modula\n  servers:\n   \
             - {}:1\n   - 127.0.0.1:{dead}:1\n",
            backend.addr()
        ),
    )
    .unwrap();
    let (stats, p, metrics) = (stats_port.to_string(), pidfile.to_str().unwrap().to_string(), metrics_port.to_string());
    #[rustfmt::skip]
    let args = [
        "-d", "-c", conf.to_str().unwrap(), "-p", &p, "-o", logfile.to_str().unwrap(), "-v", "6",
        "-s", &stats, "-a", "127.0.0.1", "-i", "100", "-m", "16384",
        "--workers", "1", "--metrics-addr", "127.0.0.1", "--metrics-port", &metrics,
    ];
    let (code, out, err) = run(&slotbox_proxy_binary(), &args);
    assert_eq!(code, Some(0), "the foreground process returns at once: {out}{err}");
    assert!(out.is_empty() && err.is_empty(), "a daemon prints nothing: {out}{err}");
    let mut daemon = Daemon { pid: None };
    assert!(wait_for(WAIT, || std::fs::read_to_string(&pidfile).is_ok_and(|t| t.trim().parse::<i32>().is_ok())));
    let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    daemon.pid = Some(pid);
    assert!(alive(pid), "the pid file names the running daemon");
    let log = || std::fs::read_to_string(&logfile).unwrap_or_default();
    assert!(wait_for(WAIT, || log().contains(&format!("started on pid {pid}"))), "log:\n{}", log());

    // It serves: keys on the live backend work; the dead one's fail, then it is ejected.
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    assert!(wait_for(WAIT, || RawClient::try_connect(addr).is_ok()));
    let mut c = RawClient::connect(addr);
    let mut errors = 0;
    for i in 0..20 {
        match c.call(&["SET", &format!("k{i}"), "v"]) {
            Frame::Simple(_) => {}
            Frame::Error(_) => errors += 1,
            other => panic!("SET: {other:?}"),
        }
    }
    assert!(errors > 0, "some keys map to the dead backend");
    assert!(
        wait_for(WAIT, || log().contains(&format!("server '127.0.0.1:{dead}' ejected"))),
        "no ejection in the log:\n{}",
        log()
    );
    assert!(log().contains(&format!("connection to server '127.0.0.1:{dead}' failed")), "{}", log());
    // The stats port is the one asked for, on the address asked for.
    let mut json = String::new();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", stats_port)).expect("stats port");
    s.set_read_timeout(Some(WAIT)).unwrap();
    std::io::Read::read_to_string(&mut s, &mut json).unwrap();
    assert!(json.contains("\"service\":\"nutcracker\""), "{json}");
    // The metrics endpoint on the address asked for: the daemon's own process figures.
    let text = http_get(format!("127.0.0.1:{metrics_port}").parse().unwrap(), "/metrics");
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count() as f64;
    assert!((sample(&text, "process_open_fds") - fds).abs() <= 4.0, "open fds vs {fds}:\n{text}");
    let ejected =
        sample(&text, &format!("slotbox_proxy_backend_ejections_total{{pool=\"alpha\",backend=\"127.0.0.1:{dead}\"}}"));
    assert_eq!(ejected, 1.0);

    // -v 6 (info) leaves out debug lines; SIGUSR1 raises the level to 7 (debug), which logs
    // clients accepted.
    assert!(!log().contains("accepted"), "{}", log());
    assert!(Command::new("kill").args(["-USR1", &pid.to_string()]).status().unwrap().success());
    assert!(wait_for(WAIT, || log().contains("up log level to 7")), "{}", log());
    drop(RawClient::connect(addr));
    assert!(wait_for(WAIT, || log().contains("pool 'alpha': client") && log().contains("accepted")), "{}", log());

    // SIGTERM: it logs the signal, removes its pid file and exits.
    assert!(Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap().success());
    assert!(wait_for(WAIT, || !alive(pid)), "still running after SIGTERM");
    daemon.pid = None;
    assert!(!pidfile.exists(), "the pid file is removed");
    assert!(log().contains("signal 15 (SIGTERM) received, exiting"), "{}", log());
    // nutcracker's line shape: "[YYYY-mm-dd HH:MM:SS.mmm] file.rs:N text".
    let first = log().lines().next().unwrap_or_default().to_string();
    let b = first.as_bytes();
    assert!(b.len() > 26 && b[0] == b'[' && b[24] == b']' && first[26..].contains(".rs:"), "{first}");
}

type Conns = std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>;

/// A backend that accepts connections and never reads or answers; ends them on demand.
struct Silent {
    addr: SocketAddr,
    conns: Conns,
}

impl Silent {
    fn start() -> Silent {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let conns = Conns::default();
        let keep = conns.clone();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                keep.lock().unwrap().push(s);
            }
        });
        Silent { addr, conns }
    }

    /// Send FIN on every connection (the proxy reads end of stream, not a reset).
    fn end_all(&self) {
        for s in self.conns.lock().unwrap().iter() {
            let _ = s.shutdown(std::net::Shutdown::Write);
        }
    }
}

/// `"field":N` of the server `server` in the stats JSON.
fn server_field(json: &str, server: &str, field: &str) -> i64 {
    let at = json.find(&format!("\"{server}\":{{")).unwrap_or_else(|| panic!("no {server} in {json}"));
    let body = &json[at..];
    let body = &body[..body.find('}').unwrap()];
    let f = body.find(&format!("\"{field}\":")).unwrap_or_else(|| panic!("no {field} in {body}"));
    let v = &body[f + field.len() + 3..];
    v[..v.find(|c: char| !c.is_ascii_digit() && c != '-').unwrap_or(v.len())].parse().unwrap()
}

#[test]
fn stats_queues_and_server_eof_are_real() {
    let silent = Silent::start();
    let yaml = format!("alpha:\n  listen: 127.0.0.1:0\n  redis: true\n  servers:\n   - {}:1\n", silent.addr);
    let proxy =
        slotbox_proxy::Proxy::start(&yaml, slotbox_proxy::Options { workers: 1, ..Default::default() }).unwrap();
    let name = silent.addr.to_string();
    let mut c = std::net::TcpStream::connect(proxy.addr()).unwrap();
    // Three small GETs, then values big enough to fill the socket buffers: the GETs are
    // written (out_queue), the tail of the big SETs is not (in_queue).
    let mut req = Vec::new();
    for k in ["a", "b", "c"] {
        req.extend(common::encode_command(&["GET", k]));
    }
    let big = "x".repeat(4 << 20);
    for k in ["d", "e", "f", "g"] {
        req.extend(common::encode_command(&["SET", k, &big]));
    }
    let writer = std::thread::spawn(move || {
        let _ = c.write_all(&req);
        c
    });
    let queued = |json: &str| (server_field(json, &name, "in_queue"), server_field(json, &name, "out_queue"));
    let ok = wait_for(WAIT, || {
        let (i, o) = queued(&proxy.stats_json());
        i >= 1 && o >= 3 && i + o == 7
    });
    assert!(ok, "queues never showed 7 requests: {:?} in {}", queued(&proxy.stats_json()), proxy.stats_json());
    assert!(server_field(&proxy.stats_json(), &name, "in_queue_bytes") > 0);
    assert!(server_field(&proxy.stats_json(), &name, "out_queue_bytes") > 0);
    assert_eq!(server_field(&proxy.stats_json(), &name, "server_eof"), 0);
    // The backend closes: the requests fail, the queues empty, server_eof counts it.
    silent.end_all();
    let done = wait_for(WAIT, || {
        let json = proxy.stats_json();
        server_field(&json, &name, "server_eof") + server_field(&json, &name, "server_err") >= 1
            && queued(&json) == (0, 0)
    });
    assert!(done, "{}", proxy.stats_json());
    assert_eq!(server_field(&proxy.stats_json(), &name, "server_eof"), 1, "{}", proxy.stats_json());
    drop(writer);
}

/// `GET path` over HTTP/1.0: the body.
fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("connect to metrics");
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes()).unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(&mut s, &mut out).unwrap();
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or(out)
}

fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')).and_then(|v| v.parse().ok()))
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
}

#[test]
fn metrics_have_build_process_and_per_command_series() {
    let backend = Server::start().unwrap();
    let yaml = format!("alpha:\n  listen: 127.0.0.1:0\n  redis: true\n  servers:\n   - {}:1\n", backend.addr());
    let mut proxy =
        slotbox_proxy::Proxy::start(&yaml, slotbox_proxy::Options { workers: 1, ..Default::default() }).unwrap();
    let metrics = proxy.serve_metrics("127.0.0.1:0").unwrap();
    let mut c = RawClient::connect(proxy.addr());
    for i in 0..25 {
        assert_eq!(c.call(&["SET", &format!("k{i}"), "v"]), Frame::Simple("OK".into()));
    }
    for i in 0..10 {
        c.call(&["GET", &format!("k{i}")]);
    }
    assert!(matches!(c.call(&["INCR", "k0"]), Frame::Error(_)), "INCR of a non-number fails");
    assert!(matches!(c.call(&["NOSUCHCOMMAND"]), Frame::Error(_)));
    let text = http_get(metrics, "/metrics");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        sample(&text, &format!("slotbox_proxy_build_info{{version=\"{version}\",nutcracker_version=\"0.5.0\"}}")),
        1.0
    );
    // This test process is the proxy's process: its own figures.
    let fds = std::fs::read_dir("/proc/self/fd").unwrap().count() as f64;
    assert!((sample(&text, "process_open_fds") - fds).abs() <= 8.0, "open fds vs {fds}");
    assert!(sample(&text, "process_resident_memory_bytes") > 1e6);
    assert!(sample(&text, "process_cpu_seconds_total") > 0.0);
    let cmd = |name: &str, series: &str| {
        sample(&text, &format!("slotbox_proxy_command_{series}{{pool=\"alpha\",command=\"{name}\"}}"))
    };
    assert_eq!((cmd("set", "requests_total"), cmd("set", "errors_total")), (25.0, 0.0));
    assert_eq!((cmd("get", "requests_total"), cmd("incr", "errors_total")), (10.0, 1.0));
    assert_eq!((cmd("unknown", "requests_total"), cmd("unknown", "errors_total")), (1.0, 1.0));
    assert_eq!(cmd("set", "latency_seconds_count"), 25.0);
    let inf = sample(&text, "slotbox_proxy_command_latency_seconds_bucket{pool=\"alpha\",command=\"get\",le=\"+Inf\"}");
    assert_eq!(inf, 10.0);
    assert!(cmd("set", "latency_seconds_sum") > 0.0);
}

#[test]
fn readme_lists_every_metric_the_proxy_exports() {
    let backend = Server::start().unwrap();
    let yaml = format!("alpha:\n  listen: 127.0.0.1:0\n  redis: true\n  servers:\n   - {}:1\n", backend.addr());
    let proxy =
        slotbox_proxy::Proxy::start(&yaml, slotbox_proxy::Options { workers: 1, ..Default::default() }).unwrap();
    let exported: std::collections::BTreeSet<String> = proxy
        .metrics_text()
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let table = readme.split("| metric | type | labels | meaning |").nth(1).expect("the metrics table in README.md");
    let documented: std::collections::BTreeSet<String> = table
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.split('`').nth(1).map(str::to_string))
        .collect();
    assert_eq!(exported, documented, "README.md's proxy metrics table and /metrics differ");
}

/// The stats port's document (nutcracker writes it and closes).
fn stats_doc(addr: SocketAddr) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("stats port");
    s.set_read_timeout(Some(WAIT)).unwrap();
    let mut json = String::new();
    std::io::Read::read_to_string(&mut s, &mut json).unwrap();
    json
}

#[test]
fn stats_interval_serves_the_last_aggregate() {
    let backend = Server::start().unwrap();
    let yaml = format!("alpha:\n  listen: 127.0.0.1:0\n  redis: true\n  servers:\n   - {}:1\n", backend.addr());
    let name = backend.addr().to_string();
    for (interval, stale) in [(Some(60_000), true), (None, false)] {
        let opts = slotbox_proxy::Options {
            workers: 1,
            stats_addr: Some("127.0.0.1:0".into()),
            stats_interval_ms: interval,
            ..Default::default()
        };
        let proxy = slotbox_proxy::Proxy::start(&yaml, opts).unwrap();
        let stats = proxy.stats_addr().unwrap();
        let first = server_field(&stats_doc(stats), &name, "requests");
        let mut c = RawClient::connect(proxy.addr());
        for i in 0..5 {
            c.call(&["SET", &format!("k{i}"), "v"]);
        }
        let second = server_field(&stats_doc(stats), &name, "requests");
        if stale {
            assert_eq!(second, first, "-i 60000: the document of the last aggregation");
        } else {
            assert_eq!(second, first + 5, "no -i: always current");
        }
    }
}
