//! The keyspace, partitioned by hash slot: one table per slot, each behind its own lock, so
//! threads working on different slots never contend. A table holds 40-byte [`Node`]s (value,
//! access clock, key inline up to 20 bytes; a longer key or a key with a TTL in a block of its
//! own), and a string of up to 13 bytes lives inside its value (`strdata`). A command locks the slots of its keys
//! (in ascending order) through [`Db::lock_slots`] and works on the returned [`KeyView`].
//! Whole-keyspace operations (DBSIZE, FLUSHALL, SCAN, KEYS) visit one slot at a time.
//! This module knows nothing about commands or connections.

pub mod db;
pub mod digest;
pub mod expire;
pub mod functions;
pub use crate::glob;
mod key;
mod keyspace;
pub mod listpack;
pub mod lru;
pub mod node;
pub mod quicklist;
pub mod serialize;
mod shard;
pub mod snapshot;
pub mod strdata;
pub mod stream;
mod tablehint;
pub mod thin;
pub mod types;
pub mod value;
pub mod varint;
mod view;
pub mod zpack;
pub mod ztree;

pub use db::{Common, Db, ExpireHook, KeyEvent};
pub use key::Key;
pub use keyspace::Keyspace;
pub use node::Node;
pub use shard::{Shard, SlotGuard, Watchers};
pub use value::{Entry, Value};
pub use view::KeyView;
