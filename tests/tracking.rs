//! Client-side caching (`CLIENT TRACKING`) as real Redis 7.0 does it: the same steps against
//! redis-server and slotbox give the same bytes — invalidation pushes in RESP3 (after the
//! reply of the command that caused them), `__redis__:invalidate` messages to a RESP2
//! subscriber through REDIRECT, BCAST with prefixes and NOLOOP, OPTIN with CLIENT CACHING,
//! the null invalidation of FLUSHALL, CLIENT TRACKINGINFO / GETREDIR, the error replies, and
//! INFO / CLIENT INFO. Every read is bounded (RawClient times out).

mod common;

use common::{on_path, show, RawClient, ServerProcess};

/// A transcript line: what `label` read, raw.
fn rec(out: &mut Vec<String>, label: &str, bytes: &[u8]) {
    out.push(format!("{label}: {}", show(bytes)));
}

fn read(out: &mut Vec<String>, label: &str, c: &mut RawClient) {
    let (_, raw) = c.read_reply();
    rec(out, label, &raw);
}

fn scenario(addr: std::net::SocketAddr) -> Vec<String> {
    let mut out = Vec::new();
    let mut a = RawClient::connect(addr);
    a.call(&["HELLO", "3"]);
    let mut b = RawClient::connect(addr);
    let mut r = RawClient::connect(addr);
    let rid = match r.call(&["CLIENT", "ID"]) {
        slotbox::protocol::Frame::Integer(n) => n.to_string(),
        other => panic!("CLIENT ID: {other:?}"),
    };
    r.call(&["SUBSCRIBE", "__redis__:invalidate"]);
    let step = |out: &mut Vec<String>, c: &mut RawClient, label: &str, args: &[&str]| {
        let raw = c.call_raw(args);
        rec(out, label, &raw);
    };
    b.call(&["FLUSHALL"]);
    // Default mode, RESP3 on the same connection.
    step(&mut out, &mut a, "a", &["CLIENT", "TRACKING", "on"]);
    step(&mut out, &mut a, "a", &["SET", "k1", "v"]);
    step(&mut out, &mut a, "a", &["GET", "k1"]);
    step(&mut out, &mut b, "b", &["SET", "k1", "v2"]);
    read(&mut out, "a push", &mut a);
    step(&mut out, &mut b, "b", &["SET", "k1", "v3"]);
    step(&mut out, &mut a, "a", &["PING"]);
    // Its own write: the reply first, then the invalidation.
    step(&mut out, &mut a, "a", &["MGET", "k1", "k2"]);
    step(&mut out, &mut a, "a", &["SET", "k2", "x"]);
    read(&mut out, "a push", &mut a);
    step(&mut out, &mut a, "a", &["CLIENT", "TRACKINGINFO"]);
    step(&mut out, &mut a, "a", &["CLIENT", "GETREDIR"]);
    // Errors, in Redis's order of checks.
    for args in [
        &["CLIENT", "TRACKING", "on", "BCAST"][..],
        &["CLIENT", "TRACKING", "on", "PREFIX", "x"],
        &["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"],
        &["CLIENT", "TRACKING", "on", "REDIRECT", "987654"],
        &["CLIENT", "TRACKING", "on", "REDIRECT", "abc"],
        &["CLIENT", "TRACKING", "maybe"],
        &["CLIENT", "TRACKING", "on", "NOSUCH"],
        &["CLIENT", "CACHING", "yes"],
    ] {
        step(&mut out, &mut a, "a", args);
    }
    // BCAST with prefixes and NOLOOP, redirected to a RESP2 subscriber.
    step(&mut out, &mut a, "a", &["CLIENT", "TRACKING", "off"]);
    step(&mut out, &mut a, "a", &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p:", "NOLOOP", "REDIRECT", &rid]);
    step(&mut out, &mut a, "a", &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p:x"]);
    step(&mut out, &mut b, "b", &["MSET", "p:1", "1", "p:2", "2", "q", "3"]);
    read(&mut out, "r", &mut r);
    step(&mut out, &mut a, "a", &["SET", "p:3", "own"]);
    step(&mut out, &mut b, "b", &["SET", "p:4", "other"]);
    read(&mut out, "r", &mut r);
    let info = common::text(&a.call(&["CLIENT", "INFO"]));
    let flags = info.split(' ').find(|f| f.starts_with("flags=")).unwrap_or_default().to_string();
    out.push(format!("a flags: {flags}"));
    step(&mut out, &mut a, "a", &["CLIENT", "TRACKINGINFO"]);
    // OPTIN: only what CLIENT CACHING yes preceded is tracked.
    step(&mut out, &mut a, "a", &["CLIENT", "TRACKING", "off"]);
    step(&mut out, &mut a, "a", &["CLIENT", "TRACKING", "on", "OPTIN"]);
    step(&mut out, &mut a, "a", &["GET", "o1"]);
    step(&mut out, &mut a, "a", &["CLIENT", "CACHING", "yes"]);
    step(&mut out, &mut a, "a", &["GET", "o2"]);
    step(&mut out, &mut b, "b", &["SET", "o1", "1"]);
    step(&mut out, &mut b, "b", &["SET", "o2", "2"]);
    read(&mut out, "a push", &mut a);
    // A flush tells every tracking client "everything" with a null.
    step(&mut out, &mut b, "b", &["FLUSHALL"]);
    read(&mut out, "a push", &mut a);
    let tracking = common::info_value(&mut b, "clients", "tracking_clients").unwrap_or_default();
    out.push(format!("tracking_clients: {tracking}"));
    step(&mut out, &mut a, "a", &["RESET"]);
    step(&mut out, &mut a, "a", &["CLIENT", "TRACKINGINFO"]);
    // Client ids differ between the servers.
    out.iter().map(|l| l.replace(&format!("redirect\\r\\n:{rid}\\r\\n"), "redirect\\r\\n:<id>\\r\\n")).collect()
}

#[test]
fn client_side_caching_matches_redis() {
    if !on_path("redis-server") {
        eprintln!("redis-server not on PATH: skipped");
        return;
    }
    let redis = ServerProcess::redis();
    let slotbox = ServerProcess::slotbox_binary(&[]);
    let want = scenario(redis.addr());
    let got = scenario(slotbox.addr());
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        assert_eq!(g, w, "step {i} differs");
    }
    assert_eq!(got.len(), want.len());
}
