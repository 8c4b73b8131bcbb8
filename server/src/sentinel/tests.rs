//! Unit tests of the pure parts: config parsing and its rewrite, the replica choice, the
//! leader vote and hello processing.

use super::config::{lines_from_args, parse};
use super::instance::*;

fn sentinel_from(text: &str) -> super::state::Sentinel {
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    super::build(parse(None, &lines).expect("valid config"))
}

const ID: &str = "0123456789abcdef0123456789abcdef01234567";
const OTHER: &str = "fedcba9876543210fedcba9876543210fedcba98";

#[test]
fn config_directives_and_errors() {
    let s = sentinel_from(&format!(
        "port 26400\nsentinel myid {ID}\nsentinel monitor mm 127.0.0.1 6379 2\n\
         sentinel down-after-milliseconds mm 1500\nsentinel known-replica mm 127.0.0.1 6380\n\
         sentinel known-sentinel mm 127.0.0.1 26401 {OTHER}\nsentinel current-epoch 7\n"
    ));
    assert_eq!(s.settings.port, 26400);
    assert_eq!(s.myid, ID);
    assert_eq!(s.current_epoch, 7);
    let m = &s.masters[0];
    assert_eq!((m.name(), m.quorum, m.down_after), ("mm", 2, 1500));
    assert_eq!(m.replicas[0].name, "127.0.0.1:6380");
    assert_eq!(m.sentinels[0].runid.as_deref(), Some(OTHER));
    let bad = |t: &str| parse(None, &[t.to_string()]).expect_err(t);
    assert!(bad("sentinel monitor mm 127.0.0.1 6379 0").contains("Quorum must be 1 or greater."));
    assert!(bad("sentinel down-after-milliseconds nope 10").contains("No such master with specified name."));
    assert!(bad("sentinel bogus x").contains("Unrecognized sentinel configuration statement."));
    assert!(bad("nosuchdirective 1").contains("Bad directive"));
    assert!(parse(None, &[]).map(|p| p.settings.port).ok() == Some(26379), "default sentinel port");
}

#[test]
fn flags_become_lines() {
    let args: Vec<String> = ["--port", "1", "--save", "--sentinel", "monitor", "a", "127.0.0.1", "2", "1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (file, lines) = lines_from_args(&args).expect("valid");
    assert!(file.is_none());
    assert_eq!(lines, vec!["port 1", "save \"\"", "sentinel monitor a 127.0.0.1 2 1"]);
}

#[test]
fn rewrite_round_trips() {
    let s = sentinel_from(&format!(
        "sentinel myid {ID}\nsentinel monitor mm 127.0.0.1 6379 2\nsentinel parallel-syncs mm 3\n\
         sentinel known-replica mm 127.0.0.1 6380\nsentinel known-sentinel mm 127.0.0.1 26401 {OTHER}\n"
    ));
    let lines = super::rewrite::sentinel_lines(&s);
    let again = super::build(parse(None, &lines).expect("rewritten config parses"));
    assert_eq!(super::rewrite::sentinel_lines(&again), lines);
    assert!(lines.contains(&"sentinel parallel-syncs mm 3".to_string()));
}

#[test]
fn best_replica_by_priority_then_offset_then_runid() {
    let mut s = sentinel_from("sentinel monitor mm 127.0.0.1 6379 1\n");
    let now = mstime();
    for (port, prio, offset, runid) in
        [(1, 100, 10, "b"), (2, 50, 5, "c"), (3, 50, 9, "z"), (4, 50, 9, "a"), (5, 0, 99, "x")]
    {
        s.add_replica(0, "127.0.0.1", port);
        let r = s.masters[0].replicas.last_mut().expect("added");
        r.slave_priority = prio;
        r.slave_repl_offset = offset;
        r.runid = Some(runid.to_string());
        r.info_refresh = now;
        r.link.last_avail_time = now;
        r.link.uses_pubsub = false;
    }
    // A replica is a candidate only with a command link; fake one by marking it connected.
    assert_eq!(s.select_slave(0), None, "no replica is connected");
    let reg = mio::Poll::new().expect("poll");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    for (i, r) in s.masters[0].replicas.iter_mut().enumerate() {
        r.link.cc = Some(super::link::Conn::connect(addr, mio::Token(i), reg.registry(), now).expect("connect"));
    }
    let best = s.select_slave(0).expect("a candidate");
    assert_eq!(s.masters[0].replicas[best].addr.port, 4, "priority 50, offset 9, smallest run id");
}

#[test]
fn one_vote_per_epoch() {
    let mut s = sentinel_from(&format!("sentinel myid {ID}\nsentinel monitor mm 127.0.0.1 6379 2\n"));
    assert_eq!(s.vote_leader(0, 3, OTHER), (Some(OTHER.to_string()), 3));
    assert_eq!(s.current_epoch, 3);
    assert_eq!(s.vote_leader(0, 3, ID), (Some(OTHER.to_string()), 3), "already voted in epoch 3");
    assert_eq!(s.vote_leader(0, 4, ID), (Some(ID.to_string()), 4), "a new epoch, a new vote");
}

#[test]
fn hello_adds_sentinels_and_newer_config_switches_master() {
    let mut s = sentinel_from(&format!("sentinel myid {ID}\nsentinel monitor mm 127.0.0.1 6379 2\n"));
    s.process_hello(&format!("127.0.0.1,26401,{OTHER},5,mm,127.0.0.1,6379,0"));
    assert_eq!(s.masters[0].sentinels.len(), 1);
    assert_eq!(s.current_epoch, 5);
    s.process_hello(&format!("127.0.0.1,26401,{OTHER},5,mm,127.0.0.1,6380,5"));
    let m = &s.masters[0];
    assert_eq!((m.inst.addr.port, m.config_epoch), (6380, 5));
    assert_eq!(m.replicas.iter().map(|r| r.addr.port).collect::<Vec<_>>(), vec![6379], "old master kept as a replica");
    assert!(s.outbox.iter().any(|(ch, msg)| ch == "+switch-master" && msg == "mm 127.0.0.1 6379 127.0.0.1 6380"));
    s.process_hello("garbage,,,");
    s.process_hello(&format!("127.0.0.1,26402,{OTHER},5,unknown-master,127.0.0.1,1,9"));
    assert_eq!(s.masters[0].sentinels.len(), 1);
}
