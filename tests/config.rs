//! Redis 7.0's configuration surface, against the `slotbox-server` binary and real
//! `redis-server` 7.0: the stock Debian `/etc/redis/redis.conf` starts slotbox unchanged;
//! CONFIG GET names every directive real Redis names, with the same values (the exceptions
//! are listed in [`PER_INSTANCE`] and [`SLOTBOX_OWN`]); CONFIG SET accepts and refuses what
//! Redis does, with Redis's errors; CONFIG REWRITE rewrites a file as Redis does and the
//! rewritten file starts a server with the same settings; CONFIG SET port moves the listener.
//! Tests needing `redis-server` or the stock file skip with a message when it is missing.

mod common;

use common::{slotbox_server_binary, text, RawClient, ServerProcess};
use slotbox::protocol::Frame;
use slotbox::{Config, Server};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const STOCK: &str = "/etc/redis/redis.conf";

/// Values that name the instance (its port, directory, files) and differ between two servers.
const PER_INSTANCE: &[&str] = &["port", "dir", "pidfile", "logfile"];
/// slotbox's own difference: `io-threads` is its number of event loops (one per core by
/// default, Redis: 1). (Its other name, `threads`, is not listed by `CONFIG GET *`.)
const SLOTBOX_OWN: &[&str] = &["io-threads"];

fn stock_conf() -> Option<&'static Path> {
    let p = Path::new(STOCK);
    if p.is_file() {
        return Some(p);
    }
    eprintln!("{STOCK} not found (apt-get install redis-server): skipped");
    None
}

fn have_redis() -> bool {
    let found = common::on_path("redis-server");
    if !found {
        eprintln!("redis-server not on PATH: skipped");
    }
    found
}

/// Start `program` with an optional copy of `conf` (written as `<dir>/redis.conf`) and the
/// options every test uses: the port, no daemon, the instance's own dir, log and pid files.
fn start(program: &Path, conf: Option<&str>, extra: &[&str]) -> ServerProcess {
    let name = program.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    ServerProcess::spawn_with_retries(&name, |port, dir| {
        let mut cmd = Command::new(program);
        if let Some(text) = conf {
            let path = dir.join("redis.conf");
            std::fs::write(&path, text).expect("write the config file");
            cmd.arg(path);
        }
        cmd.args(["--port", &port.to_string(), "--daemonize", "no", "--dir"]).arg(dir);
        cmd.arg("--logfile").arg(dir.join("instance.log")).arg("--pidfile").arg(dir.join("instance.pid"));
        cmd.args(extra);
        cmd
    })
}

fn slotbox(conf: Option<&str>, extra: &[&str]) -> ServerProcess {
    start(&slotbox_server_binary(), conf, extra)
}

fn redis(conf: Option<&str>, extra: &[&str]) -> ServerProcess {
    start(Path::new("redis-server"), conf, extra)
}

/// `CONFIG GET <patterns...>` as a map.
fn config_get(c: &mut RawClient, patterns: &[&str]) -> BTreeMap<String, String> {
    let mut args = vec!["CONFIG", "GET"];
    args.extend_from_slice(patterns);
    match c.call(&args) {
        Frame::Array(items) => items.chunks(2).map(|kv| (text(&kv[0]), text(&kv[1]))).collect(),
        other => panic!("CONFIG GET {patterns:?}: {other:?}"),
    }
}

fn the_dir(p: &ServerProcess) -> PathBuf {
    let mut c = RawClient::connect(p.addr());
    PathBuf::from(&config_get(&mut c, &["dir"])["dir"])
}

#[test]
fn stock_debian_redis_conf_starts_unchanged() {
    let Some(stock) = stock_conf() else { return };
    let conf = std::fs::read_to_string(stock).unwrap();
    let s = slotbox(Some(&conf), &[]);
    let mut c = RawClient::connect(s.addr());
    assert_eq!(c.call(&["PING"]), Frame::Simple("PONG".into()));
    let got = config_get(&mut c, &["bind", "daemonize", "databases", "always-show-logo", "hash-max-listpack-*"]);
    assert_eq!(got["bind"], "127.0.0.1 -::1");
    assert_eq!(got["daemonize"], "no", "the option after the file wins");
    assert_eq!((got["databases"].as_str(), got["always-show-logo"].as_str()), ("16", "no"));
    assert_eq!((got["hash-max-listpack-entries"].as_str(), got["hash-max-listpack-value"].as_str()), ("512", "64"));
    let dir = the_dir(&s);
    let pid = std::fs::read_to_string(dir.join("instance.pid")).unwrap();
    assert!(pid.trim().parse::<u32>().is_ok(), "pidfile holds a pid: {pid:?}");
    assert!(std::fs::read_to_string(dir.join("instance.log")).unwrap().contains("Ready to accept connections"));
}

#[test]
fn a_bad_line_names_the_file_line_and_directive() {
    let conf = match stock_conf() {
        Some(p) => std::fs::read_to_string(p).unwrap(),
        None => "# a config\nport 6379\n".to_string(),
    };
    let dir = common::TempDir::new("badconf");
    let path = dir.path().join("bad.conf");
    std::fs::write(&path, format!("{conf}maxmemory-policy sometimes\n")).unwrap();
    let line = conf.lines().count() + 1;
    let mut cmd = Command::new(slotbox_server_binary());
    cmd.arg(&path).args(["--port", "0", "--daemonize", "no", "--logfile", ""]);
    let (status, out, err) = common::run_bounded(&mut cmd, Duration::from_secs(10)).expect("exits");
    assert!(!status.success(), "{out}{err}");
    for want in [
        path.display().to_string(),
        format!("at line {line}"),
        ">>> 'maxmemory-policy sometimes'".to_string(),
        "directive 'maxmemory-policy': argument(s) must be one of the following: volatile-lru,".to_string(),
    ] {
        assert!(err.contains(&want), "{want:?} not in:\n{err}");
    }
}

/// Every name real Redis's `CONFIG GET *` lists, slotbox lists, with the same value (but
/// [`PER_INSTANCE`] and [`SLOTBOX_OWN`]); the hidden directives by their exact names too.
/// Started with no file and with the stock file.
#[test]
fn config_get_names_and_values_match_redis() {
    if !have_redis() {
        return;
    }
    let stock = stock_conf().map(|p| std::fs::read_to_string(p).unwrap());
    for conf in [None, stock.as_deref()] {
        let (r, s) = (redis(conf, &[]), slotbox(conf, &[]));
        let (mut rc, mut sc) = (RawClient::connect(r.addr()), RawClient::connect(s.addr()));
        let (want, got) = (config_get(&mut rc, &["*"]), config_get(&mut sc, &["*"]));
        let tls = want.contains_key("tls-port");
        let missing: Vec<&String> = want.keys().filter(|k| !got.contains_key(*k)).collect();
        let extra: Vec<&String> =
            got.keys().filter(|k| !want.contains_key(*k) && (tls || !k.starts_with("tls-"))).collect();
        assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}, extra {extra:?}");
        for (k, v) in &want {
            if !PER_INSTANCE.contains(&k.as_str()) && !SLOTBOX_OWN.contains(&k.as_str()) {
                assert_eq!(&got[k], v, "CONFIG GET {k} (config file: {})", conf.is_some());
            }
        }
        for hidden in ["use-exit-on-panic", "watchdog-period", "rdb-key-save-delay", "key-load-delay"] {
            assert_eq!(config_get(&mut sc, &[hidden]), config_get(&mut rc, &[hidden]), "{hidden}");
            assert!(!got.contains_key(hidden), "{hidden} is hidden from patterns");
        }
    }
}

/// Directives not probed with arbitrary values: they would change how the test talks to
/// the server (port, bind, password, client limits and eviction, idle timeout, a watchdog
/// signal), start persistence, or are TLS (which slotbox refuses).
const NOT_PROBED: &[&str] = &[
    "port",
    "bind",
    "requirepass",
    "maxclients",
    "maxmemory",
    "maxmemory-clients",
    "timeout",
    "client-output-buffer-limit",
    "appendonly",
    "watchdog-period",
];

/// CONFIG SET of every directive with values of every kind: the same reply (OK or the same
/// error) from slotbox as from Redis, and the same value read back.
#[test]
fn config_set_accepts_and_refuses_as_redis() {
    if !have_redis() {
        return;
    }
    let (r, s) = (redis(None, &[]), slotbox(None, &[]));
    let (mut rc, mut sc) = (RawClient::connect(r.addr()), RawClient::connect(s.addr()));
    let names: Vec<String> = config_get(&mut rc, &["*"]).into_keys().collect();
    let probes = [
        "",
        "abc",
        "-1",
        "0",
        "1",
        "yes",
        "NO",
        "100%",
        "-5%",
        "2gb",
        "1k",
        "1 2",
        "3600 1 300",
        " 7",
        "+5",
        "0777",
        "99.9",
        "always",
        "local",
        "KEA",
        "save now",
        "save nosave",
        "hostname",
        "a/b",
        "9223372036854775808",
        "18446744073709551616",
        "-9223372036854775809",
        "normal 1mb 1mb 60",
    ];
    let mut checked = 0;
    for name in names.iter().filter(|n| !NOT_PROBED.contains(&n.as_str()) && !n.starts_with("tls-")) {
        for value in probes {
            let (want, got) =
                (rc.call_raw(&["CONFIG", "SET", name, value]), sc.call_raw(&["CONFIG", "SET", name, value]));
            assert_eq!(common::show(&got), common::show(&want), "CONFIG SET {name} {value:?}");
            if !PER_INSTANCE.contains(&name.as_str()) && !SLOTBOX_OWN.contains(&name.as_str()) {
                let (want, got) = (config_get(&mut rc, &[name]), config_get(&mut sc, &[name]));
                assert_eq!(got, want, "after CONFIG SET {name} {value:?}");
            }
            checked += 1;
        }
    }
    assert!(checked > 4000, "{checked} probes");
    let several = ["CONFIG", "SET", "maxmemory", "10000001", "maxmemory-clients", "200%", "hz", "20"];
    assert_eq!(common::show(&sc.call_raw(&several)), common::show(&rc.call_raw(&several)));
}

/// The same CONFIG SETs then CONFIG REWRITE on a copy of the same file (the stock one when
/// present): slotbox's file is Redis's, line for line, but for the instance's own values and
/// the order of the lines appended at the end; the file then starts slotbox with the settings
/// it had.
#[test]
fn config_rewrite_round_trip() {
    let conf = match stock_conf() {
        Some(p) => std::fs::read_to_string(p).unwrap(),
        None => "# my settings   \nport 6379\n\n\n# encodings\nhash-max-ziplist-entries 512\nsave 900 1\nsave 60 100\n"
            .into(),
    };
    let sets: &[&[&str]] = &[
        &["maxmemory", "100mb", "hash-max-ziplist-entries", "100", "notify-keyspace-events", "KEA"],
        &["client-output-buffer-limit", "pubsub 64mb 16mb 30", "list-compress-depth", "3", "save", "900 1 300 10"],
        &["appendfsync", "always", "loglevel", "warning", "oom-score-adj-values", "0 100 900"],
    ];
    let rewrite = |p: &ServerProcess| -> (String, BTreeMap<String, String>) {
        let mut c = RawClient::connect(p.addr());
        for set in sets {
            let mut args = vec!["CONFIG", "SET"];
            args.extend_from_slice(set);
            assert_eq!(c.call(&args), Frame::Simple("OK".into()), "{args:?}");
        }
        assert_eq!(c.call(&["CONFIG", "REWRITE"]), Frame::Simple("OK".into()));
        let file = std::fs::read_to_string(the_dir(p).join("redis.conf")).unwrap();
        (file, config_get(&mut c, &["*"]))
    };
    let s = slotbox(Some(&conf), &[]);
    let (file, before) = rewrite(&s);
    assert!(file.contains("\n# Generated by CONFIG REWRITE\n"), "{file}");
    assert!(file.contains("\nhash-max-listpack-entries 100\n") && file.contains("\nmaxmemory 100mb\n"), "{file}");
    let comments = |t: &str| t.lines().filter(|l| l.starts_with('#')).count();
    assert_eq!(comments(&file), comments(&conf) + 1, "every comment kept, and the signature");
    if have_redis() {
        let r = redis(Some(&conf), &[]);
        let (redis_file, _) = rewrite(&r);
        assert_same_rewrite(&file, &redis_file);
    }
    // The rewritten file starts a server with the same settings.
    let again = slotbox(Some(&file), &[]);
    let after = config_get(&mut RawClient::connect(again.addr()), &["*"]);
    for (k, v) in &before {
        if !PER_INSTANCE.contains(&k.as_str()) {
            assert_eq!(&after[k], v, "{k} after a restart from the rewritten file");
        }
    }
}

/// Two rewritten files are the same but for the instance's own values and the order of the
/// appended lines (Redis appends in its hash table's order).
fn assert_same_rewrite(slotbox: &str, redis: &str) {
    let normalize = |t: &str| -> (Vec<String>, Vec<String>) {
        let lines: Vec<String> = t
            .lines()
            .map(|l| match l.split_once(' ') {
                Some((k, _)) if PER_INSTANCE.contains(&k) => format!("{k} <instance>"),
                _ => l.to_string(),
            })
            .collect();
        let at = lines.iter().position(|l| l == "# Generated by CONFIG REWRITE").unwrap_or(lines.len());
        let mut appended = lines[at..].to_vec();
        appended.sort();
        (lines[..at].to_vec(), appended)
    };
    let ((s_head, s_tail), (r_head, r_tail)) = (normalize(slotbox), normalize(redis));
    for (i, (s, r)) in s_head.iter().zip(&r_head).enumerate() {
        assert_eq!(s, r, "line {} of the rewritten file", i + 1);
    }
    assert_eq!(s_head.len(), r_head.len(), "lines before the appended ones");
    assert_eq!(s_tail, r_tail, "appended lines");
}

/// CONFIG SET port listens on the new port and stops listening on the old one; a port in
/// use fails the whole CONFIG SET with Redis's error and changes nothing.
#[test]
fn config_set_port_moves_the_listener() {
    let server = Server::with_config(Config::ephemeral()).unwrap();
    let mut c = RawClient::connect(server.addr());
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port().to_string();
    let reply = c.call(&["CONFIG", "SET", "maxmemory", "10000001", "port", &busy_port, "hz", "20"]);
    let err = text(&reply);
    assert!(err.starts_with("ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen"), "{err}");
    assert_eq!(
        config_get(&mut c, &["maxmemory", "hz"]),
        [("hz", "10"), ("maxmemory", "0")].map(|(k, v)| (k.into(), v.into())).into()
    );
    assert!(RawClient::try_connect(server.addr()).is_ok(), "still listening on the old port");
    drop(busy);
    let port = common::free_port();
    assert_eq!(c.call(&["CONFIG", "SET", "port", &port.to_string()]), Frame::Simple("OK".into()));
    let mut moved = RawClient::connect(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    assert_eq!(moved.call(&["PING"]), Frame::Simple("PONG".into()));
    assert!(RawClient::try_connect(server.addr()).is_err(), "the old port is closed");
    assert_eq!(c.call(&["PING"]), Frame::Simple("PONG".into()), "connected clients stay");
    let info = text(&moved.call(&["INFO", "server"]));
    assert!(info.contains(&format!("tcp_port:{port}\r\n")), "{info}");
}

/// This machine's address on its default route, if it has one that is not loopback.
fn non_loopback_ip() -> Option<std::net::IpAddr> {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    probe.connect("192.0.2.1:9").ok()?; // no packet is sent
    Some(probe.local_addr().ok()?.ip()).filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
}

/// `protected-mode yes` without a password: a client from another address gets Redis's
/// DENIED line and is disconnected; loopback clients, a password, or `protected-mode no`
/// let it in.
#[test]
fn protected_mode_refuses_remote_clients_without_a_password() {
    let Some(ip) = non_loopback_ip() else {
        eprintln!("no non-loopback address on this machine: skipped");
        return;
    };
    let config = Config { bind: vec!["0.0.0.0".into()], protected_mode: true, ..Config::ephemeral() };
    let server = Server::with_config(config).unwrap();
    let remote = std::net::SocketAddr::new(ip, server.addr().port());
    let mut local = RawClient::connect(std::net::SocketAddr::from(([127, 0, 0, 1], server.addr().port())));
    let mut c = std::net::TcpStream::connect_timeout(&remote, common::WAIT).unwrap();
    c.set_read_timeout(Some(common::WAIT)).unwrap();
    std::io::Write::write_all(&mut c, b"PING\r\n").unwrap();
    let mut denied = Vec::new();
    let _ = std::io::Read::read_to_end(&mut c, &mut denied);
    let denied = String::from_utf8_lossy(&denied);
    assert!(denied.starts_with("-DENIED Redis is running in protected mode because protected mode is enabled"));
    assert!(denied.ends_with("accepting connections from the outside.\r\n") && denied.len() == 1067, "{denied}");
    assert_eq!(local.call(&["CONFIG", "SET", "requirepass", "pw"]), Frame::Simple("OK".into()));
    assert!(text(&RawClient::connect(remote).call(&["PING"])).starts_with("NOAUTH"));
    assert_eq!(local.call(&["AUTH", "pw"]), Frame::Simple("OK".into()));
    let set = local.call(&["CONFIG", "SET", "requirepass", "", "protected-mode", "no"]);
    assert_eq!(set, Frame::Simple("OK".into()));
    assert_eq!(RawClient::connect(remote).call(&["PING"]), Frame::Simple("PONG".into()));
}

/// `rename-command` as Redis: the old name is an unknown command (failing a transaction),
/// the new one runs the command; the same replies as real Redis given the same file.
#[test]
fn renamed_commands_answer_as_redis() {
    let conf = "rename-command FLUSHALL \"\"\nrename-command CONFIG cfg\nrename-command cfg settings\n";
    let script: &[&[&str]] = &[
        &["FLUSHALL"],
        &["flushall", "async"],
        &["CONFIG", "GET", "maxclients"],
        &["CFG", "GET", "maxclients"],
        &["settings", "GET", "maxclients"],
        &["SETTINGS", "SET", "maxmemory-policy", "allkeys-lru"],
        &["MULTI"],
        &["FLUSHALL"],
        &["SET", "k", "v"],
        &["EXEC"],
        &["GET", "k"],
    ];
    let s = slotbox(Some(conf), &[]);
    let mut sc = RawClient::connect(s.addr());
    let got: Vec<String> = script.iter().map(|args| common::show(&sc.call_raw(args))).collect();
    assert!(got[0].starts_with("-ERR unknown command 'FLUSHALL'"), "{got:?}");
    assert_eq!(got[4], "*2\\r\\n$10\\r\\nmaxclients\\r\\n$5\\r\\n10000\\r\\n");
    if have_redis() {
        let r = redis(Some(conf), &[]);
        let mut rc = RawClient::connect(r.addr());
        for (args, got) in script.iter().zip(&got) {
            assert_eq!(got, &common::show(&rc.call_raw(args)), "{args:?}");
        }
    }
}
