//! `nutcracker.yml` loading (`slotbox_proxy::config::parse`), then what the proxy builds from
//! each pool at start and on every ejection: its distribution (ketama, modula, random, jump,
//! rendezvous) over the servers, with and without the first server ejected.
//!
//! Checks: every key routes to a live server of its pool; the pool's timeouts can be added to
//! the current time, as the proxy does when it ejects a server or times a request out.

use slotbox_proxy::config::{parse, PoolConfig};
use slotbox_proxy::router::{apply_hash_tag, RingServer, Router};
use std::time::{Duration, Instant};

pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(pools) = parse(&text) else { return };
    assert!(!pools.is_empty(), "a config with no pools loaded");
    for pool in &pools {
        load(pool);
    }
}

fn load(pool: &PoolConfig) {
    assert!(!pool.servers.is_empty(), "pool '{}' has no servers", pool.name);
    let now = Instant::now();
    for ms in [pool.timeout_ms.unwrap_or(0), pool.server_retry_timeout_ms] {
        assert!(now.checked_add(Duration::from_millis(ms)).is_some(), "pool '{}': {ms} ms from now", pool.name);
    }
    let mut ring: Vec<RingServer> =
        pool.servers.iter().map(|s| RingServer { name: s.name.clone(), weight: s.weight, live: true }).collect();
    route_all(pool, &ring);
    ring[0].live = false;
    route_all(pool, &ring);
}

fn route_all(pool: &PoolConfig, ring: &[RingServer]) {
    let router: Box<dyn Router> = pool.distribution.build(pool.hash, ring);
    let any_live = ring.iter().any(|s| s.live);
    for key in [&b"foo"[..], b"user:{42}:name", b"", b"\xff\x00"] {
        let key = apply_hash_tag(key, pool.hash_tag);
        match router.route(key) {
            Some(i) => assert!(ring.get(i).is_some_and(|s| s.live), "key routed to {i}, not a live server"),
            None => assert!(!any_live, "no server for a key while one is live"),
        }
    }
}
