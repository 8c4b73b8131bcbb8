//! Writes the seed corpus, `corpus/<target>/gen-*`, from the code's own encoders: the RESP
//! requests clients send, the replies servers give, cluster bus messages as nodes send them,
//! DUMP payloads and snapshots of every value type and encoding, AOF files as the server
//! writes them (plain and with a snapshot preamble), config files and nutcracker.yml files.
//! Each seed starts with the control byte its target reads (see each target's module doc).
//! Files not named `gen-*` are left alone: the `real-*` seeds are captures, replies of
//! redis-server 7.0 (`DEBUG PROTOCOL` of every RESP3 type in RESP2 and RESP3, HELLO 3,
//! CLUSTER SLOTS / SHARDS, errors) and AOF files written by slotbox-server (fresh, and after
//! BGREWRITEAOF with its snapshot preamble, also alone as a snapshot seed). Hashtable-encoded
//! values iterate in a different order on each run, so their seeds change bytes when rewritten. It also writes
//! `dict/<target>.dict`, libFuzzer dictionaries of the tokens each format is made of
//! (directive names from the config table, nutcracker keys and hash names, magics, tags).
//!
//! Run from `fuzz/`: `cargo run --example gen_corpus`.

use bytes::Bytes;
use slotbox_fuzz::{aof::fix_preamble, restore::with_checksum};
use slotbox_protocol::{encode, Frame, Protocol};
use slotbox_server::cluster::message::{self, Body, Gossip, Header, Message};
use slotbox_server::cluster::node::SlotSet;
use slotbox_server::persist::rewrite::PREAMBLE_MAGIC;
use slotbox_server::store::serialize::{dump_value, write_value};
use slotbox_server::store::types::{SetValue, ZSetValue};
use slotbox_server::store::{snapshot, Entry, Keyspace, Value};
use std::path::Path;

fn main() {
    let out = Path::new("corpus");
    write(out, "resp_request", requests());
    write(out, "resp_reply", replies());
    write(out, "cluster_bus", bus_messages());
    write(out, "restore", dumps());
    write(out, "snapshot", snapshots());
    write(out, "aof", aofs());
    write(out, "server_config", configs());
    write(out, "nutcracker_yml", nutcracker_files());
    write_dicts(Path::new("dict"));
}

/// libFuzzer dictionary files: one quoted token per line, bytes escaped as `\xHH`.
fn write_dicts(dir: &Path) {
    std::fs::create_dir_all(dir).expect("dict dir");
    let resp: Vec<String> =
        ["*", "$", "\r\n", "\"", "'", "\\x", "-1", "0", "4294967295", "9223372036854775807"].map(String::from).to_vec();
    let reply: Vec<String> =
        ["+", "-", ":", "$", "*", "_", "#t", ",", "(", "!", "=", "%", "~", ">", "\r\n", "txt:", "inf", "nan", "-1"]
            .map(String::from)
            .to_vec();
    let mut config: Vec<String> = slotbox_server::config::directives::names().map(|n| n.name.to_string()).collect();
    config.extend(["yes", "no", "\"\"", "mb", "gb", "kb", "normal", "replica", "pubsub"].map(String::from));
    let mut yml: Vec<String> = [
        "listen",
        "hash",
        "hash_tag",
        "distribution",
        "timeout",
        "backlog",
        "client_connections",
        "server_connections",
        "server_retry_timeout",
        "server_failure_limit",
        "redis_db",
        "redis_auth",
        "redis",
        "preconnect",
        "auto_eject_hosts",
        "cluster",
        "read_from",
        "servers",
        "ketama",
        "modula",
        "random",
        "master",
        "replica",
        "prefer_replica",
        "true",
        "false",
        ": ",
        "\n  ",
        "\n   - ",
        "127.0.0.1:6379:1",
        "4294967295",
        "2147483647",
    ]
    .map(String::from)
    .to_vec();
    yml.extend(slotbox_proxy::hash::HashKind::ALL.iter().map(|(_, name)| name.to_string()));
    let aof = [&PREAMBLE_MAGIC[..], b"SLOTBOX", b"MULTI", b"EXEC", b"*1\r\n$5\r\n", b"\r\n"];
    let dicts: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("resp_request", resp.into_iter().map(String::into_bytes).collect()),
        ("resp_reply", reply.into_iter().map(String::into_bytes).collect()),
        ("server_config", config.into_iter().map(String::into_bytes).collect()),
        ("nutcracker_yml", yml.into_iter().map(String::into_bytes).collect()),
        ("aof", aof.iter().map(|t| t.to_vec()).collect()),
        ("snapshot", vec![b"SLOTBOX\x01".to_vec(), vec![0x01], vec![0xff]]),
        ("cluster_bus", vec![b"SBus\x00\x01".to_vec(), b"127.0.0.1".to_vec()]),
    ];
    for (target, tokens) in dicts {
        let mut text = format!("# {target}: tokens for libFuzzer (written by examples/gen_corpus.rs)\n");
        for t in tokens {
            text.push('"');
            for b in t {
                match b {
                    b'"' | b'\\' => text.push_str(&format!("\\{}", b as char)),
                    0x20..=0x7e => text.push(b as char),
                    _ => text.push_str(&format!("\\x{b:02X}")),
                }
            }
            text.push_str("\"\n");
        }
        std::fs::write(dir.join(format!("{target}.dict")), text).expect("write dict");
    }
}

fn write(root: &Path, target: &str, seeds: Vec<(&str, Vec<u8>)>) {
    let dir = root.join(target);
    std::fs::create_dir_all(&dir).expect("corpus dir");
    for entry in std::fs::read_dir(&dir).expect("read corpus dir").flatten() {
        if entry.file_name().to_string_lossy().starts_with("gen-") {
            std::fs::remove_file(entry.path()).expect("remove old seed");
        }
    }
    let n = seeds.len();
    for (name, bytes) in seeds {
        std::fs::write(dir.join(format!("gen-{name}")), bytes).expect("write seed");
    }
    println!("{target}: {n} seeds");
}

fn with_ctl(ctl: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ctl];
    v.extend_from_slice(body);
    v
}

/// A request as clients send it: a multibulk of bulk strings.
fn request(args: &[&[u8]]) -> Vec<u8> {
    let frame = Frame::Array(args.iter().map(|a| Frame::bulk_from_slice(a)).collect());
    encode::to_vec(&frame, Protocol::Resp2)
}

fn requests() -> Vec<(&'static str, Vec<u8>)> {
    let mut pipeline = request(&[b"SET", b"user:{42}:name", b"alice"]);
    pipeline.extend(request(&[b"GET", b"user:{42}:name"]));
    pipeline.extend(request(&[b"HSET", b"h", b"f1", b"v1", b"f2", b"v2"]));
    pipeline.extend(request(&[b"ZADD", b"z", b"1.5", b"m"]));
    let mut tx = request(&[b"MULTI"]);
    tx.extend(request(&[b"INCR", b"counter"]));
    tx.extend(request(&[b"EXEC"]));
    let big = vec![b'x'; 1000];
    vec![
        ("ping", with_ctl(0, &request(&[b"PING"]))),
        ("pipeline", with_ctl(0x10, &pipeline)),
        ("multi-exec", with_ctl(0x04, &tx)),
        ("auth-unauthenticated", with_ctl(1, &request(&[b"AUTH", b"default", b"secret"]))),
        ("big-value-aof-limits", with_ctl(2, &request(&[b"SET", b"k", &big]))),
        ("tiny-limits", with_ctl(3, &request(&[b"DEL", b"a", b"b", b"c"]))),
        ("inline", with_ctl(0, b"SET k \"a b\\x41\\n\" 'it\\'s'\r\nPING\n\r\n")),
        ("empty-multibulks", with_ctl(0, b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n")),
        ("binary-arg", with_ctl(0x20, &request(&[b"SET", b"\x00\r\n\xff", b"\r\n"]))),
    ]
}

fn replies() -> Vec<(&'static str, Vec<u8>)> {
    let node = |port: i64, id: &'static str| {
        Frame::Array(vec![Frame::bulk_static("127.0.0.1"), Frame::Integer(port), Frame::bulk_static(id)])
    };
    let cluster_slots = Frame::Array(vec![
        Frame::Array(vec![Frame::Integer(0), Frame::Integer(5460), node(7000, "a"), node(7003, "d")]),
        Frame::Array(vec![Frame::Integer(5461), Frame::Integer(10922), node(7001, "b")]),
        Frame::Array(vec![Frame::Integer(10923), Frame::Integer(16383), node(7002, "c"), node(7005, "f")]),
    ]);
    let hello = Frame::Map(vec![
        (Frame::bulk_static("server"), Frame::bulk_static("redis")),
        (Frame::bulk_static("proto"), Frame::Integer(3)),
        (Frame::bulk_static("modules"), Frame::Array(vec![])),
    ]);
    let scalars = Frame::Array(vec![
        Frame::ok(),
        Frame::error_static("MOVED 3999 127.0.0.1:7001"),
        Frame::error_static("ASK 3999 127.0.0.1:7002"),
        Frame::Integer(-42),
        Frame::Null,
        Frame::NullArray,
        Frame::Double(1.5),
        Frame::Double(f64::NEG_INFINITY),
        Frame::Boolean(true),
        Frame::BigNumber(Bytes::from_static(b"3492890328409238509324850943850943825024385")),
        Frame::Verbatim("txt", Bytes::from_static(b"# Server\r\nredis_version:7.0.15\r\n")),
        Frame::Set(vec![Frame::bulk_static("a"), Frame::bulk_static("b")]),
    ]);
    let push = Frame::Push(vec![Frame::bulk_static("message"), Frame::bulk_static("news"), Frame::bulk_static("hi")]);
    let mut pipeline = encode::to_vec(&Frame::ok(), Protocol::Resp2);
    pipeline.extend(encode::to_vec(&Frame::bulk_static("value"), Protocol::Resp2));
    pipeline.extend(encode::to_vec(&Frame::Integer(7), Protocol::Resp2));
    vec![
        ("cluster-slots", encode::to_vec(&cluster_slots, Protocol::Resp2)),
        ("hello-resp3", encode::to_vec(&hello, Protocol::Resp3)),
        ("scalars-resp3", encode::to_vec(&scalars, Protocol::Resp3)),
        ("scalars-resp2", encode::to_vec(&scalars, Protocol::Resp2)),
        ("push-resp3", encode::to_vec(&push, Protocol::Resp3)),
        ("pipeline", pipeline),
        (
            "crossslot",
            encode::to_vec(&Frame::error_static(slotbox_protocol::frame::errors::CROSSSLOT), Protocol::Resp2),
        ),
    ]
}

fn header(master: bool) -> Header {
    let mut slots = SlotSet::default();
    (0..5461).for_each(|s| slots.set(s));
    Header {
        sender: "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca".into(),
        ip: "127.0.0.1".into(),
        port: 7000,
        cport: 17000,
        flags: if master { 1 } else { 2 },
        current_epoch: 6,
        config_epoch: 1,
        repl_offset: 123_456,
        master: (!master).then(|| "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1".into()),
        slots,
        state_ok: true,
        mflags: 0,
    }
}

fn bus_messages() -> Vec<(&'static str, Vec<u8>)> {
    let gossip = Gossip {
        id: "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f".into(),
        ip: "127.0.0.1".into(),
        port: 7002,
        cport: 17002,
        flags: 1,
        ping_sent: 0,
        pong_received: 1_700_000_000_000,
    };
    let bodies: Vec<(&str, Body)> = vec![
        ("ping", Body::Ping(vec![gossip.clone(), gossip.clone()])),
        ("pong", Body::Pong(vec![gossip.clone()])),
        ("meet", Body::Meet(vec![])),
        ("fail", Body::Fail { id: gossip.id.clone() }),
        ("update", Body::Update { id: gossip.id.clone(), config_epoch: 7, slots: header(true).slots }),
        ("publish", Body::Publish { channel: b"news".to_vec(), message: b"hello".to_vec() }),
        ("publishshard", Body::PublishShard { channel: b"{u}ch".to_vec(), message: vec![] }),
        ("auth-request", Body::FailoverAuthRequest),
        ("auth-ack", Body::FailoverAuthAck),
        ("mfstart", Body::MfStart),
    ];
    let mut seeds: Vec<(&str, Vec<u8>)> = bodies
        .into_iter()
        .map(|(name, body)| (name, message::encode(&Message { header: header(name != "pong"), body })))
        .collect();
    let mut two = seeds[0].1.clone();
    two.extend_from_slice(&seeds[1].1);
    seeds.push(("ping-then-pong", two));
    seeds
}

fn hash(n: usize, value_len: usize) -> Value {
    let mut h = Value::new_hash();
    let mut w = h.as_hash_mut(Default::default()).expect("a hash");
    for i in 0..n {
        w.set(format!("f{i}").as_bytes(), "v".repeat(value_len).as_bytes());
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

/// One value of every type and encoding (kept small: seeds stay under 4 KiB).
fn values() -> Vec<(&'static str, Value)> {
    let mut z = ZSetValue::default();
    z.insert(b"alice", 1.5);
    z.insert(b"bob", -3.0);
    z.insert(b"carol", f64::INFINITY);
    let list: Vec<&[u8]> = vec![b"a", b"", b"dup", b"dup", b"12345"];
    vec![
        ("int", Value::Int(-1234567)),
        ("embstr", Value::string(b"hello\0\xff")),
        ("raw", Value::string(&[7u8; 100])),
        ("hash-listpack", hash(5, 3)),
        ("hash-hashtable-long-value", hash(2, 70)),
        ("hash-hashtable-many", hash(130, 1)),
        ("list", Value::List(Box::new(list.into_iter().collect()))),
        ("intset", set(["3", "-7", "1000000000000"].map(String::from))),
        ("set-hashtable", set(["a", "1", "b"].map(String::from))),
        ("set-big-intset", set((0..520).map(|i| i.to_string()))),
        ("zset", Value::ZSet(Box::new(z))),
    ]
}

fn dumps() -> Vec<(&'static str, Vec<u8>)> {
    let mut seeds = Vec::new();
    for (name, v) in values() {
        // ctl 0: the payload as DUMP returns it; ctl 1: the value alone (checksum added).
        seeds.push((name, with_ctl(0, &dump_value(&v))));
        let mut body = Vec::new();
        write_value(&mut body, &v);
        assert_eq!(with_checksum(&body), dump_value(&v));
        seeds.push((leak(format!("{name}-body")), with_ctl(1, &body)));
    }
    seeds
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Every value in database 0 (some with an expiry), one more key in database 1.
fn keyspace() -> Keyspace {
    let ks = Keyspace::new(2);
    for (i, (name, v)) in values().into_iter().enumerate() {
        let key = format!("key:{name}");
        let expire_at = if i % 3 == 0 { 4_000_000_000_000 } else { 0 };
        ks.db(0)
            .shard(slotbox_protocol::key_hash_slot(key.as_bytes()))
            .insert(key.as_bytes(), Entry::with_expiry(v, expire_at));
    }
    ks.db(1).shard(slotbox_protocol::key_hash_slot(b"db1")).insert(b"db1", Entry::new(Value::Int(1)));
    ks
}

fn snapshots() -> Vec<(&'static str, Vec<u8>)> {
    let empty = snapshot::dump(&Keyspace::new(1), 0);
    let small = Keyspace::new(1);
    for (key, v) in [("a", Value::Int(1)), ("{a}b", Value::string(b"xyz"))] {
        small.db(0).shard(slotbox_protocol::key_hash_slot(key.as_bytes())).insert(key.as_bytes(), Entry::new(v));
    }
    vec![
        ("empty", with_ctl(0, &empty)),
        ("two-keys", with_ctl(0, &snapshot::dump(&small, 0))),
        ("every-type", with_ctl(1, &snapshot::dump(&keyspace(), 0))),
    ]
}

fn aofs() -> Vec<(&'static str, Vec<u8>)> {
    let mut log = request(&[b"SET", b"k", b"v"]);
    log.extend(request(&[b"PEXPIREAT", b"k", b"4000000000000"]));
    log.extend(request(&[b"MULTI"]));
    log.extend(request(&[b"INCR", b"counter"]));
    log.extend(request(&[b"RPUSH", b"list", b"a", b"b"]));
    log.extend(request(&[b"EXEC"]));
    log.extend(request(&[b"DEL", b"k"]));
    let mut truncated = log.clone();
    truncated.extend_from_slice(&request(&[b"SET", b"half", b"written"])[..12]);
    let mut open_multi = log.clone();
    open_multi.extend(request(&[b"MULTI"]));
    open_multi.extend(request(&[b"SET", b"x", b"1"]));
    let snap = snapshot::dump(&keyspace(), 0);
    let mut preamble = PREAMBLE_MAGIC.to_vec();
    preamble.extend_from_slice(&(snap.len() as u64).to_le_bytes());
    preamble.extend_from_slice(&snap);
    preamble.extend_from_slice(&log);
    assert_eq!(fix_preamble(&preamble), preamble);
    vec![
        ("commands", with_ctl(0, &log)),
        ("truncated", with_ctl(0, &truncated)),
        ("open-multi", with_ctl(0, &open_multi)),
        ("preamble", with_ctl(1, &preamble)),
    ]
}

fn configs() -> Vec<(&'static str, Vec<u8>)> {
    let typical = "# slotbox node\nport 7000\nbind 127.0.0.1 ::1\ndir .\nsave \"\"\nappendonly yes\n\
                   appendfsync everysec\ncluster-enabled yes\ncluster-config-file nodes-7000.conf\n\
                   cluster-node-timeout 5000\nmaxmemory 100mb\nmaxmemory-policy allkeys-lru\n\
                   client-output-buffer-limit replica 256mb 64mb 60\nrequirepass \"s3cr et\"\n";
    let replica = "port 7003\nreplicaof 127.0.0.1 7000\nmasterauth secret\nreplica-read-only yes\n\
                   repl-backlog-size 1mb\nmin-replicas-to-write 1\nslave-priority 50\n";
    let mut all = slotbox_server::Config::default();
    all.load_str(typical, "typical.conf").expect("typical config loads");
    // Without the `dir` line (this machine's directory, which another may not have).
    let rewritten: String = slotbox_server::config::rewrite::rewritten_text(&all, "")
        .lines()
        .filter(|l| !l.starts_with("dir "))
        .map(|l| format!("{l}\n"))
        .collect();
    vec![
        ("typical", typical.as_bytes().to_vec()),
        ("replica", replica.as_bytes().to_vec()),
        ("rewritten", rewritten.into_bytes()),
    ]
}

fn nutcracker_files() -> Vec<(&'static str, Vec<u8>)> {
    let sandbox = include_str!("../../conf/nutcracker.yml");
    let ketama = "alpha:\n  listen: 127.0.0.1:22121\n  hash: fnv1a_64\n  hash_tag: \"{}\"\n  distribution: ketama\n  \
                  auto_eject_hosts: true\n  redis: true\n  timeout: 400\n  server_retry_timeout: 2000\n  \
                  server_failure_limit: 1\n  servers:\n   - 127.0.0.1:6379:1\n   - 127.0.0.1:6380:2 cache2\n\
                  beta:\n  listen: 127.0.0.1:22122\n  redis: true\n  servers:\n   - 127.0.0.1:6381:1\n";
    let modula = "gamma:\n  listen: /tmp/gamma.sock 0755\n  hash: murmur\n  distribution: modula\n  backlog: 1024\n  \
                  preconnect: true\n  server_connections: 2\n  client_connections: 100\n  redis_db: 1\n  \
                  redis_auth: pw\n  servers:\n   - 10.0.0.1:11211:3\n   - 10.0.0.2:11211:1 b\n";
    let random = "delta:\n  listen: 0.0.0.0:22123\n  hash: crc32a\n  distribution: random\n  servers:\n   - \
                  127.0.0.1:7000:1 one\n   - 127.0.0.1:7001:1 two\n";
    vec![
        ("sandbox", sandbox.as_bytes().to_vec()),
        ("ketama", ketama.as_bytes().to_vec()),
        ("modula", modula.as_bytes().to_vec()),
        ("random", random.as_bytes().to_vec()),
    ]
}
