//! CLIENT subcommands through `commands::execute`, with redis-server 7.0.15's replies.

use crate::commands::connection::testing::TestClient;
use crate::commands::session::ReplyMode;
use std::sync::atomic::Ordering;

#[test]
fn setname_getname() {
    let bad = "-ERR Client names cannot contain spaces, newlines or special characters.\r\n";
    TestClient::new().expect(&[
        (&["CLIENT", "GETNAME"], "$-1\r\n"),
        (&["CLIENT", "SETNAME", "conn-1"], "+OK\r\n"),
        (&["client", "getname"], "$6\r\nconn-1\r\n"),
        (&["CLIENT", "SETNAME", "a b"], bad),
        (&["CLIENT", "SETNAME", "a\nb"], bad),
        (&["CLIENT", "SETNAME", ""], "+OK\r\n"),
        (&["CLIENT", "GETNAME"], "$-1\r\n"),
        (&["CLIENT", "SETNAME"], "-ERR wrong number of arguments for 'client|setname' command\r\n"),
    ]);
}

#[test]
fn id_info_list() {
    let mut c = TestClient::new();
    let id = c.client.id();
    assert_eq!(c.wire(&["CLIENT", "ID"]), format!(":{id}\r\n"));
    let info = c.wire(&["CLIENT", "INFO"]);
    assert!(info.contains(&format!("id={id} addr=")) && info.ends_with("\n\r\n"), "{info}");
    let mut other = TestClient::on(c.shared.clone());
    let list = other.wire(&["CLIENT", "LIST"]);
    assert_eq!(list.matches(" addr=").count(), 2, "{list}");
    assert!(c.wire(&["CLIENT", "LIST", "TYPE", "normal"]).contains("id="));
    let mine = c.wire(&["CLIENT", "LIST", "ID", &id.to_string()]);
    assert!(mine.contains(&format!("id={id} ")));
    c.expect(&[
        (&["CLIENT", "LIST", "TYPE", "pubsub"], "$0\r\n\r\n"),
        (&["CLIENT", "LIST", "TYPE", "foo"], "-ERR Unknown client type 'foo'\r\n"),
        (&["CLIENT", "LIST", "ID", "1", "x"], "-ERR Invalid client ID\r\n"),
        (&["CLIENT", "LIST", "ID", "99999"], "$0\r\n\r\n"),
        (&["CLIENT", "LIST", "foo"], "-ERR syntax error\r\n"),
    ]);
    c.run(&["HELLO", "3"]);
    assert!(c.wire(&["CLIENT", "INFO"]).starts_with("="));
}

#[test]
fn setinfo() {
    let mut c = TestClient::new();
    c.expect(&[
        (&["CLIENT", "SETINFO", "LIB-NAME", "redis-py"], "+OK\r\n"),
        (&["CLIENT", "SETINFO", "lib-ver", "5.0"], "+OK\r\n"),
        (&["CLIENT", "SETINFO", "x", "y"], "-ERR Unrecognized option 'x'\r\n"),
        (
            &["CLIENT", "SETINFO", "lib-name", "a b"],
            "-ERR lib-name cannot contain spaces, newlines or special characters.\r\n",
        ),
    ]);
    assert!(c.wire(&["CLIENT", "INFO"]).contains("lib-name=redis-py lib-ver=5.0"));
}

#[test]
fn kill() {
    let mut c = TestClient::new();
    let other = TestClient::on(c.shared.clone());
    let bad_id = "-ERR client-id should be greater than 0\r\n";
    c.expect(&[
        (&["CLIENT", "KILL", "1.2.3.4:5"], "-ERR No such client\r\n"),
        (&["CLIENT", "KILL", "ID", "x"], bad_id),
        (&["CLIENT", "KILL", "ID", "0"], bad_id),
        (&["CLIENT", "KILL", "foo", "bar"], "-ERR syntax error\r\n"),
        (&["CLIENT", "KILL", "ID", "1", "SKIPME"], "-ERR syntax error\r\n"),
        (&["CLIENT", "KILL", "TYPE", "foo"], "-ERR Unknown client type 'foo'\r\n"),
        (&["CLIENT", "KILL", "USER", "bob"], "-ERR No such user 'bob'\r\n"),
        (&["CLIENT", "KILL", "TYPE", "master"], ":0\r\n"),
        (&["CLIENT", "KILL", "ID", &other.client.id().to_string()], ":1\r\n"),
    ]);
    assert!(other.client.info.killed.load(Ordering::Relaxed));
    assert!(!c.client.close_after_reply);
    let me = c.client.info.addr.to_string();
    assert_eq!(c.wire(&["CLIENT", "KILL", &me]), "+OK\r\n");
    assert!(c.client.close_after_reply);
}

#[test]
fn reply_modes_and_no_evict() {
    let mut c = TestClient::new();
    c.run(&["CLIENT", "REPLY", "OFF"]);
    assert_eq!(c.client.reply_mode, ReplyMode::Off);
    c.run(&["CLIENT", "REPLY", "SKIP"]);
    assert_eq!(c.client.reply_mode, ReplyMode::Off);
    assert_eq!(c.wire(&["CLIENT", "REPLY", "ON"]), "+OK\r\n");
    c.run(&["CLIENT", "REPLY", "SKIP"]);
    assert_eq!(c.client.reply_mode, ReplyMode::SkipNext);
    c.expect(&[
        (&["CLIENT", "REPLY", "maybe"], "-ERR syntax error\r\n"),
        (&["CLIENT", "NO-EVICT", "on"], "+OK\r\n"),
        (&["CLIENT", "NO-EVICT", "x"], "-ERR syntax error\r\n"),
    ]);
    assert!(c.client.no_evict);
    assert!(c.wire(&["CLIENT", "HELP"]).starts_with("*48\r\n+CLIENT <subcommand>"));
}

#[test]
fn pause_holds_back_what_it_covers() {
    use crate::pause::PauseKind;
    let mut c = TestClient::new();
    c.expect(&[
        (&["CLIENT", "PAUSE", "-1"], "-ERR timeout is negative\r\n"),
        (&["CLIENT", "PAUSE", "1.5"], "-ERR timeout is not an integer or out of range\r\n"),
        (&["CLIENT", "PAUSE", "10", "reads"], "-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n"),
        (&["SET", "k", "v"], "+OK\r\n"),
        (&["CLIENT", "PAUSE", "100000", "WRITE"], "+OK\r\n"),
        (&["GET", "k"], "$1\r\nv\r\n"),
    ]);
    // A write, a may-replicate command and EXEC of a write are held (and run nothing).
    for cmd in [&["SET", "k", "w"][..], &["PUBLISH", "ch", "m"]] {
        c.run(cmd);
        assert_eq!(c.client.postponed, Some(PauseKind::Write), "{cmd:?}");
    }
    assert_eq!(c.wire(&["GET", "k"]), "$1\r\nv\r\n");
    assert_eq!(c.client.postponed, None);
    // Errors found first are answered at once.
    assert_eq!(c.wire(&["SET", "k"]), "-ERR wrong number of arguments for 'set' command\r\n");
    c.run(&["MULTI"]);
    c.run(&["SET", "k", "w"]);
    assert_eq!(c.client.postponed, Some(PauseKind::Write), "queueing a write waits too");
    c.run(&["DISCARD"]);
    c.expect(&[(&["CLIENT", "PAUSE", "100000", "ALL"], "+OK\r\n")]);
    c.run(&["PING"]);
    assert_eq!(c.client.postponed, Some(PauseKind::All));
    c.shared.pause.unpause(crate::pause::Purpose::ClientCommand, 0);
    c.expect(&[(&["SET", "k", "w"], "+OK\r\n"), (&["GET", "k"], "$1\r\nw\r\n")]);
}
