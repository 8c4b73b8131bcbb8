//! DEBUG replies, checked against what real redis-server 7.0.15 answers for the same requests.

use super::super::connection::testing::TestClient;
use super::{sleep_micros, NOT_ALLOWED};
use crate::client::ClientInfo;
use crate::commands::session::ClientState;
use crate::config::Config;
use crate::store::{Entry, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

const ZEROS: &str = "+0000000000000000000000000000000000000000\r\n";

fn status(hex: &str) -> String {
    format!("+{hex}\r\n")
}

#[test]
fn digest_of_empty_and_of_data_equals_redis() {
    let mut c = TestClient::new();
    assert_eq!(c.wire(&["DEBUG", "DIGEST"]), ZEROS);
    c.run(&["SET", "s", "hello"]);
    c.run(&["RPUSH", "l", "a", "b", "c"]);
    c.run(&["HSET", "h", "f1", "v1", "f2", "v2"]);
    c.run(&["SET", "e", "v", "EX", "100"]);
    // redis-server 7.0.15 after the same four commands.
    assert_eq!(c.wire(&["debug", "digest"]), status("dda0802f4756343c1ea9407a4d9bb13c583552cd"));
    c.run(&["FLUSHALL"]);
    assert_eq!(c.wire(&["DEBUG", "DIGEST"]), ZEROS);
}

#[test]
fn digest_value_per_key_and_missing_keys() {
    let mut c = TestClient::new();
    c.run(&["SET", "s", "hello"]);
    c.run(&["ZADD", "z", "1.5", "a", "2", "b", "-inf", "c", "0.1", "d"]);
    c.run(&["SADD", "si", "3", "1", "2"]);
    let want = [
        "*4\r\n",
        &status("36b23a1456b2dce2c3ed252c456761301dba8060"),
        &status("62bfb771f8c711d0b763a389e9495b93e8f0bfb5"),
        ZEROS,
        &status("2a462a3f51a1db89738ebbeef0c47ce1bbc85246"),
    ]
    .concat();
    assert_eq!(c.wire(&["DEBUG", "DIGEST-VALUE", "s", "z", "nokey", "si"]), want);
    assert_eq!(c.wire(&["DEBUG", "digest-value"]), "*0\r\n");
}

#[test]
fn expired_keys_not_yet_reclaimed_count_as_in_redis() {
    let mut c = TestClient::new();
    // Expired long ago and never looked up since (stored as loading or a replica would).
    let mut slots = [slotbox_protocol::key_hash_slot(b"gone")];
    c.shared.keyspace.db(0).lock_slots(&mut slots).insert(b"gone", Entry::with_expiry(Value::string(b"v"), 1));
    assert_ne!(c.wire(&["DEBUG", "DIGEST"]), ZEROS);
    assert_ne!(c.wire(&["DEBUG", "DIGEST-VALUE", "gone"]), format!("*1\r\n{ZEROS}"));
    assert!(c.wire(&["DEBUG", "OBJECT", "gone"]).starts_with("+Value at:0x"));
}

#[test]
fn errors_as_redis() {
    let mut c = TestClient::new();
    c.expect(&[
        (&["DEBUG"], "-ERR wrong number of arguments for 'debug' command\r\n"),
        (
            &["DEBUG", "foo", "bar"],
            "-ERR unknown subcommand or wrong number of arguments for 'foo'. Try DEBUG HELP.\r\n",
        ),
        (&["DeBuG", "Foo"], "-ERR unknown subcommand or wrong number of arguments for 'Foo'. Try DEBUG HELP.\r\n"),
        (
            &["DEBUG", "help", "x"],
            "-ERR unknown subcommand or wrong number of arguments for 'help'. Try DEBUG HELP.\r\n",
        ),
        (
            &["DEBUG", "digest", "x"],
            "-ERR unknown subcommand or wrong number of arguments for 'digest'. Try DEBUG HELP.\r\n",
        ),
        (
            &["DEBUG", "object"],
            "-ERR unknown subcommand or wrong number of arguments for 'object'. Try DEBUG HELP.\r\n",
        ),
        (&["DEBUG", "object", "nokey"], "-ERR no such key\r\n"),
        (
            &["DEBUG", "set-active-expire"],
            "-ERR unknown subcommand or wrong number of arguments for 'set-active-expire'. Try DEBUG HELP.\r\n",
        ),
    ]);
}

#[test]
fn help_lists_what_is_implemented() {
    let mut c = TestClient::new();
    let help = c.wire(&["DEBUG", "HELP"]);
    assert!(help.starts_with("*18\r\n+DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+DIGEST\r\n"));
    assert!(help.ends_with("+HELP\r\n+    Prints this help.\r\n"));
}

#[test]
fn refused_unless_enabled() {
    let mut off = TestClient::with_config(Config::default());
    let refused = format!("-{NOT_ALLOWED}\r\n");
    assert!(
        refused.starts_with("-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\"")
    );
    assert_eq!(off.wire(&["DEBUG", "DIGEST"]), refused);
    // Refused at queueing time: the transaction is discarded.
    off.expect(&[
        (&["MULTI"], "+OK\r\n"),
        (&["DEBUG", "DIGEST"], &refused),
        (&["EXEC"], "-EXECABORT Transaction discarded because of previous errors.\r\n"),
    ]);
    // Checked before authentication, as in Redis.
    let mut locked = TestClient::with_config(Config { requirepass: Some(b"pw".to_vec()), ..Config::default() });
    assert_eq!(locked.wire(&["DEBUG", "DIGEST"]), refused);

    let local = Config { enable_debug_command: "local".into(), ..Config::ephemeral() };
    let mut here = TestClient::with_config(local);
    assert_eq!(here.wire(&["DEBUG", "DIGEST"]), ZEROS);
    let addr = "10.1.2.3:5000".parse().expect("addr");
    let info = Arc::new(ClientInfo::new(99, addr, "10.0.0.1:6379".parse().expect("addr"), -1, 0));
    let mut remote = TestClient { shared: here.shared.clone(), client: ClientState::new(info, false) };
    assert_eq!(remote.wire(&["DEBUG", "DIGEST"]), refused);
    assert_eq!(
        here.wire(&["CONFIG", "GET", "enable-debug-command"]),
        "*2\r\n$20\r\nenable-debug-command\r\n$5\r\nlocal\r\n"
    );
    assert_eq!(
        here.wire(&["CONFIG", "SET", "enable-debug-command", "yes"]),
        "-ERR CONFIG SET failed (possibly related to argument 'enable-debug-command') - can't set immutable config\r\n"
    );
}

#[test]
fn set_active_expire_switches_the_cycle() {
    let mut c = TestClient::new();
    assert_eq!(c.wire(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), "+OK\r\n");
    assert!(!c.shared.keyspace.active_expire.load(Ordering::Relaxed));
    assert_eq!(c.wire(&["DEBUG", "set-active-expire", "1"]), "+OK\r\n");
    assert!(c.shared.keyspace.active_expire.load(Ordering::Relaxed));
    // atoi: garbage is 0, leading digits count.
    assert_eq!(c.wire(&["DEBUG", "set-active-expire", "abc"]), "+OK\r\n");
    assert!(!c.shared.keyspace.active_expire.load(Ordering::Relaxed));
    assert_eq!(c.wire(&["DEBUG", "set-active-expire", "2x"]), "+OK\r\n");
    assert!(c.shared.keyspace.active_expire.load(Ordering::Relaxed));
}

#[test]
fn object_fields() {
    let mut c = TestClient::new();
    c.run(&["SET", "s", "hello"]);
    let s = c.wire(&["DEBUG", "OBJECT", "s"]);
    assert!(s.starts_with("+Value at:0x"), "{s}");
    assert!(s.contains(" refcount:1 encoding:embstr serializedlength:"), "{s}");
    assert!(s.ends_with(" lru_seconds_idle:0\r\n"), "{s}");
    // A shared small integer, as OBJECT REFCOUNT says.
    c.run(&["SET", "n", "42"]);
    assert!(c.wire(&["DEBUG", "OBJECT", "n"]).contains(" refcount:2147483647 encoding:int "));
    // INCR modifies the value in place: same address (Redis's "INCR can modify objects in-place").
    c.run(&["SET", "big", "20000"]);
    let at = |c: &mut TestClient| c.wire(&["DEBUG", "OBJECT", "big"]).split(' ').nth(1).map(str::to_string);
    let before = at(&mut c);
    c.run(&["INCR", "big"]);
    assert_eq!(at(&mut c), before);
    c.run(&["RPUSH", "l", "a", "b", "c"]);
    let l = c.wire(&["DEBUG", "OBJECT", "l"]);
    assert!(l.contains(" encoding:quicklist "), "{l}");
    assert!(l.ends_with(" ql_nodes:1 ql_avg_node:3.00 ql_compressed:0 ql_uncompressed_size:9\r\n"), "{l}");
}

#[test]
fn digest_inside_a_transaction() {
    let mut c = TestClient::new();
    c.run(&["SET", "s", "hello"]);
    c.expect(&[
        (&["MULTI"], "+OK\r\n"),
        (&["DEBUG", "DIGEST-VALUE", "s"], "+QUEUED\r\n"),
        (&["DEL", "s"], "+QUEUED\r\n"),
        (&["DEBUG", "DIGEST"], "+QUEUED\r\n"),
    ]);
    let want = format!("*3\r\n*1\r\n{}:1\r\n{ZEROS}", status("36b23a1456b2dce2c3ed252c456761301dba8060"));
    assert_eq!(c.wire(&["EXEC"]), want);
}

#[test]
fn sleep_reads_seconds_as_strtod_and_holds_the_whole_gate() {
    for (arg, us) in [
        ("0", 0),
        ("0.25", 250_000),
        ("1.5abc", 1_500_000),
        ("abc", 0),
        ("-1", 0),
        ("nan", 0),
        ("inf", 0),
        ("0x10", 16_000_000),
        ("1e-7", 0),
    ] {
        assert_eq!(sleep_micros(arg.as_bytes()), us, "{arg:?}");
    }
    let resolved =
        crate::commands::resolve(&[bytes::Bytes::from_static(b"debug"), bytes::Bytes::from_static(b"sleep")])
            .unwrap_or_else(|_| panic!("DEBUG is registered"));
    assert!(crate::commands::needs_whole_gate(resolved, &[]));
    let mut c = TestClient::new();
    // Debug builds assert the whole gate is held while it sleeps, alone or inside EXEC.
    c.expect(&[
        (&["DEBUG", "SLEEP", "0.01"], "+OK\r\n"),
        (&["debug", "sleep", "0"], "+OK\r\n"),
        (&["DEBUG", "SLEEP"], "-ERR unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG HELP.\r\n"),
        (&["MULTI"], "+OK\r\n"),
        (&["DEBUG", "SLEEP", "0.01"], "+QUEUED\r\n"),
        (&["EXEC"], "*1\r\n+OK\r\n"),
    ]);
}

#[test]
fn partition_takes_seconds_and_refuses_bad_ones() {
    let mut c = TestClient::new();
    let bad = "-ERR DEBUG PARTITION takes a number of seconds from 0 to 3600\r\n";
    c.expect(&[
        (&["DEBUG", "PARTITION", "abc"], bad),
        (&["DEBUG", "PARTITION", "-1"], bad),
        (&["DEBUG", "PARTITION", "3601"], bad),
        (&["DEBUG", "PARTITION", "nan"], bad),
        (
            &["DEBUG", "PARTITION"],
            "-ERR unknown subcommand or wrong number of arguments for 'PARTITION'. Try DEBUG HELP.\r\n",
        ),
        // A zero-second partition is over at once: the node keeps answering.
        (&["DEBUG", "PARTITION", "0"], "+OK\r\n"),
        (&["PING"], "+PONG\r\n"),
    ]);
}
