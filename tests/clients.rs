//! Integration tests over real sockets: the redis crate (sync API) and raw RESP bytes against
//! an embedded slotbox server. Each test starts its own server on a free port.

mod common;

use common::{bulk, error, simple, RawClient};
use redis::Commands;
use slotbox::protocol::Frame;
use slotbox::{Config, Server};

fn connect(server: &Server) -> redis::Connection {
    let client = redis::Client::open(server.url()).expect("client");
    client.get_connection().expect("connect with redis-rs")
}

#[test]
fn set_get_mset_mget_incr_del() {
    let server = Server::start().unwrap();
    let mut con = connect(&server);
    let _: () = con.set("greeting", "hello").unwrap();
    assert_eq!(con.get::<_, String>("greeting").unwrap(), "hello");
    assert_eq!(con.get::<_, Option<String>>("missing").unwrap(), None);

    let _: () = con.mset(&[("a", "1"), ("b", "2"), ("c", "3")]).unwrap();
    let got: Vec<Option<String>> = con.mget(&["a", "b", "nope", "c"]).unwrap();
    assert_eq!(got, vec![Some("1".into()), Some("2".into()), None, Some("3".into())]);

    assert_eq!(con.incr::<_, _, i64>("a", 1).unwrap(), 2);
    assert_eq!(con.incr::<_, _, i64>("a", 40).unwrap(), 42);
    assert_eq!(con.decr::<_, _, i64>("a", 2).unwrap(), 40);
    assert_eq!(con.incr::<_, _, i64>("fresh", 1).unwrap(), 1);
    let not_int: redis::RedisResult<i64> = con.incr("greeting", 1);
    let err = not_int.unwrap_err();
    assert!(err.to_string().contains("value is not an integer or out of range"), "{err}");

    assert_eq!(con.del::<_, i64>(&["a", "b", "nope"]).unwrap(), 2);
    assert_eq!(con.exists::<_, i64>("a").unwrap(), 0);
    assert_eq!(con.exists::<_, i64>("c").unwrap(), 1);
}

#[test]
fn expire_and_ttl() {
    let server = Server::start().unwrap();
    let mut con = connect(&server);
    let _: () = con.set("k", "v").unwrap();
    assert_eq!(con.ttl::<_, i64>("k").unwrap(), -1);
    assert_eq!(con.ttl::<_, i64>("missing").unwrap(), -2);
    let set_at = std::time::Instant::now();
    assert_eq!(con.expire::<_, i64>("k", 100).unwrap(), 1);
    let ttl: i64 = con.ttl("k").unwrap();
    let pttl: i64 = con.pttl("k").unwrap();
    // At most the time since EXPIRE was sent has passed (TTL rounds to the nearest second).
    let passed = set_at.elapsed().as_millis() as i64;
    assert!((100 - passed / 1000 - 1..=100).contains(&ttl), "ttl {ttl}, {passed} ms after EXPIRE 100");
    assert!((100_000 - passed - 1..=100_000).contains(&pttl), "pttl {pttl}, {passed} ms after EXPIRE 100");
    assert_eq!(con.persist::<_, i64>("k").unwrap(), 1);
    assert_eq!(con.ttl::<_, i64>("k").unwrap(), -1);

    // A key with a short expiry is gone once it has passed. The sleep is the thing under test
    // (letting the TTL pass), not a wait for a state: the expiry was set before the reply came,
    // so 100 ms later it has passed however slow the machine.
    let _: () = redis::cmd("SET").arg("short").arg("v").arg("PX").arg(30).query(&mut con).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(con.get::<_, Option<String>>("short").unwrap(), None);
    assert_eq!(con.exists::<_, i64>("short").unwrap(), 0);
}

#[test]
fn thousand_pipelined_commands_are_answered_in_order() {
    let server = Server::start().unwrap();
    let mut con = connect(&server);
    let mut pipe = redis::pipe();
    for i in 0..1000 {
        if i % 2 == 0 {
            pipe.cmd("INCR").arg("counter");
        } else {
            pipe.cmd("ECHO").arg(format!("msg-{i}"));
        }
    }
    let replies: Vec<redis::Value> = pipe.query(&mut con).unwrap();
    assert_eq!(replies.len(), 1000);
    for (i, reply) in replies.iter().enumerate() {
        let expected = if i % 2 == 0 {
            redis::Value::Int(i as i64 / 2 + 1)
        } else {
            redis::Value::BulkString(format!("msg-{i}").into_bytes())
        };
        assert_eq!(reply, &expected, "reply #{i}");
    }

    // The same over one raw write.
    let mut raw = RawClient::connect(server.addr());
    let mut batch = Vec::new();
    for i in 0..1000 {
        batch.extend_from_slice(&common::encode_command(&["ECHO", &i.to_string()]));
    }
    raw.send_raw(&batch);
    for i in 0..1000 {
        assert_eq!(raw.read_reply().0, bulk(&i.to_string()));
    }
}

#[test]
fn inline_commands_work() {
    let server = Server::start().unwrap();
    let mut c = RawClient::connect(server.addr());
    c.send_raw(b"PING\r\n");
    assert_eq!(c.read_reply().1, b"+PONG\r\n");
    c.send_raw(b"SET inline \"hello world\"\r\nGET inline\n");
    assert_eq!(c.read_reply().0, simple("OK"));
    assert_eq!(c.read_reply().0, bulk("hello world"));
}

#[test]
fn malformed_stream_closes_only_that_connection() {
    let server = Server::start().unwrap();
    let mut other = RawClient::connect(server.addr());
    assert_eq!(other.call(&["SET", "k", "v"]), simple("OK"));

    let mut bad = RawClient::connect(server.addr());
    bad.send_raw(b"*1\r\n$x\r\n");
    assert_eq!(bad.read_reply().1, b"-ERR Protocol error: invalid bulk length\r\n");
    assert!(bad.is_closed_by_server(), "connection stays open after a protocol error");

    assert_eq!(other.call(&["GET", "k"]), bulk("v"));
    let mut fresh = RawClient::connect(server.addr());
    assert_eq!(fresh.call(&["PING"]), simple("PONG"));
}

#[test]
fn proto_max_bulk_len_is_enforced() {
    let config = Config { proto_max_bulk_len: 1024, ..Config::ephemeral() };
    let server = Server::with_config(config).unwrap();
    let mut ok = RawClient::connect(server.addr());
    let fits = "x".repeat(1024);
    assert_eq!(ok.call(&["SET", "k", &fits]), simple("OK"));

    let mut big = RawClient::connect(server.addr());
    big.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1025\r\n");
    assert_eq!(big.read_reply().1, b"-ERR Protocol error: invalid bulk length\r\n");
    assert!(big.is_closed_by_server());
    assert_eq!(ok.call(&["STRLEN", "k"]), Frame::Integer(1024));
}

#[test]
fn maxclients_refuses_the_extra_connection() {
    let config = Config { maxclients: 2, ..Config::ephemeral() };
    let server = Server::with_config(config).unwrap();
    let mut first = RawClient::connect(server.addr());
    let mut second = RawClient::connect(server.addr());
    assert_eq!(first.call(&["PING"]), simple("PONG"));
    assert_eq!(second.call(&["PING"]), simple("PONG"));

    let mut third = RawClient::connect(server.addr());
    assert_eq!(third.read_reply().1, b"-ERR max number of clients reached\r\n");
    assert!(third.is_closed_by_server());

    // Once a slot frees up, a new client gets in (the close is noticed asynchronously).
    drop(first);
    let deadline = std::time::Instant::now() + common::WAIT;
    loop {
        let mut c = RawClient::connect(server.addr());
        match c.try_call(&["PING"]) {
            Ok(reply) if reply == simple("PONG") => break,
            _ if std::time::Instant::now() < deadline => std::thread::sleep(std::time::Duration::from_millis(20)),
            other => panic!("no free client slot after a disconnect: {other:?}"),
        }
    }
    assert_eq!(second.call(&["PING"]), simple("PONG"));
}

#[test]
fn requirepass_needs_auth_first() {
    let config = Config { requirepass: Some(b"s3cret".to_vec()), ..Config::ephemeral() };
    let server = Server::with_config(config).unwrap();
    let mut c = RawClient::connect(server.addr());
    assert_eq!(c.call(&["GET", "k"]), error("NOAUTH Authentication required."));
    assert_eq!(c.call(&["AUTH", "wrong"]), error("WRONGPASS invalid username-password pair or user is disabled."));
    assert_eq!(c.call(&["AUTH", "s3cret"]), simple("OK"));
    assert_eq!(c.call(&["SET", "k", "v"]), simple("OK"));
    assert_eq!(c.call(&["GET", "k"]), bulk("v"));

    // A client library with the password in the URL.
    let url = format!("redis://:s3cret@{}/", server.addr());
    let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
    assert_eq!(con.get::<_, String>("k").unwrap(), "v");
}

#[test]
fn hello_3_switches_to_resp3() {
    let server = Server::start().unwrap();
    let mut c = RawClient::connect(server.addr());
    assert_eq!(c.call_raw(&["GET", "missing"]), b"$-1\r\n");
    let (hello, raw) = {
        c.send_raw(&common::encode_command(&["HELLO", "3"]));
        c.read_reply()
    };
    assert_eq!(raw[0], b'%', "HELLO 3 reply is not a RESP3 map: {}", common::show(&raw));
    let Frame::Map(fields) = hello else { unreachable!() };
    let proto = fields.iter().find(|(k, _)| k.as_bytes() == Some(b"proto")).map(|(_, v)| v.clone());
    assert_eq!(proto, Some(Frame::Integer(3)));
    assert_eq!(c.call_raw(&["GET", "missing"]), b"_\r\n");

    // HELLO 2 goes back.
    let (_, raw) = {
        c.send_raw(&common::encode_command(&["HELLO", "2"]));
        c.read_reply()
    };
    assert_eq!(raw[0], b'*');
    assert_eq!(c.call_raw(&["GET", "missing"]), b"$-1\r\n");
}

#[test]
fn clients_on_different_threads_see_each_others_writes() {
    let server = Server::start().unwrap();
    let url = server.url();
    let (tx, rx) = std::sync::mpsc::channel::<usize>();
    let writer = std::thread::spawn({
        let url = url.clone();
        move || {
            let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
            for i in 0..100 {
                let _: () = con.set(format!("key:{i}"), i).unwrap();
                tx.send(i).unwrap();
            }
        }
    });
    let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
    for _ in 0..100 {
        let i = rx.recv_timeout(common::WAIT).expect("writer thread stalled");
        assert_eq!(con.get::<_, usize>(format!("key:{i}")).unwrap(), i);
    }
    writer.join().unwrap();
    let _: () = con.set("from-main", "hi").unwrap();
    let mut other = redis::Client::open(server.url()).unwrap().get_connection().unwrap();
    let seen = std::thread::spawn(move || other.get::<_, String>("from-main").unwrap()).join().unwrap();
    assert_eq!(seen, "hi");
}

/// What `redis-cli --pipe` does: one thread streams a long pipeline in small writes while
/// another reads the replies. Every request must be answered (no stall when the socket's
/// send buffer fills and drains again).
#[test]
fn streamed_pipeline_gets_every_reply() {
    use std::io::{Read, Write};
    const N: usize = 200_000;
    let server = Server::start().unwrap();
    let stream = std::net::TcpStream::connect(server.addr()).unwrap();
    stream.set_read_timeout(Some(common::WAIT)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let value = "v".repeat(100);
        let mut chunk = Vec::new();
        for i in 0..N {
            chunk.extend_from_slice(&common::encode_command(&["SET", &format!("key:{i:010}"), &value]));
            if chunk.len() >= 4096 {
                writer.write_all(&chunk).unwrap();
                chunk.clear();
            }
        }
        writer.write_all(&chunk).unwrap();
    });
    let mut reader = stream;
    let mut received = 0usize;
    let expected = N * b"+OK\r\n".len();
    let mut buf = vec![0u8; 64 * 1024];
    while received < expected {
        match reader.read(&mut buf) {
            Ok(0) => panic!("server closed the connection after {} replies", received / 5),
            Ok(n) => received += n,
            Err(e) => panic!("stalled after {} of {N} replies: {e}", received / 5),
        }
    }
    assert_eq!(received, expected);
    sender.join().unwrap();
    let mut c = RawClient::connect(server.addr());
    assert_eq!(c.call(&["DBSIZE"]), Frame::Integer(N as i64));
}
