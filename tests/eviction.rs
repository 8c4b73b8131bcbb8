//! `maxmemory` on the slotbox-server binary (whose allocator counts `used_memory`): the LRU
//! policy keeps recently used keys where random eviction would not, `noeviction` refuses
//! writes with Redis's OOM error but serves reads and deletes, `volatile-ttl` only drops keys
//! with an expiry; and OBJECT IDLETIME / FREQ answer as real Redis 7.0 does.

mod common;

use common::{on_path, text, RawClient, ServerProcess};
use slotbox::protocol::Frame;

fn info_field(c: &mut RawClient, section: &str, name: &str) -> u64 {
    let info = text(&c.call(&["INFO", section]));
    let prefix = format!("{name}:");
    let line = info.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {name} in INFO"));
    line[prefix.len()..].trim().parse().unwrap()
}

fn server(policy: &str, maxmemory: &str) -> (ServerProcess, RawClient) {
    let s = ServerProcess::slotbox_binary(&["--maxmemory", maxmemory, "--maxmemory-policy", policy]);
    let c = RawClient::connect(s.addr());
    (s, c)
}

#[test]
fn allkeys_lru_keeps_recently_used_keys_under_maxmemory() {
    let s = ServerProcess::slotbox_binary(&["--maxmemory", "12mb", "--maxmemory-policy", "allkeys-lru"]);
    let mut c = RawClient::connect(s.addr());
    assert_eq!(c.call(&["CONFIG", "SET", "maxmemory-samples", "10"]), Frame::ok());
    let value = "v".repeat(1000);
    for i in 0..5000 {
        assert_eq!(c.call(&["SET", &format!("old:{i}"), &value]), Frame::ok());
    }
    assert_eq!(info_field(&mut c, "stats", "evicted_keys"), 0, "5 MB fit in 12 MB");
    // The LRU clock ticks in seconds: let the old keys age, then use 200 of them. The sleep is
    // the thing under test (time passing for the LRU clock), not a wait for a state.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    // They stay in use while new keys arrive (before each batch of writes), as a hot set
    // does: how old they look next to the new keys then does not depend on how long this
    // machine takes for the writes.
    let used = |i: usize| i.is_multiple_of(25);
    let evicted_yet = |c: &mut RawClient| info_field(c, "stats", "evicted_keys") > 0;
    for i in 0..8000 {
        if i % 1000 == 0 {
            for i in (0..5000).filter(|&i| used(i)) {
                // Present until evictions start (the first round), then present or evicted.
                let got = c.call(&["GET", &format!("old:{i}")]);
                let evicted = got == Frame::Null && evicted_yet(&mut c);
                assert!(got == Frame::bulk(value.clone()) || evicted, "GET old:{i}: {got:?}");
            }
        }
        assert_eq!(c.call(&["SET", &format!("new:{i}"), &value]), Frame::ok(), "write {i}");
    }
    assert!(info_field(&mut c, "memory", "used_memory") <= (12 << 20) + (1 << 20), "held near maxmemory");
    let evicted = info_field(&mut c, "stats", "evicted_keys");
    assert!(evicted > 1000, "old keys had to go: {evicted} evicted");
    let (mut lost_used, mut lost_unused) = (0, 0);
    for i in 0..5000 {
        if c.call(&["EXISTS", &format!("old:{i}")]) == Frame::Integer(0) {
            if used(i) {
                lost_used += 1;
            } else {
                lost_unused += 1;
            }
        }
    }
    // Random eviction would take the same share of both; LRU spares the recently used (0-10
    // of them go, loaded machine or not, against about 80 % of the others).
    let (share_used, share_unused) = (lost_used as f64 / 200.0, lost_unused as f64 / 4800.0);
    assert!(
        share_used * 2.0 < share_unused,
        "recently used keys lost {lost_used} of 200, unused old keys {lost_unused} of 4800 ({evicted} evicted)"
    );
}

#[test]
fn noeviction_refuses_writes_but_serves_reads_and_deletes() {
    let (_s, mut c) = server("noeviction", "4mb");
    let value = "v".repeat(1000);
    let mut refused = None;
    for i in 0..20_000 {
        match c.call(&["SET", &format!("k{i}"), &value]) {
            Frame::Error(e) => {
                refused = Some((i, String::from_utf8_lossy(&e).into_owned()));
                break;
            }
            r => assert_eq!(r, Frame::ok()),
        }
    }
    let (n, err) = refused.expect("writes past maxmemory are refused");
    assert_eq!(err, "OOM command not allowed when used memory > 'maxmemory'.");
    assert_eq!(c.call(&["GET", "k0"]), Frame::bulk(value.clone()), "reads still served");
    assert_eq!(
        c.call(&["LPUSH", "list", "x"]),
        Frame::Error("OOM command not allowed when used memory > 'maxmemory'.".into())
    );
    let dels: Vec<String> = (0..n / 2).map(|i| format!("k{i}")).collect();
    let mut del = vec!["DEL".to_string()];
    del.extend(dels);
    assert_eq!(c.call(&del), Frame::Integer((n / 2) as i64), "deletes are not refused");
    assert_eq!(c.call(&["SET", "again", "1"]), Frame::ok(), "room again after deleting");
    assert_eq!(info_field(&mut c, "stats", "evicted_keys"), 0);
}

#[test]
fn volatile_ttl_only_evicts_keys_with_an_expiry() {
    let (_s, mut c) = server("volatile-ttl", "8mb");
    let value = "v".repeat(1000);
    for i in 0..3000 {
        assert_eq!(c.call(&["SET", &format!("keep:{i}"), &value]), Frame::ok());
    }
    let mut oom = false;
    for i in 0..20_000 {
        match c.call(&["SET", &format!("ttl:{i}"), &value, "EX", &(100_000 + i).to_string()]) {
            Frame::Error(e) => {
                assert!(e.starts_with(b"OOM"), "{e:?}");
                oom = true;
                break;
            }
            r => assert_eq!(r, Frame::ok()),
        }
    }
    assert!(info_field(&mut c, "stats", "evicted_keys") > 0, "keys with a TTL were evicted");
    let keep = (0..3000).filter(|i| c.call(&["EXISTS", &format!("keep:{i}")]) == Frame::Integer(1)).count();
    assert_eq!(keep, 3000, "keys without an expiry are never evicted");
    // Evicted soonest-expiring first: the latest (longest TTL) keys are the ones left.
    let early = (0..500).filter(|i| c.call(&["EXISTS", &format!("ttl:{i}")]) == Frame::Integer(1)).count();
    assert!(early < 100 || oom, "shortest TTLs go first: {early} of the first 500 left");
}

#[test]
fn object_idletime_and_freq_match_redis() {
    if !on_path("redis-server") {
        eprintln!("redis-server not on PATH: skipped");
        return;
    }
    let redis = ServerProcess::redis();
    let slotbox = ServerProcess::slotbox_binary(&[]);
    let mut replies = Vec::new();
    for addr in [redis.addr(), slotbox.addr()] {
        let mut c = RawClient::connect(addr);
        let mut got = Vec::new();
        let start = std::time::Instant::now();
        for cmd in [
            &["SET", "a", "1"][..],
            &["OBJECT", "IDLETIME", "a"],
            &["OBJECT", "IDLETIME", "missing"],
            &["OBJECT", "FREQ", "a"],
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
            &["OBJECT", "IDLETIME", "a"],
            &["SET", "b", "x"],
            &["OBJECT", "FREQ", "b"],
            &["GET", "b"],
            &["OBJECT", "FREQ", "b"],
            &["CONFIG", "GET", "lfu-log-factor"],
            &["CONFIG", "GET", "lfu-decay-time"],
            &["CONFIG", "SET", "maxmemory-samples", "0"],
            &["CONFIG", "GET", "maxmemory-samples"],
        ] {
            let reply = c.call(cmd);
            // An idle time counts whole seconds of a clock that ticks on its own: a key just
            // written can read 1 (Redis too) when a tick falls between, and more on a slow
            // machine. Any count up to the time that really passed (rounded up, plus that tick)
            // is right; it is compared as 0.
            let idle = cmd[..2] == ["OBJECT", "IDLETIME"];
            let reply = match reply {
                Frame::Integer(n) if idle && n <= start.elapsed().as_secs() as i64 + 2 => Frame::Integer(0),
                other => other,
            };
            got.push(reply);
        }
        replies.push(got);
    }
    assert_eq!(replies[1], replies[0]);
}

/// Over maxmemory with nothing to evict (the server's own memory is above the limit): like
/// Redis, writes get OOM and everything else still runs.
#[test]
fn over_maxmemory_with_nothing_to_evict_refuses_writes_only() {
    // Below what an empty server uses: every write is refused and there is nothing to evict.
    let (_s, mut c) = server("allkeys-lru", "10kb");
    for _ in 0..3 {
        assert_eq!(
            c.call(&["SET", "a", "b"]),
            Frame::Error("OOM command not allowed when used memory > 'maxmemory'.".into())
        );
        assert_eq!(c.call(&["GET", "a"]), Frame::Null);
    }
    assert_eq!(c.call(&["CONFIG", "SET", "maxmemory", "0"]), Frame::ok());
    assert_eq!(c.call(&["SET", "a", "b"]), Frame::ok());
}
