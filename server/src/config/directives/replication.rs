//! Replication directives: the master a replica follows, how it authenticates and serves, the
//! backlog and timeouts, and the good-replicas rule for writes.

use super::super::special::REPLICAOF;
use super::row::{field, int, mem, nullable, one_of, special, yes, Directive, INT_MAX, LONG_MAX, MUTABLE, SENSITIVE};

type D = Directive;

const REPL_DISKLESS_LOAD: &[(&str, u32)] = &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)];

pub static ROWS: &[Directive] = &[
    D::new("replicaof", 0, special(&REPLICAOF)).alias("slaveof").field(field!(replicaof)),
    D::new("masterauth", MUTABLE | SENSITIVE, nullable()).field(field!(masterauth)),
    D::new("masteruser", MUTABLE | SENSITIVE, nullable()),
    D::new("replica-serve-stale-data", MUTABLE, yes(true))
        .alias("slave-serve-stale-data")
        .field(field!(replica_serve_stale_data)),
    D::new("replica-read-only", MUTABLE, yes(true)).alias("slave-read-only").field(field!(replica_read_only)),
    D::new("replica-ignore-maxmemory", MUTABLE, yes(true)).alias("slave-ignore-maxmemory"),
    D::new("replica-ignore-disk-write-errors", MUTABLE, yes(false)),
    D::new("replica-lazy-flush", MUTABLE, yes(false)).alias("slave-lazy-flush"),
    D::new("replica-priority", MUTABLE, int(0, INT_MAX, 100)).alias("slave-priority").field(field!(replica_priority)),
    D::new("replica-announced", MUTABLE, yes(true)),
    D::new("replica-announce-ip", MUTABLE, nullable()).alias("slave-announce-ip"),
    D::new("replica-announce-port", MUTABLE, int(0, 65535, 0)).alias("slave-announce-port"),
    D::new("repl-diskless-sync", MUTABLE, yes(true)),
    D::new("repl-diskless-sync-delay", MUTABLE, int(0, INT_MAX, 5)),
    D::new("repl-diskless-sync-max-replicas", MUTABLE, int(0, INT_MAX, 0)),
    D::new("repl-diskless-load", MUTABLE, one_of(REPL_DISKLESS_LOAD, 0)),
    D::new("repl-disable-tcp-nodelay", MUTABLE, yes(false)),
    D::new("repl-ping-replica-period", MUTABLE, int(1, INT_MAX, 10))
        .alias("repl-ping-slave-period")
        .field(field!(repl_ping_replica_period)),
    D::new("repl-timeout", MUTABLE, int(1, INT_MAX, 60)).field(field!(repl_timeout)),
    D::new("repl-backlog-size", MUTABLE, mem(1, LONG_MAX, 1024 * 1024)).field(field!(repl_backlog_size)),
    D::new("repl-backlog-ttl", MUTABLE, int(0, LONG_MAX, 3600)),
    D::new("min-replicas-to-write", MUTABLE, int(0, INT_MAX, 0))
        .alias("min-slaves-to-write")
        .field(field!(min_replicas_to_write)),
    D::new("min-replicas-max-lag", MUTABLE, int(0, INT_MAX, 10))
        .alias("min-slaves-max-lag")
        .field(field!(min_replicas_max_lag)),
];
