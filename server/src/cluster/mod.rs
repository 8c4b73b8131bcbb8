//! Redis Cluster mode. [`ClusterState`] is the only public cluster API: the dispatcher asks
//! [`route`] before any handler runs, the CLUSTER commands call its operations, and the bus
//! (`bus`, `gossip`, `message`) keeps it in step with the other nodes. `nodes_conf` persists
//! it; `health` decides `cluster_state`.

pub mod bus;
pub mod bus_handle;
pub mod failover;
pub mod gossip;
mod health;
mod inner;
pub mod message;
pub mod node;
pub mod nodes_conf;
pub mod ops;
mod outbox;
mod publish;
pub mod replica_migration;
pub mod route;
pub mod routes;
pub mod state;

pub use route::{blocked_redirect, route, Query, Route};
pub use state::{ClusterConfig, ClusterState};
