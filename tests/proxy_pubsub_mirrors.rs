//! Pattern subscriptions through slotbox-proxy behave like one Redis server although a plain
//! pool copies them to every backend ("mirrors"): PSUBSCRIBE is confirmed only once every
//! backend has the pattern (a PUBLISH after the confirmation reaches it, wherever the channel
//! lives), PUNSUBSCRIBE and RESET only once every backend dropped it (what was published
//! before arrives before the confirmation, nothing after), replies stay in step under a
//! stream of messages (plain and cluster pools, channels and patterns, QUIT), a mirror lost
//! mid-request is not waited for, and the confirmations and counts are real Redis's.
//!
//! Backend 2 sits behind a [`Relay`] the deterministic tests freeze: whatever the proxy sends
//! there waits, so a confirmation that arrives meanwhile did not wait for that backend.

mod common;

use common::relay::Relay;
use common::{bulk, simple, wait_until_value, RawClient, ServerProcess, WAIT};
use slotbox::protocol::Frame;
use slotbox::{Cluster, Proxy, Server};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long a frozen relay stays frozen when the proxy (rightly) waits for it.
const GRACE: Duration = Duration::from_millis(300);

struct Pool {
    servers: Vec<Server>,
    relay: Relay,
    proxy: Proxy,
}

/// A pattern and, for each backend, a channel it matches that lives there.
struct Layout {
    pattern: String,
    channels: Vec<String>,
}

impl Pool {
    /// Three backends, the third behind a relay.
    fn start() -> Pool {
        let servers: Vec<Server> = (0..3).map(|_| Server::start().expect("server")).collect();
        let relay = Relay::start(servers[2].addr());
        let addrs = [servers[0].addr(), servers[1].addr(), relay.addr()];
        let mut y = String::from("alpha:\n  listen: 127.0.0.1:0\n  redis: true\n  hash_tag: \"{}\"\n  servers:\n");
        for (i, a) in addrs.iter().enumerate() {
            y.push_str(&format!("   - {a}:1 server{i}\n"));
        }
        Pool { servers, relay, proxy: Proxy::start(&y).expect("proxy") }
    }

    fn client(&self) -> RawClient {
        RawClient::connect(self.proxy.addr())
    }

    fn direct(&self, i: usize) -> RawClient {
        RawClient::connect(self.servers[i].addr())
    }

    /// The backend `name` hashes to (stored through the proxy, found directly).
    fn home(&self, name: &str) -> usize {
        assert_eq!(self.client().call(&["SET", name, "x"]), simple("OK"));
        (0..3).find(|&i| self.direct(i).call(&["EXISTS", name]) == Frame::Integer(1)).expect("stored somewhere")
    }

    /// `<prefix>.*` for the first prefix whose pattern does not live on backend 2 (so the
    /// client's own connection is not behind the relay), with a channel per backend.
    fn layout(&self, prefix: &str) -> Layout {
        let prefix = (0..50)
            .map(|i| format!("{prefix}{i}"))
            .find(|p| self.home(&format!("{p}.*")) != 2)
            .expect("a pattern on backend 0 or 1");
        let mut channels = vec![String::new(); 3];
        for j in 0..3000 {
            let ch = format!("{prefix}.{j}");
            let home = self.home(&ch);
            if channels[home].is_empty() {
                channels[home] = ch;
            }
            if channels.iter().all(|c| !c.is_empty()) {
                return Layout { pattern: format!("{prefix}.*"), channels };
            }
        }
        panic!("no channel on every backend: {channels:?}");
    }

    fn numpat(&self, i: usize) -> Frame {
        self.direct(i).call(&["PUBSUB", "NUMPAT"])
    }

    /// Wait until every backend has one pattern (at once since the confirmation waits for
    /// them; this keeps the tests of unsubscribing apart from that).
    fn wait_pattern_everywhere(&self) {
        for i in 0..3 {
            wait_until_value(
                WAIT,
                &format!("the pattern on backend {i}"),
                || self.numpat(i),
                |f| *f == Frame::Integer(1),
            );
        }
    }

    /// Run `observe` (which reads from the proxy) while the relay is frozen: it thaws as
    /// soon as `observe` returns, or after [`GRACE`] if the proxy is waiting for it.
    fn thawing<T>(&self, observe: impl FnOnce() -> T) -> T {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let relay = &self.relay;
        std::thread::scope(|s| {
            s.spawn(move || {
                let _ = rx.recv_timeout(GRACE);
                relay.thaw();
            });
            let out = observe();
            drop(tx);
            out
        })
    }
}

/// Sets its flag when dropped, so a helper thread stops even when the test panics.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn arr(items: &[Frame]) -> Frame {
    Frame::Array(items.to_vec())
}

fn confirm(kind: &str, name: &str, n: i64) -> Frame {
    arr(&[bulk(kind), bulk(name), Frame::Integer(n)])
}

fn pmessage(pattern: &str, channel: &str, payload: &str) -> Frame {
    arr(&[bulk("pmessage"), bulk(pattern), bulk(channel), bulk(payload)])
}

#[test]
fn psubscribe_is_confirmed_once_every_backend_has_the_pattern() {
    let pool = Pool::start();
    let l = pool.layout("news");
    let mut sub = pool.client();
    pool.relay.freeze();
    sub.send_raw(&common::encode_command(&["PSUBSCRIBE", &l.pattern]));
    let (reply, numpat) = pool.thawing(|| (sub.read_reply().0, pool.numpat(2)));
    assert_eq!(reply, confirm("psubscribe", &l.pattern, 1));
    assert_eq!(numpat, Frame::Integer(1), "confirmed before the relayed backend had the pattern");
    let mut publisher = pool.client();
    for (i, ch) in l.channels.iter().enumerate() {
        assert_eq!(publisher.call(&["PUBLISH", ch, "m"]), Frame::Integer(1), "backend {i}'s {ch}");
        assert_eq!(sub.read_reply().0, pmessage(&l.pattern, ch, "m"));
    }
}

#[test]
fn punsubscribe_is_confirmed_once_every_backend_dropped_the_pattern() {
    let pool = Pool::start();
    let l = pool.layout("news");
    let mut sub = pool.client();
    assert_eq!(sub.call(&["PSUBSCRIBE", &l.pattern]), confirm("psubscribe", &l.pattern, 1));
    pool.wait_pattern_everywhere();
    pool.relay.freeze();
    sub.send_raw(&common::encode_command(&["PUNSUBSCRIBE", &l.pattern]));
    // Backend 2 cannot have seen the PUNSUBSCRIBE: this is published before it takes effect.
    assert_eq!(pool.direct(2).call(&["PUBLISH", &l.channels[2], "late"]), Frame::Integer(1));
    let first = pool.thawing(|| sub.read_reply().0);
    assert_eq!(first, pmessage(&l.pattern, &l.channels[2], "late"), "published before the confirmation");
    assert_eq!(sub.read_reply().0, confirm("punsubscribe", &l.pattern, 0));
    assert_eq!(sub.call(&["PING"]), simple("PONG"), "out of subscribed mode, replies in step");
    let mut publisher = pool.client();
    for (i, ch) in l.channels.iter().enumerate() {
        assert_eq!(pool.numpat(i), Frame::Integer(0), "backend {i} still has the pattern");
        assert_eq!(publisher.call(&["PUBLISH", ch, "gone"]), Frame::Integer(0));
    }
    assert_eq!(sub.call(&["PING"]), simple("PONG"), "nothing relayed after the confirmation");
}

#[test]
fn reset_answers_once_every_backend_dropped_the_subscriptions() {
    let pool = Pool::start();
    let l = pool.layout("news");
    let mut sub = pool.client();
    assert_eq!(sub.call(&["PSUBSCRIBE", &l.pattern]), confirm("psubscribe", &l.pattern, 1));
    let ch = &l.channels[0];
    assert_eq!(sub.call(&["SUBSCRIBE", ch]), confirm("subscribe", ch, 2));
    pool.wait_pattern_everywhere();
    pool.relay.freeze();
    sub.send_raw(&common::encode_command(&["RESET"]));
    assert_eq!(pool.direct(2).call(&["PUBLISH", &l.channels[2], "late"]), Frame::Integer(1));
    let first = pool.thawing(|| sub.read_reply().0);
    assert_eq!(first, pmessage(&l.pattern, &l.channels[2], "late"), "published before the reset");
    assert_eq!(sub.read_reply().0, simple("RESET"));
    let mut publisher = pool.client();
    for (i, ch) in l.channels.iter().enumerate() {
        assert_eq!(publisher.call(&["PUBLISH", ch, "gone"]), Frame::Integer(0), "backend {i}'s {ch}");
    }
    assert_eq!(sub.call(&["PING"]), simple("PONG"));
}

/// A mirror whose connection is lost while it holds a PSUBSCRIBE is not waited for (as for a
/// backend that is down): the client is confirmed, and the backend gets the pattern once it
/// can be reached again.
#[test]
fn a_mirror_lost_mid_request_is_not_waited_for() {
    let pool = Pool::start();
    let l = pool.layout("news");
    let mut sub = pool.client();
    let relayed = pool.relay.accepted();
    pool.relay.freeze();
    sub.send_raw(&common::encode_command(&["PSUBSCRIBE", &l.pattern]));
    for i in 0..2 {
        wait_until_value(WAIT, &format!("the pattern on backend {i}"), || pool.numpat(i), |f| *f == Frame::Integer(1));
    }
    common::wait_until(WAIT, "the mirror's connection through the relay", || pool.relay.accepted() > relayed);
    // The mirror there holds the PSUBSCRIBE when its connection goes.
    pool.relay.cut();
    assert_eq!(sub.read_reply().0, confirm("psubscribe", &l.pattern, 1));
    pool.relay.thaw();
    wait_until_value(WAIT, "the pattern back on backend 2", || pool.numpat(2), |f| *f == Frame::Integer(1));
    let mut publisher = pool.client();
    assert_eq!(publisher.call(&["PUBLISH", &l.channels[2], "back"]), Frame::Integer(1));
    assert_eq!(sub.read_reply().0, pmessage(&l.pattern, &l.channels[2], "back"));
}

/// The race without a relay, many times: a PUBLISH right after PSUBSCRIBE's confirmation
/// reaches the pattern on every backend (with one pattern and with a second one added to
/// existing mirrors); right after PUNSUBSCRIBE's it reaches nobody and PING reads PONG.
#[test]
fn patterns_are_everywhere_when_confirmed_many_times() {
    let pool = Pool::start();
    let (a, b) = (pool.layout("news"), pool.layout("feed"));
    let mut publisher = pool.client();
    for round in 0..150 {
        let mut sub = pool.client();
        assert_eq!(sub.call(&["PSUBSCRIBE", &a.pattern]), confirm("psubscribe", &a.pattern, 1));
        assert_eq!(sub.call(&["PSUBSCRIBE", &b.pattern]), confirm("psubscribe", &b.pattern, 2));
        for l in [&a, &b] {
            for ch in &l.channels {
                assert_eq!(publisher.call(&["PUBLISH", ch, "m"]), Frame::Integer(1), "round {round}: {ch}");
                assert_eq!(sub.read_reply().0, pmessage(&l.pattern, ch, "m"), "round {round}");
            }
        }
        sub.send_raw(&common::encode_command(&["PUNSUBSCRIBE", &a.pattern, &b.pattern]));
        assert_eq!(sub.read_reply().0, confirm("punsubscribe", &a.pattern, 1), "round {round}");
        assert_eq!(sub.read_reply().0, confirm("punsubscribe", &b.pattern, 0), "round {round}");
        for ch in a.channels.iter().chain(&b.channels) {
            assert_eq!(publisher.call(&["PUBLISH", ch, "late"]), Frame::Integer(0), "round {round}: {ch}");
        }
        assert_eq!(sub.call(&["PING"]), simple("PONG"), "round {round}");
    }
}

/// Subscribe and unsubscribe over and over while another client publishes on every channel
/// without pause: a confirmation comes first, messages only while subscribed, and the first
/// reply after leaving subscribed mode is PONG. Patterns and channels alike.
fn stream_keeps_replies_in_step(proxy: SocketAddr, pattern: &str, channels: &[String], rounds: usize) {
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let publisher = s.spawn(|| {
            let mut p = RawClient::connect(proxy);
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let ch = &channels[n as usize % channels.len()];
                assert!(matches!(p.call(&["PUBLISH", ch, &n.to_string()]), Frame::Integer(_)));
                n += 1;
            }
            n
        });
        let stopping = StopOnDrop(&stop);
        let mut sub = RawClient::connect(proxy);
        for round in 0..rounds {
            let (kind, name) = if round % 2 == 0 { ("psubscribe", pattern) } else { ("subscribe", &*channels[0]) };
            let quit = if kind == "psubscribe" { "punsubscribe" } else { "unsubscribe" };
            assert_eq!(sub.call(&[kind, name]), confirm(kind, name, 1), "round {round}");
            sub.send_raw(&common::encode_command(&[quit, name]));
            loop {
                let f = sub.read_reply().0;
                if f == confirm(quit, name, 0) {
                    break;
                }
                let Frame::Array(items) = &f else { panic!("round {round}: {f:?} while leaving") };
                assert!(matches!(&items[0], Frame::Bulk(k) if &k[..] == b"message" || &k[..] == b"pmessage"));
            }
            assert_eq!(sub.call(&["PING"]), simple("PONG"), "round {round}: a late message");
        }
        drop(stopping);
        assert!(publisher.join().expect("publisher") > 0);
    });
}

#[test]
fn replies_stay_in_step_under_a_stream_of_messages() {
    let pool = Pool::start();
    let l = pool.layout("news");
    stream_keeps_replies_in_step(pool.proxy.addr(), &l.pattern, &l.channels, 200);
}

#[test]
fn cluster_pool_replies_stay_in_step_under_a_stream_of_messages() {
    let cluster = Cluster::start(3).expect("cluster");
    let yaml = format!(
        "c:\n  listen: 127.0.0.1:0\n  redis: true\n  cluster: true\n  servers:\n   - {}:1\n",
        cluster.addrs()[0]
    );
    let proxy = Proxy::start(&yaml).expect("proxy");
    let channels: Vec<String> = (0..6).map(|i| format!("news.{i}")).collect();
    stream_keeps_replies_in_step(proxy.addr(), "news.*", &channels, 100);
}

/// QUIT's +OK is the last thing a subscriber gets, however many messages are coming.
#[test]
fn quit_is_a_subscribers_last_reply() {
    let pool = Pool::start();
    let l = pool.layout("news");
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut p = pool.client();
            for n in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                p.call(&["PUBLISH", &l.channels[n % 3], "m"]);
            }
        });
        let _stopping = StopOnDrop(&stop);
        for round in 0..20 {
            let mut sub = pool.client();
            assert_eq!(sub.call(&["PSUBSCRIBE", &l.pattern]), confirm("psubscribe", &l.pattern, 1));
            sub.send_raw(&common::encode_command(&["QUIT"]));
            let (frames, closed) = sub.read_until_closed();
            assert!(closed, "round {round}: still open after QUIT");
            let (last, before) = frames.split_last().expect("a reply to QUIT");
            assert_eq!(last, &simple("OK"), "round {round}: after +OK: {frames:?}");
            assert!(before.iter().all(|f| matches!(f, Frame::Array(m) if m.len() == 4)), "{before:?}");
        }
    });
}

/// Send `cmd` and record its `frames` replies. An argument-less unsubscribe answers in no set
/// order: its names are recorded sorted, its counts (which go down one by one) in order.
fn run(sub: &mut RawClient, seen: &mut Vec<Frame>, cmd: &[&str], frames: usize) {
    sub.send_raw(&common::encode_command(cmd));
    let got: Vec<Frame> = (0..frames).map(|_| sub.read_reply().0).collect();
    if cmd.len() > 1 || !cmd[0].ends_with("UNSUBSCRIBE") {
        return seen.extend(got);
    }
    let parts: Vec<Vec<Frame>> =
        got.iter().map(|f| if let Frame::Array(a) = f { a.clone() } else { panic!("{cmd:?}: {f:?}") }).collect();
    let mut names: Vec<String> = parts.iter().map(|p| format!("{:?}", p[1])).collect();
    names.sort();
    for (p, name) in parts.iter().zip(names) {
        seen.push(arr(&[p[0].clone(), bulk(&name), p[2].clone()]));
    }
}

/// Everything a subscriber reads, replies and messages in order, for a script of
/// (un)subscriptions with several channels or patterns per command, channels and patterns
/// mixed, and publishes in between (their counts recorded too).
fn script(addr: SocketAddr) -> Vec<Frame> {
    let (mut sub, mut publisher) = (RawClient::connect(addr), RawClient::connect(addr));
    let mut seen = Vec::new();
    run(&mut sub, &mut seen, &["SUBSCRIBE", "{t}a", "{t}b"], 2);
    run(&mut sub, &mut seen, &["PSUBSCRIBE", "x.*", "y.*", "{t}*", "x.*"], 4);
    for ch in ["x.1", "x.2", "x.3", "y.1", "y.7", "{t}a", "{t}zz", "z.1"] {
        let n = publisher.call(&["PUBLISH", ch, "m"]);
        let Frame::Integer(k) = n else { panic!("PUBLISH {ch}: {n:?}") };
        seen.push(n);
        seen.extend((0..k).map(|_| sub.read_reply().0));
    }
    run(&mut sub, &mut seen, &["PUNSUBSCRIBE", "x.*", "nope.*"], 2);
    run(&mut sub, &mut seen, &["UNSUBSCRIBE", "{t}a"], 1);
    seen.push(publisher.call(&["PUBLISH", "x.1", "m"]));
    run(&mut sub, &mut seen, &["PING", "hi"], 1);
    run(&mut sub, &mut seen, &["PUNSUBSCRIBE"], 2);
    run(&mut sub, &mut seen, &["UNSUBSCRIBE"], 1);
    run(&mut sub, &mut seen, &["PING"], 1);
    run(&mut sub, &mut seen, &["PUNSUBSCRIBE"], 1);
    seen.push(publisher.call(&["PUBLISH", "y.1", "m"]));
    seen
}

#[test]
fn confirmations_and_counts_match_redis() {
    let redis = ServerProcess::redis();
    let want = script(redis.addr());
    let pool = Pool::start();
    assert_eq!(script(pool.proxy.addr()), want);
}
