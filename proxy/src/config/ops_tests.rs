//! nutcracker 0.5's keys that matter to operators: every one is known, `tcpkeepalive` is
//! read, and `redis: false` (a memcached pool) is refused with a clear error.

use super::*;

const SERVERS: &str = "  servers:\n   - 127.0.0.1:6379:1\n";

#[test]
fn every_nutcracker_05_pool_key_is_known() {
    let text = format!(
        "p:\n  listen: 127.0.0.1:22121\n  hash: fnv1a_64\n  hash_tag: \"{{}}\"\n  distribution: ketama\n  \
         timeout: 400\n  backlog: 1024\n  client_connections: 100\n  redis: true\n  tcpkeepalive: true\n  \
         redis_auth: secret\n  redis_db: 0\n  preconnect: true\n  auto_eject_hosts: true\n  \
         server_connections: 2\n  server_retry_timeout: 2000\n  server_failure_limit: 3\n{SERVERS}"
    );
    let p = parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert!(p[0].tcpkeepalive && p[0].preconnect && p[0].auto_eject_hosts);
    assert_eq!((p[0].backlog, p[0].server_connections, p[0].server_failure_limit), (1024, 2, 3));
    let p = parse(&format!("p:\n  listen: 127.0.0.1:22121\n{SERVERS}")).unwrap();
    assert!(!p[0].tcpkeepalive, "nutcracker's default is off");
    let e = parse(&format!("p:\n  listen: 127.0.0.1:22121\n  tcpkeepalive: maybe\n{SERVERS}")).unwrap_err();
    assert_eq!(e.key.as_deref(), Some("tcpkeepalive"));
}

#[test]
fn a_memcached_pool_is_refused() {
    let e = parse(&format!("mc:\n  listen: 127.0.0.1:22121\n  redis: false\n{SERVERS}")).unwrap_err();
    assert_eq!((e.pool.as_deref(), e.key.as_deref()), (Some("mc"), Some("redis")));
    assert_eq!(
        e.to_string(),
        "configuration error: pool 'mc': key 'redis': false (a memcached pool) is not supported: \
         slotbox-proxy proxies Redis only; set 'redis: true' for a Redis pool"
    );
}
