//! [`Keyspace`]: a server's numbered databases (`databases`, 16 by default; cluster mode uses
//! database 0 only) and the state they share ([`Common`]: replica mode, access clock, expiry
//! hook and counters), which `Keyspace` derefs to.

use super::db::{Common, Db};
use std::sync::Arc;

pub struct Keyspace {
    dbs: Box<[Db]>,
    common: Arc<Common>,
    /// Function libraries' code (saved and loaded with the data).
    pub functions: super::functions::FunctionCodes,
}

impl std::ops::Deref for Keyspace {
    type Target = Common;
    fn deref(&self) -> &Common {
        &self.common
    }
}

impl Keyspace {
    /// `n` empty databases (at least one). Database 0, where every client starts, has its
    /// slot maps from the start, so the first key does not move the memory baseline.
    pub fn new(n: usize) -> Self {
        let common = Arc::new(Common::default());
        let dbs: Box<[Db]> = (0..n.max(1)).map(|i| Db::with_common(i, common.clone())).collect();
        dbs[0].allocate();
        Keyspace { dbs, common, functions: Default::default() }
    }

    /// Database `i` (callers check `i` against [`Keyspace::count`]).
    pub fn db(&self, i: usize) -> &Db {
        &self.dbs[i.min(self.dbs.len() - 1)]
    }

    /// How many databases there are.
    pub fn count(&self) -> usize {
        self.dbs.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Db> {
        self.dbs.iter()
    }

    /// Keys in every database.
    pub fn len(&self) -> usize {
        self.dbs.iter().map(Db::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.dbs.iter().all(Db::is_empty)
    }

    /// FLUSHALL (and a replica loading a full sync): remove every key of every database.
    pub fn flush_all(&self) -> usize {
        self.dbs.iter().map(Db::flush).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Entry, Value};
    use slotbox_protocol::key_hash_slot;

    #[test]
    fn databases_are_separate_but_share_their_settings() {
        let ks = Keyspace::new(16);
        assert_eq!(ks.count(), 16);
        ks.db(3).shard(key_hash_slot(b"k")).insert(b"k", Entry::new(Value::string(b"v")));
        assert_eq!((ks.db(3).len(), ks.db(0).len(), ks.len()), (1, 0, 1));
        ks.set_replica(true);
        assert!(ks.db(7).is_replica(), "one replica flag for every database");
        ks.db(0).swap_keys(ks.db(3));
        assert_eq!((ks.db(3).len(), ks.db(0).len()), (0, 1));
        assert_eq!(ks.flush_all(), 1);
        assert!(ks.is_empty());
    }
}
