//! Sentinel mode end to end, over real processes on loopback: slotbox sentinels failing over a
//! slotbox group (kill -9 of the master, agreement, promotion, `+switch-master`, the old master
//! back as a replica, a redis-py Sentinel client following the switch), real `redis-sentinel`
//! failing over a slotbox group, slotbox and real sentinels together failing over a real
//! `redis-server` group, and SENTINEL replies compared with redis-sentinel's.

mod common;
#[path = "sentinel/group.rs"]
mod group;

use common::{RawClient, WAIT};
use group::{field, master_port_of, role, start_group, try_wait_for, wait_discovery, wait_for, Impl, Proc};
use slotbox::protocol::Frame;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `down-after-milliseconds` of the failover tests. Not shorter: with the whole suite running on
/// two cores, a freshly promoted master sometimes answered a sentinel's PING after more than
/// a second; a real redis-sentinel then saw it down and, counting the other sentinels' "down"
/// replies about the old master (Redis keeps them for 5 s across the switch), failed over a
/// second time (seen in this test's logs: `+sdown master` 1 s after `+switch-master`).
const DOWN_AFTER: u64 = 3000;

/// Write keys on the master, each acknowledged by both replicas (`WAIT 2`).
fn acked_writes(master: &Proc, n: usize) -> Vec<String> {
    let mut c = master.client();
    let keys: Vec<String> = (0..n).map(|i| format!("acked:{i}")).collect();
    for k in &keys {
        assert_eq!(c.call(&["SET", k, "v"]), Frame::Simple("OK".into()));
    }
    assert_eq!(c.call(&["WAIT", "2", "5000"]), Frame::Integer(2), "both replicas acknowledge");
    keys
}

/// Wait for every sentinel to name a new master among `replicas`; returns its port.
fn wait_switch(sentinels: &[Proc], old: u16, replicas: &[u16]) -> u16 {
    let mut agreed = None;
    for s in sentinels {
        let p = wait_for(Duration::from_secs(20), "sentinels agree on the new master", || {
            master_port_of(s).filter(|p| *p != old)
        });
        assert!(replicas.contains(&p), "promoted {p} is one of the replicas {replicas:?}");
        assert!(agreed.is_none() || agreed == Some(p), "sentinels disagree: {agreed:?} vs {p}");
        agreed = Some(p);
    }
    agreed.expect("at least one sentinel")
}

/// After a failover: the new master is a master holding the acknowledged writes, and the
/// other replicas replicate from it.
fn check_new_topology(new: u16, others: &[u16], keys: &[String]) {
    wait_for(Duration::from_secs(10), "promoted replica reports role master", || {
        role(new).filter(|(k, _, _)| k == "master")
    });
    let mut c = RawClient::connect(([127, 0, 0, 1], new).into());
    for k in keys {
        assert_eq!(c.call(&["GET", k]), Frame::Bulk("v".into()), "acknowledged write {k} survived");
    }
    assert_eq!(c.call(&["SET", "after", "1"]), Frame::Simple("OK".into()), "new master takes writes");
    for &o in others {
        wait_for(Duration::from_secs(20), "other replica follows the new master", || {
            role(o).filter(|(k, p, st)| k == "slave" && *p == new && st == "connected")
        });
    }
}

/// A redis-py `Sentinel(...).master_for(...)` client in a child process: writes once, waits
/// for a line on stdin, then retries a write until it lands, printing the master it used.
const PY_CLIENT: &str = r#"
import sys, time
from redis.sentinel import Sentinel
ports = [int(p) for p in sys.argv[1].split(',')]
s = Sentinel([('127.0.0.1', p) for p in ports], socket_timeout=0.5)
m = s.master_for('mymaster', socket_timeout=0.5)
m.set('py:before', '1')
print('ready', s.discover_master('mymaster')[1], flush=True)
sys.stdin.readline()
deadline = time.time() + 30
while time.time() < deadline:
    try:
        m.set('py:after', '1')
        print('written', s.discover_master('mymaster')[1], flush=True)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
print('gave-up', flush=True)
sys.exit(1)
"#;

struct PyClient {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
}

impl Drop for PyClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PyClient {
    fn start(sentinels: &[Proc]) -> PyClient {
        let ports: Vec<String> = sentinels.iter().map(|s| s.port.to_string()).collect();
        let mut child = Command::new("/usr/bin/python3")
            .args(["-c", PY_CLIENT, &ports.join(",")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 (with python3-redis) runs");
        let out = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        PyClient { child, lines }
    }

    fn line(&self, limit: Duration) -> String {
        self.lines.recv_timeout(limit).expect("a line from the redis-py client")
    }

    fn go(&mut self) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin.write_all(b"go\n").and_then(|_| stdin.flush()).expect("write to the redis-py client");
    }
}

/// Read pub/sub messages until one arrives on `channel`; returns its payload.
fn wait_message(c: &mut RawClient, channel: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        let Ok((f, _)) = c.try_read_reply() else { continue };
        if let Frame::Array(v) = f {
            if let [Frame::Bulk(kind), Frame::Bulk(ch), Frame::Bulk(payload)] = &v[..] {
                if &kind[..] == b"message" && &ch[..] == channel.as_bytes() {
                    return String::from_utf8_lossy(payload).into_owned();
                }
            }
        }
    }
    panic!("no {channel} message within {limit:?}");
}

/// The replicas a proxy pool reads from, by its INFO: those whose link is up (`ROLE`).
fn replicas_up(proxy: std::net::SocketAddr) -> Vec<u16> {
    let info = common::text(&RawClient::connect(proxy).call(&["INFO"]));
    let mut up: Vec<u16> = info
        .lines()
        .filter(|l| l.contains("replica_link=up"))
        .filter_map(|l| l.split("addr=127.0.0.1:").nth(1)?.split(',').next()?.parse().ok())
        .collect();
    up.sort_unstable();
    up
}

/// A proxy with two sentinel pools over `sentinels` (one worker): `ha` (the master) and
/// `ha_replicas` (`read_from: prefer_replica`).
fn sentinel_proxy(sentinels: &[Proc]) -> slotbox::Proxy {
    let list: Vec<String> = sentinels.iter().map(|s| format!("127.0.0.1:{}", s.port)).collect();
    let yaml = format!(
        "ha:\n  listen: 127.0.0.1:0\n  redis: true\n  timeout: 2000\n  master_name: mymaster\n  sentinels: [{0}]\n\
         ha_replicas:\n  listen: 127.0.0.1:{1}\n  redis: true\n  timeout: 2000\n  master_name: mymaster\n  \
         read_from: prefer_replica\n  sentinels: [{0}]\n",
        list.join(", "),
        common::free_port()
    );
    let opts = slotbox_proxy::Options { workers: 1, stats_addr: None, ..Default::default() };
    slotbox::Proxy::with_options(&yaml, opts).expect("proxy starts")
}

#[test]
fn slotbox_sentinels_fail_over_a_slotbox_group() {
    let (master, replicas) = start_group(Impl::Slotbox, 2);
    let old = master.port;
    let replica_ports: Vec<u16> = replicas.iter().map(|r| r.port).collect();
    let sentinels: Vec<Proc> = (0..3).map(|_| Proc::sentinel(Impl::Slotbox, old, 2, DOWN_AFTER)).collect();
    wait_discovery(&sentinels, 2);

    let mut events = sentinels[1].client();
    events.send_raw(&common::encode_command(&["SUBSCRIBE", "+switch-master"]));
    let _ = events.read_reply();
    let keys = acked_writes(&master, 50);
    let mut py = PyClient::start(&sentinels);
    assert_eq!(py.line(WAIT), format!("ready {old}"), "redis-py finds the master through the sentinels");
    let proxy = sentinel_proxy(&sentinels);
    let mut through = RawClient::connect(proxy.addr());
    assert_eq!(through.call(&["SET", "via-proxy", "0"]), Frame::Simple("OK".into()));
    assert_eq!(
        RawClient::connect(master.addr_of()).call(&["GET", "via-proxy"]),
        Frame::Bulk("0".into()),
        "the proxy writes to the master"
    );
    let mut sorted = replica_ports.clone();
    sorted.sort_unstable();
    wait_for(Duration::from_secs(10), "the replica pool sees both replicas' links up", || {
        (replicas_up(proxy.addrs()[1]) == sorted).then_some(())
    });
    assert_eq!(RawClient::connect(proxy.addrs()[1]).call(&["GET", "acked:0"]), Frame::Bulk("v".into()));

    master.kill();
    py.go();
    let new = wait_switch(&sentinels, old, &replica_ports);
    let msg = wait_message(&mut events, "+switch-master", Duration::from_secs(10));
    assert_eq!(msg, format!("mymaster 127.0.0.1 {old} 127.0.0.1 {new}"));
    assert_eq!(py.line(Duration::from_secs(35)), format!("written {new}"), "redis-py writes to the promoted replica");
    // The proxy's client kept its connection: its writes land on the new master once the
    // proxy has followed the switch (errors before that are the switch's client-visible cost).
    let mut errors = 0;
    wait_for(Duration::from_secs(20), "a write through the proxy reaches the new master", || {
        match through.call(&["SET", "via-proxy", "1"]) {
            Frame::Simple(_) => {
                let on_new = RawClient::connect(([127, 0, 0, 1], new).into()).call(&["GET", "via-proxy"]);
                (on_new == Frame::Bulk("1".into())).then_some(())
            }
            _ => {
                errors += 1;
                None
            }
        }
    });
    eprintln!("proxy: {errors} error replies to its client during the switch");
    let others: Vec<u16> = replica_ports.iter().copied().filter(|&p| p != new).collect();
    check_new_topology(new, &others, &keys);

    // The old master comes back empty, as a master: the sentinels make it a replica.
    let back = Proc::server(Impl::Slotbox, Some(old), None);
    wait_for(Duration::from_secs(40), "old master reconfigured as a replica", || {
        role(back.port).filter(|(k, p, st)| k == "slave" && *p == new && st == "connected")
    });
    let info = sentinels[0].call(&["INFO", "sentinel"]);
    let text = common::text(&info);
    assert!(
        text.contains(&format!("master0:name=mymaster,status=ok,address=127.0.0.1:{new},slaves=2,sentinels=3")),
        "{text}"
    );
    let conf = std::fs::read_to_string(sentinels[0].dir.path().join("sentinel.conf")).expect("config file");
    assert!(conf.contains(&format!("sentinel monitor mymaster 127.0.0.1 {new} 2")), "{conf}");
    assert!(conf.contains(&format!("sentinel known-replica mymaster 127.0.0.1 {old}")), "{conf}");
    assert_eq!(conf.matches("sentinel known-sentinel mymaster").count(), 2, "{conf}");
}

#[test]
fn redis_sentinels_fail_over_a_slotbox_group() {
    let (master, replicas) = start_group(Impl::Slotbox, 2);
    let old = master.port;
    let replica_ports: Vec<u16> = replicas.iter().map(|r| r.port).collect();
    let sentinels: Vec<Proc> = (0..3).map(|_| Proc::sentinel(Impl::Redis, old, 2, DOWN_AFTER)).collect();
    wait_discovery(&sentinels, 2);
    let keys = acked_writes(&master, 20);
    master.kill();
    let new = wait_switch(&sentinels, old, &replica_ports);
    let others: Vec<u16> = replica_ports.iter().copied().filter(|&p| p != new).collect();
    check_new_topology(new, &others, &keys);
}

#[test]
fn slotbox_and_redis_sentinels_fail_over_a_redis_group() {
    let (master, replicas) = start_group(Impl::Redis, 2);
    let old = master.port;
    let replica_ports: Vec<u16> = replicas.iter().map(|r| r.port).collect();
    let sentinels = vec![
        Proc::sentinel(Impl::Slotbox, old, 2, DOWN_AFTER),
        Proc::sentinel(Impl::Slotbox, old, 2, DOWN_AFTER),
        Proc::sentinel(Impl::Redis, old, 2, DOWN_AFTER),
    ];
    wait_discovery(&sentinels, 2);
    let keys = acked_writes(&master, 20);
    master.kill();
    let new = wait_switch(&sentinels, old, &replica_ports);
    let others: Vec<u16> = replica_ports.iter().copied().filter(|&p| p != new).collect();
    check_new_topology(new, &others, &keys);
    // Once the failover ends (the leader reconfigured the replicas), every sentinel's
    // master entry is the new one, in the epoch of the one election.
    for (i, s) in sentinels.iter().enumerate() {
        let mut seen = None;
        let f = try_wait_for(Duration::from_secs(20), || {
            let f = s.call(&["SENTINEL", "MASTER", "mymaster"]);
            let linked = field(&f, "flags") == Some("master".into());
            seen = Some((field(&f, "port"), field(&f, "flags"), field(&f, "failover-state")));
            (field(&f, "port") == Some(new.to_string()) && linked).then_some(f)
        })
        .unwrap_or_else(|| {
            let logs: Vec<String> = sentinels.iter().map(|s| s.log_text()).collect();
            panic!(
                "sentinel {i}: failover did not end in 20s: (port, flags, state) {seen:?}; new master {new}; logs:\n{}",
                logs.join("\n----\n")
            )
        });
        assert_eq!(field(&f, "config-epoch"), Some("1".into()), "one failover, one epoch");
    }
    // A manual failover on a slotbox sentinel needs no agreement: the remaining replica is
    // promoted, and the real sentinel follows it.
    let other = others[0];
    wait_for(Duration::from_secs(10), "the remaining replica is a candidate", || {
        let f = sentinels[0].call(&["SENTINEL", "REPLICAS", "mymaster"]);
        let Frame::Array(rows) = f else { return None };
        rows.iter()
            .any(|r| field(r, "port") == Some(other.to_string()) && field(r, "flags") == Some("slave".into()))
            .then_some(())
    });
    assert_eq!(sentinels[0].call(&["SENTINEL", "FAILOVER", "mymaster"]), Frame::Simple("OK".into()));
    assert_eq!(
        sentinels[0].call(&["SENTINEL", "FAILOVER", "mymaster"]),
        Frame::Error("INPROG Failover already in progress".into())
    );
    assert_eq!(wait_switch(&sentinels, new, &[other]), other);
    wait_for(Duration::from_secs(20), "the previous master follows the manual promotion", || {
        role(new).filter(|(k, p, st)| k == "slave" && *p == other && st == "connected")
    });
}

/// The same requests to a real redis-sentinel and a slotbox sentinel watching the same
/// master: identical bytes back (replies whose values are timings or ids compared by shape).
#[test]
fn sentinel_replies_match_redis_sentinel() {
    let master = Proc::server(Impl::Slotbox, None, None);
    let real = Proc::sentinel(Impl::Redis, master.port, 1, 60000);
    let ours = Proc::sentinel(Impl::Slotbox, master.port, 1, 60000);
    let both = [real, ours];
    wait_discovery(&both, 0);
    let mp = master.port.to_string();
    let same: &[&[&str]] = &[
        &["PING"],
        &["PING", "hi"],
        &["ROLE"],
        &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"],
        &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nope"],
        &["SENTINEL", "CKQUORUM", "mymaster"],
        &["SENTINEL", "CKQUORUM", "nope"],
        &["SENTINEL", "MASTER", "nope"],
        &["SENTINEL", "MASTER"],
        &["SENTINEL", "REPLICAS", "mymaster"],
        &["SENTINEL", "NOSUCH"],
        &["SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", &mp, "0", "*"],
        &["SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "x", "0", "*"],
        &["SENTINEL", "MONITOR", "m2", "127.0.0.1", "abc", "1"],
        &["SENTINEL", "MONITOR", "m2", "127.0.0.1", "7", "0"],
        &["SENTINEL", "MONITOR", "m2", "not-an-ip", "7", "1"],
        &["SENTINEL", "MONITOR", "mymaster", "127.0.0.1", "7", "1"],
        &["SENTINEL", "SET", "mymaster", "nosuch", "1"],
        &["SENTINEL", "SET", "mymaster", "quorum", "-1"],
        &["SENTINEL", "CONFIG", "GET", "announce-*"],
        &["SENTINEL", "CONFIG", "SET", "nosuch", "1"],
        &["SENTINEL", "CONFIG", "SET", "announce-port", "x"],
        &["SENTINEL", "SIMULATE-FAILURE", "nosuch"],
        &["SENTINEL", "REMOVE", "nope"],
        &["SENTINEL", "FAILOVER", "mymaster"],
        &["SENTINEL", "RESET", "nomatch*"],
        &["SENTINEL", "INFO-CACHE", "nope"],
        &["PUBLISH", "chan", "x"],
        &["GET", "foo"],
        &["AUTH", "x"],
        &["HELLO", "4"],
        &["SUBSCRIBE", "+sdown", "+odown"],
    ];
    for req in same {
        let replies: Vec<Vec<u8>> = both.iter().map(|s| s.client().call_raw(req)).collect();
        assert_eq!(common::show(&replies[1]), common::show(&replies[0]), "reply to {req:?}");
    }
    // Replies with timings and ids: same fields in the same order.
    for req in [&["SENTINEL", "MASTER", "mymaster"][..], &["SENTINEL", "SENTINELS", "mymaster"][..]] {
        let keys: Vec<Vec<String>> = both
            .iter()
            .map(|s| {
                let f = s.call(req);
                let f = match f {
                    Frame::Array(v) if req[1] == "SENTINELS" => v.into_iter().next().expect("one other sentinel"),
                    f => f,
                };
                let Frame::Array(items) = f else { panic!("array") };
                items.iter().step_by(2).map(common::text).collect()
            })
            .collect();
        assert_eq!(keys[1], keys[0], "fields of {req:?}");
    }
    // Adding, changing and removing a master: same replies, persisted in the config file.
    for req in [
        &["SENTINEL", "MONITOR", "m2", "127.0.0.1", "7", "1"][..],
        &["SENTINEL", "SET", "m2", "down-after-milliseconds", "1234", "quorum", "2"][..],
    ] {
        let replies: Vec<Vec<u8>> = both.iter().map(|s| s.client().call_raw(req)).collect();
        assert_eq!(common::show(&replies[1]), common::show(&replies[0]), "reply to {req:?}");
    }
    let conf = std::fs::read_to_string(both[1].dir.path().join("sentinel.conf")).expect("config");
    assert!(conf.contains("sentinel monitor m2 127.0.0.1 7 2"), "{conf}");
    assert!(conf.contains("sentinel down-after-milliseconds m2 1234"), "{conf}");
    let replies: Vec<Vec<u8>> = both.iter().map(|s| s.client().call_raw(&["SENTINEL", "REMOVE", "m2"])).collect();
    assert_eq!(common::show(&replies[1]), common::show(&replies[0]));
    let conf = std::fs::read_to_string(both[1].dir.path().join("sentinel.conf")).expect("config");
    assert!(!conf.contains(" m2 "), "{conf}");
}
