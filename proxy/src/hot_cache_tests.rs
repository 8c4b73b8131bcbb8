use super::*;

fn cache(size: usize, ttl_ms: u64, min_hits: u32) -> (HotCache, Instant) {
    let now = Instant::now();
    (HotCache::new(HotKeyCache { size, ttl_ms, min_hits }, now), now)
}

fn key(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn bulk(s: &str) -> Frame {
    Frame::Bulk(key(s))
}

const GET_K: &[u8] = b"get k";

#[test]
fn hot_after_min_hits_then_held_until_invalidated() {
    let (mut c, t0) = cache(10, 1000, 3);
    let k = key("k");
    assert_eq!(c.lookup(&k, GET_K, Protocol::Resp2, t0).0, Lookup::Miss);
    assert_eq!(c.lookup(&k, GET_K, Protocol::Resp2, t0).0, Lookup::Miss);
    assert_eq!(c.lookup(&k, GET_K, Protocol::Resp2, t0).0, Lookup::Fill);
    c.begin_fill(&k);
    // One fill at a time per key.
    assert_eq!(c.lookup(&k, GET_K, Protocol::Resp2, t0).0, Lookup::Miss);
    assert!(c.end_fill(&k, Bytes::from_static(GET_K), &bulk("v1"), t0, true));
    assert_eq!(c.lookup(&k, GET_K, Protocol::Resp2, t0).0, Lookup::Hit(Bytes::from_static(b"$2\r\nv1\r\n")));
    // Another read of the same key is a different request.
    assert!(!matches!(c.lookup(&k, b"strlen k", Protocol::Resp2, t0).0, Lookup::Hit(_)));
    assert!(c.invalidate(b"k"));
    assert!(!c.invalidate(b"k"));
    assert!(!matches!(c.lookup(&k, GET_K, Protocol::Resp2, t0).0, Lookup::Hit(_)));
}

#[test]
fn encodes_for_each_protocol() {
    let (mut c, t0) = cache(10, 1000, 0);
    let k = key("k");
    c.begin_fill(&k);
    assert!(c.end_fill(&k, Bytes::from_static(GET_K), &Frame::Null, t0, true));
    assert_eq!(c.lookup(&k, GET_K, Protocol::Resp2, t0).0, Lookup::Hit(Bytes::from_static(b"$-1\r\n")));
    assert_eq!(c.lookup(&k, GET_K, Protocol::Resp3, t0).0, Lookup::Hit(Bytes::from_static(b"_\r\n")));
}

#[test]
fn ttl_bounds_every_reply() {
    let (mut c, t0) = cache(10, 100, 0);
    let k = key("k");
    c.begin_fill(&k);
    c.end_fill(&k, Bytes::from_static(GET_K), &bulk("v"), t0, true);
    assert!(matches!(c.lookup(&k, GET_K, Protocol::Resp2, t0 + Duration::from_millis(99)).0, Lookup::Hit(_)));
    let (verdict, dropped) = c.lookup(&k, GET_K, Protocol::Resp2, t0 + Duration::from_millis(100));
    assert_eq!((verdict, dropped.expired), (Lookup::Fill, 1));
    assert!(c.is_empty());
}

/// A write through the proxy while a fill is under way: the fill's reply may be older than
/// the write, so it is not kept.
#[test]
fn a_write_poisons_the_fill_under_way() {
    let (mut c, t0) = cache(10, 1000, 0);
    let k = key("k");
    c.begin_fill(&k);
    assert!(!c.invalidate(b"k"));
    assert!(!c.end_fill(&k, Bytes::from_static(GET_K), &bulk("old"), t0, true));
    assert!(c.is_empty());
    // The next fill is clean again.
    c.begin_fill(&k);
    assert!(c.end_fill(&k, Bytes::from_static(GET_K), &bulk("new"), t0, true));
    c.begin_fill(&k);
    assert_eq!(c.clear(), 1);
    assert!(!c.end_fill(&k, Bytes::from_static(GET_K), &bulk("x"), t0, true));
}

#[test]
fn errors_untrusted_and_huge_replies_are_not_kept() {
    let (mut c, t0) = cache(10, 1000, 0);
    let k = key("k");
    for (frame, trusted) in [
        (Frame::error("WRONGTYPE Operation against a key holding the wrong kind of value"), true),
        (bulk("v"), false),
        (Frame::Bulk(Bytes::from(vec![b'x'; MAX_REPLY_BYTES + 1])), true),
    ] {
        c.begin_fill(&k);
        assert!(!c.end_fill(&k, Bytes::from_static(GET_K), &frame, t0, trusted));
    }
    assert!(c.is_empty());
}

#[test]
fn size_bounds_the_keys_held_oldest_out_first() {
    let (mut c, t0) = cache(2, 1000, 0);
    for name in ["a", "b", "c"] {
        let k = key(name);
        c.begin_fill(&k);
        assert!(c.end_fill(&k, Bytes::from(format!("get {name}")), &bulk(name), t0, true));
    }
    assert_eq!(c.len(), 2);
    assert!(!matches!(c.lookup(&key("a"), b"get a", Protocol::Resp2, t0).0, Lookup::Hit(_)));
    assert!(matches!(c.lookup(&key("c"), b"get c", Protocol::Resp2, t0).0, Lookup::Hit(_)));
}

#[test]
fn hotness_is_counted_per_window() {
    let (mut c, t0) = cache(10, 1000, 2);
    let k = key("k");
    assert_eq!(c.lookup(&k, GET_K, Protocol::Resp2, t0).0, Lookup::Miss);
    // A second later the count starts again.
    let later = t0 + Duration::from_millis(1500);
    assert_eq!(c.lookup(&k, GET_K, Protocol::Resp2, later).0, Lookup::Miss);
    assert_eq!(c.lookup(&k, GET_K, Protocol::Resp2, later).0, Lookup::Fill);
}

/// A fill whose connection was lost never answers: after the clear that follows, the key can
/// be filled again.
#[test]
fn a_lost_fill_does_not_block_its_key() {
    let (mut c, t0) = cache(10, 1000, 0);
    let k = key("k");
    assert_eq!(c.lookup(&k, GET_K, Protocol::Resp2, t0).0, Lookup::Fill);
    c.begin_fill(&k);
    assert_eq!(c.lookup(&k, GET_K, Protocol::Resp2, t0).0, Lookup::Miss);
    c.clear();
    assert_eq!(c.lookup(&k, GET_K, Protocol::Resp2, t0).0, Lookup::Fill);
}
