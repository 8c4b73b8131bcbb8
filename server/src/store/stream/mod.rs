//! The stream value: entries packed in [`Block`]s kept in a B-tree by their base ID (Redis's
//! listpacks in a radix tree), the stream's counters (last ID, entries added, largest deleted
//! ID, recorded first ID) and its consumer groups. Operations here are the data structure
//! only: argument parsing, replies and errors belong to the stream commands.

mod block;
mod group;
mod id;

pub use block::{Block, EntryRef};
pub use group::{Consumer, Group, Nack, ENTRIES_READ_UNKNOWN};
pub use id::{ParsedId, StreamId};

use std::collections::BTreeMap;

/// `stream-node-max-bytes` / `stream-node-max-entries` (0: no limit).
#[derive(Debug, Clone, Copy)]
pub struct NodeLimits {
    pub max_bytes: usize,
    pub max_entries: usize,
}

impl Default for NodeLimits {
    fn default() -> Self {
        NodeLimits { max_bytes: 4096, max_entries: 100 }
    }
}

/// Largest total size of one entry's fields and values (Redis's `STREAM_LISTPACK_MAX_SIZE`).
pub const MAX_ENTRY_BYTES: usize = 1 << 30;

/// How a trim decides what goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimTo {
    MaxLen(u64),
    MinId(StreamId),
}

/// A stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stream {
    blocks: BTreeMap<StreamId, Block>,
    len: u64,
    pub last_id: StreamId,
    pub first_id: StreamId,
    pub max_deleted_id: StreamId,
    pub entries_added: u64,
    pub groups: BTreeMap<Vec<u8>, Group>,
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of blocks (XINFO's `radix-tree-keys`).
    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }

    /// Append an entry with ID `id`, above `last_id` (the caller checked). Starts a new block
    /// when the last one is full by `limits`, as Redis starts a new listpack.
    pub fn append(&mut self, id: StreamId, pairs: &[(&[u8], &[u8])], limits: NodeLimits) {
        let size: usize = pairs.iter().map(|(f, v)| f.len() + v.len()).sum();
        let max_bytes = match limits.max_bytes {
            0 => MAX_ENTRY_BYTES,
            b => b.min(MAX_ENTRY_BYTES),
        };
        let tail = self.blocks.iter_mut().next_back().filter(|(_, b)| {
            b.bytes() + size < max_bytes && (limits.max_entries == 0 || (b.appended as usize) < limits.max_entries)
        });
        match tail {
            Some((base, b)) => b.push(*base, id, pairs),
            None => {
                if let Some((_, last)) = self.blocks.iter_mut().next_back() {
                    last.shrink();
                }
                let mut b = Block::new(pairs);
                b.push(id, id, pairs);
                self.blocks.insert(id, b);
            }
        }
        self.len += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.len == 1 {
            self.first_id = id;
        }
    }

    /// Entries with IDs in `start..=end`, ascending (or descending with `rev`), at most
    /// `count` of them (0: all).
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool, count: usize) -> Vec<EntryRef<'_>> {
        let mut out = Vec::new();
        if start > end {
            return out;
        }
        let full = |out: &Vec<EntryRef>| count != 0 && out.len() >= count;
        if rev {
            for (base, b) in self.blocks.range(..=end).rev() {
                for s in b.slots(*base).into_iter().rev() {
                    if s.id < start {
                        return out;
                    }
                    if s.id <= end {
                        out.push(b.entry(s));
                        if full(&out) {
                            return out;
                        }
                    }
                }
            }
            return out;
        }
        let from = self.blocks.range(..=start).next_back().map_or(start, |(k, _)| *k);
        for (base, b) in self.blocks.range(from..=end) {
            for s in b.slot_iter(*base) {
                if s.id > end {
                    return out;
                }
                if s.id >= start {
                    out.push(b.entry(s));
                    if full(&out) {
                        return out;
                    }
                }
            }
        }
        out
    }

    /// The entry `id`, if present.
    pub fn get(&self, id: StreamId) -> Option<EntryRef<'_>> {
        self.range(id, id, false, 1).pop()
    }

    /// The first (or last) present entry's ID.
    pub fn edge_id(&self, last: bool) -> Option<StreamId> {
        if last {
            let (base, b) = self.blocks.iter().next_back()?;
            b.last_id(*base)
        } else {
            let (base, b) = self.blocks.iter().next()?;
            b.slot_iter(*base).next().map(|s| s.id)
        }
    }

    /// Remove entry `id` (XDEL); false if absent. Does not touch `max_deleted_id`.
    pub fn remove(&mut self, id: StreamId) -> bool {
        let Some((&base, b)) = self.blocks.range_mut(..=id).next_back() else {
            return false;
        };
        let Some(slot) = b.slot_iter(base).find(|s| s.id == id) else {
            return false;
        };
        b.remove(slot, base);
        if b.live == 0 {
            self.blocks.remove(&base);
        }
        self.len -= 1;
        if self.len == 0 {
            self.first_id = StreamId::MIN;
        } else if id == self.first_id {
            self.first_id = self.edge_id(false).unwrap_or_default();
        }
        true
    }

    /// Redis's `streamTrim`: remove the oldest entries until `to` holds. `approx` removes whole
    /// blocks only; `limit` (0: none) caps the entries removed. Returns how many went.
    pub fn trim(&mut self, to: TrimTo, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        while let Some((&base, b)) = self.blocks.iter_mut().next() {
            if let TrimTo::MaxLen(max) = to {
                if self.len <= max {
                    break;
                }
            }
            let entries = u64::from(b.live);
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let whole = match to {
                TrimTo::MaxLen(max) => self.len - entries >= max,
                TrimTo::MinId(min) => b.last_id(base).is_some_and(|last| last < min),
            };
            if whole {
                self.blocks.remove(&base);
                self.len -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let slots = b.slots(base);
            let n = match to {
                TrimTo::MaxLen(max) => (self.len - max) as usize,
                TrimTo::MinId(min) => slots.iter().take_while(|s| s.id < min).count(),
            };
            b.remove_first(&slots, n);
            self.len -= n as u64;
            deleted += n as u64;
            break;
        }
        if self.len == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.edge_id(false).unwrap_or_default();
        }
        deleted
    }

    /// Redis's `streamRangeHasTombstones` from `start` to the end.
    pub fn has_tombstones_after(&self, start: StreamId) -> bool {
        if self.len == 0 || self.max_deleted_id.is_zero() || self.first_id > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id
    }

    /// Redis's `streamEstimateDistanceFromFirstEverEntry`: the logical read counter of `id`,
    /// `None` when it cannot be known.
    pub fn estimate_distance(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.len == 0 && id <= self.last_id {
            return Some(self.entries_added);
        }
        if id == self.last_id {
            return Some(self.entries_added);
        }
        if id > self.last_id {
            return None;
        }
        if self.max_deleted_id.is_zero() || self.max_deleted_id < self.first_id {
            if id < self.first_id {
                return Some(self.entries_added - self.len);
            }
            if id == self.first_id {
                return Some(self.entries_added - self.len + 1);
            }
        }
        None
    }

    /// A group's lag (XINFO): `None` when it cannot be computed. Negative when a read counter
    /// set by hand (ENTRIESREAD) runs ahead of the entries added, as Redis prints it.
    pub fn group_lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        let added = self.entries_added as i64;
        if g.entries_read >= 0 && !self.has_tombstones_after(g.last_id) {
            return Some(added.wrapping_sub(g.entries_read));
        }
        self.estimate_distance(g.last_id).map(|read| added.wrapping_sub(read as i64))
    }

    /// Bytes of heap memory (blocks, tree nodes, groups).
    pub fn heap_size(&self) -> usize {
        let blocks: usize = self.blocks.values().map(|b| b.heap_size() + size_of::<(StreamId, Block)>() + 8).sum();
        let groups: usize = self.groups.iter().map(|(name, g)| name.len() + g.heap_size()).sum();
        size_of::<Stream>() + blocks + groups
    }

    /// Every block's base and live count (for the serialization and tests).
    pub fn blocks(&self) -> impl Iterator<Item = (&StreamId, &Block)> {
        self.blocks.iter()
    }
}

#[cfg(test)]
mod tests;
