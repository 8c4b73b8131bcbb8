//! Controlling connections as Redis 7.0 does, over real sockets: CLIENT PAUSE / UNPAUSE
//! (WRITE and ALL, held commands answered once the pause ends, expiry held still), CLIENT
//! REPLY OFF / SKIP letting pub/sub pushes through, CLIENT KILL with its filters, and RESET
//! clearing every piece of connection state; the error replies byte for byte as real Redis.
//! Every wait is bounded.

mod common;

use common::{
    blocked_clients, bulk, encode_command, info_value, show, simple, text, wait_until, RawClient, ServerProcess,
};
use slotbox::protocol::Frame;
use slotbox::{Config, Server};
use slotbox_server::pause::Purpose;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

fn held(server: &Server) -> usize {
    server.handle().shared().pause.postponed()
}

/// The same requests against real Redis and slotbox: identical raw replies.
#[test]
fn client_control_errors_answer_as_redis() {
    if !common::on_path("redis-server") {
        eprintln!("redis-server not on PATH: skipped");
        return;
    }
    let redis = ServerProcess::redis();
    let slotbox = Server::start().unwrap();
    let mut r = RawClient::connect(redis.addr());
    let mut s = RawClient::connect(slotbox.addr());
    let script: &[&[&str]] = &[
        &["CLIENT", "PAUSE", "-1"],
        &["CLIENT", "PAUSE", "x"],
        &["CLIENT", "PAUSE", "1.5"],
        &["CLIENT", "PAUSE", "10", "foo"],
        &["CLIENT", "PAUSE", "10", "write", "extra"],
        &["CLIENT", "PAUSE", "0"],
        &["CLIENT", "PAUSE", "0", "WRITE"],
        &["CLIENT", "PAUSE", "9223372036854775807", "all"],
        &["PING"],
        &["CLIENT", "UNPAUSE"],
        &["CLIENT", "UNPAUSE", "x"],
        &["CLIENT", "PAUSE"],
        &["CLIENT", "KILL", "ID", "0"],
        &["CLIENT", "KILL", "ID", "x"],
        &["CLIENT", "KILL", "TYPE", "foo"],
        &["CLIENT", "KILL", "TYPE", "pubsub"],
        &["CLIENT", "KILL", "TYPE", "master"],
        &["CLIENT", "KILL", "TYPE", "replica", "SKIPME", "yes"],
        &["CLIENT", "KILL", "USER", "nobody"],
        &["CLIENT", "KILL", "SKIPME", "maybe"],
        &["CLIENT", "KILL", "ADDR", "1.2.3.4:5", "TYPE", "normal"],
        &["CLIENT", "KILL", "LADDR", "1.2.3.4:5"],
        &["CLIENT", "KILL", "ID", "1", "SKIPME"],
        &["CLIENT", "KILL", "1.2.3.4:5"],
        &["CLIENT", "KILL"],
        &["CLIENT", "LIST", "TYPE", "foo"],
        &["CLIENT", "LIST", "TYPE", "master"],
        &["CLIENT", "LIST", "TYPE", "pubsub"],
        &["CLIENT", "REPLY", "maybe"],
        &["CLIENT", "REPLY", "on", "x"],
        &["CLIENT", "NO-EVICT", "maybe"],
        &["CLIENT", "NO-EVICT", "on"],
        &["CLIENT", "NO-EVICT", "off"],
        &["CLIENT", "UNBLOCK", "x"],
        &["CLIENT", "UNBLOCK", "99999"],
        &["CLIENT", "UNBLOCK", "1", "foo"],
        &["CLIENT", "UNBLOCK", "x", "foo"],
        &["CLIENT", "UNBLOCK", "1", "timeout", "x"],
        &["MULTI"],
        &["SET", "a", "1"],
        &["RESET"],
        &["EXEC"],
        &["SELECT", "3"],
        &["RESET"],
        &["DBSIZE"],
        &["CLIENT", "SETNAME", "x"],
        &["RESET"],
        &["CLIENT", "GETNAME"],
        &["RESET", "x"],
    ];
    for cmd in script {
        let (want, got) = (r.call_raw(cmd), s.call_raw(cmd));
        assert_eq!(show(&got), show(&want), "{cmd:?}");
    }
}

#[test]
fn pause_write_holds_writes_and_may_replicate_commands_until_unpause() {
    let server = Server::start().unwrap();
    let mut admin = RawClient::connect(server.addr());
    let mut writer = RawClient::connect(server.addr());
    let mut publisher = RawClient::connect(server.addr());
    let mut reader = RawClient::connect(server.addr());
    admin.call(&["SET", "k", "old"]);
    assert_eq!(admin.call(&["CLIENT", "PAUSE", "100000", "WRITE"]), Frame::ok());
    writer.send_raw(&encode_command(&["SET", "k", "new"]));
    writer.send_raw(&encode_command(&["GET", "k"]));
    publisher.send_raw(&encode_command(&["PUBLISH", "ch", "m"]));
    wait_until(WAIT, "two clients held", || held(&server) == 2);
    assert_eq!(blocked_clients(server.addr()), 2);
    let list = text(&admin.call(&["CLIENT", "LIST"]));
    assert_eq!(list.lines().filter(|l| l.contains("flags=b")).count(), 2, "{list}");
    // Reads, and a transaction of reads, go through.
    assert_eq!(reader.call(&["GET", "k"]), bulk("old"));
    reader.call(&["MULTI"]);
    reader.call(&["GET", "k"]);
    assert_eq!(reader.call(&["EXEC"]), Frame::Array(vec![bulk("old")]));
    // Errors found before the pause check are answered at once.
    let arity = reader.call(&["SET", "k"]);
    assert_eq!(arity, Frame::Error("ERR wrong number of arguments for 'set' command".into()));
    assert_eq!(admin.call(&["CLIENT", "UNPAUSE"]), Frame::ok());
    assert_eq!(writer.read_reply().0, Frame::ok());
    assert_eq!(writer.read_reply().0, bulk("new"));
    assert_eq!(publisher.read_reply().0, Frame::Integer(0));
    assert_eq!(blocked_clients(server.addr()), 0);
}

#[test]
fn pause_all_holds_every_command_until_it_ends() {
    let server = Server::start().unwrap();
    let mut admin = RawClient::connect(server.addr());
    let mut c = RawClient::connect(server.addr());
    assert_eq!(admin.call(&["CLIENT", "PAUSE", "300", "ALL"]), Frame::ok());
    c.send_raw(&encode_command(&["PING"]));
    c.send_raw(&encode_command(&["CLIENT", "UNPAUSE"]));
    wait_until(WAIT, "the PING held", || held(&server) == 1);
    // Even CLIENT UNPAUSE waits: the pause ends by its timeout.
    assert_eq!(c.read_reply().0, simple("PONG"));
    assert_eq!(c.read_reply().0, Frame::ok());
    // A pause of the same purpose keeps the more restrictive kind and the later end: ALL for
    // 100 s, so even UNPAUSE waits; the test ends it from the server's side.
    admin.call(&["CLIENT", "PAUSE", "100000", "WRITE"]);
    admin.call(&["CLIENT", "PAUSE", "10", "ALL"]);
    c.send_raw(&encode_command(&["GET", "k"]));
    admin.send_raw(&encode_command(&["CLIENT", "UNPAUSE"]));
    wait_until(WAIT, "GET and UNPAUSE held", || held(&server) == 2);
    server.handle().shared().pause.unpause(Purpose::ClientCommand, 0);
    assert_eq!(c.read_reply().0, Frame::Null);
    assert_eq!(admin.read_reply().0, Frame::ok());
}

#[test]
fn keys_do_not_expire_while_clients_are_paused() {
    let server = Server::start().unwrap();
    let mut c = RawClient::connect(server.addr());
    let expired = |c: &mut RawClient| info_value(c, "stats", "expired_keys").unwrap();
    let before = expired(&mut c);
    c.call(&["MULTI"]);
    c.call(&["SET", "a{t}", "1", "PX", "10"]);
    c.call(&["SET", "b{t}", "1", "PX", "10"]);
    c.call(&["CLIENT", "PAUSE", "100000", "WRITE"]);
    c.call(&["EXEC"]);
    wait_until(WAIT, "keys logically expired", || c.call(&["GET", "a{t}"]) == Frame::Null);
    assert_eq!(c.call(&["GET", "b{t}"]), Frame::Null);
    assert_eq!(expired(&mut c), before, "no key reclaimed while paused");
    c.call(&["CLIENT", "UNPAUSE"]);
    c.call(&["GET", "a{t}"]);
    c.call(&["GET", "b{t}"]);
    let after: u64 = expired(&mut c).parse().unwrap();
    assert_eq!(after, before.parse::<u64>().unwrap() + 2);
}

#[test]
fn pubsub_pushes_pass_client_reply_off_and_skip() {
    let server = Server::start().unwrap();
    let mut sub = RawClient::connect(server.addr());
    let mut publisher = RawClient::connect(server.addr());
    sub.call(&["HELLO", "3"]);
    sub.send_raw(&encode_command(&["CLIENT", "REPLY", "OFF"]));
    sub.send_raw(&encode_command(&["SUBSCRIBE", "ch"]));
    let push = |parts: Vec<Frame>| Frame::Push(parts);
    assert_eq!(sub.read_reply().0, push(vec![bulk("subscribe"), bulk("ch"), Frame::Integer(1)]));
    assert_eq!(publisher.call(&["PUBLISH", "ch", "hello"]), Frame::Integer(1));
    assert_eq!(sub.read_reply().0, push(vec![bulk("message"), bulk("ch"), bulk("hello")]));
    // Replies stay off: PING's is dropped, CLIENT REPLY ON's is the next thing read.
    sub.send_raw(&encode_command(&["PING"]));
    assert_eq!(sub.call(&["CLIENT", "REPLY", "ON"]), Frame::ok());
    // SKIP drops one command's reply, not a push in between.
    sub.send_raw(&encode_command(&["CLIENT", "REPLY", "SKIP"]));
    sub.send_raw(&encode_command(&["PSUBSCRIBE", "c*"]));
    assert_eq!(sub.read_reply().0, push(vec![bulk("psubscribe"), bulk("c*"), Frame::Integer(2)]));
    assert_eq!(sub.call(&["PING", "x"]), bulk("x"));
    // RESP2 with replies off: the confirmation still arrives (an array).
    let mut sub2 = RawClient::connect(server.addr());
    sub2.send_raw(&encode_command(&["CLIENT", "REPLY", "OFF"]));
    sub2.send_raw(&encode_command(&["SUBSCRIBE", "ch2"]));
    let confirm = Frame::Array(vec![bulk("subscribe"), bulk("ch2"), Frame::Integer(1)]);
    assert_eq!(sub2.read_reply().0, confirm);
}

#[test]
fn client_kill_filters_select_the_right_clients() {
    let server = Server::start().unwrap();
    let mut me = RawClient::connect(server.addr());
    let mut pubsub = RawClient::connect(server.addr());
    pubsub.call(&["SUBSCRIBE", "ch"]);
    let mut normal = RawClient::connect(server.addr());
    normal.call(&["PING"]);
    let list = text(&me.call(&["CLIENT", "LIST", "TYPE", "pubsub"]));
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(list.contains("flags=P"), "{list}");
    // Fresh clients are younger than a minute.
    assert_eq!(me.call(&["CLIENT", "KILL", "MAXAGE", "60"]), Frame::Integer(0));
    assert_eq!(me.call(&["CLIENT", "KILL", "TYPE", "pubsub", "USER", "default"]), Frame::Integer(1));
    assert!(pubsub.is_closed_by_server());
    let normal_id = normal.call(&["CLIENT", "ID"]).as_integer().unwrap().to_string();
    let addr = text(&normal.call(&["CLIENT", "INFO"]))
        .split(' ')
        .find_map(|f| f.strip_prefix("addr=").map(str::to_string))
        .unwrap();
    let wrong = me.call(&["CLIENT", "KILL", "ADDR", &addr, "ID", "999999"]);
    assert_eq!(wrong, Frame::Integer(0));
    assert_eq!(me.call(&["CLIENT", "KILL", "ADDR", &addr, "ID", &normal_id, "TYPE", "normal"]), Frame::Integer(1));
    assert!(normal.is_closed_by_server());
    // SKIPME no: the caller too, after its reply.
    assert_eq!(me.call(&["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no"]), Frame::Integer(1));
    assert!(me.is_closed_by_server());
}

#[test]
fn reset_clears_every_piece_of_connection_state() {
    let config = Config { requirepass: Some(b"pw".to_vec()), ..Config::ephemeral() };
    let server = Server::with_config(config).unwrap();
    let mut c = RawClient::connect(server.addr());
    let mut watcher = RawClient::connect(server.addr());
    watcher.call(&["AUTH", "pw"]);
    c.call(&["AUTH", "pw"]);
    let c_id = c.call(&["CLIENT", "ID"]).as_integer().unwrap();
    c.call(&["CLIENT", "SETNAME", "me"]);
    c.call(&["SELECT", "2"]);
    c.call(&["READONLY"]);
    c.call(&["CLIENT", "NO-EVICT", "on"]);
    assert_eq!(c.call(&["MONITOR"]), Frame::ok());
    let mine = || {
        let mut w = RawClient::connect(server.addr());
        w.call(&["AUTH", "pw"]);
        let list = text(&w.call(&["CLIENT", "LIST"]));
        let id = format!("id={} ", c_id);
        list.lines().find(|l| l.starts_with(&id)).unwrap_or_default().to_string()
    };
    assert!(mine().contains("flags=Oe "), "{}", mine());
    c.send_raw(&encode_command(&["CLIENT", "REPLY", "OFF"]));
    c.send_raw(&encode_command(&["HELLO", "3"]));
    c.send_raw(&encode_command(&["RESET"]));
    // MONITOR lines written before the replies went off come first.
    wait_until(WAIT, "+RESET", || c.read_reply().0 == simple("RESET"));
    // CLIENT NO-EVICT stays, as in Redis.
    let line = mine();
    assert!(line.contains("name= ") && line.contains("flags=e ") && line.contains("db=0 "), "{line}");
    assert!(line.contains("resp=2"), "{line}");
    // Replies on, RESP2, and unauthenticated again (MONITOR lines of commands run before the
    // RESET may still be on their way: they reach a monitor after the command's reply).
    c.send_raw(&encode_command(&["PING"]));
    let is_monitor_line = |f: &Frame| matches!(f, Frame::Simple(l) if l.first().is_some_and(u8::is_ascii_digit));
    let reply = std::iter::repeat_with(|| c.read_reply().0).find(|f| !is_monitor_line(f)).unwrap();
    assert_eq!(reply, Frame::Error("NOAUTH Authentication required.".into()));
    c.call(&["AUTH", "pw"]);
    c.call(&["SUBSCRIBE", "ch"]);
    assert_eq!(c.call(&["RESET"]), simple("RESET"));
    assert_eq!(c.call(&["AUTH", "pw"]), Frame::ok());
    assert_eq!(watcher.call(&["PUBLISH", "ch", "m"]), Frame::Integer(0));
    assert_eq!(c.call(&["SET", "k", "v"]), Frame::ok());
}

#[test]
fn client_unblock_ends_a_blocking_pop() {
    let server = Server::start().unwrap();
    let mut c = RawClient::connect(server.addr());
    let mut blocked = RawClient::connect(server.addr());
    let id = blocked.call(&["CLIENT", "ID"]).as_integer().unwrap().to_string();
    let reasons: [(&[&str], Frame); 3] = [
        (&[], Frame::NullArray),
        (&["TIMEOUT"], Frame::NullArray),
        (&["ERROR"], Frame::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into())),
    ];
    for (reason, want) in reasons {
        blocked.send_raw(&encode_command(&["BLPOP", "l", "0"]));
        wait_until(WAIT, "BLPOP blocked", || blocked_clients(server.addr()) == 1);
        let mut cmd = vec!["CLIENT", "UNBLOCK", &id];
        cmd.extend_from_slice(reason);
        assert_eq!(c.call(&cmd), Frame::Integer(1));
        assert_eq!(blocked.read_reply().0, want);
    }
    assert_eq!(c.call(&["CLIENT", "UNBLOCK", &id]), Frame::Integer(0), "not blocked");
    let bad = c.call(&["CLIENT", "UNBLOCK", &id, "later"]);
    assert_eq!(bad, Frame::Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR".into()));
    // Still usable: a push serves its next BLPOP.
    blocked.send_raw(&encode_command(&["BLPOP", "l", "0"]));
    wait_until(WAIT, "BLPOP blocked", || blocked_clients(server.addr()) == 1);
    c.call(&["RPUSH", "l", "x"]);
    assert_eq!(blocked.read_reply().0, Frame::Array(vec![bulk("l"), bulk("x")]));
}
