//! Pub/sub through slotbox-proxy over real sockets: a subscriber and a publisher on two
//! proxy connections meet on the backend the channel hashes to (RESP2 arrays and RESP3 push
//! frames), subscribed-mode rules (PING, refused commands, leaving the mode), patterns with a
//! hash tag (on every backend, one that comes back included), and SSUBSCRIBE / SPUBLISH
//! routed by slot in a `cluster: true` pool.

mod common;

use common::{bulk, error, simple, wait_until_value, RawClient, WAIT};
use slotbox::protocol::Frame;
use slotbox::{Cluster, Config, Proxy, Server};
use std::net::SocketAddr;

fn pool(servers: &[Server]) -> Proxy {
    let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr()).collect();
    let mut y = String::from("alpha:\n  listen: 127.0.0.1:0\n  redis: true\n  hash_tag: \"{}\"\n  servers:\n");
    for (i, s) in addrs.iter().enumerate() {
        y.push_str(&format!("   - {s}:1 server{i}\n"));
    }
    Proxy::start(&y).expect("proxy")
}

fn three() -> Vec<Server> {
    (0..3).map(|_| Server::start().expect("server")).collect()
}

fn arr(items: &[Frame]) -> Frame {
    Frame::Array(items.to_vec())
}

#[test]
fn subscriber_receives_what_another_client_publishes() {
    let servers = three();
    let proxy = pool(&servers);
    let mut sub = RawClient::connect(proxy.addr());
    let mut publisher = RawClient::connect(proxy.addr());
    assert_eq!(sub.call(&["SUBSCRIBE", "news"]), arr(&[bulk("subscribe"), bulk("news"), Frame::Integer(1)]));
    assert_eq!(publisher.call(&["PUBLISH", "news", "hello"]), Frame::Integer(1));
    assert_eq!(sub.read_reply().0, arr(&[bulk("message"), bulk("news"), bulk("hello")]));
    // Subscribed mode: PING is answered the pub/sub way, other commands are refused.
    assert_eq!(sub.call(&["PING"]), arr(&[bulk("pong"), bulk("")]));
    let Frame::Error(e) = sub.call(&["GET", "k"]) else { panic!("GET in subscribed mode") };
    assert!(e.starts_with(b"ERR Can't execute 'get'"), "{e:?}");
    // SUBSCRIBE a b answers one confirmation per channel (channels that share a hash tag
    // live on one backend).
    sub.send_raw(&common::encode_command(&["SUBSCRIBE", "{news}:sport", "{news}:tech"]));
    assert_eq!(sub.read_reply().0, arr(&[bulk("subscribe"), bulk("{news}:sport"), Frame::Integer(2)]));
    assert_eq!(sub.read_reply().0, arr(&[bulk("subscribe"), bulk("{news}:tech"), Frame::Integer(3)]));
    for i in 0..20 {
        assert_eq!(publisher.call(&["PUBLISH", "{news}:tech", &format!("m{i}")]), Frame::Integer(1));
    }
    for i in 0..20 {
        assert_eq!(sub.read_reply().0, arr(&[bulk("message"), bulk("{news}:tech"), bulk(&format!("m{i}"))]));
    }
    // Leaving the last channel leaves subscribed mode; the connection serves commands again.
    sub.send_raw(&common::encode_command(&["UNSUBSCRIBE"]));
    let mut left = Vec::new();
    for _ in 0..3 {
        let Frame::Array(items) = sub.read_reply().0 else { panic!("unsubscribe confirmation") };
        assert_eq!(items[0], bulk("unsubscribe"));
        left.push(items[2].clone());
    }
    assert_eq!(left.last(), Some(&Frame::Integer(0)));
    assert_eq!(sub.call(&["SET", "k", "v"]), simple("OK"));
    assert_eq!(sub.call(&["PING"]), simple("PONG"));
    assert_eq!(publisher.call(&["PUBLISH", "news", "nobody"]), Frame::Integer(0));
    // UNSUBSCRIBE when not subscribed is answered as Redis does.
    assert_eq!(sub.call(&["UNSUBSCRIBE"]), arr(&[bulk("unsubscribe"), Frame::Null, Frame::Integer(0)]));
    // RESET leaves subscribed mode at once.
    assert_eq!(sub.call(&["SUBSCRIBE", "news"]), arr(&[bulk("subscribe"), bulk("news"), Frame::Integer(1)]));
    assert_eq!(sub.call(&["RESET"]), simple("RESET"));
    assert_eq!(sub.call(&["GET", "k"]), bulk("v"));
    // +RESET comes once the backend has dropped the subscription too.
    assert_eq!(publisher.call(&["PUBLISH", "news", "gone"]), Frame::Integer(0));
    assert_eq!(sub.call(&["PING"]), simple("PONG"));
}

#[test]
fn resp3_subscriber_gets_push_frames_and_keeps_working() {
    let servers = three();
    let proxy = pool(&servers);
    let mut sub = RawClient::connect(proxy.addr());
    let mut publisher = RawClient::connect(proxy.addr());
    assert!(matches!(sub.call(&["HELLO", "3"]), Frame::Map(_)));
    let raw = sub.call_raw(&["SUBSCRIBE", "alerts"]);
    assert_eq!(raw, b">3\r\n$9\r\nsubscribe\r\n$6\r\nalerts\r\n:1\r\n");
    assert_eq!(publisher.call(&["PUBLISH", "alerts", "fire"]), Frame::Integer(1));
    let (frame, raw) = sub.read_reply();
    assert!(raw.starts_with(b">3\r\n"), "a push frame: {}", common::show(&raw));
    assert_eq!(frame, Frame::Push(vec![bulk("message"), bulk("alerts"), bulk("fire")]));
    // RESP3 clients may run any command while subscribed.
    assert_eq!(sub.call(&["SET", "r3", "v"]), simple("OK"));
    assert_eq!(sub.call(&["GET", "r3"]), bulk("v"));
    assert_eq!(publisher.call(&["PUBLISH", "alerts", "again"]), Frame::Integer(1));
    assert_eq!(sub.read_reply().0, Frame::Push(vec![bulk("message"), bulk("alerts"), bulk("again")]));
}

#[test]
fn patterns_and_channels_on_other_backends() {
    let servers = three();
    let proxy = pool(&servers);
    let mut sub = RawClient::connect(proxy.addr());
    let mut publisher = RawClient::connect(proxy.addr());
    // A pattern is routed by its hash tag, so "{ev}*" meets every "{ev}..." channel.
    assert_eq!(sub.call(&["PSUBSCRIBE", "{ev}*"]), arr(&[bulk("psubscribe"), bulk("{ev}*"), Frame::Integer(1)]));
    assert_eq!(publisher.call(&["PUBLISH", "{ev}login", "u1"]), Frame::Integer(1));
    assert_eq!(sub.read_reply().0, arr(&[bulk("pmessage"), bulk("{ev}*"), bulk("{ev}login"), bulk("u1")]));
    // A channel that hashes to another backend cannot join this subscription: refused
    // rather than silently never receiving.
    let stranger = (0..100)
        .map(|i| format!("other{i}"))
        .find(|ch| matches!(sub.call(&["SUBSCRIBE", ch]), Frame::Error(_)))
        .expect("some channel lives on another backend");
    let mut other = RawClient::connect(proxy.addr());
    assert_eq!(other.call(&["SUBSCRIBE", &stranger]), arr(&[bulk("subscribe"), bulk(&stranger), Frame::Integer(1)]));
    assert_eq!(publisher.call(&["PUBLISH", &stranger, "x"]), Frame::Integer(1));
    assert_eq!(other.read_reply().0, arr(&[bulk("message"), bulk(&stranger), bulk("x")]));
}

#[test]
fn cluster_pool_shard_channels_route_by_slot() {
    let cluster = Cluster::start(3).unwrap();
    let yaml = format!(
        "c:\n  listen: 127.0.0.1:0\n  redis: true\n  cluster: true\n  servers:\n   - {}:1\n",
        cluster.addrs()[0]
    );
    let proxy = Proxy::start(&yaml).unwrap();
    let mut sub = RawClient::connect(proxy.addr());
    let mut publisher = RawClient::connect(proxy.addr());
    assert_eq!(sub.call(&["SSUBSCRIBE", "orders"]), arr(&[bulk("ssubscribe"), bulk("orders"), Frame::Integer(1)]));
    assert_eq!(publisher.call(&["SPUBLISH", "orders", "o1"]), Frame::Integer(1));
    assert_eq!(sub.read_reply().0, arr(&[bulk("smessage"), bulk("orders"), bulk("o1")]));
    // Plain channels join the same connection: a cluster delivers PUBLISH to every node
    // (the count PUBLISH returns is the receiving node's own, as in Redis).
    assert_eq!(sub.call(&["SUBSCRIBE", "chat"]), arr(&[bulk("subscribe"), bulk("chat"), Frame::Integer(1)]));
    assert!(matches!(publisher.call(&["PUBLISH", "chat", "hi"]), Frame::Integer(0 | 1)));
    assert_eq!(sub.read_reply().0, arr(&[bulk("message"), bulk("chat"), bulk("hi")]));
    let mut c = RawClient::connect(proxy.addr());
    assert_eq!(c.call(&["SSUBSCRIBE", "foo", "bar"]), error("CROSSSLOT Keys in request don't hash to the same slot"));
}

/// PUBSUB CHANNELS / NUMSUB / NUMPAT through the proxy see every backend: channels that hash
/// to different backends are all listed and counted, as if the pool were one server.
#[test]
fn pubsub_introspection_merges_every_backend() {
    let servers = three();
    let proxy = pool(&servers);
    // Subscribers on channels spread over the backends (each client pins to its channel's).
    let channels: Vec<String> = (0..12).map(|i| format!("ch{i}")).collect();
    let mut subs = Vec::new();
    for ch in &channels {
        let mut c = RawClient::connect(proxy.addr());
        assert_eq!(c.call(&["SUBSCRIBE", ch]), arr(&[bulk("subscribe"), bulk(ch), Frame::Integer(1)]));
        subs.push(c);
    }
    let mut second = RawClient::connect(proxy.addr());
    second.call(&["SUBSCRIBE", "ch0"]);
    let mut pat = RawClient::connect(proxy.addr());
    pat.call(&["PSUBSCRIBE", "ch*"]);
    let backends_used = servers
        .iter()
        .filter(
            |s| matches!(RawClient::connect(s.addr()).call(&["PUBSUB", "CHANNELS"]), Frame::Array(a) if !a.is_empty()),
        )
        .count();
    assert!(backends_used >= 2, "the test needs channels on several backends");

    let mut c = RawClient::connect(proxy.addr());
    let Frame::Array(listed) = c.call(&["PUBSUB", "CHANNELS"]) else { panic!("PUBSUB CHANNELS") };
    let mut listed: Vec<String> = listed.iter().map(common::text).collect();
    listed.sort();
    let mut want = channels.clone();
    want.sort();
    assert_eq!(listed, want);
    let Frame::Array(some) = c.call(&["PUBSUB", "CHANNELS", "ch1*"]) else { panic!("PUBSUB CHANNELS pattern") };
    assert_eq!(some.len(), 3, "ch1, ch10, ch11: {some:?}");
    assert_eq!(
        c.call(&["PUBSUB", "NUMSUB", "ch0", "ch5", "nobody"]),
        arr(&[bulk("ch0"), Frame::Integer(2), bulk("ch5"), Frame::Integer(1), bulk("nobody"), Frame::Integer(0)])
    );
    assert_eq!(c.call(&["PUBSUB", "NUMPAT"]), Frame::Integer(1));
    assert!(matches!(c.call(&["PUBSUB", "NOSUCH"]), Frame::Error(_)));
    assert_eq!(c.call(&["PING"]), simple("PONG"), "connection stays open");
}

/// A subscriber that stops reading is disconnected once its pending messages pass Redis's
/// pubsub output limit (32 MB), instead of the proxy buffering without bound; the
/// publisher and other clients carry on.
#[test]
fn slow_subscriber_is_cut_at_the_output_limit() {
    let servers = three();
    let proxy = pool(&servers);
    let mut slow = RawClient::connect(proxy.addr());
    assert_eq!(slow.call(&["SUBSCRIBE", "firehose"]), arr(&[bulk("subscribe"), bulk("firehose"), Frame::Integer(1)]));
    let mut publisher = RawClient::connect(proxy.addr());
    let payload = "x".repeat(256 * 1024);
    let mut delivered_to = Vec::new();
    // 64 MB published; the subscriber reads nothing meanwhile.
    for _ in 0..256 {
        match publisher.call(&["PUBLISH", "firehose", &payload]) {
            Frame::Integer(n) => delivered_to.push(n),
            other => panic!("PUBLISH: {other:?}"),
        }
    }
    assert!(delivered_to.contains(&1), "the subscriber was subscribed");
    // What was written before the cut can still be read; then the stream ends.
    let (frames, ended) = slow.read_until_closed();
    assert!(frames.iter().all(|f| matches!(f, Frame::Array(m) if m.len() == 3)), "only messages arrive");
    let got = frames.len();
    assert!(ended, "the slow subscriber's connection should have been closed");
    assert!(got < 256, "all {got} messages arrived: nothing was cut");
    assert_eq!(publisher.call(&["PING"]), simple("PONG"));
    // The proxy closed the client and its backend connection; the backend notices that on
    // its own time.
    wait_until_value(
        WAIT,
        "the backend to drop the cut subscriber",
        || RawClient::connect(proxy.addr()).call(&["PUBSUB", "NUMSUB", "firehose"]),
        |f| *f == arr(&[bulk("firehose"), Frame::Integer(0)]),
    );
}

/// NUMPAT of one backend, asked directly.
fn backend_numpat(s: &Server) -> Frame {
    RawClient::connect(s.addr()).call(&["PUBSUB", "NUMPAT"])
}

/// Wait until every backend has `n` patterns (for a backend that was down: the proxy repairs
/// its mirrors every second).
fn wait_numpat_everywhere(servers: &[Server], n: i64) {
    for (i, s) in servers.iter().enumerate() {
        wait_until_value(
            WAIT,
            &format!("PUBSUB NUMPAT {n} on backend {i}"),
            || backend_numpat(s),
            |f| *f == Frame::Integer(n),
        );
    }
}

/// A pattern sees channels on every backend of a plain pool (PUBLISH goes to the channel's
/// backend, the pattern is on all of them), each message once; PUNSUBSCRIBE stops them all.
/// Messages relayed from different backends have no order between them; those from one
/// backend keep their publish order.
#[test]
fn patterns_see_channels_on_every_backend() {
    let servers = three();
    let proxy = pool(&servers);
    let mut sub = RawClient::connect(proxy.addr());
    let mut publisher = RawClient::connect(proxy.addr());
    assert_eq!(sub.call(&["PSUBSCRIBE", "news.*"]), arr(&[bulk("psubscribe"), bulk("news.*"), Frame::Integer(1)]));
    // Confirmed once every backend has it (the copies on the other backends, "mirrors", too).
    for s in &servers {
        assert_eq!(backend_numpat(s), Frame::Integer(1));
    }
    // Channels spread over the three backends.
    let channels: Vec<String> = (0..12).map(|i| format!("news.{i}")).collect();
    for ch in &channels {
        assert_eq!(publisher.call(&["PUBLISH", ch, "hello"]), Frame::Integer(1), "{ch} reached the pattern once");
        // Channels hash like keys: store one per channel to see where they live.
        assert_eq!(publisher.call(&["SET", ch, "x"]), simple("OK"));
    }
    let home_of = |ch: &str| {
        let homes: Vec<usize> = (0..servers.len())
            .filter(|&i| RawClient::connect(servers[i].addr()).call(&["EXISTS", ch]) == Frame::Integer(1))
            .collect();
        assert_eq!(homes.len(), 1, "{ch} lives on exactly one backend: {homes:?}");
        homes[0]
    };
    let homes: Vec<usize> = channels.iter().map(|ch| home_of(ch)).collect();
    let mut used = homes.clone();
    used.sort();
    used.dedup();
    assert!(used.len() >= 2, "the channels should live on several backends: {homes:?}");
    // Every message arrives once; per backend in publish order.
    let mut received = Vec::new();
    for _ in &channels {
        let Frame::Array(parts) = sub.read_reply().0 else { panic!("a pmessage array") };
        assert_eq!(parts.len(), 4, "{parts:?}");
        assert_eq!(parts[..2], [bulk("pmessage"), bulk("news.*")], "{parts:?}");
        assert_eq!(parts[3], bulk("hello"), "{parts:?}");
        received.push(common::text(&parts[2]));
    }
    let mut sorted = received.clone();
    sorted.sort();
    let mut want = channels.clone();
    want.sort();
    assert_eq!(sorted, want, "each channel's message exactly once (received {received:?})");
    for b in used {
        let published: Vec<&String> = channels.iter().zip(&homes).filter(|(_, h)| **h == b).map(|(c, _)| c).collect();
        let arrived: Vec<&String> =
            received.iter().filter(|c| homes[channels.iter().position(|x| x == *c).unwrap()] == b).collect();
        assert_eq!(arrived, published, "backend {b}'s messages in publish order");
    }
    let mut c = RawClient::connect(proxy.addr());
    assert_eq!(c.call(&["PUBSUB", "NUMPAT"]), Frame::Integer(1));
    assert_eq!(sub.call(&["PUNSUBSCRIBE"]), arr(&[bulk("punsubscribe"), bulk("news.*"), Frame::Integer(0)]));
    assert_eq!(sub.call(&["PING"]), simple("PONG"), "out of subscribed mode");
    for s in &servers {
        assert_eq!(backend_numpat(s), Frame::Integer(0), "confirmed once every backend dropped it");
    }
    for ch in &channels {
        assert_eq!(publisher.call(&["PUBLISH", ch, "late"]), Frame::Integer(0), "{ch}: nobody listens any more");
    }
}

/// A backend that is down when a pattern is subscribed gets the pattern once it is back
/// (the proxy checks every second), so the pattern sees that backend's channels again.
#[test]
fn pattern_reaches_a_backend_that_comes_back() {
    let mut servers = three();
    let proxy = pool(&servers);
    let port = servers[2].addr().port();
    drop(servers.pop());
    let mut sub = RawClient::connect(proxy.addr());
    assert_eq!(sub.call(&["PSUBSCRIBE", "news.*"]), arr(&[bulk("psubscribe"), bulk("news.*"), Frame::Integer(1)]));
    servers.push(Server::with_config(Config { port, ..Config::ephemeral() }).expect("restart on the same port"));
    wait_until_value(
        WAIT,
        "the pattern on the returned backend (the proxy retries every second)",
        || backend_numpat(&servers[2]),
        |f| *f == Frame::Integer(1),
    );
    // A channel that lives on the returned backend (channels hash like keys).
    let mut publisher = RawClient::connect(proxy.addr());
    let mut direct = RawClient::connect(servers[2].addr());
    let channel = (0..2000)
        .map(|i| format!("news.{i}"))
        .find(|ch| {
            assert_eq!(publisher.call(&["SET", ch, "x"]), simple("OK"));
            direct.call(&["EXISTS", ch]) == Frame::Integer(1)
        })
        .unwrap_or_else(|| {
            panic!(
                "no channel on the third backend: {:?}",
                servers.iter().map(|s| RawClient::connect(s.addr()).call(&["DBSIZE"])).collect::<Vec<_>>()
            )
        });
    assert_eq!(publisher.call(&["PUBLISH", &channel, "back"]), Frame::Integer(1));
    assert_eq!(sub.read_reply().0, arr(&[bulk("pmessage"), bulk("news.*"), bulk(&channel), bulk("back")]));
    // On every backend (the live ones had it when the subscription was confirmed).
    wait_numpat_everywhere(&servers, 1);
}
