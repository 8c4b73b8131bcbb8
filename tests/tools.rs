//! The real Redis tools against slotbox: `redis-cli` and `redis-benchmark` against an
//! embedded server, and the `slotbox-server` binary itself (start from a config file plus
//! flags; refuse a bad config file). Every child process runs with a time limit.
//!
//! The tools come from Debian's `redis-tools`; CI installs them, so a missing tool fails the
//! test unless `SLOTBOX_SKIP_DIFFERENTIAL=1` (the same switch as the differential test) is set.

mod common;

use common::{run_bounded, simple, RawClient, ServerProcess, TempDir};
use std::process::Command;
use std::time::Duration;

/// False (after a note) if `tool` is missing and skipping is allowed; panics if it is missing
/// and skipping is not allowed.
fn have(tool: &str) -> bool {
    if common::on_path(tool) {
        return true;
    }
    if std::env::var("SLOTBOX_SKIP_DIFFERENTIAL").as_deref() == Ok("1") {
        eprintln!("{tool} not on PATH; skipped (SLOTBOX_SKIP_DIFFERENTIAL=1)");
        return false;
    }
    panic!("{tool} is not on PATH (apt-get install redis-tools); set SLOTBOX_SKIP_DIFFERENTIAL=1 to skip");
}

fn redis_cli(port: u16, args: &[&str]) -> String {
    let mut cmd = Command::new("redis-cli");
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()]).args(args);
    let (status, out, err) = run_bounded(&mut cmd, Duration::from_secs(30)).expect("redis-cli timed out");
    assert!(status.success(), "redis-cli {args:?} failed: {status}\n{out}\n{err}");
    out.trim_end().to_string()
}

#[test]
fn redis_cli_set_get() {
    if !have("redis-cli") {
        return;
    }
    let server = slotbox::Server::start().unwrap();
    let port = server.addr().port();
    assert_eq!(redis_cli(port, &["set", "a", "b"]), "OK");
    assert_eq!(redis_cli(port, &["get", "a"]), "b");
    assert_eq!(redis_cli(port, &["incr", "n"]), "1");
    assert_eq!(redis_cli(port, &["get", "missing"]), "");
    assert_eq!(redis_cli(port, &["ping"]), "PONG");
}

#[test]
fn redis_benchmark_completes_without_errors() {
    if !have("redis-benchmark") {
        return;
    }
    let server = slotbox::Server::start().unwrap();
    let port = server.addr().port().to_string();
    let mut cmd = Command::new("redis-benchmark");
    cmd.args(["-h", "127.0.0.1", "-p", &port, "-t", "set,get,incr,mset", "-n", "20000", "-q"]);
    let (status, out, err) =
        run_bounded(&mut cmd, Duration::from_secs(300)).expect("redis-benchmark did not finish in 300 s");
    let all = format!("{out}\n{err}");
    assert!(status.success(), "redis-benchmark failed ({status}):\n{all}");
    assert!(!all.contains("ERR") && !all.to_lowercase().contains("error"), "redis-benchmark reported errors:\n{all}");
    for test in ["SET:", "GET:", "INCR:", "MSET (10 keys):"] {
        assert!(out.contains(test), "no {test} result in:\n{all}");
    }
    // The server is still healthy and holds what the benchmark wrote.
    let mut c = RawClient::connect(server.addr());
    assert_eq!(c.call(&["PING"]), simple("PONG"));
    assert!(matches!(c.call(&["GET", "key:__rand_int__"]), slotbox::protocol::Frame::Bulk(_)));
}

#[test]
fn binary_starts_from_config_file_and_flags() {
    let dir = TempDir::new("conf");
    let conf = dir.path().join("slotbox.conf");
    std::fs::write(&conf, "# test config\nport 1\nmaxclients 77\nloglevel warning\nsave \"\"\nappendonly no\n")
        .unwrap();
    // The flags (--port, --bind) override the file, as with redis-server.
    let server = ServerProcess::slotbox_binary(&[conf.to_str().unwrap(), "--timeout", "0"]);
    let mut c = RawClient::connect(server.addr());
    assert_eq!(c.call(&["PING"]), simple("PONG"));
    assert_eq!(c.call(&["SET", "k", "v"]), simple("OK"));
    assert_eq!(c.call(&["GET", "k"]), common::bulk("v"));
}

#[test]
fn binary_rejects_a_bad_config_directive() {
    let dir = TempDir::new("badconf");
    let conf = dir.path().join("bad.conf");
    std::fs::write(&conf, "port 0\nbind 127.0.0.1\n\nfrobnicate yes\n").unwrap();
    let bin = common::slotbox_server_binary();
    let mut cmd = Command::new(bin);
    cmd.arg(&conf);
    let Some((status, out, err)) = run_bounded(&mut cmd, Duration::from_secs(10)) else {
        panic!("slotbox-server started with an unknown directive in {}", conf.display());
    };
    assert!(!status.success(), "slotbox-server exited 0 with a bad config:\n{out}\n{err}");
    let name = conf.display().to_string();
    assert!(err.contains(&name), "stderr does not name the file {name}:\n{err}");
    assert!(err.contains("line 4"), "stderr does not name the line:\n{err}");
    assert!(err.contains("frobnicate"), "stderr does not name the directive:\n{err}");
}
