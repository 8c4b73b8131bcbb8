//! Lua scripting and functions against real `redis-server` 7.0: the same scripts (EVAL,
//! EVALSHA, SCRIPT, FUNCTION, FCALL) sent to both in RESP2 and RESP3 must get byte-identical
//! replies, errors included; then what only slotbox can show alone: a replica receiving a
//! script's effects, a script inside MULTI, a busy script answered with -BUSY and killed.
//!
//! `SLOTBOX_SKIP_DIFFERENTIAL=1` skips the comparison when `redis-server` is not installed.

mod common;

use common::{bulk, encode_command, on_path, show, wait_until, RawClient, ServerProcess};
use slotbox::protocol::Frame;
use std::time::Duration;

/// Requests whose replies must match Redis's exactly, in order, on one connection.
fn script_requests() -> Vec<Vec<&'static str>> {
    let r = |v: &[&'static str]| v.to_vec();
    vec![
        r(&["FLUSHALL"]),
        r(&["SCRIPT", "FLUSH"]),
        r(&["FUNCTION", "FLUSH"]),
        r(&["EVAL", "return 'hello'", "0"]),
        r(&["EVAL", "return {1, 2, {3, 'x'}, redis.status_reply('OK'), 3.99, true, false, nil, 5}", "0"]),
        r(&["EVAL", "return redis.error_reply('MY error')", "0"]),
        r(&["EVAL", "return redis.error_reply('-X y\\r\\n')", "0"]),
        r(&["EVAL", "return {err='plain'}", "0"]),
        r(&["EVAL", "return a", "0"]),
        r(&["EVAL", "a = 1", "0"]),
        r(&["EVAL", "redis.call = 1", "0"]),
        r(&["EVAL", "setmetatable(_G, {})", "0"]),
        r(&["EVAL", "return redis.call('nosuch')", "0"]),
        r(&["EVAL", "return redis.pcall('nosuch')", "0"]),
        r(&["EVAL", "return redis.call('get')", "0"]),
        r(&["EVAL", "return redis.call()", "0"]),
        r(&["EVAL", "return redis.call('set', {}, 1)", "0"]),
        r(&["EVAL", "error('boom')", "0"]),
        r(&["EVAL", "error({err='CODE custom'})", "0"]),
        r(&["EVAL", "return {pcall(function() error({err='ERR x'}) end)}", "0"]),
        r(&["EVAL", "return redis.call('set', KEYS[1], ARGV[1])", "1", "k", "v"]),
        r(&["EVAL", "return redis.call('get', KEYS[1])", "1", "k"]),
        r(&["EVAL", "return redis.call('lpush', KEYS[1], 'x')", "1", "k"]),
        r(&["EVAL", "return redis.pcall('lpush', KEYS[1], 'x')", "1", "k"]),
        r(&["EVAL", "return redis.call('incrbyfloat', 'f', 1.5)", "0"]),
        r(&["EVAL", "return redis.call('hset', 'h', 'a', 1, 'b', 2)", "0"]),
        r(&["EVAL", "return redis.call('hgetall', 'h')", "0"]),
        r(&["EVAL", "redis.setresp(3); return redis.call('hgetall', 'h')", "0"]),
        r(&["EVAL", "redis.setresp(3); return {double=3.5}", "0"]),
        r(&["EVAL", "redis.setresp(3); return redis.call('zscore', 'nokey', 'm')", "0"]),
        r(&["EVAL", "redis.setresp(3); return true", "0"]),
        r(&["EVAL", "return {big_number='123456789012345678901234567890'}", "0"]),
        r(&["EVAL", "return {map={a=1}}", "0"]),
        r(&["EVAL", "return redis.setresp(4)", "0"]),
        r(&["EVAL", "return redis.sha1hex('Pizza & Mandolino')", "0"]),
        r(&["EVAL", "return redis.sha1hex()", "0"]),
        r(&["EVAL", "return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}", "0"]),
        r(&["EVAL", "return 1", "-1"]),
        r(&["EVAL", "return 1", "5", "a"]),
        r(&["EVAL", "return 1", "x"]),
        r(&["EVAL", "return (", "0"]),
        r(&["EVAL", "#!lua flags=no-writes\nreturn redis.call('set', 'x', 1)", "0"]),
        r(&["EVAL", "#!lua flags=bad\nreturn 1", "0"]),
        r(&["EVAL", "#!py\nreturn 1", "0"]),
        r(&["EVAL_RO", "return redis.call('set', 'x', 1)", "0"]),
        r(&["EVAL", "return cjson.encode({1, 2, {a='x/y'}})", "0"]),
        r(&["EVAL", "return cjson.decode('[1,')", "0"]),
        r(&["EVAL", "local t = cjson.decode('{\"a\":[1,2.5,null]}') return {t.a[1], t.a[2]}", "0"]),
        r(&["EVAL", "local e = cmsgpack.pack({1, 'abc', {x=1}, 0.1, -1099511627776}) return {e, #e}", "0"]),
        r(&["EVAL", "return {cmsgpack.unpack(cmsgpack.pack(1, 'two', {3}))}", "0"]),
        r(&["EVAL", "return {bit.band(255, 15), bit.tohex(255), bit.bor(1, 2, 4), bit.lshift(1, 31)}", "0"]),
        r(&["EVAL", "return {struct.unpack('>I2 b', struct.pack('>I2 b', 258, -3))}", "0"]),
        r(&["EVAL", "math.randomseed(7); return {math.random(100), math.random(1, 10)}", "0"]),
        r(&["EVAL", "return loadstring(string.dump(function() return 1 end))", "0"]),
        r(&["SCRIPT", "LOAD", "return 'loaded'"]),
        r(&["EVALSHA", "b534286061d4b9e4026607613b95c06c06015ae8", "0"]),
        r(&["EVALSHA", "B534286061D4B9E4026607613B95C06C06015AE8", "0"]),
        r(&["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"]),
        r(&["EVALSHA", "short", "0"]),
        r(&["SCRIPT", "EXISTS", "b534286061d4b9e4026607613b95c06c06015ae8", "nope"]),
        r(&["SCRIPT", "FLUSH", "bogus"]),
        r(&["SCRIPT", "KILL"]),
        r(&["SCRIPT", "FLUSH"]),
        r(&["SCRIPT", "EXISTS", "b534286061d4b9e4026607613b95c06c06015ae8"]),
        r(&[
            "FUNCTION",
            "LOAD",
            "#!lua name=lib1\nredis.register_function('get1', function(keys, args) return redis.call('get', keys[1]) end)\nredis.register_function{function_name='ro', callback=function() return 'ro' end, flags={'no-writes'}, description='a ro function'}",
        ]),
        r(&["FUNCTION", "LOAD", "#!lua name=lib1\nredis.register_function('x', function() return 1 end)"]),
        r(&["FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function('get1', function() return 1 end)"]),
        r(&["FUNCTION", "LOAD", "#!lua name=lib3\nreturn 1"]),
        r(&["FUNCTION", "LOAD", "#!lua name=lib3\nredis.call('ping')"]),
        r(&["FUNCTION", "LOAD", "#!lua name=lib3\nredis.register_function('f', 1)"]),
        r(&["FUNCTION", "LOAD", "#!lua\nredis.register_function('f', function() end)"]),
        r(&["FUNCTION", "LOAD", "#!nope name=x\nredis.register_function('f', function() end)"]),
        r(&["FUNCTION", "LOAD", "no shebang"]),
        r(&["FUNCTION", "LOAD", "BAD", "x"]),
        r(&["FCALL", "get1", "1", "k"]),
        r(&["FCALL_RO", "get1", "1", "k"]),
        r(&["FCALL_RO", "ro", "0"]),
        r(&["FCALL", "nosuch", "0"]),
        r(&["FCALL", "get1", "x"]),
        // Functions of a library are listed in hash order in Redis: one function per library.
        r(&["FUNCTION", "LOAD", "#!lua name=solo\nredis.register_function('solo', function() return 'solo' end)"]),
        r(&["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "so*"]),
        r(&["FUNCTION", "LIST", "LIBRARYNAME", "nothing*"]),
        r(&["FUNCTION", "LIST", "LIBRARYNAME"]),
        r(&["FUNCTION", "STATS"]),
        r(&["FUNCTION", "KILL"]),
        r(&["FUNCTION", "DELETE", "nolib"]),
        r(&["FUNCTION", "DELETE", "lib1"]),
        r(&["FUNCTION", "DELETE", "SOLO"]),
        r(&["FUNCTION", "LIST"]),
        r(&["FUNCTION", "RESTORE", "garbage"]),
        r(&["FUNCTION", "FLUSH", "bogus"]),
    ]
}

/// Send every request to both servers in protocol `resp` and compare the raw replies.
fn compare(resp: &str) {
    let redis = ServerProcess::redis();
    let slotbox = ServerProcess::slotbox_binary(&[]);
    let mut a = RawClient::connect(redis.addr());
    let mut b = RawClient::connect(slotbox.addr());
    if resp == "3" {
        a.call(&["HELLO", "3"]);
        b.call(&["HELLO", "3"]);
    }
    let mut diffs = Vec::new();
    for req in script_requests() {
        let want = a.call_raw(&req);
        let got = b.call_raw(&req);
        if want != got {
            diffs.push(format!("{:?}\n  redis:   {}\n  slotbox: {}", req, show(&want), show(&got)));
        }
    }
    assert!(diffs.is_empty(), "RESP{resp}: {} replies differ:\n{}", diffs.len(), diffs.join("\n"));
}

fn have_redis() -> bool {
    if on_path("redis-server") {
        return true;
    }
    assert!(std::env::var("SLOTBOX_SKIP_DIFFERENTIAL").is_ok(), "redis-server is not installed");
    false
}

#[test]
fn scripts_reply_as_redis_in_resp2() {
    if have_redis() {
        compare("2");
    }
}

#[test]
fn scripts_reply_as_redis_in_resp3() {
    if have_redis() {
        compare("3");
    }
}

#[test]
fn a_script_inside_multi_runs_with_the_transaction() {
    let server = ServerProcess::slotbox_binary(&[]);
    let mut c = RawClient::connect(server.addr());
    c.call(&["MULTI"]);
    c.call(&["SET", "a", "1"]);
    c.call(&["EVAL", "return redis.call('incr', KEYS[1])", "1", "a"]);
    c.call(&["FUNCTION", "LOAD", "#!lua name=m\nredis.register_function('f', function() return 'f' end)"]);
    let reply = c.call(&["EXEC"]);
    assert_eq!(reply, Frame::Array(vec![Frame::ok(), Frame::Integer(2), bulk("m")]));
    assert_eq!(c.call(&["FCALL", "f", "0"]), bulk("f"));
}

#[test]
fn a_replica_receives_the_effects_of_scripts_and_the_functions() {
    let master = ServerProcess::slotbox_binary(&[]);
    let replica = ServerProcess::slotbox_binary(&[]);
    let mut m = RawClient::connect(master.addr());
    let mut r = RawClient::connect(replica.addr());
    // Loaded before the replica connects: it arrives with the full sync's snapshot.
    let early = "#!lua name=early\nredis.register_function{function_name='early', callback=function() return 'early' end, flags={'no-writes'}}";
    assert_eq!(m.call(&["FUNCTION", "LOAD", early]), bulk("early"));
    r.call(&["REPLICAOF", "127.0.0.1", &master.port().to_string()]);
    wait_until(Duration::from_secs(10), "replica linked", || {
        common::info_value(&mut r, "replication", "master_link_status").as_deref() == Some("up")
    });
    // A random value: only effects replication gives the replica the same one.
    let script = "local v = tostring(math.random()) .. redis.call('time')[2]
        redis.call('set', KEYS[1], v)
        redis.call('rpush', KEYS[2], v, 'b')
        return v";
    let value = m.call(&["EVAL", script, "2", "s", "l"]);
    m.call(&["FUNCTION", "LOAD", "#!lua name=rl\nredis.register_function{function_name='rf', callback=function(k) return redis.call('get', k[1]) end, flags={'no-writes'}}"]);
    m.call(&["SET", "done", "1"]);
    wait_until(Duration::from_secs(10), "replica caught up", || r.call(&["GET", "done"]) == bulk("1"));
    assert_eq!(r.call(&["GET", "s"]), value);
    assert_eq!(r.call(&["LRANGE", "l", "0", "-1"]), Frame::Array(vec![value.clone(), bulk("b")]));
    assert_eq!(r.call(&["FCALL_RO", "rf", "1", "s"]), value);
    assert_eq!(r.call(&["FCALL_RO", "early", "0"]), bulk("early"));
    // A replica refuses a script that may write, and runs a read-only one.
    let refused = r.call(&["EVAL", "#!lua\nreturn 1", "0"]);
    assert_eq!(refused, Frame::Error("READONLY Can not run script with write flag on readonly replica".into()));
}

#[test]
fn a_busy_script_gets_other_clients_busy_and_script_kill_stops_it() {
    let server = ServerProcess::slotbox_binary(&[]);
    let mut admin = RawClient::connect(server.addr());
    admin.call(&["CONFIG", "SET", "busy-reply-threshold", "50"]);
    let mut runner = RawClient::connect(server.addr());
    runner.send_raw(&encode_command(&["EVAL", "while true do end", "0"]));
    // Several clients, so that some share the runner's event loop.
    let mut others: Vec<RawClient> = (0..4).map(|_| RawClient::connect(server.addr())).collect();
    wait_until(
        Duration::from_secs(10),
        "the script is busy",
        || matches!(admin.call(&["PING"]), Frame::Error(e) if e.starts_with(b"BUSY")),
    );
    for o in &mut others {
        let reply = o.call(&["GET", "x"]);
        assert!(matches!(&reply, Frame::Error(e) if e.starts_with(b"BUSY")), "{reply:?}");
    }
    assert!(matches!(admin.call(&["FUNCTION", "KILL"]), Frame::Error(e) if e.starts_with(b"BUSY")));
    assert_eq!(admin.call(&["SCRIPT", "KILL"]), Frame::ok());
    let (reply, _) = runner.read_reply();
    assert!(
        matches!(&reply, Frame::Error(e) if e.starts_with(b"ERR Script killed by user with SCRIPT KILL...")),
        "{reply:?}"
    );
    wait_until(Duration::from_secs(10), "served again", || admin.call(&["PING"]) == Frame::Simple("PONG".into()));
    assert_eq!(admin.call(&["SCRIPT", "KILL"]), Frame::Error("NOTBUSY No scripts in execution right now.".into()));
}

#[test]
fn pipelines_of_scripts_in_place_mix_with_other_commands_on_every_event_loop() {
    // Embedded in a debug build: the lock-order checks are on. A script an event loop runs in
    // place keeps the whole gate for the rest of the loop's turn; plain commands, a blocked
    // client served by a script's write and the other loop must all still add up.
    let mut cfg = slotbox::Config::ephemeral();
    cfg.io_threads = 2;
    let server = slotbox::Server::with_config(cfg).expect("server");
    let mut setup = RawClient::connect(server.addr());
    let sha = common::text(&setup.call(&["SCRIPT", "LOAD", "return redis.call('incr', KEYS[1])"]));
    // First runs go to the script thread; the runs after them are in place.
    assert_eq!(setup.call(&["EVALSHA", &sha, "1", "warm"]), Frame::Integer(1));
    let mut waiter = RawClient::connect(server.addr());
    waiter.send_raw(&encode_command(&["BLPOP", "queue", "10"]));
    wait_until(Duration::from_secs(10), "the BLPOP is blocked", || common::blocked_clients(server.addr()) == 1);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (addr, sha) = (server.addr(), sha.clone());
            std::thread::spawn(move || {
                let mut c = RawClient::connect(addr);
                for round in 0..50 {
                    let mut batch = Vec::new();
                    for i in 0..8 {
                        batch.extend(encode_command(&["EVALSHA", &sha, "1", &format!("n:{}", (round + i) % 5)]));
                        batch.extend(encode_command(&["SET", &format!("plain:{t}:{i}"), "v"]));
                        batch.extend(encode_command(&["GET", &format!("plain:{t}:{i}")]));
                    }
                    c.send_raw(&batch);
                    for _ in 0..8 {
                        assert!(matches!(c.read_reply().0, Frame::Integer(_)));
                        assert_eq!(c.read_reply().0, Frame::ok());
                        assert_eq!(c.read_reply().0, bulk("v"));
                    }
                }
            })
        })
        .collect();
    let mut pusher = RawClient::connect(server.addr());
    assert_eq!(pusher.call(&["EVAL", "return redis.call('rpush', KEYS[1], 'job')", "1", "queue"]), Frame::Integer(1));
    assert_eq!(pusher.call(&["EVAL", "return redis.call('rpush', KEYS[1], 'job')", "1", "queue"]), Frame::Integer(1));
    let (served, _) = waiter.read_reply();
    assert_eq!(served, Frame::Array(vec![bulk("queue"), bulk("job")]));
    for t in threads {
        t.join().expect("a pipelining client failed");
    }
    let total: i64 = (0..5)
        .map(|k| match setup.call(&["GET", &format!("n:{k}")]) {
            Frame::Bulk(b) => std::str::from_utf8(&b).unwrap().parse::<i64>().unwrap(),
            other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(total, 4 * 50 * 8, "every in-place script's INCR landed once");
}

#[test]
fn function_dumps_move_between_slotbox_and_redis_both_ways() {
    if !have_redis() {
        return;
    }
    let lib = |name: &str| {
        format!("#!lua name={name}\nredis.register_function('{name}_f', function(keys, args) return '{name}:' .. args[1] end)")
    };
    let redis = ServerProcess::redis();
    let slotbox = ServerProcess::slotbox_binary(&[]);
    let mut r = RawClient::connect(redis.addr());
    let mut s = RawClient::connect(slotbox.addr());
    // slotbox -> redis
    assert_eq!(s.call(&["FUNCTION", "LOAD", &lib("fromslotbox")]), bulk("fromslotbox"));
    let dump = match s.call(&["FUNCTION", "DUMP"]) {
        Frame::Bulk(b) => b,
        other => panic!("{other:?}"),
    };
    assert_eq!(r.call(&[&b"FUNCTION"[..], b"RESTORE", &dump]), Frame::ok());
    assert_eq!(r.call(&["FCALL", "fromslotbox_f", "0", "x"]), bulk("fromslotbox:x"));
    // redis -> slotbox (Redis compresses the code with LZF)
    assert_eq!(
        r.call(&["FUNCTION", "LOAD", &format!("{}\n{}", lib("fromredis"), "-- padding\n".repeat(50))]),
        bulk("fromredis")
    );
    let dump = match r.call(&["FUNCTION", "DUMP"]) {
        Frame::Bulk(b) => b,
        other => panic!("{other:?}"),
    };
    assert_eq!(s.call(&[&b"FUNCTION"[..], b"RESTORE", &dump, b"REPLACE"]), Frame::ok());
    assert_eq!(s.call(&["FCALL", "fromredis_f", "0", "y"]), bulk("fromredis:y"));
    // The same refusals for a damaged payload.
    let mut bad = dump.to_vec();
    bad[4] ^= 0xff;
    for c in [&mut r, &mut s] {
        assert_eq!(
            c.call(&[&b"FUNCTION"[..], b"RESTORE", &bad]),
            Frame::Error("ERR DUMP payload version or checksum are wrong".into())
        );
    }
}

#[test]
fn shutdown_nosave_stops_a_busy_script_that_wrote_and_the_server() {
    let mut server = ServerProcess::slotbox_binary(&["--appendonly", "yes"]);
    let mut admin = RawClient::connect(server.addr());
    admin.call(&["CONFIG", "SET", "busy-reply-threshold", "50"]);
    let mut runner = RawClient::connect(server.addr());
    runner.send_raw(&encode_command(&["EVAL", "redis.call('set', 'x', '1') while true do end", "0"]));
    wait_until(
        Duration::from_secs(10),
        "the script is busy",
        || matches!(admin.call(&["PING"]), Frame::Error(e) if e.starts_with(b"BUSY")),
    );
    let unkillable = admin.call(&["SCRIPT", "KILL"]);
    assert!(matches!(&unkillable, Frame::Error(e) if e.starts_with(b"UNKILLABLE")), "{unkillable:?}");
    let refused = admin.call(&["SHUTDOWN"]);
    assert!(matches!(&refused, Frame::Error(e) if e.starts_with(b"BUSY")), "{refused:?}");
    admin.send_raw(&encode_command(&["SHUTDOWN", "NOSAVE"]));
    let (replies, closed) = admin.read_until_closed();
    assert!(closed && replies.is_empty(), "SHUTDOWN NOSAVE closes the connection: {replies:?}");
    wait_until(Duration::from_secs(10), "the server exits", || server.exited());
}

#[test]
fn on_a_cluster_node_scripts_touch_only_local_keys_of_one_slot() {
    let cluster = slotbox::Cluster::start(3).expect("cluster");
    let addrs = cluster.addrs();
    // "bar" hashes to 5061 (node 0), "foo" to 12182 (node 2).
    let mut c = RawClient::connect(addrs[0]);
    assert_eq!(c.call(&["EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "bar"]), Frame::ok());
    let moved = c.call_raw(&["EVAL", "return 1", "1", "foo"]);
    assert_eq!(moved, format!("-MOVED 12182 127.0.0.1:{}\r\n", addrs[2].port()).into_bytes());
    assert_eq!(
        c.call_raw(&["EVAL", "return 1", "2", "bar", "foo"]),
        b"-CROSSSLOT Keys in request don't hash to the same slot\r\n".to_vec()
    );
    let non_local = c.call(&["EVAL", "return redis.call('get', 'foo')", "0"]);
    assert!(
        matches!(&non_local, Frame::Error(e) if e.starts_with(b"ERR Script attempted to access a non local key in a cluster node")),
        "{non_local:?}"
    );
    // A script without a shebang may reach keys of other local slots (Redis's compatibility
    // mode); one with a shebang may not, unless it says allow-cross-slot-keys.
    let body = "return redis.call('get', '{bar}x') or redis.call('get', 'baz')";
    assert_eq!(c.call(&["EVAL", body, "1", "bar"]), Frame::Null);
    let other_slot = c.call(&["EVAL", &format!("#!lua\n{body}"), "1", "bar"]);
    assert!(
        matches!(&other_slot, Frame::Error(e) if e.starts_with(b"ERR Script attempted to access keys that do not hash to the same slot")),
        "{other_slot:?}"
    );
    let allowed = c.call(&["EVAL", &format!("#!lua flags=allow-cross-slot-keys\n{body}"), "1", "bar"]);
    assert_eq!(allowed, Frame::Null);
    let shebang = c.call(&["EVAL", "#!lua flags=no-cluster\nreturn 1", "0"]);
    assert_eq!(shebang, Frame::Error("ERR Can not run script on cluster, 'no-cluster' flag is set.".into()));
}

fn pool_yaml(servers: &[std::net::SocketAddr]) -> String {
    let mut y = String::from("alpha:\n  listen: 127.0.0.1:0\n  redis: true\n  hash: murmur\n  servers:\n");
    for (i, s) in servers.iter().enumerate() {
        y.push_str(&format!("   - {s}:1 server{i}\n"));
    }
    y
}

#[test]
fn through_the_proxy_scripts_follow_their_first_key_and_script_load_reaches_every_backend() {
    let servers: Vec<slotbox::Server> = (0..3).map(|_| slotbox::Server::start().expect("server")).collect();
    let addrs: Vec<_> = servers.iter().map(|s| s.addr()).collect();
    let proxy = slotbox::Proxy::start(&pool_yaml(&addrs)).expect("proxy");
    let mut c = RawClient::connect(proxy.addr());
    let sha = c.call(&["SCRIPT", "LOAD", "return redis.call('incr', KEYS[1])"]);
    let sha = common::text(&sha);
    assert_eq!(sha.len(), 40, "{sha}");
    for a in &addrs {
        let exists = RawClient::connect(*a).call(&["SCRIPT", "EXISTS", &sha]);
        assert_eq!(exists, Frame::Array(vec![Frame::Integer(1)]), "backend {a}");
    }
    for i in 0..30 {
        let key = format!("script:{i}");
        assert_eq!(c.call(&["EVALSHA", &sha, "1", &key]), Frame::Integer(1));
        assert_eq!(c.call(&["EVAL", "return redis.call('get', KEYS[1])", "1", &key]), bulk("1"));
        assert_eq!(c.call(&["GET", &key]), bulk("1"));
    }
    let spread = (0..30).map(|i| format!("script:{i}")).collect::<Vec<_>>();
    let mut args = vec!["EVAL".to_string(), "return 1".into(), spread.len().to_string()];
    args.extend(spread);
    let refused = c.call(&args);
    assert!(
        matches!(&refused, Frame::Error(e) if e.starts_with(b"ERR keys of 'eval' map to different backends")),
        "{refused:?}"
    );
    assert_eq!(c.call(&["SCRIPT", "EXISTS", &sha, "nope"]), Frame::Array(vec![Frame::Integer(1), Frame::Integer(0)]));
    assert_eq!(c.call(&["SCRIPT", "FLUSH"]), Frame::ok());
    assert_eq!(c.call(&["SCRIPT", "EXISTS", &sha]), Frame::Array(vec![Frame::Integer(0)]));
}
