//! Bitmap commands in a cluster and through the proxy: they are routed by their keys (key
//! specs), BITOP over keys of different slots is refused with CROSSSLOT as Redis does, and the
//! proxy forwards single-key bitmap commands to the key's backend and refuses a BITOP whose
//! keys live on different backends (a hash tag keeps them together).

mod common;

use common::{simple, RawClient};
use slotbox::protocol::Frame;
use slotbox::{Cluster, Proxy, Server};

const CROSSSLOT: &[u8] = b"-CROSSSLOT Keys in request don't hash to the same slot\r\n";

#[test]
fn cluster_routes_bitmaps_and_refuses_crossslot_bitop() {
    let cluster = Cluster::start(3).unwrap();
    let addrs = cluster.addrs();
    // "foo" hashes to 12182 (third node), "bar" to 5061 (first node).
    let mut c = RawClient::connect(addrs[0]);
    let moved = format!("-MOVED 12182 127.0.0.1:{}\r\n", addrs[2].port()).into_bytes();
    for cmd in [
        &["SETBIT", "foo", "1", "1"][..],
        &["GETBIT", "foo", "1"],
        &["BITCOUNT", "foo"],
        &["BITPOS", "foo", "1"],
        &["BITFIELD", "foo", "GET", "u8", "0"],
        &["BITFIELD_RO", "foo", "GET", "u8", "0"],
        &["BITOP", "OR", "foo", "{foo}a"],
    ] {
        assert_eq!(c.call_raw(cmd), moved, "{cmd:?}");
    }
    assert_eq!(c.call_raw(&["BITOP", "OR", "bar", "foo"]), CROSSSLOT);
    assert_eq!(c.call_raw(&["BITOP", "AND", "{bar}d", "bar", "foo"]), CROSSSLOT);
    assert_eq!(c.call(&["SETBIT", "bar", "3", "1"]), Frame::Integer(0));
    assert_eq!(c.call(&["SETBIT", "{bar}x", "0", "1"]), Frame::Integer(0));
    assert_eq!(c.call(&["BITOP", "OR", "{bar}d", "bar", "{bar}x"]), Frame::Integer(1));
    assert_eq!(c.call(&["GET", "{bar}d"]), Frame::Bulk(vec![0x90u8].into()));
    assert_eq!(c.call(&["BITFIELD", "bar", "INCRBY", "u4", "0", "3"]), Frame::Array(vec![Frame::Integer(4)]));
}

fn pool_yaml(servers: &[Server]) -> String {
    let mut y = String::from("alpha:\n  listen: 127.0.0.1:0\n  redis: true\n  hash_tag: \"{}\"\n  servers:\n");
    for (i, s) in servers.iter().enumerate() {
        y.push_str(&format!("   - {}:1 server{i}\n", s.addr()));
    }
    y
}

#[test]
fn proxy_routes_bitmaps_by_key_and_refuses_spanning_bitop() {
    let servers: Vec<Server> = (0..3).map(|_| Server::start().expect("server")).collect();
    let proxy = Proxy::start(&pool_yaml(&servers)).unwrap();
    let mut c = RawClient::connect(proxy.addr());
    for i in 0..60 {
        let key = format!("flags:{i}");
        assert_eq!(c.call(&["SETBIT", &key, &(i * 3).to_string(), "1"]), Frame::Integer(0));
        assert_eq!(
            c.call(&["BITFIELD", &key, "SET", "u8", "#100", &i.to_string()]),
            Frame::Array(vec![Frame::Integer(0)])
        );
    }
    for i in 0..60 {
        let key = format!("flags:{i}");
        assert_eq!(c.call(&["GETBIT", &key, &(i * 3).to_string()]), Frame::Integer(1));
        assert_eq!(c.call(&["BITCOUNT", &key]), Frame::Integer(1 + i64::from((i as u8).count_ones())));
        assert_eq!(c.call(&["BITPOS", &key, "1"]), Frame::Integer(i * 3));
        let want = Frame::Array(vec![Frame::Integer(i)]);
        assert_eq!(c.call(&["BITFIELD_RO", &key, "GET", "u8", "#100"]), want);
    }
    // The bitmaps are spread (fnv1a_64, nutcracker's default, spreads similar keys unevenly).
    let sizes: Vec<i64> =
        servers.iter().map(|s| RawClient::connect(s.addr()).call(&["DBSIZE"]).as_integer().expect("DBSIZE")).collect();
    assert_eq!(sizes.iter().sum::<i64>(), 60, "{sizes:?}");
    assert!(sizes.iter().filter(|&&n| n > 0).count() >= 2, "{sizes:?}");
    // BITOP keys on different backends: refused with a clear error (same backend: served).
    let refused =
        (0..60).map(|i| format!("flags:{i}")).find_map(|src| match c.call(&["BITOP", "OR", "flags:0", &src]) {
            Frame::Error(e) => Some(String::from_utf8_lossy(&e).into_owned()),
            _ => None,
        });
    let refused = refused.expect("some pair of keys spans two backends");
    assert_eq!(refused, "ERR keys of 'bitop' map to different backends; use a hash tag to keep them together");
    // A hash tag keeps them on one backend.
    assert_eq!(c.call(&["SET", "{u}a", "ab"]), simple("OK"));
    assert_eq!(c.call(&["SET", "{u}b", "b"]), simple("OK"));
    assert_eq!(c.call(&["BITOP", "XOR", "{u}dest", "{u}a", "{u}b"]), Frame::Integer(2));
    assert_eq!(c.call(&["GET", "{u}dest"]), Frame::Bulk(vec![3u8, b'b'].into()));
}
