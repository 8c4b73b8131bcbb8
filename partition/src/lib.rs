//! slotbox-partition: which server owns a key. Two separate halves, as in twemproxy's
//! `hashkit`: [`hash`] turns key bytes into a number (twemproxy's twelve functions, bit for
//! bit), and [`router`] turns a server list plus that number into a server (nutcracker's
//! ketama, modula and random, jump consistent hashing, rendezvous hashing, and the Redis
//! Cluster slot map). slotbox-proxy routes with this crate; the same code serves client-side
//! partitioning (`examples/client_partitioning.rs` at the workspace root) and
//! `slotbox-cluster ring-sim`. Pure data and arithmetic: no sockets, no threads.
//!
//! ```
//! use slotbox_partition::hash::HashKind;
//! use slotbox_partition::router::{Ketama, RingServer, Router};
//!
//! let servers: Vec<RingServer> =
//!     ["127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"].iter().map(|a| RingServer::new(a)).collect();
//! let ring = Ketama::new(HashKind::Fnv1a64, &servers);
//! let owner = ring.route(b"user:42").unwrap();
//! assert!(owner < 3);
//! ```

pub mod hash;
pub mod router;
