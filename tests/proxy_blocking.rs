//! Blocking commands through slotbox-proxy (a plain pool over three embedded servers): a job
//! queue drained by several BRPOP workers gets every job exactly once, a blocked client's
//! pipelined requests wait behind its blocking command, the pool `timeout` does not cut a
//! blocking command short, a client that disconnects while blocked leaves no waiter behind,
//! and keys on different backends are refused. Every wait is bounded.

mod common;

use common::{bulk, encode_command, simple, text, wait_for, wait_until_value, RawClient, WAIT};
use slotbox::protocol::Frame;
use slotbox::{Proxy, Server};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

fn pool_yaml(extra: &str, servers: &[SocketAddr]) -> String {
    let mut y = format!("alpha:\n  listen: 127.0.0.1:0\n  redis: true\n{extra}  servers:\n");
    for (i, s) in servers.iter().enumerate() {
        y.push_str(&format!("   - {s}:1 server{i}\n"));
    }
    y
}

struct Setup {
    servers: Vec<Server>,
    proxy: Proxy,
}

fn setup(extra: &str) -> Setup {
    let servers: Vec<Server> = (0..3).map(|_| Server::start().expect("server")).collect();
    let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr()).collect();
    let proxy = Proxy::start(&pool_yaml(extra, &addrs)).expect("proxy");
    Setup { servers, proxy }
}

impl Setup {
    fn client(&self) -> RawClient {
        RawClient::connect(self.proxy.addr())
    }

    /// `blocked_clients` summed over the backends.
    fn blocked_on_backends(&self) -> i64 {
        self.servers
            .iter()
            .map(|s| {
                let t = text(&RawClient::connect(s.addr()).call(&["INFO", "clients"]));
                t.lines()
                    .find_map(|l| l.strip_prefix("blocked_clients:"))
                    .and_then(|v| v.trim().parse::<i64>().ok())
                    .unwrap_or(0)
            })
            .sum()
    }
}

#[test]
fn job_queue_workers_get_every_job_exactly_once() {
    let s = setup("");
    let addr = s.proxy.addr();
    let taken: Vec<Vec<String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(move || {
                    let mut w = RawClient::connect(addr);
                    let mut got = Vec::new();
                    // Until a "stop" job (the producer sends one per worker after the jobs).
                    // Each BRPOP waits up to 5 s; one that times out is sent again, for at
                    // most a minute in all, so a slow machine delays the run but a lost job
                    // still ends it.
                    let deadline = Instant::now() + Duration::from_secs(60);
                    loop {
                        match w.call(&["BRPOP", "jobs", "5"]) {
                            Frame::Array(items) => {
                                assert_eq!(items[0], bulk("jobs"));
                                let job = text(&items[1]);
                                if job == "stop" {
                                    return got;
                                }
                                got.push(job);
                            }
                            Frame::NullArray => assert!(Instant::now() < deadline, "no stop job after {got:?}"),
                            other => panic!("BRPOP: {other:?}"),
                        }
                    }
                })
            })
            .collect();
        // Every worker waits before the first job, so the jobs are shared (each push serves
        // the longest waiting worker).
        wait_until_value(WAIT, "the three workers blocked", || s.blocked_on_backends(), |&n| n == 3);
        let mut producer = s.client();
        for i in 0..60 {
            assert!(matches!(producer.call(&["LPUSH", "jobs", &format!("job{i}")]), Frame::Integer(_)));
        }
        // LPUSH + BRPOP is FIFO: the stops come out after every job.
        for _ in 0..3 {
            assert!(matches!(producer.call(&["LPUSH", "jobs", "stop"]), Frame::Integer(_)));
        }
        workers.into_iter().map(|h| h.join().expect("worker")).collect()
    });
    let all: Vec<&String> = taken.iter().flatten().collect();
    let distinct: HashSet<&String> = all.iter().copied().collect();
    assert_eq!(all.len(), 60, "every job delivered once: {taken:?}");
    assert_eq!(distinct.len(), 60, "no job delivered twice");
    assert!(taken.iter().filter(|t| !t.is_empty()).count() >= 2, "jobs shared among workers: {taken:?}");
    assert_eq!(s.client().call(&["LLEN", "jobs"]), Frame::Integer(0));
}

#[test]
fn pipelined_requests_wait_behind_a_blocked_command() {
    let s = setup("  hash_tag: \"{}\"\n");
    let mut c = s.client();
    // A wait far longer than the test needs: the push below must come first, however slow the
    // machine (the read timeout still bounds a proxy that never answers).
    let mut batch = encode_command(&["BLPOP", "q", "60"]);
    batch.extend(encode_command(&["GET", "k"]));
    batch.extend(encode_command(&["PING"]));
    c.send_raw(&batch);
    wait_until_value(WAIT, "the BLPOP blocked on its backend", || s.blocked_on_backends(), |&n| n == 1);
    let mut other = s.client();
    assert_eq!(other.call(&["SET", "k", "set-while-blocked"]), simple("OK"));
    assert_eq!(other.call(&["RPUSH", "q", "item"]), Frame::Integer(1));
    assert_eq!(c.read_reply().0, Frame::Array(vec![bulk("q"), bulk("item")]));
    // GET ran after the BLPOP returned, as it would against Redis itself.
    assert_eq!(c.read_reply().0, bulk("set-while-blocked"));
    assert_eq!(c.read_reply().0, simple("PONG"));
    // The client and its connection are reusable afterwards.
    assert_eq!(c.call(&["BLPOP", "q", "0.05"]), Frame::NullArray);
    assert_eq!(c.call(&["RPUSH", "{q}:todo", "a", "b"]), Frame::Integer(2));
    assert_eq!(c.call(&["BLMOVE", "{q}:todo", "{q}:done", "LEFT", "RIGHT", "1"]), bulk("a"));
    assert_eq!(c.call(&["LRANGE", "{q}:done", "0", "-1"]), Frame::Array(vec![bulk("a")]));
}

#[test]
fn pool_timeout_counts_after_the_blocking_timeout() {
    // A 500 ms request timeout would kill a plain request that takes longer; a BLPOP that
    // asks to wait 1 s gets its full wait and Redis's own null reply. (The pool timeout is
    // also the backend's grace to answer once its own timeout has passed, so it is not made
    // so short that a loaded machine misses it.)
    let s = setup("  timeout: 500\n");
    let mut c = s.client();
    let start = Instant::now();
    assert_eq!(c.call(&["BLPOP", "slow", "1"]), Frame::NullArray);
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(950), "answered after {took:?}, before its own timeout");
    assert_eq!(c.call(&["PING"]), simple("PONG"));
}

#[test]
fn disconnecting_while_blocked_leaves_no_waiter() {
    let s = setup("");
    let mut ghost = s.client();
    ghost.send_raw(&encode_command(&["BLPOP", "mail", "0"]));
    assert!(wait_for(WAIT, || s.blocked_on_backends() == 1), "BLPOP never blocked");
    drop(ghost);
    assert!(wait_for(WAIT, || s.blocked_on_backends() == 0), "the backend still holds the gone client's BLPOP");
    let mut c = s.client();
    assert_eq!(c.call(&["RPUSH", "mail", "letter"]), Frame::Integer(1));
    assert_eq!(c.call(&["LLEN", "mail"]), Frame::Integer(1), "nobody should have taken the letter");
}

#[test]
fn keys_on_different_backends_are_refused() {
    let s = setup("");
    let mut c = s.client();
    // Find two keys the pool places on different backends.
    let place = |k: &str| -> usize {
        let mut c = RawClient::connect(s.proxy.addr());
        assert_eq!(c.call(&["SET", k, "x"]), simple("OK"));
        let at =
            s.servers.iter().position(|srv| RawClient::connect(srv.addr()).call(&["EXISTS", k]) == Frame::Integer(1));
        c.call(&["DEL", k]);
        at.expect("key stored somewhere")
    };
    let a = "list-a";
    let b = (0..100).map(|i| format!("list-b{i}")).find(|k| place(k) != place(a)).expect("a key on another backend");
    let Frame::Error(e) = c.call(&["BLPOP", a, &b, "5"]) else { panic!("spanning BLPOP should be refused") };
    assert!(String::from_utf8_lossy(&e).contains("different backends"), "{e:?}");
    assert_eq!(c.call(&["PING"]), simple("PONG"), "connection stays open");
}
