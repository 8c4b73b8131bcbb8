//! Consumer groups: a group's last delivered ID and read counter, its pending entries list
//! (PEL: delivered, not yet acknowledged) and its consumers, each with its own PEL. Every
//! pending ID is in the group's PEL and in exactly one consumer's.

use super::StreamId;
use std::collections::{BTreeMap, BTreeSet};

/// Redis's `SCG_INVALID_ENTRIES_READ`.
pub const ENTRIES_READ_UNKNOWN: i64 = -1;

/// A pending entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Nack {
    pub consumer: Vec<u8>,
    /// Unix ms of the last delivery.
    pub delivery_time: i64,
    pub delivery_count: u64,
}

/// A consumer of a group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Consumer {
    /// Unix ms it was last active.
    pub seen_time: i64,
    pub pel: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub last_id: StreamId,
    /// Entries read so far (`ENTRIES_READ_UNKNOWN` when not known).
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group { last_id, entries_read, pel: BTreeMap::new(), consumers: BTreeMap::new() }
    }

    /// The consumer `name`, created (seen now) if new; true if it was created.
    pub fn consumer(&mut self, name: &[u8], now_ms: i64) -> (&mut Consumer, bool) {
        let created = !self.consumers.contains_key(name);
        let c =
            self.consumers.entry(name.to_vec()).or_insert_with(|| Consumer { seen_time: now_ms, pel: BTreeSet::new() });
        (c, created)
    }

    /// Record the delivery of `id` to `consumer` (which exists): a new pending entry, or the
    /// existing one moved to it with its time and count updated as given.
    pub fn deliver(&mut self, id: StreamId, consumer: &[u8], time: i64, count: u64) {
        if let Some(old) = self.pel.get(&id) {
            if old.consumer != consumer {
                if let Some(c) = self.consumers.get_mut(&old.consumer) {
                    c.pel.remove(&id);
                }
            }
        }
        self.pel.insert(id, Nack { consumer: consumer.to_vec(), delivery_time: time, delivery_count: count });
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }

    /// Acknowledge `id`; true if it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        let Some(nack) = self.pel.remove(&id) else {
            return false;
        };
        if let Some(c) = self.consumers.get_mut(&nack.consumer) {
            c.pel.remove(&id);
        }
        true
    }

    /// Delete consumer `name`; its pending count, `None` if there was no such consumer.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        c.pel.iter().for_each(|id| {
            self.pel.remove(id);
        });
        Some(c.pel.len())
    }

    pub fn heap_size(&self) -> usize {
        let pel: usize = self.pel.values().map(|n| n.consumer.len() + 48 + size_of::<Nack>()).sum();
        let consumers: usize = self.consumers.iter().map(|(k, c)| k.len() + 48 + c.pel.len() * 24).sum();
        size_of::<Group>() + pel + consumers
    }
}
