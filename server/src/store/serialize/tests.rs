//! Tests of the value serialization: round trips of every type and encoding, and rejection
//! of every corruption (single-byte changes, truncations, bad bodies, random garbage).

use super::*;

fn hash(pairs: impl IntoIterator<Item = (String, String)>) -> Value {
    let mut h = Value::new_hash();
    let mut w = h.as_hash_mut(Default::default()).expect("hash");
    for (f, v) in pairs {
        w.set(f.as_bytes(), v.as_bytes());
    }
    h
}

fn set(members: impl IntoIterator<Item = String>) -> Value {
    let mut s = SetValue::default();
    for m in members {
        s.insert(m.as_bytes());
    }
    Value::Set(Box::new(s))
}

fn zset(items: impl IntoIterator<Item = (f64, String)>) -> Value {
    let mut z = ZSetValue::default();
    for (score, m) in items {
        z.insert(m.as_bytes(), score);
    }
    Value::ZSet(Box::new(z))
}

fn list(items: impl IntoIterator<Item = Vec<u8>>) -> Value {
    let items: Vec<Vec<u8>> = items.into_iter().collect();
    Value::List(Box::new(items.iter().map(|v| &v[..]).collect()))
}

/// One value of every type and encoding, with its expected `OBJECT ENCODING`.
/// A stream with entries of several shapes, a gap (XDEL), counters and two groups.
fn stream() -> Value {
    use crate::store::stream::{Group, NodeLimits, Stream, StreamId};
    let mut s = Stream::new();
    for i in 1..=150u64 {
        let v = i.to_string();
        let pairs: &[(&[u8], &[u8])] =
            if i % 7 == 0 { &[(b"other", b"x")] } else { &[(b"f", v.as_bytes()), (b"g", b"")] };
        s.append(StreamId::new(i, i % 3), pairs, NodeLimits::default());
    }
    s.remove(StreamId::new(10, 1));
    s.max_deleted_id = StreamId::new(10, 1);
    s.entries_added = 200;
    let mut g = Group::new(StreamId::new(20, 2), 19);
    g.consumer(b"alice", 1_700_000_000_000);
    g.consumer(b"idle", -5);
    g.deliver(StreamId::new(3, 0), b"alice", 1_700_000_000_001, 2);
    g.deliver(StreamId::new(10, 1), b"alice", 7, 1);
    s.groups.insert(b"g".to_vec(), g);
    s.groups.insert(b"empty".to_vec(), Group::new(StreamId::MIN, -1));
    Value::Stream(Box::new(s))
}

fn samples() -> Vec<(Value, &'static str)> {
    let big_hash = hash((0..600).map(|i| (format!("f{i}"), format!("v{i}"))));
    let mut shrunk = big_hash.clone();
    if let Some(mut h) = shrunk.as_hash_mut(Default::default()) {
        (3..600).for_each(|i| assert!(h.remove(format!("f{i}").as_bytes())));
    }
    vec![
        (Value::Int(0), "int"),
        (Value::Int(i64::MIN), "int"),
        (Value::Int(i64::MAX), "int"),
        (Value::string(b""), "embstr"),
        (Value::string(b"hello\0\xff"), "embstr"),
        (Value::string(&[7u8; 300]), "raw"),
        (hash((0..5).map(|i| (format!("f{i}"), format!("{i}")))), "listpack"),
        (hash((0..200).map(|i| (format!("f{i}"), format!("v{i}")))), "listpack"),
        (big_hash, "hashtable"),
        (hash([("a".into(), "x".repeat(65)), ("b".into(), "y".into())]), "hashtable"),
        // Re-built from contents, as Redis's RESTORE does.
        (shrunk, "listpack"),
        (list([b"a".to_vec()]), "quicklist"),
        (list((0..200).map(|i| format!("e{i}").into_bytes())), "quicklist"),
        (list([Vec::new(), b"dup".to_vec(), b"dup".to_vec()]), "quicklist"),
        (set(["3", "-7", "1000000000000"].map(String::from)), "intset"),
        (set((0..600).map(|i| i.to_string())), "hashtable"),
        (set(["a", "1", "b"].map(String::from)), "hashtable"),
        (zset([(1.5, "a".into()), (-2.0, "b".into()), (f64::INFINITY, "c".into())]), "listpack"),
        (zset((0..300).map(|i| ((i % 17) as f64, format!("m{i}")))), "skiplist"),
        (zset([(0.0, "m".repeat(65))]), "skiplist"),
        (stream(), "stream"),
        (Value::Stream(Box::default()), "stream"),
    ]
}

/// A value's type and contents, independent of encoding and iteration order.
fn contents(v: &Value) -> (&'static str, Vec<Vec<u8>>) {
    let mut items: Vec<Vec<u8>> = match v {
        Value::Int(_) | Value::Str { .. } => vec![v.string_bytes().expect("string").to_vec()],
        Value::Hash(_) | Value::HashTable(_) => {
            v.as_hash().expect("hash").iter().map(|(f, v)| [f, b"=", v].concat()).collect()
        }
        Value::List(l) => return ("list", l.iter().map(|e| e.to_vec()).collect()),
        Value::Set(s) => s.members(),
        Value::ZSet(z) => return ("zset", z.iter().map(|(s, m)| [&s.to_le_bytes()[..], m].concat()).collect()),
        Value::Stream(s) => {
            let (min, max) = (crate::store::stream::StreamId::MIN, crate::store::stream::StreamId::MAX);
            let mut items: Vec<Vec<u8>> =
                s.range(min, max, false, 0).iter().map(|e| format!("{e:?}").into_bytes()).collect();
            let counters = (s.len(), s.last_id, s.first_id, s.max_deleted_id, s.entries_added, &s.groups);
            items.push(format!("{counters:?}").into_bytes());
            return ("stream", items);
        }
    };
    items.sort();
    (v.type_name(), items)
}

#[test]
fn crc64_jones_check_vector() {
    assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    assert_eq!(crc64(crc64(0, b"1234"), b"56789"), 0xe9c6_d914_c4b8_d9ca);
    assert_eq!(crc64(0, b""), 0);
}

#[test]
fn varints_and_zigzag_round_trip() {
    for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX - 1, u64::MAX] {
        let mut out = Vec::new();
        put_varint(&mut out, v);
        let mut input = &out[..];
        assert_eq!(take_varint(&mut input), Ok(v));
        assert!(input.is_empty());
    }
    for i in [0i64, -1, 1, i64::MIN, i64::MAX, -64, 64] {
        assert_eq!(unzigzag(zigzag(i)), i);
    }
    // Eleven bytes, or a tenth byte carrying more than the top bit: rejected.
    assert!(take_varint(&mut &[0xff; 11][..]).is_err());
    assert!(take_varint(&mut &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02][..]).is_err());
}

#[test]
fn every_type_and_encoding_round_trips() {
    for (v, encoding) in samples() {
        let payload = dump_value(&v);
        assert_eq!(payload[0], FORMAT_VERSION);
        let back = restore_value(&payload, Default::default()).expect("restore");
        assert_eq!(contents(&back), contents(&v));
        assert_eq!(back.encoding(), encoding, "{v:?}");
    }
}

#[test]
fn many_values_in_one_stream() {
    let values: Vec<Value> = samples().into_iter().map(|(v, _)| v).collect();
    let mut out = Vec::new();
    values.iter().for_each(|v| write_value(&mut out, v));
    let mut input = &out[..];
    for v in &values {
        assert_eq!(contents(&read_value(&mut input, Default::default()).expect("read")), contents(v));
    }
    assert!(input.is_empty());
    assert_eq!(read_value(&mut input, Default::default()), Err(RestoreError::BadData));
}

#[test]
fn any_single_byte_change_is_rejected() {
    for (v, _) in samples() {
        let payload = dump_value(&v);
        // Every byte of small payloads, a spread of positions of big ones.
        let step = (payload.len() / 512).max(1);
        for i in (0..payload.len()).step_by(step).chain(payload.len() - CRC_LEN..payload.len()) {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut bad = payload.clone();
                bad[i] ^= mask;
                // Version, body or checksum: the checksum catches any one-byte change.
                let got = restore_value(&bad, Default::default());
                assert_eq!(got, Err(RestoreError::VersionOrChecksum), "byte {i} of {v:?}");
            }
        }
    }
}

#[test]
fn every_truncation_is_rejected() {
    for (v, _) in samples() {
        let payload = dump_value(&v);
        for len in 0..payload.len() {
            assert!(restore_value(&payload[..len], Default::default()).is_err(), "len {len} of {v:?}");
        }
        let mut body = Vec::new();
        write_value(&mut body, &v);
        // Reading a prefix rebuilds the value: sample the lengths of big bodies.
        let step = (body.len() / 256).max(1);
        for len in (0..body.len()).step_by(step) {
            assert!(read_value(&mut &body[..len], Default::default()).is_err(), "body len {len} of {v:?}");
        }
    }
}

/// A payload with a valid checksum around a bad body.
fn sealed(body: &[u8]) -> Vec<u8> {
    let mut out = vec![FORMAT_VERSION];
    out.extend_from_slice(body);
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

#[test]
fn bad_bodies_with_good_checksums_are_bad_data() {
    let huge = [TAG_LIST, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, b'a'];
    let cases: Vec<Vec<u8>> = vec![
        vec![],
        vec![99],
        huge.to_vec(),
        vec![TAG_STR, 5, b'a'],
        vec![TAG_LIST, 0],
        vec![TAG_HASH, 1, 1, b'a'],
        vec![TAG_HASH, 2, 1, b'a', 1, b'1', 1, b'a', 1, b'2'],
        vec![TAG_SET, 2, 1, b'x', 1, b'x'],
        vec![TAG_INTSET, 2, 4, 2],
        vec![TAG_ZSET, 1, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 1, b'n'],
        vec![TAG_INT, 1, 0],
    ];
    for body in cases {
        assert_eq!(restore_value(&sealed(&body), Default::default()), Err(RestoreError::BadData), "{body:?}");
    }
    let mut wrong_version = sealed(&[TAG_INT, 2]);
    wrong_version[0] = FORMAT_VERSION + 1;
    assert_eq!(restore_value(&wrong_version, Default::default()), Err(RestoreError::VersionOrChecksum));
}

#[test]
fn random_garbage_never_panics() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..20_000 {
        let len = (next() % 64) as usize;
        let mut body: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if let Some(first) = body.first_mut() {
            *first %= 8;
        }
        let _ = read_value(&mut &body[..], Default::default());
        let _ = restore_value(&sealed(&body), Default::default());
    }
}

#[test]
fn hash_body_format_is_stable() {
    // The bytes of snapshot / AOF files written before hashes were flattened: still read.
    let v = hash([("a".into(), "1".into()), ("bb".into(), "22".into())]);
    let mut out = Vec::new();
    write_value(&mut out, &v);
    let expected = [TAG_HASH, 2, 1, b'a', 1, b'1', 2, b'b', b'b', 2, b'2', b'2'];
    assert_eq!(out, expected);
    let back = read_value(&mut &expected[..], Default::default()).expect("read");
    assert_eq!(back, v);
    assert_eq!(back.as_hash().expect("hash").pairs(), vec![(&b"a"[..], &b"1"[..]), (b"bb", b"22")]);
    // A duplicate field is bad data in either encoding.
    let mut dup = vec![TAG_HASH, 2, 1, b'a', 65];
    dup.extend_from_slice(&[b'x'; 65]);
    dup.extend_from_slice(&[1, b'a', 1, b'2']);
    assert_eq!(read_value(&mut &dup[..], Default::default()), Err(RestoreError::BadData));
}

/// A payload Redis 5 DUMPed (RDB type 15: no read counters), from Redis's own test "Loading
/// from legacy persistence": XADD 1..6, XDEL 3, two groups, g1 read 4, XTRIM MAXLEN 2.
#[rustfmt::skip]
const REDIS5_STREAM: &[u8] = &[
    0x0f, 0x01, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xc3, 0x40, 0x4a, 0x40, 0x57, 0x16, 0x57, 0x00, 0x00, 0x00, 0x23, 0x00, 0x02,
    0x01, 0x04, 0x01, 0x01, 0x01, 0x84, 0x64, 0x61, 0x74, 0x61, 0x05, 0x00, 0x01, 0x03, 0x01, 0x00,
    0x20, 0x01, 0x03, 0x81, 0x61, 0x02, 0x04, 0x20, 0x0a, 0x00, 0x01, 0x40, 0x0a, 0x00, 0x62, 0x60,
    0x0a, 0x00, 0x02, 0x40, 0x0a, 0x00, 0x63, 0x60, 0x0a, 0x40, 0x22, 0x01, 0x81, 0x64, 0x20, 0x0a,
    0x40, 0x39, 0x20, 0x0a, 0x00, 0x65, 0x60, 0x0a, 0x00, 0x05, 0x40, 0x0a, 0x00, 0x66, 0x20, 0x0a,
    0x00, 0xff, 0x02, 0x06, 0x00, 0x02, 0x02, 0x67, 0x31, 0x05, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3e, 0xf7, 0x83, 0x43,
    0x7a, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x3e, 0xf7, 0x83, 0x43, 0x7a, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3e, 0xf7,
    0x83, 0x43, 0x7a, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3e, 0xf7, 0x83, 0x43, 0x7a, 0x01, 0x00, 0x00, 0x01,
    0x01, 0x03, 0x63, 0x31, 0x31, 0x3e, 0xf7, 0x83, 0x43, 0x7a, 0x01, 0x00, 0x00, 0x04, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x67,
    0x32, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x3d, 0x52, 0xef, 0x68, 0x67, 0x52, 0x1d, 0xfa
];

#[test]
fn a_stream_dumped_by_redis_5_restores() {
    use crate::store::stream::StreamId;
    let Ok(Value::Stream(s)) = restore_value(REDIS5_STREAM, Default::default()) else { panic!("not restored") };
    let ids: Vec<StreamId> = s.range(StreamId::MIN, StreamId::MAX, false, 0).iter().map(|e| e.id).collect();
    assert_eq!(ids, [StreamId::new(5, 0), StreamId::new(6, 0)]);
    assert_eq!((s.entries_added, s.max_deleted_id, s.first_id), (2, StreamId::MIN, StreamId::new(5, 0)));
    let (g1, g2) = (&s.groups[&b"g1"[..]], &s.groups[&b"g2"[..]]);
    assert_eq!((g1.entries_read, s.group_lag(g1), g1.pel.len()), (1, Some(1), 4));
    assert_eq!((g2.entries_read, s.group_lag(g2)), (0, Some(2)));
    assert_eq!(g1.consumers[&b"c11"[..]].pel.len(), 4);
    // Any damage is refused, never a panic.
    for i in 0..REDIS5_STREAM.len() {
        let mut bad = REDIS5_STREAM.to_vec();
        bad[i] ^= 0x21;
        assert!(restore_value(&bad, Default::default()).is_err(), "byte {i}");
        assert!(restore_value(&REDIS5_STREAM[..i], Default::default()).is_err());
    }
}

/// Damage behind a good checksum (every byte, a few ways) is refused or read, never a panic.
#[test]
fn damaged_redis_stream_bodies_never_panic() {
    let body_end = REDIS5_STREAM.len() - 8;
    for i in 1..body_end - 2 {
        for flip in [0x01u8, 0x40, 0x80, 0xff] {
            let mut bad = REDIS5_STREAM[..body_end].to_vec();
            bad[i] ^= flip;
            let crc = crc64(0, &bad);
            bad.extend_from_slice(&crc.to_le_bytes());
            let _ = restore_value(&bad, Default::default());
        }
    }
}
