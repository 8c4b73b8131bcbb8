//! `slotbox-cluster chaos` on a sandbox started as `make run-cluster` does (tests/sandbox,
//! free ports, node timeout 1.5 s): `partition` cuts a master off without stopping it — a
//! client's request waits unanswered until the end, the cluster fails it over, its process
//! keeps its pid, and when the partition ends it rejoins as a replica of the new master;
//! `pause` stops and continues a replica; `restart` brings a replica back from its saved
//! command line (promptly, even from inside a partition); a port that is not a sandbox node
//! is refused. (`kill` is covered by tests/dashboard.rs.)

mod common;
mod sandbox;

use sandbox::Sandbox;
use std::io::{Read, Write};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// `(addr, flags, master id, id)` rows of CLUSTER NODES as `port` sees it.
fn nodes(sb: &Sandbox, port: u16) -> Vec<(String, String, String, String)> {
    let (ok, text) = sb.tool(&["call", &format!("127.0.0.1:{port}"), "CLUSTER", "NODES"], Duration::from_secs(10));
    assert!(ok, "{text}");
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 8).then(|| {
                (f[1].split('@').next().unwrap().to_string(), f[2].to_string(), f[3].to_string(), f[0].to_string())
            })
        })
        .collect()
}

/// Is `pid` a running slotbox-server (not gone, not a zombie waiting to be reaped)?
fn alive(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.contains("(slotbox-server)") && !stat.rsplit_once(')').is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
}

#[test]
fn partition_pause_and_restart_sandbox_nodes() {
    let sb = Sandbox::start(1500);
    let view = nodes(&sb, sb.nodes[0]);
    let role = |port: u16, view: &[(String, String, String, String)]| {
        view.iter().find(|n| n.0 == format!("127.0.0.1:{port}")).map(|n| n.1.clone()).unwrap_or_default()
    };
    let master = *sb.nodes.iter().find(|p| role(**p, &view).contains("master")).unwrap();
    let replica = *sb.nodes.iter().find(|p| role(**p, &view).contains("slave")).unwrap();
    let pid = sb.pid(master).unwrap();

    // While the partition runs, a client's PING gets no answer; it is answered once it ends.
    let (ok, out, stalled, answered) = std::thread::scope(|s| {
        let chaos = s.spawn(|| sb.tool(&["chaos", "partition", &master.to_string(), "4"], LIMIT));
        std::thread::sleep(Duration::from_millis(1000));
        let mut c = std::net::TcpStream::connect(("127.0.0.1", master)).expect("the process still accepts");
        c.set_read_timeout(Some(Duration::from_millis(1000))).unwrap();
        c.write_all(b"PING\r\n").unwrap();
        let mut buf = [0u8; 64];
        let stalled = c.read(&mut buf).is_err();
        c.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let answered = c.read(&mut buf).ok().map(|n| String::from_utf8_lossy(&buf[..n]).to_string());
        let (ok, out) = chaos.join().expect("chaos thread");
        (ok, out, stalled, answered)
    });
    eprintln!("{out}");
    assert!(ok, "{out}");
    assert!(stalled, "a partitioned node answered a client");
    assert_eq!(answered.as_deref(), Some("+PONG\r\n"), "the request waiting out the partition");
    for needle in ["(DEBUG PARTITION)", "marked FAIL", "; new master 127.0.0.1:", "It is part of the cluster again."] {
        assert!(out.contains(needle), "no {needle:?} in:\n{out}");
    }
    assert!(alive(pid) && sb.pid(master) == Some(pid), "partition must not stop or restart the process");
    // Back from the partition, the old master serves as a replica of the one that took over.
    let promoted = out.split("; new master ").nth(1).and_then(|s| s.split_whitespace().next()).unwrap().to_string();
    let other = *sb.nodes.iter().find(|p| **p != master && format!("127.0.0.1:{p}") != promoted).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let view = nodes(&sb, other);
        let new_id = view.iter().find(|n| n.0 == promoted).map(|n| n.3.clone()).unwrap();
        let me = view.iter().find(|n| n.0 == format!("127.0.0.1:{master}")).unwrap().clone();
        if me.1.contains("slave") && me.2 == new_id {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the partitioned master never became a replica: {me:?}");
        std::thread::sleep(Duration::from_millis(200));
    }

    let (ok, out) = sb.tool(&["chaos", "pause", &replica.to_string(), "1"], LIMIT);
    eprintln!("{out}");
    assert!(ok && out.contains("sent SIGSTOP") && out.contains("sent SIGCONT"), "{out}");
    assert!(out.contains("It is part of the cluster again."), "{out}");

    // A node in a long partition still stops at once on SIGTERM (restart sends it).
    let mut c = common::RawClient::connect(([127, 0, 0, 1], replica).into());
    assert_eq!(c.call(&["DEBUG", "PARTITION", "60"]), slotbox::protocol::Frame::Simple("OK".into()));
    let before = sb.pid(replica).unwrap();
    let (ok, out) = sb.tool(&["chaos", "restart", &replica.to_string()], LIMIT);
    eprintln!("{out}");
    assert!(ok && out.contains("started again") && out.contains("It is part of the cluster again."), "{out}");
    assert!(!out.contains("did not exit"), "SIGTERM did not end a partitioned node:\n{out}");
    let after = sb.pid(replica).unwrap();
    assert!(after != before && alive(after) && !alive(before), "restart must replace the process");

    let (ok, out) = sb.tool(&["chaos", "kill", "1"], LIMIT);
    assert!(!ok && out.contains("no sandbox node 1 in"), "{out}");
}
