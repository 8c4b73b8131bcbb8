//! CONFIG GET / SET / RESETSTAT / REWRITE / HELP against a test client: replies byte for byte
//! as Redis 7.0 gives them (checked against `redis-server` 7.0.15).

use crate::commands::connection::testing::TestClient;
use crate::config::Config;
use slotbox_protocol::Frame;
use std::sync::atomic::Ordering;

/// A CONFIG GET reply as its words (names and values, in order).
fn words(c: &mut TestClient, args: &[&str]) -> Vec<String> {
    let text = |f: &Frame| match f {
        Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("a bulk string expected, got {other:?}"),
    };
    match c.run(args) {
        Frame::Map(kv) => kv.iter().flat_map(|(k, v)| [text(k), text(v)]).collect(),
        other => panic!("a map expected, got {other:?}"),
    }
}

#[test]
fn get_maxclients() {
    let mut c = TestClient::new();
    assert_eq!(c.wire(&["CONFIG", "GET", "maxclients"]), "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n");
    assert_eq!(c.wire(&["CONFIG", "GET", "MAXCLIENTS", "maxc*"]), "*2\r\n$10\r\nMAXCLIENTS\r\n$5\r\n10000\r\n");
    assert_eq!(c.wire(&["CONFIG", "GET", "nosuch"]), "*0\r\n");
    let ro = c.wire(&["CONFIG", "GET", "*read-only"]);
    assert!(ro.starts_with("*4\r\n$17\r\nreplica-read-only\r\n$3\r\nyes\r\n$15\r\nslave-read-only"), "{ro}");
    c.run(&["HELLO", "3"]);
    assert_eq!(c.wire(&["CONFIG", "GET", "hz"]), "%1\r\n$2\r\nhz\r\n$2\r\n10\r\n");
}

#[test]
fn get_several_patterns_without_duplicates_or_hidden() {
    let mut c = TestClient::new();
    let reply = words(&mut c, &["CONFIG", "GET", "maxmemory", "maxmemory*", "bind", "*of"]);
    let names: Vec<String> = reply.chunks(2).map(|kv| kv[0].clone()).collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "{names:?}");
    for n in ["maxmemory", "maxmemory-samples", "maxmemory-clients", "bind", "slaveof", "replicaof"] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }
    let all = words(&mut c, &["CONFIG", "GET", "*"]);
    assert!(!all.iter().any(|k| k == "key-load-delay" || k == "threads"), "hidden from patterns");
    assert_eq!(words(&mut c, &["CONFIG", "GET", "threads"]), vec!["threads", "2"], "slotbox's name of io-threads");
    assert_eq!(words(&mut c, &["CONFIG", "GET", "key-load-delay"]), vec!["key-load-delay", "0"]);
}

#[test]
fn set_then_get() {
    let mut c = TestClient::new();
    assert_eq!(c.wire(&["CONFIG", "SET", "maxclients", "77", "hz", "20"]), "+OK\r\n");
    assert_eq!(c.wire(&["CONFIG", "GET", "maxclients"]), "*2\r\n$10\r\nmaxclients\r\n$2\r\n77\r\n");
    assert_eq!(c.shared.config.read().hz, 20);
    assert_eq!(c.wire(&["CONFIG", "SET", "save", "3600 1 300 100"]), "+OK\r\n");
    assert_eq!(c.shared.config.read().save, "3600 1 300 100");
    assert_eq!(c.wire(&["CONFIG", "SET", "requirepass", "a b"]), "+OK\r\n");
    assert_eq!(c.shared.config.read().requirepass.as_deref(), Some(&b"a b"[..]));
    assert_eq!(c.wire(&["CONFIG", "SET", "requirepass", ""]), "+OK\r\n");
    assert_eq!(c.shared.config.read().requirepass, None);
    assert_eq!(c.wire(&["CONFIG", "SET", "hz", "0"]), "+OK\r\n");
    assert_eq!(words(&mut c, &["CONFIG", "GET", "hz"]), vec!["hz", "1"], "hz is kept within 1..=500");
}

/// The directives the Redis suite's units set before their tests, with the values they use.
#[test]
fn encoding_directives_are_known() {
    let mut c = TestClient::new();
    for (name, value) in [
        ("zset-max-ziplist-entries", "128"),
        ("zset-max-ziplist-value", "64"),
        ("hash-max-ziplist-value", "1000000000"),
        ("hash-max-ziplist-entries", "0"),
        ("list-max-ziplist-size", "-1"),
        ("list-compress-depth", "2"),
        ("set-max-intset-entries", "1"),
        ("stream-node-max-entries", "100"),
        ("activerehashing", "no"),
        ("lazyfree-lazy-user-del", "yes"),
    ] {
        assert_eq!(c.wire(&["CONFIG", "SET", name, value]), "+OK\r\n", "{name}");
        assert_eq!(words(&mut c, &["CONFIG", "GET", name]), vec![name, value]);
    }
    assert_eq!(
        words(&mut c, &["CONFIG", "GET", "zset-max-listpack-entries"]),
        vec!["zset-max-listpack-entries", "128"]
    );
    assert_eq!(words(&mut c, &["CONFIG", "GET", "list-max-listpack-size"]), vec!["list-max-listpack-size", "-1"]);
}

#[test]
fn set_errors_change_nothing() {
    let mut c = TestClient::new();
    let wire = c.wire(&["CONFIG", "SET", "nosuch", "1"]);
    assert_eq!(wire, "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n");
    assert_eq!(
        c.wire(&["CONFIG", "SET", "MAXCLIENTS", "abc"]),
        "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer\r\n"
    );
    assert_eq!(
        c.wire(&["CONFIG", "SET", "hz", "30", "maxclients", "1", "MAXCLIENTS", "2"]),
        "-ERR CONFIG SET failed (possibly related to argument 'MAXCLIENTS') - duplicate parameter\r\n"
    );
    assert_eq!(c.wire(&["CONFIG", "SET", "slave-read-only", "yes", "replica-read-only", "yes"]), "+OK\r\n");
    assert_eq!(
        c.wire(&["CONFIG", "SET", "daemonize", "no"]),
        "-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config\r\n"
    );
    assert_eq!(
        c.wire(&["CONFIG", "SET", "dir", "/tmp"]),
        "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n"
    );
    assert_eq!(
        c.wire(&["CONFIG", "SET", "hz", "30", "appendonly", "maybe"]).split(" - ").nth(1),
        Some("argument must be 'yes' or 'no'\r\n")
    );
    let wire = c.wire(&["CONFIG", "SET", "maxmemory", "10000001", "maxmemory-clients", "200%", "hz", "3"]);
    assert!(wire.contains("'maxmemory-clients') - percentage argument must be less or equal to 100"), "{wire}");
    assert_eq!((c.shared.config.read().hz, c.shared.config.read().maxmemory), (10, 0));
    assert_eq!(c.wire(&["CONFIG", "SET", "hz", "1", "x"]), "-ERR syntax error\r\n");
    assert_eq!(
        c.wire(&["CONFIG", "SET", "port", "70000"]),
        "-ERR CONFIG SET failed (possibly related to argument 'port') - argument must be between 0 and 65535 inclusive\r\n"
    );
    let wire = c.wire(&["CONFIG", "SET", "shutdown-on-sigint", "save nosave"]);
    assert!(wire.ends_with("shutdown options SAVE and NOSAVE can't be used simultaneously\r\n"), "{wire}");
}

#[test]
fn protected_configs_where_allowed() {
    let dir = std::env::temp_dir();
    let config = Config { enable_protected_configs: "yes".into(), ..Config::ephemeral() };
    let mut c = TestClient::with_config(config);
    assert_eq!(c.wire(&["CONFIG", "SET", "dir", &dir.display().to_string()]), "+OK\r\n");
    let canonical = std::fs::canonicalize(&dir).unwrap().display().to_string();
    assert_eq!(words(&mut c, &["CONFIG", "GET", "dir"]), vec!["dir".to_string(), canonical]);
    let wire = c.wire(&["CONFIG", "SET", "dbfilename", "a/b.rdb"]);
    assert!(wire.ends_with("dbfilename can't be a path, just a filename\r\n"), "{wire}");
    let wire = c.wire(&["CONFIG", "SET", "dir", "/no/such/dir"]);
    assert!(wire.ends_with("'dir') - No such file or directory\r\n"), "{wire}");
}

#[test]
fn resetstat_rewrite_help() {
    let mut c = TestClient::new();
    c.shared.stats.total_commands_processed.store(99, Ordering::Relaxed);
    assert_eq!(c.wire(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    assert!(c.shared.stats.total_commands_processed.load(Ordering::Relaxed) <= 1);
    assert_eq!(c.wire(&["CONFIG", "REWRITE"]), "-ERR The server is running without a config file\r\n");
    assert!(c.wire(&["CONFIG", "HELP"]).starts_with("*11\r\n+CONFIG <subcommand>"));
}

#[test]
fn rewrite_writes_the_file_in_place() {
    let path = std::env::temp_dir().join(format!("slotbox-rewrite-cmd-{}.conf", std::process::id()));
    std::fs::write(&path, "# keep me\nmaxclients 100\nzset-max-ziplist-entries 64\n").unwrap();
    let mut config = Config::ephemeral();
    config.load_str(&std::fs::read_to_string(&path).unwrap(), "t").unwrap();
    config.config_file = Some(path.clone());
    let mut c = TestClient::with_config(config);
    assert_eq!(c.wire(&["CONFIG", "SET", "maxclients", "200", "zset-max-listpack-entries", "32"]), "+OK\r\n");
    assert_eq!(c.wire(&["CONFIG", "REWRITE"]), "+OK\r\n");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# keep me\nmaxclients 200\nzset-max-listpack-entries 32\n"), "{text}");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn replicaof_shows_the_master_followed() {
    let mut c = TestClient::new();
    assert_eq!(c.wire(&["REPLICAOF", "127.0.0.1", "1"]), "+OK\r\n");
    assert_eq!(words(&mut c, &["CONFIG", "GET", "slaveof"]), vec!["slaveof", "127.0.0.1 1"]);
    assert_eq!(c.wire(&["REPLICAOF", "NO", "ONE"]), "+OK\r\n");
    assert_eq!(words(&mut c, &["CONFIG", "GET", "replicaof"]), vec!["replicaof", ""]);
}
