//! What a user watches a server with: SLOWLOG and INFO commandstats, compared with real
//! Redis 7.0 on the same command sequence (everything but ids, times, durations and ports),
//! plus the slow log's threshold and length settings. Every wait is bounded.

mod common;

use common::{encode_command, on_path, text, RawClient, ServerProcess};
use slotbox::protocol::Frame;
use slotbox::Server;

/// Send `cmd` to both and return both replies.
fn both(r: &mut RawClient, s: &mut RawClient, cmd: &[&str]) -> (Frame, Frame) {
    (r.call(cmd), s.call(cmd))
}

/// A SLOWLOG GET reply without what differs between two servers by nature: per entry, the
/// arguments and the client name.
fn entries(f: Frame) -> Vec<(Vec<Frame>, Frame)> {
    let Frame::Array(entries) = f else { panic!("SLOWLOG GET: {f:?}") };
    entries
        .into_iter()
        .map(|e| {
            let Frame::Array(fields) = e else { panic!("entry: {e:?}") };
            assert_eq!(fields.len(), 6, "id, time, usec, args, addr, name");
            assert!(matches!(fields[0], Frame::Integer(_)) && matches!(fields[2], Frame::Integer(_)));
            let Frame::Array(args) = fields[3].clone() else { panic!("args: {:?}", fields[3]) };
            (args, fields[5].clone())
        })
        .collect()
}

fn need_redis() -> bool {
    if !on_path("redis-server") {
        eprintln!("redis-server not on PATH: skipped");
        return false;
    }
    true
}

/// Real redis-server and an embedded slotbox, a connection to each (None, and a note, when
/// redis-server is not installed; CI installs it).
fn pair() -> Option<(ServerProcess, Server, RawClient, RawClient)> {
    if !need_redis() {
        return None;
    }
    let redis = ServerProcess::redis();
    let slotbox = Server::start().unwrap();
    let (r, s) = (RawClient::connect(redis.addr()), RawClient::connect(slotbox.addr()));
    Some((redis, slotbox, r, s))
}

/// Send each command to both; every reply must be the same.
fn same(r: &mut RawClient, s: &mut RawClient, cmds: &[&[&str]]) {
    for cmd in cmds {
        let (a, b) = both(r, s, cmd);
        assert_eq!(b, a, "{cmd:?}");
    }
}

#[test]
fn slowlog_matches_redis() {
    let Some((_redis, _slotbox, mut r, mut s)) = pair() else { return };
    same(
        &mut r,
        &mut s,
        &[
            // Off until the threshold is set to 0 below: with the 10 ms default, a command
            // that a loaded machine preempts for 10 ms would be logged by one server only.
            &["CONFIG", "SET", "slowlog-log-slower-than", "-1"][..],
            &["SLOWLOG", "HELP"],
            &["SLOWLOG", "GET", "x"],
            &["SLOWLOG", "GET", "-2"],
            &["SLOWLOG", "LEN", "1"],
            &["SLOWLOG", "NOPE"],
            &["SLOWLOG", "RESET"],
            &["SLOWLOG", "LEN"],
        ],
    );
    let long = "v".repeat(200);
    let members: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
    let mut sadd = vec!["SADD", "s"];
    sadd.extend(members.iter().map(String::as_str));
    same(
        &mut r,
        &mut s,
        &[
            &["CONFIG", "SET", "slowlog-log-slower-than", "0"][..],
            &["CLIENT", "SETNAME", "watcher"],
            &["SET", "k", &long],
            &sadd,
            &["AUTH", "secret"],
            &["CONFIG", "SET", "masterauth", "hidden"],
            &["GET", "k"],
        ],
    );
    let (a, b) = both(&mut r, &mut s, &["SLOWLOG", "GET", "-1"]);
    assert_eq!(entries(b), entries(a), "the slow log as Redis keeps it");
    let (a, b) = both(&mut r, &mut s, &["SLOWLOG", "LEN"]);
    assert_eq!(b, a);
}

/// `cmdstat_<name>:calls=..,rejected_calls=..,failed_calls=..` lines (durations differ).
fn counts(info: &Frame) -> Vec<String> {
    let mut lines: Vec<String> = text(info)
        .lines()
        .filter(|l| l.starts_with("cmdstat_"))
        .map(|l| {
            let (name, fields) = l.split_once(':').unwrap();
            let kept: Vec<&str> = fields.split(',').filter(|f| !f.starts_with("usec")).collect();
            format!("{name}:{}", kept.join(","))
        })
        .collect();
    lines.sort();
    lines
}

#[test]
fn commandstats_count_calls_rejections_and_failures_as_redis() {
    let Some((_redis, _slotbox, mut r, mut s)) = pair() else { return };
    same(
        &mut r,
        &mut s,
        &[
            &["CONFIG", "RESETSTAT"][..],
            &["SET", "a", "1"],
            &["GET", "a"],
            &["GET"],
            &["LPUSH", "a", "x"],
            &["INCR", "a"],
            &["SLOWLOG", "LEN", "1"],
            &["CLIENT", "NOPE"],
            &["NOSUCHCOMMAND"],
            &["MULTI"],
            &["GET", "a", "b"],
            &["EXEC"],
        ],
    );
    let (a, b) = both(&mut r, &mut s, &["INFO", "commandstats"]);
    assert_eq!(counts(&b), counts(&a));
    assert!(!counts(&b).is_empty());
    // Error replies by code, and their total (inside EXEC's reply too).
    same(&mut r, &mut s, &[&["MULTI"]]);
    same(&mut r, &mut s, &[&["LPUSH", "a", "x"], &["EXEC"]]);
    let errors = |f: &Frame| -> Vec<String> {
        text(f)
            .lines()
            .filter(|l| l.starts_with("errorstat_") || l.starts_with("total_error_replies"))
            .map(String::from)
            .collect()
    };
    let (a, b) = both(&mut r, &mut s, &["INFO", "everything"]);
    assert_eq!(errors(&b), errors(&a));
    assert!(errors(&b).iter().any(|l| l == "errorstat_WRONGTYPE:count=2"), "{:?}", errors(&b));
}

#[test]
fn slowlog_threshold_and_length_are_honoured() {
    let server = Server::start().unwrap();
    let mut c = RawClient::connect(server.addr());
    let len = |c: &mut RawClient| c.call(&["SLOWLOG", "LEN"]);
    assert_eq!(len(&mut c), Frame::Integer(0), "10 ms default: nothing this fast is slow");
    assert_eq!(c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]), Frame::ok());
    assert_eq!(c.call(&["CONFIG", "SET", "slowlog-max-len", "3"]), Frame::ok());
    for i in 0..10 {
        c.call(&["SET", &format!("k{i}"), "v"]);
    }
    assert_eq!(len(&mut c), Frame::Integer(3), "only the newest 3 kept");
    let newest = entries(c.call(&["SLOWLOG", "GET", "1"]));
    assert_eq!(newest[0].0[0], Frame::bulk("SLOWLOG"), "the newest first: the LEN just sent");
    assert_eq!(c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]), Frame::ok());
    assert_eq!(c.call(&["SLOWLOG", "RESET"]), Frame::ok());
    c.call(&["SET", "x", "y"]);
    assert_eq!(len(&mut c), Frame::Integer(0), "negative: the log is off");
}

/// What a monitor saw, without the time and the client's port: `"SET" "a"`.
fn monitored(m: &mut RawClient, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| match m.read_reply().0 {
            Frame::Simple(line) => {
                let line = String::from_utf8_lossy(&line).into_owned();
                line.split_once("] ").map(|(_, cmd)| cmd.to_string()).unwrap_or(line)
            }
            other => panic!("monitor line: {other:?}"),
        })
        .collect()
}

#[test]
fn monitor_shows_commands_like_redis() {
    if !need_redis() {
        return;
    }
    let redis = ServerProcess::redis();
    let slotbox = Server::start().unwrap();
    let mut seen = Vec::new();
    for addr in [redis.addr(), slotbox.addr()] {
        let mut m = RawClient::connect(addr);
        assert_eq!(m.call(&["MONITOR"]), Frame::ok());
        let mut c = RawClient::connect(addr);
        c.send_raw(&common::encode_command(&[&b"SET"[..], b"a\nb", b"\x00\"\\\xff"]));
        c.read_reply();
        for cmd in [
            &["AUTH", "x"][..],
            &["CONFIG", "GET", "hz"],
            &["MULTI"],
            &["GET", "a"],
            &["EXEC"],
            &["BLPOP", "q", "0.01"],
            &["CLIENT", "SETNAME", "x"],
            &["PING"],
        ] {
            c.call(cmd);
        }
        let mut lines = monitored(&mut m, 8);
        // The monitor itself: no keyspace, other commands shown too.
        lines.push(text(&m.call(&["GET", "a"])));
        assert_eq!(m.call(&["PING"]), Frame::Simple("PONG".into()));
        lines.extend(monitored(&mut m, 1));
        seen.push(lines);
    }
    assert_eq!(seen[1], seen[0]);
    assert_eq!(seen[1][0], r#""SET" "a\nb" "\x00\"\\\xff""#);
    assert_eq!(seen[1][1], r#""AUTH" "(redacted)""#);
}

/// MEMORY USAGE: the same replies as Redis for missing keys and bad options, and a size that
/// follows the value's (what `redis-cli --memkeys` ranks keys by).
#[test]
fn memory_usage_answers_like_redis_and_grows_with_the_value() {
    let Some((_redis, _slotbox, mut r, mut s)) = pair() else { return };
    same(
        &mut r,
        &mut s,
        &[
            &["SET", "k", "v"][..],
            &["MEMORY", "USAGE", "missing"],
            &["MEMORY", "USAGE", "k", "SAMPLES"],
            &["MEMORY", "USAGE", "k", "SAMPLES", "x"],
            &["MEMORY", "USAGE", "k", "SAMPLES", "-1"],
            &["MEMORY", "USAGE", "k", "FOO", "1"],
            &["MEMORY", "USAGE"],
        ],
    );
    let size = |c: &mut RawClient, key: &str| match c.call(&["MEMORY", "USAGE", key, "SAMPLES", "0"]) {
        Frame::Integer(n) => n,
        other => panic!("MEMORY USAGE {key}: {other:?}"),
    };
    s.call(&["SET", "big", &"x".repeat(10_000)]);
    let (small, big) = (size(&mut s, "k"), size(&mut s, "big"));
    assert!(small > 0 && big >= 10_000 && big > small, "k: {small} bytes, big: {big} bytes");
    for i in 0..1000 {
        s.call(&["RPUSH", "list", &format!("element-{i}")]);
    }
    assert!(size(&mut s, "list") > 10_000, "a list of 1000 elements");
}

/// CLIENT LIST shows each connection's state with Redis's fields: a subscriber (P, sub /
/// psub counts), a transaction (x, multi = commands queued), a blocked pop (b), a monitor (O).
#[test]
fn client_list_shows_subscribers_transactions_blocked_and_monitors() {
    let server = Server::start().unwrap();
    let line_of = |list: &str, id: i64| -> String {
        list.lines().find(|l| l.starts_with(&format!("id={id} "))).expect("client in CLIENT LIST").to_string()
    };
    let id = |c: &mut RawClient| match c.call(&["CLIENT", "ID"]) {
        Frame::Integer(n) => n,
        other => panic!("CLIENT ID: {other:?}"),
    };
    let mut sub = RawClient::connect(server.addr());
    let sub_id = id(&mut sub);
    sub.send_raw(&common::encode_command(&["SUBSCRIBE", "a", "b"]));
    sub.read_reply();
    sub.read_reply();
    assert!(matches!(sub.call(&["PSUBSCRIBE", "p*"]), Frame::Array(_)));
    let mut tx = RawClient::connect(server.addr());
    let tx_id = id(&mut tx);
    tx.call(&["MULTI"]);
    tx.call(&["SET", "x", "1"]);
    tx.call(&["GET", "x"]);
    let mut blocked = RawClient::connect(server.addr());
    let blocked_id = id(&mut blocked);
    blocked.send_raw(&common::encode_command(&["BLPOP", "q", "0"]));
    let mut mon = RawClient::connect(server.addr());
    let mon_id = id(&mut mon);
    mon.call(&["MONITOR"]);
    let mut admin = RawClient::connect(server.addr());
    let mut list = String::new();
    let settled = common::wait_for(std::time::Duration::from_secs(5), || {
        list = text(&admin.call(&["CLIENT", "LIST"]));
        line_of(&list, blocked_id).contains("flags=b ")
    });
    assert!(settled, "the BLPOP never showed as blocked:\n{list}");
    assert!(line_of(&list, sub_id).contains(" flags=P db=0 sub=2 psub=1 ssub=0 multi=-1 "), "{list}");
    let tx_line = line_of(&list, tx_id);
    assert!(tx_line.contains(" flags=x db=0 sub=0 psub=0 ssub=0 multi=2 "), "{list}");
    assert!(tx_line.contains(" cmd=get "), "a queued command is the last command, as in Redis: {list}");
    assert!(line_of(&list, mon_id).contains(" flags=O "), "{list}");
    assert!(line_of(&list, id(&mut admin)).contains(" flags=N "), "{list}");
}

/// The items of an array reply.
fn items_of(f: &Frame) -> &[Frame] {
    match f {
        Frame::Array(v) => v,
        other => panic!("an array: {other:?}"),
    }
}

/// LATENCY: off by default; with `latency-monitor-threshold 1` a command taking a
/// millisecond or more (KEYS over many keys) is sampled under `command`, per second, and
/// RESET drops the series.
#[test]
fn latency_monitor_samples_slow_commands() {
    let server = Server::start().unwrap();
    let mut c = RawClient::connect(server.addr());
    // Enough keys that KEYS takes over a millisecond even in a release build, few enough
    // that a debug build on a loaded machine answers well within the client's timeout; set by
    // 20 pipelined MSETs of 1000, so no single command keeps the server silent for long.
    let mut batch = Vec::new();
    for b in 0..20 {
        let mut mset = vec!["MSET".to_string()];
        for i in b * 1000..(b + 1) * 1000 {
            mset.push(format!("key:{i}"));
            mset.push("v".into());
        }
        batch.extend(encode_command(&mset));
    }
    c.send_raw(&batch);
    for _ in 0..20 {
        assert_eq!(c.read_reply().0, Frame::ok());
    }
    assert!(matches!(c.call(&["KEYS", "*"]), Frame::Array(k) if k.len() == 20_000));
    assert_eq!(c.call(&["LATENCY", "LATEST"]), Frame::Array(vec![]), "off while the threshold is 0");
    assert_eq!(c.call(&["CONFIG", "SET", "latency-monitor-threshold", "1"]), Frame::ok());
    assert!(matches!(c.call(&["KEYS", "*"]), Frame::Array(k) if k.len() == 20_000));
    // With a 1 ms threshold, a loaded machine may add samples of its own (any command it
    // preempts for a millisecond, under `command` or `fast-command`): look for KEYS's event
    // by name, and count samples per second rather than expect exactly one.
    let Frame::Array(latest) = c.call(&["LATENCY", "LATEST"]) else { panic!("LATEST") };
    let command = latest
        .iter()
        .find_map(|e| match e {
            Frame::Array(f) if f[0] == Frame::bulk("command") => Some(f.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no `command` event: {latest:?}"));
    assert!(matches!((&command[2], &command[3]), (Frame::Integer(ms), Frame::Integer(max)) if *ms >= 1 && max >= ms));
    let Frame::Array(history) = c.call(&["LATENCY", "HISTORY", "command"]) else { panic!("HISTORY") };
    let seconds: Vec<&Frame> = history.iter().map(|s| &items_of(s)[0]).collect();
    let mut distinct = seconds.clone();
    distinct.dedup();
    assert!(!history.is_empty() && distinct.len() == seconds.len(), "one sample per second: {history:?}");
    assert_eq!(c.call(&["LATENCY", "HISTORY", "nosuchevent"]), Frame::Array(vec![]));
    // Off again (threshold 0) so that nothing is sampled between counting and RESET.
    assert_eq!(c.call(&["CONFIG", "SET", "latency-monitor-threshold", "0"]), Frame::ok());
    let Frame::Array(latest) = c.call(&["LATENCY", "LATEST"]) else { panic!("LATEST") };
    assert_eq!(c.call(&["LATENCY", "RESET"]), Frame::Integer(latest.len() as i64));
    assert_eq!(c.call(&["LATENCY", "LATEST"]), Frame::Array(vec![]));
    assert_eq!(
        c.call(&["CONFIG", "SET", "latency-monitor-threshold", "-1"]),
        Frame::Error(
            "ERR CONFIG SET failed (possibly related to argument 'latency-monitor-threshold') - argument must be between 0 and 9223372036854775807 inclusive"
                .into()
        )
    );
}
