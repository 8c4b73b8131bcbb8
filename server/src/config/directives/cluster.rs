//! Cluster directives: cluster mode, its state file and bus port, the addresses a node
//! announces, failure detection and failover, and what a node serves while the cluster is down.

use super::checks;
use super::row::{field, int, nullable, one_of, string, umem, yes, Directive, INT_MAX, LONG_MAX, MUTABLE, ULLONG_MAX};

type D = Directive;

const PREFERRED_ENDPOINT: &[(&str, u32)] = &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)];

pub static ROWS: &[Directive] = &[
    D::new("cluster-enabled", 0, yes(false)).field(field!(cluster_enabled)),
    D::new("cluster-config-file", 0, string("nodes.conf")).field(field!(cluster_config_file)),
    D::new("cluster-port", 0, int(0, 65535, 0)).field(field!(cluster_port)),
    D::new("cluster-node-timeout", MUTABLE, int(0, LONG_MAX, 15000)).field(field!(cluster_node_timeout)),
    D::new("cluster-announce-ip", MUTABLE, nullable()).field(field!(cluster_announce_ip)),
    D::new("cluster-announce-port", MUTABLE, int(0, 65535, 0)).field(field!(cluster_announce_port)),
    D::new("cluster-announce-bus-port", MUTABLE, int(0, 65535, 0)).field(field!(cluster_announce_bus_port)),
    D::new("cluster-announce-tls-port", MUTABLE, int(0, 65535, 0)),
    D::new("cluster-announce-hostname", MUTABLE, nullable()).check(checks::announced_hostname),
    D::new("cluster-preferred-endpoint-type", MUTABLE, one_of(PREFERRED_ENDPOINT, 0)),
    D::new("cluster-require-full-coverage", MUTABLE, yes(true)).field(field!(cluster_require_full_coverage)),
    D::new("cluster-allow-reads-when-down", MUTABLE, yes(false)).field(field!(cluster_allow_reads_when_down)),
    D::new("cluster-allow-pubsubshard-when-down", MUTABLE, yes(true)),
    D::new("cluster-replica-no-failover", MUTABLE, yes(false))
        .alias("cluster-slave-no-failover")
        .field(field!(cluster_replica_no_failover)),
    D::new("cluster-allow-replica-migration", MUTABLE, yes(true)).field(field!(cluster_allow_replica_migration)),
    D::new("cluster-migration-barrier", MUTABLE, int(0, INT_MAX, 1)).field(field!(cluster_migration_barrier)),
    D::new("cluster-replica-validity-factor", MUTABLE, int(0, INT_MAX, 10))
        .alias("cluster-slave-validity-factor")
        .field(field!(cluster_replica_validity_factor)),
    D::new("cluster-link-sendbuf-limit", MUTABLE, umem(0, ULLONG_MAX, 0)),
];
