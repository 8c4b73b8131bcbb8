//! The real Redis tools against slotbox cluster nodes (the `slotbox-server` binary):
//! `redis-cli --cluster create` assembles three nodes, `redis-cli --cluster check` finds all
//! slots covered, and `redis-benchmark --cluster` completes without errors. CI installs
//! redis-tools; without them the test fails unless SLOTBOX_SKIP_REDIS_TOOLS=1.

mod common;

use common::{free_port, run_bounded, ServerProcess};
use std::process::Command;
use std::time::Duration;

fn have(tool: &str) -> bool {
    if common::on_path(tool) {
        return true;
    }
    assert!(
        std::env::var("SLOTBOX_SKIP_REDIS_TOOLS").is_ok(),
        "{tool} is not installed (apt-get install redis-tools), or set SLOTBOX_SKIP_REDIS_TOOLS=1"
    );
    false
}

#[test]
fn redis_cli_creates_and_checks_a_slotbox_cluster_and_benchmark_runs() {
    if !have("redis-cli") || !have("redis-benchmark") {
        return;
    }
    let nodes: Vec<ServerProcess> = (0..3)
        .map(|_| {
            let bus = free_port().to_string();
            ServerProcess::slotbox_binary(&[
                "--cluster-enabled",
                "yes",
                "--cluster-node-timeout",
                "2000",
                "--cluster-port",
                &bus,
            ])
        })
        .collect();
    let addrs: Vec<String> = nodes.iter().map(|n| format!("127.0.0.1:{}", n.port())).collect();
    let mut create = Command::new("redis-cli");
    create.arg("--cluster").arg("create").args(&addrs).arg("--cluster-yes");
    let (status, out, err) =
        run_bounded(&mut create, Duration::from_secs(60)).expect("redis-cli --cluster create timed out");
    assert!(status.success(), "create failed:\n{out}\n{err}");
    assert!(out.contains("[OK] All 16384 slots covered."), "{out}");

    let mut check = Command::new("redis-cli");
    check.args(["--cluster", "check", &addrs[1]]);
    let (status, out, err) = run_bounded(&mut check, Duration::from_secs(30)).expect("check timed out");
    assert!(status.success(), "check failed:\n{out}\n{err}");
    assert!(out.contains("[OK] All nodes agree about slots configuration."), "{out}");
    assert!(out.contains("[OK] All 16384 slots covered."), "{out}");

    // As with Redis, a master that just got its slots waits a rejoin delay before it reports
    // cluster_state:ok; wait for it on every node (bounded).
    let ok = |n: &ServerProcess| {
        let mut c = common::RawClient::connect(n.addr());
        matches!(c.call(&["CLUSTER", "INFO"]), slotbox::protocol::Frame::Bulk(b) | slotbox::protocol::Frame::Verbatim(_, b) if String::from_utf8_lossy(&b).contains("cluster_state:ok"))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !nodes.iter().all(ok) {
        assert!(std::time::Instant::now() < deadline, "the cluster never reported cluster_state:ok");
        std::thread::sleep(Duration::from_millis(100));
    }
    let port = nodes[0].port().to_string();
    let mut bench = Command::new("redis-benchmark");
    bench.args(["--cluster", "-p", &port, "-t", "set,get", "-n", "20000", "-q"]);
    let (status, out, err) = run_bounded(&mut bench, Duration::from_secs(120)).expect("redis-benchmark timed out");
    let all = format!("{out}\n{err}");
    assert!(status.success(), "redis-benchmark failed:\n{all}");
    assert!(!all.to_lowercase().contains("error"), "{all}");
    assert!(all.contains("SET:") && all.contains("GET:"), "{all}");
}
