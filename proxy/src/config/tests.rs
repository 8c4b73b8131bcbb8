//! Unit tests for nutcracker.yml parsing: defaults, every key, and one error per bad key.

use super::*;

const GOOD: &str = "
alpha:
  listen: 127.0.0.1:22121
  hash: fnv1a_64
  hash_tag: \"{}\"
  distribution: ketama
  auto_eject_hosts: true
  redis: true
  timeout: 400
  server_retry_timeout: 2000
  server_failure_limit: 1
  servers:
   - 127.0.0.1:6379:1
   - 127.0.0.1:6380:2 cache2
beta:
  listen: 127.0.0.1:22122
  redis: true
  servers:
   - 127.0.0.1:6381:1
";

#[test]
fn parses_pools_and_defaults() {
    let pools = parse(GOOD).unwrap();
    assert_eq!(pools.len(), 2);
    let a = &pools[0];
    assert_eq!(a.name, "alpha");
    assert_eq!(a.hash_tag, Some(*b"{}"));
    assert_eq!(a.timeout_ms, Some(400));
    // Sorted as nutcracker sorts them: by name length, then bytes.
    assert_eq!(a.servers[0].name, "cache2");
    assert_eq!(a.servers[0].weight, 2);
    assert_eq!(a.servers[1].name, "127.0.0.1:6379");
    let b = &pools[1];
    assert_eq!(b.hash, HashKind::Fnv1a64);
    assert_eq!(b.distribution, Distribution::Ketama);
    assert_eq!(b.timeout_ms, None);
    assert_eq!(b.server_retry_timeout_ms, 30_000);
    assert_eq!(b.server_failure_limit, 2);
    assert_eq!(b.server_connections, 1);
}

#[test]
fn memcached_port_is_left_out_of_the_name() {
    assert_eq!(parse_server("10.0.0.1:11211:1").unwrap().name, "10.0.0.1");
}

fn error_of(pool_body: &str) -> ConfigError {
    let text = format!("p:\n  listen: 127.0.0.1:1\n  servers:\n   - 127.0.0.1:2:1\n{pool_body}");
    parse(&text).unwrap_err()
}

#[test]
fn each_bad_key_is_named() {
    let cases = [
        ("  hash: sha1\n", "hash", "not a valid hash"),
        ("  hash_tag: \"{\"\n", "hash_tag", "two characters"),
        ("  distribution: round\n", "distribution", "not a valid distribution"),
        ("  timeout: soon\n", "timeout", "not a number"),
        ("  redis: yes please\n", "redis", "\"true\" or \"false\""),
        ("  server_connections: 0\n", "server_connections", "cannot be 0"),
        ("  frobnicate: 1\n", "frobnicate", "unknown"),
        ("  read_from: replica\n", "read_from", "cluster: true"),
    ];
    for (body, key, problem) in cases {
        let e = error_of(body);
        assert_eq!(e.pool.as_deref(), Some("p"), "{body}");
        assert_eq!(e.key.as_deref(), Some(key), "{body}");
        assert!(e.problem.contains(problem), "{body}: {e}");
        assert!(e.to_string().contains("pool 'p'"));
    }
}

#[test]
fn bad_servers_and_listen() {
    let e = parse("p:\n  listen: 127.0.0.1:1\n  servers:\n   - 127.0.0.1:2:0\n").unwrap_err();
    assert_eq!(e.key.as_deref(), Some("servers"));
    assert!(e.problem.contains("zero weight"));
    let e = parse("p:\n  listen: nowhere\n  servers:\n   - 127.0.0.1:2:1\n").unwrap_err();
    assert_eq!(e.key.as_deref(), Some("listen"));
    let e = parse("p:\n  listen: 127.0.0.1:1\n").unwrap_err();
    assert_eq!(e.key.as_deref(), Some("servers"));
    let e =
        parse("a:\n  listen: 127.0.0.1:1\n  servers: [\"h:1:1\"]\nb:\n  listen: 127.0.0.1:1\n  servers: [\"h:1:1\"]\n")
            .unwrap_err();
    assert!(e.problem.contains("same listen"));
}

#[test]
fn unix_socket_listen_with_permissions() {
    let p = parse("p:\n  listen: /tmp/nc.sock\n  servers:\n   - 127.0.0.1:2:1\n").unwrap();
    assert_eq!((p[0].listen.as_str(), p[0].listen_perm), ("/tmp/nc.sock", None));
    assert!(p[0].listens_on_unix());
    let p = parse("p:\n  listen: /tmp/nc.sock 0755\n  servers:\n   - 127.0.0.1:2:1\n").unwrap();
    assert_eq!((p[0].listen.as_str(), p[0].listen_perm), ("/tmp/nc.sock", Some(0o755)));
    let p = parse("p:\n  listen: /tmp/nc.sock:0700\n  servers:\n   - 127.0.0.1:2:1\n").unwrap();
    assert_eq!((p[0].listen.as_str(), p[0].listen_perm), ("/tmp/nc.sock", Some(0o700)));
    let e = parse("p:\n  listen: /tmp/nc.sock rwx\n  servers:\n   - 127.0.0.1:2:1\n").unwrap_err();
    assert_eq!(e.key.as_deref(), Some("listen"));
}

/// The sandbox's `conf/nutcracker.yml` (what `make run-cluster` serves): the main pool reads
/// its own writes; replica reads are a pool of their own.
#[test]
fn sandbox_config_reads_its_writes_on_the_main_pool() {
    let pools = parse(include_str!("../../../conf/nutcracker.yml")).unwrap();
    let by = |name: &str| pools.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("pool {name}"));
    assert_eq!((by("cluster").listen.as_str(), by("cluster").read_from), ("127.0.0.1:22121", ReadFrom::Master));
    let replicas = by("cluster_replicas");
    assert_eq!((replicas.listen.as_str(), replicas.read_from), ("127.0.0.1:22123", ReadFrom::PreferReplica));
    assert!(pools.iter().all(|p| p.cluster && p.servers.len() == 3));
}

/// `jump` and `rendezvous` (slotbox extensions from slotbox-partition) parse beside
/// nutcracker's three.
#[test]
fn every_partition_distribution_parses() {
    for name in ["ketama", "modula", "random", "jump", "rendezvous"] {
        let text = format!("p:\n  listen: 127.0.0.1:1\n  distribution: {name}\n  servers:\n   - 127.0.0.1:2:1\n");
        assert_eq!(parse(&text).unwrap()[0].distribution.name(), name);
    }
}
