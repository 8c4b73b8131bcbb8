//! Transactions, pub/sub and the session-store use case, over raw RESP against an embedded
//! slotbox server: MULTI/EXEC stays atomic while other connections write, WATCH aborts EXEC
//! when a watched key changes (another client's write, FLUSHALL, expiry), a queueing error
//! aborts the whole transaction, and PUBLISH reaches every channel and pattern subscriber in
//! publish order, as RESP2 arrays or RESP3 push frames. Expected replies are redis-server 7.0's.
//!
//! Every wait is bounded: reads time out after `common::WAIT`, polling loops have deadlines.

mod common;

use common::{bulk, error, simple, RawClient};
use slotbox::protocol::Frame;
use slotbox::Server;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

fn client(server: &Server) -> RawClient {
    RawClient::connect(server.addr())
}

fn int(frame: &Frame) -> i64 {
    match frame {
        Frame::Integer(n) => *n,
        other => panic!("expected an integer, got {other:?}"),
    }
}

fn items(frame: Frame) -> Vec<Frame> {
    match frame {
        Frame::Array(v) | Frame::Push(v) => v,
        other => panic!("expected an array, got {other:?}"),
    }
}

/// `MULTI`, the commands, `EXEC`, pipelined in one write; checks the `+OK` / `+QUEUED`
/// replies and returns EXEC's reply.
fn transaction(c: &mut RawClient, cmds: &[&[&str]]) -> Frame {
    let mut req = common::encode_command(&["MULTI"]);
    for cmd in cmds {
        req.extend(common::encode_command(cmd));
    }
    req.extend(common::encode_command(&["EXEC"]));
    c.send_raw(&req);
    assert_eq!(c.read_reply().0, simple("OK"), "MULTI");
    for cmd in cmds {
        assert_eq!(c.read_reply().0, simple("QUEUED"), "{cmd:?}");
    }
    c.read_reply().0
}

fn parse_count(frame: &Frame) -> i64 {
    match frame {
        Frame::Bulk(b) => std::str::from_utf8(b).unwrap().parse().unwrap(),
        Frame::Null => 0,
        other => panic!("expected a counter value, got {other:?}"),
    }
}

#[test]
fn multi_exec_is_atomic_under_concurrent_writers() {
    const WRITERS: usize = 4;
    const ROUNDS: i64 = 250;
    let server = Server::start().expect("start slotbox");
    let done = AtomicBool::new(false);
    let checks = std::thread::scope(|s| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| {
                s.spawn(|| {
                    let mut c = client(&server);
                    for _ in 0..ROUNDS {
                        let reply = items(transaction(&mut c, &[&["INCR", "a"], &["INCR", "b"]]));
                        // a and b only ever move together, so both counters agree inside EXEC.
                        assert_eq!(reply.len(), 2);
                        assert_eq!(int(&reply[0]), int(&reply[1]), "EXEC saw a != b");
                    }
                })
            })
            .collect();
        let checker = s.spawn(|| {
            let mut c = client(&server);
            let mut checks = 0u64;
            while !done.load(Ordering::Acquire) {
                let got = items(c.call(&["MGET", "a", "b"]));
                assert_eq!(got[0], got[1], "MGET saw a != b");
                let got = items(transaction(&mut c, &[&["GET", "a"], &["GET", "b"]]));
                assert_eq!(got[0], got[1], "MULTI GET a GET b saw a != b");
                checks += 1;
            }
            checks
        });
        for w in writers {
            w.join().expect("writer thread");
        }
        done.store(true, Ordering::Release);
        checker.join().expect("checker thread")
    });
    assert!(checks > 0);
    let mut c = client(&server);
    let got = items(c.call(&["MGET", "a", "b"]));
    let total = WRITERS as i64 * ROUNDS;
    assert_eq!((parse_count(&got[0]), parse_count(&got[1])), (total, total));
}

#[test]
fn watch_aborts_exec_when_another_connection_writes() {
    let server = Server::start().expect("start slotbox");
    let (mut c, mut other) = (client(&server), client(&server));
    assert_eq!(c.call(&["SET", "k", "1"]), simple("OK"));

    // Someone else writes the watched key: EXEC returns a null array, nothing runs.
    assert_eq!(c.call(&["WATCH", "k"]), simple("OK"));
    assert_eq!(other.call(&["SET", "k", "2"]), simple("OK"));
    assert_eq!(transaction(&mut c, &[&["SET", "k", "3"], &["SET", "x", "1"]]), Frame::NullArray);
    assert_eq!(c.call_raw(&["EXEC"]), b"-ERR EXEC without MULTI\r\n");
    assert_eq!(c.call(&["MGET", "k", "x"]), Frame::Array(vec![bulk("2"), Frame::Null]));

    // A read by another client does not break the watch; EXEC also ends the WATCH.
    assert_eq!(c.call(&["WATCH", "k"]), simple("OK"));
    assert_eq!(other.call(&["GET", "k"]), bulk("2"));
    let reply = transaction(&mut c, &[&["INCR", "k"]]);
    assert_eq!(reply, Frame::Array(vec![Frame::Integer(3)]));
    assert_eq!(other.call(&["SET", "k", "10"]), simple("OK"));
    let reply = transaction(&mut c, &[&["INCR", "k"]]);
    assert_eq!(reply, Frame::Array(vec![Frame::Integer(11)]));

    // UNWATCH forgets it.
    assert_eq!(c.call(&["WATCH", "k"]), simple("OK"));
    assert_eq!(c.call(&["UNWATCH"]), simple("OK"));
    assert_eq!(other.call(&["SET", "k", "20"]), simple("OK"));
    let reply = transaction(&mut c, &[&["INCR", "k"]]);
    assert_eq!(reply, Frame::Array(vec![Frame::Integer(21)]));

    // On the wire, the aborted EXEC is a null array: `*-1` in RESP2.
    assert_eq!(c.call(&["WATCH", "k"]), simple("OK"));
    assert_eq!(other.call(&["DEL", "k"]), Frame::Integer(1));
    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert_eq!(c.call(&["GET", "k"]), simple("QUEUED"));
    assert_eq!(c.call_raw(&["EXEC"]), b"*-1\r\n");
}

#[test]
fn watch_aborts_exec_on_flushall() {
    let server = Server::start().expect("start slotbox");
    let (mut c, mut other) = (client(&server), client(&server));
    assert_eq!(c.call(&["SET", "k", "v"]), simple("OK"));
    assert_eq!(c.call(&["WATCH", "k"]), simple("OK"));
    assert_eq!(other.call(&["FLUSHALL"]), simple("OK"));
    assert_eq!(transaction(&mut c, &[&["SET", "x", "1"]]), Frame::NullArray);
    assert_eq!(c.call(&["EXISTS", "x", "k"]), Frame::Integer(0));
}

#[test]
fn watch_aborts_exec_when_the_watched_key_expires() {
    let server = Server::start().expect("start slotbox");
    let mut c = client(&server);
    assert_eq!(c.call(&["SET", "k", "v", "PX", "100"]), simple("OK"));
    assert_eq!(c.call(&["WATCH", "k"]), simple("OK"));
    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert_eq!(c.call(&["SET", "x", "1"]), simple("QUEUED"));
    // Bounded wait until the key has expired (seen from another connection).
    let mut other = client(&server);
    let deadline = Instant::now() + Duration::from_secs(5);
    while other.call(&["EXISTS", "k"]) != Frame::Integer(0) {
        assert!(Instant::now() < deadline, "k never expired");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(c.call(&["EXEC"]), Frame::NullArray);
    assert_eq!(c.call(&["GET", "x"]), Frame::Null);

    // A key that expired before WATCH is simply missing: nothing changes, EXEC runs.
    assert_eq!(c.call(&["WATCH", "k"]), simple("OK"));
    let reply = transaction(&mut c, &[&["SET", "x", "2"]]);
    assert_eq!(reply, Frame::Array(vec![simple("OK")]));
}

#[test]
fn errors_while_queueing_abort_exec_but_runtime_errors_do_not() {
    let server = Server::start().expect("start slotbox");
    let mut c = client(&server);
    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert_eq!(c.call(&["SET", "a", "1"]), simple("QUEUED"));
    assert_eq!(c.call(&["SET", "b"]), error("ERR wrong number of arguments for 'set' command"));
    assert_eq!(c.call(&["INCR", "a"]), simple("QUEUED"));
    assert_eq!(c.call(&["EXEC"]), error(EXECABORT));
    assert_eq!(c.call(&["GET", "a"]), Frame::Null, "nothing of it ran");

    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert_eq!(
        c.call_raw(&["NOSUCHCMD", "x"]),
        b"-ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' \r\n"
    );
    assert_eq!(c.call_raw(&["EXEC"]), format!("-{EXECABORT}\r\n").as_bytes());

    // Nesting and misplaced commands.
    assert_eq!(c.call_raw(&["EXEC"]), b"-ERR EXEC without MULTI\r\n");
    assert_eq!(c.call_raw(&["DISCARD"]), b"-ERR DISCARD without MULTI\r\n");
    assert_eq!(c.call(&["MULTI"]), simple("OK"));
    assert_eq!(c.call(&["MULTI"]), error("ERR MULTI calls can not be nested"));
    assert_eq!(c.call(&["WATCH", "a"]), error("ERR WATCH inside MULTI is not allowed"));
    assert_eq!(c.call(&["SET", "a", "1"]), simple("QUEUED"));
    assert_eq!(c.call(&["DISCARD"]), simple("OK"));
    assert_eq!(c.call(&["GET", "a"]), Frame::Null, "DISCARD dropped the queue");

    // A command that fails when it runs does not stop the others.
    let reply = transaction(&mut c, &[&["SET", "s", "str"], &["INCR", "s"], &["SET", "t", "1"]]);
    assert_eq!(
        reply,
        Frame::Array(vec![simple("OK"), error("ERR value is not an integer or out of range"), simple("OK"),])
    );
    assert_eq!(c.call(&["GET", "t"]), bulk("1"));
}

/// A subscription confirmation or message as a RESP2 array of frames.
fn msg(parts: &[Frame]) -> Frame {
    Frame::Array(parts.to_vec())
}

fn subscribe(server: &Server, cmd: &str, target: &str) -> RawClient {
    let mut c = client(server);
    let kind = cmd.to_ascii_lowercase();
    let reply = c.call(&[cmd, target]);
    assert_eq!(reply, msg(&[bulk(&kind), bulk(target), Frame::Integer(1)]));
    c
}

fn sorted_strings(frame: Frame) -> Vec<Frame> {
    let mut v = items(frame);
    v.sort_by_key(|f| format!("{f:?}"));
    v
}

#[test]
fn publish_reaches_every_subscriber_and_pattern_in_order() {
    const MESSAGES: usize = 100;
    let server = Server::start().expect("start slotbox");
    let mut subs: Vec<RawClient> = (0..3).map(|_| subscribe(&server, "SUBSCRIBE", "news.tech")).collect();
    let mut pat = subscribe(&server, "PSUBSCRIBE", "news.*");
    let mut publisher = client(&server);

    for i in 0..MESSAGES {
        let payload = format!("msg-{i}");
        let n = publisher.call(&["PUBLISH", "news.tech", &payload]);
        assert_eq!(n, Frame::Integer(4), "3 channel subscribers + 1 pattern");
    }
    assert_eq!(publisher.call(&["PUBLISH", "news.sport", "goal"]), Frame::Integer(1));
    assert_eq!(publisher.call(&["PUBLISH", "weather", "rain"]), Frame::Integer(0));

    for (n, sub) in subs.iter_mut().enumerate() {
        for i in 0..MESSAGES {
            let expected = msg(&[bulk("message"), bulk("news.tech"), bulk(&format!("msg-{i}"))]);
            assert_eq!(sub.read_reply().0, expected, "subscriber {n}, message {i}");
        }
    }
    for i in 0..MESSAGES {
        let expected = msg(&[bulk("pmessage"), bulk("news.*"), bulk("news.tech"), bulk(&format!("msg-{i}"))]);
        assert_eq!(pat.read_reply().0, expected, "pattern subscriber, message {i}");
    }
    let sport = msg(&[bulk("pmessage"), bulk("news.*"), bulk("news.sport"), bulk("goal")]);
    assert_eq!(pat.read_reply().0, sport);

    // Introspection.
    let numsub = publisher.call(&["PUBSUB", "NUMSUB", "news.tech", "news.sport"]);
    assert_eq!(
        numsub,
        Frame::Array(vec![bulk("news.tech"), Frame::Integer(3), bulk("news.sport"), Frame::Integer(0),])
    );
    assert_eq!(publisher.call(&["PUBSUB", "NUMPAT"]), Frame::Integer(1));
    let extra = subscribe(&server, "SUBSCRIBE", "alerts");
    assert_eq!(sorted_strings(publisher.call(&["PUBSUB", "CHANNELS"])), vec![bulk("alerts"), bulk("news.tech")]);
    assert_eq!(publisher.call(&["PUBSUB", "CHANNELS", "news.*"]), Frame::Array(vec![bulk("news.tech")]));

    // A subscriber that leaves stops being counted (a closed connection too).
    let bye = subs[0].call(&["UNSUBSCRIBE", "news.tech"]);
    assert_eq!(bye, msg(&[bulk("unsubscribe"), bulk("news.tech"), Frame::Integer(0)]));
    drop(subs.pop());
    drop(extra);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let n = publisher.call(&["PUBLISH", "news.tech", "last"]);
        if n == Frame::Integer(2) {
            break;
        }
        assert!(Instant::now() < deadline, "PUBLISH still counts {n:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while items(publisher.call(&["PUBSUB", "CHANNELS"])) != vec![bulk("news.tech")] {
        assert!(Instant::now() < deadline, "closed subscriber still listed");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn subscribed_resp2_client_only_runs_pubsub_commands() {
    let server = Server::start().expect("start slotbox");
    let mut c = client(&server);
    assert_eq!(c.call(&["SET", "k", "v"]), simple("OK"));
    c.send_raw(&common::encode_command(&["SUBSCRIBE", "a", "b"]));
    assert_eq!(c.read_reply().0, msg(&[bulk("subscribe"), bulk("a"), Frame::Integer(1)]));
    assert_eq!(c.read_reply().0, msg(&[bulk("subscribe"), bulk("b"), Frame::Integer(2)]));
    assert_eq!(
        c.call_raw(&["GET", "k"]),
        b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET \
          are allowed in this context\r\n"
    );
    assert_eq!(c.call(&["PING"]), msg(&[bulk("pong"), bulk("")]));
    assert_eq!(c.call(&["PING", "hi"]), msg(&[bulk("pong"), bulk("hi")]));
    // Unsubscribing from everything returns the client to normal.
    c.send_raw(&common::encode_command(&["UNSUBSCRIBE"]));
    let mut left = [items(c.read_reply().0), items(c.read_reply().0)];
    left.sort_by_key(|m| -int(&m[2]));
    let mut channels = [left[0][1].clone(), left[1][1].clone()];
    channels.sort_by_key(|f| format!("{f:?}"));
    assert_eq!(channels, [bulk("a"), bulk("b")]);
    for (m, remaining) in left.iter().zip([1, 0]) {
        assert_eq!(m[0], bulk("unsubscribe"));
        assert_eq!(m[2], Frame::Integer(remaining));
    }
    assert_eq!(c.call(&["GET", "k"]), bulk("v"));
}

#[test]
fn resp3_subscriber_receives_push_frames_and_can_run_commands() {
    let server = Server::start().expect("start slotbox");
    let mut c = client(&server);
    assert!(matches!(c.call(&["HELLO", "3"]), Frame::Map(_)));
    let push = |parts: &[Frame]| Frame::Push(parts.to_vec());
    assert_eq!(c.call(&["SUBSCRIBE", "ch"]), push(&[bulk("subscribe"), bulk("ch"), Frame::Integer(1)]));
    assert_eq!(c.call(&["PSUBSCRIBE", "c*"]), push(&[bulk("psubscribe"), bulk("c*"), Frame::Integer(2)]));
    // RESP3 lets a subscribed client run ordinary commands.
    assert_eq!(c.call_raw(&["GET", "missing"]), b"_\r\n");
    assert_eq!(c.call(&["SET", "k", "v"]), simple("OK"));

    let mut publisher = client(&server);
    assert_eq!(publisher.call(&["PUBLISH", "ch", "hello"]), Frame::Integer(2));
    let (frame, raw) = c.read_reply();
    assert!(raw.starts_with(b">3\r\n"), "{}", common::show(&raw));
    assert_eq!(frame, push(&[bulk("message"), bulk("ch"), bulk("hello")]));
    let (frame, raw) = c.read_reply();
    assert!(raw.starts_with(b">4\r\n"), "{}", common::show(&raw));
    assert_eq!(frame, push(&[bulk("pmessage"), bulk("c*"), bulk("ch"), bulk("hello")]));
    assert_eq!(c.call(&["GET", "k"]), bulk("v"));
}

#[test]
fn session_store() {
    let server = Server::start().expect("start slotbox");
    let mut c = client(&server);
    let sessions: Vec<String> = (0..50).map(|i| format!("session:{i:03}")).collect();
    // A TTL read back is the one set less the time passed since it was sent (measured here,
    // not assumed small); TTL rounds to the nearest second.
    let ttl_ok = |ttl: i64, full: i64, since: Instant| {
        let passed = since.elapsed().as_secs() as i64;
        (full - passed - 1..=full).contains(&ttl)
    };
    let created = Instant::now();
    for (i, s) in sessions.iter().enumerate() {
        let data = format!("{{\"user\":{i},\"cart\":[]}}");
        assert_eq!(c.call(&["SET", s, &data, "EX", "1800"]), simple("OK"));
    }
    assert_eq!(c.call(&["DBSIZE"]), Frame::Integer(50));
    assert_eq!(c.call(&["GET", "session:007"]), bulk("{\"user\":7,\"cart\":[]}"));
    let ttl = int(&c.call(&["TTL", "session:007"]));
    assert!(ttl_ok(ttl, 1800, created), "TTL {ttl}");

    // Each request refreshes the session's lifetime.
    let refreshed = Instant::now();
    assert_eq!(c.call(&["EXPIRE", "session:007", "3600"]), Frame::Integer(1));
    let ttl = int(&c.call(&["TTL", "session:007"]));
    assert!(ttl_ok(ttl, 3600, refreshed), "TTL {ttl}");
    let refreshed = Instant::now();
    let reply = c.call(&["GETEX", "session:008", "EX", "7200"]);
    assert_eq!(reply, bulk("{\"user\":8,\"cart\":[]}"));
    let pttl = int(&c.call(&["PTTL", "session:008"]));
    let passed = refreshed.elapsed().as_millis() as i64;
    assert!((7_200_000 - passed - 1..=7_200_000).contains(&pttl), "PTTL {pttl}, {passed} ms after GETEX");
    // Overwriting a session without KEEPTTL drops its expiry; with KEEPTTL keeps it.
    assert_eq!(c.call(&["SET", "session:009", "x", "KEEPTTL"]), simple("OK"));
    let ttl = int(&c.call(&["TTL", "session:009"]));
    assert!(ttl_ok(ttl, 1800, created), "TTL {ttl}");
    assert_eq!(c.call(&["SET", "session:009", "y"]), simple("OK"));
    assert_eq!(c.call(&["TTL", "session:009"]), Frame::Integer(-1));

    // Logout.
    assert_eq!(c.call(&["DEL", "session:007"]), Frame::Integer(1));
    assert_eq!(c.call(&["GET", "session:007"]), Frame::Null);
    assert_eq!(c.call(&["TTL", "session:007"]), Frame::Integer(-2));
    assert_eq!(c.call(&["EXPIRE", "session:007", "10"]), Frame::Integer(0));
    assert_eq!(c.call(&["SET", "session:x", "d", "EX", "0"]), error("ERR invalid expire time in 'set' command"));

    // A session that times out disappears by itself.
    let set_at = Instant::now();
    assert_eq!(c.call(&["SET", "session:short", "d", "PX", "150"]), simple("OK"));
    let pttl = int(&c.call(&["PTTL", "session:short"]));
    // Already gone (-2) only if 150 ms could have passed.
    let gone_ok = pttl == -2 && set_at.elapsed() >= Duration::from_millis(150);
    assert!((0..=150).contains(&pttl) || gone_ok, "PTTL {pttl}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while c.call(&["GET", "session:short"]) != Frame::Null {
        assert!(Instant::now() < deadline, "session:short never expired");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(c.call(&["TTL", "session:short"]), Frame::Integer(-2));
    assert_eq!(c.call(&["DBSIZE"]), Frame::Integer(49));
}

/// `INFO stats` counts what is subscribed right now, as Redis does.
#[test]
fn info_stats_counts_channels_and_patterns() {
    let server = Server::start().expect("start");
    let stats = |c: &mut RawClient| -> Vec<String> {
        let t = common::text(&c.call(&["INFO", "stats"]));
        t.lines().filter(|l| l.starts_with("pubsub")).map(str::to_string).collect()
    };
    let mut admin = client(&server);
    assert_eq!(stats(&mut admin), ["pubsub_channels:0", "pubsub_patterns:0", "pubsubshard_channels:0"]);
    let a = subscribe(&server, "SUBSCRIBE", "news");
    let _b = subscribe(&server, "SUBSCRIBE", "news");
    let _c = subscribe(&server, "SUBSCRIBE", "sports");
    let _d = subscribe(&server, "PSUBSCRIBE", "n*");
    let _e = subscribe(&server, "SSUBSCRIBE", "orders");
    assert_eq!(stats(&mut admin), ["pubsub_channels:2", "pubsub_patterns:1", "pubsubshard_channels:1"]);
    drop(a);
    drop(_c);
    let gone = common::wait_for(common::WAIT, || stats(&mut admin)[0] == "pubsub_channels:1");
    assert!(gone, "a channel whose last subscriber left is still counted: {:?}", stats(&mut admin));
}

/// A subscriber that stops reading is disconnected once its pending messages pass the pubsub
/// output limit (Redis's default 32 MB hard limit), so a publisher cannot grow the server's
/// memory without bound; the publisher carries on.
#[test]
fn slow_subscriber_is_disconnected_at_the_output_limit() {
    let server = Server::start().expect("start");
    let mut slow = subscribe(&server, "SUBSCRIBE", "firehose");
    let mut publisher = client(&server);
    let payload = "x".repeat(256 * 1024);
    for _ in 0..256 {
        assert!(matches!(publisher.call(&["PUBLISH", "firehose", &payload]), Frame::Integer(0 | 1)));
    }
    let (frames, ended) = slow.read_until_closed();
    assert!(frames.iter().all(|f| matches!(f, Frame::Array(m) if m.len() == 3)), "only messages arrive");
    let got = frames.len();
    assert!(ended, "the slow subscriber should have been disconnected");
    assert!(got < 256, "all {got} messages arrived: nothing was cut");
    assert_eq!(publisher.call(&["PUBSUB", "NUMSUB", "firehose"]), msg(&[bulk("firehose"), Frame::Integer(0)]));
}

#[test]
fn no_message_follows_the_unsubscribe_confirmation() {
    // A message published just before an UNSUBSCRIBE can reach the subscriber's event loop
    // after it (PUBLISH ran on another loop). It must not be written after the confirmation:
    // a RESP2 client that left subscribed mode would read it as the reply to its next command.
    let server = Server::start().unwrap();
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let publishers: Vec<_> = (0..2)
        .map(|_| {
            let (addr, stop) = (server.addr(), stop.clone());
            std::thread::spawn(move || {
                let mut p = RawClient::connect(addr);
                while !stop.load(Ordering::Relaxed) {
                    p.call(&["PUBLISH", "news", "x"]);
                    p.call(&["PUBLISH", "news.1", "y"]);
                }
            })
        })
        .collect();
    let mut s = client(&server);
    for round in 0..300 {
        let pattern = round % 2 == 1;
        let (sub, unsub, target) =
            if pattern { ("PSUBSCRIBE", "PUNSUBSCRIBE", "news.*") } else { ("SUBSCRIBE", "UNSUBSCRIBE", "news") };
        s.call(&[sub, target]);
        let confirmation = unsub.to_ascii_lowercase();
        s.send_raw(&common::encode_command(&[unsub, target]));
        loop {
            let (f, _) = s.read_reply();
            let items = items(f);
            if items.first() == Some(&bulk(&confirmation)) {
                break;
            }
        }
        assert_eq!(s.call(&["PING"]), simple("PONG"), "round {round}: a message came after the confirmation");
    }
    stop.store(true, Ordering::Relaxed);
    publishers.into_iter().for_each(|p| p.join().unwrap());
}
