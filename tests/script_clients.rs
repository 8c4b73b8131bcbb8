//! Real client libraries' script users against slotbox: redis-py's `Lock` and
//! `register_script` (Debian's python3-redis) on a server, on a cluster and through the proxy
//! (`tests/clients/redis_py_scripts.py` holds the checks).

mod common;

use common::run_bounded;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/redis_py_scripts.py");

/// Run the redis-py checks in `mode` against `addr`; panics with the script's output on failure.
fn redis_py(mode: &str, addr: SocketAddr) {
    let python = "/usr/bin/python3";
    let mut probe = Command::new(python);
    probe.args(["-c", "import redis"]);
    let probed = run_bounded(&mut probe, Duration::from_secs(30)).expect("python3 runs");
    assert!(probed.0.success(), "redis-py is missing: apt-get install python3-redis ({})", probed.2);
    let mut cmd = Command::new(python);
    cmd.args([SCRIPT, mode, &addr.ip().to_string(), &addr.port().to_string()]);
    let (status, out, err) = run_bounded(&mut cmd, Duration::from_secs(120)).expect("redis-py checks finish in 120 s");
    assert!(status.success() && out.trim_end().ends_with("ok"), "redis-py {mode} against {addr}:\n{out}\n{err}");
}

#[test]
fn redis_py_lock_and_register_script_on_a_server() {
    let server = slotbox::Server::start().expect("server");
    redis_py("plain", server.addr());
}

#[test]
fn redis_py_lock_and_register_script_on_a_cluster() {
    let cluster = slotbox::Cluster::start(3).expect("cluster");
    redis_py("cluster", cluster.addrs()[0]);
}

#[test]
fn redis_py_lock_and_register_script_through_the_proxy() {
    let servers: Vec<slotbox::Server> = (0..3).map(|_| slotbox::Server::start().expect("server")).collect();
    let mut yaml = String::from("alpha:\n  listen: 127.0.0.1:0\n  redis: true\n  hash: murmur\n  servers:\n");
    for (i, s) in servers.iter().enumerate() {
        yaml.push_str(&format!("   - {}:1 server{i}\n", s.addr()));
    }
    let proxy = slotbox::Proxy::start(&yaml).expect("proxy");
    redis_py("plain", proxy.addr());
}
