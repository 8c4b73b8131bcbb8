//! [`Block`]: a run of consecutive stream entries packed into one byte buffer, as Redis packs
//! them into one listpack per radix-tree node. The block's key in the stream's tree (its
//! *base*, the ID of the first entry ever appended to it) is passed in by the caller.
//!
//! # Format
//!
//! ```text
//! master   count · (len · field)*            the first entry's field names
//! entry    ms-base.ms · seq · flags · body   (all LEB128 varints but flags, one byte)
//! body     (len · value)*                    flags & SAME_FIELDS: the master's field names
//!        | count · (len · field · len · value)*
//! ```
//!
//! Entries are removed physically (XDEL, exact trimming); the block keeps counting them in
//! `appended`, as Redis counts deleted entries against `stream-node-max-entries`. Only the
//! stream writes blocks, so the bytes are always well formed.

const SAME_FIELDS: u8 = 1;

use super::StreamId;

/// One packed run of entries.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    data: Vec<u8>,
    /// Where the first entry starts (after the master fields).
    entries_at: u32,
    /// Entries present.
    pub live: u32,
    /// Entries ever appended (present or removed).
    pub appended: u32,
    /// Where the last present entry starts (meaningful while `live` > 0), so the stream's
    /// last ID is read without walking the block (every `XREADGROUP >` asks for it).
    last_at: u32,
}

/// Where one entry sits in its block.
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    pub id: StreamId,
    start: usize,
    end: usize,
}

/// A decoded entry: its ID and field / value pairs borrowed from the block.
#[derive(Debug, Clone)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    pub fields: Vec<(&'a [u8], &'a [u8])>,
}

impl Block {
    /// An empty block whose master fields are the names in `pairs`.
    pub fn new(pairs: &[(&[u8], &[u8])]) -> Block {
        let mut data = Vec::with_capacity(64);
        put_varint(&mut data, pairs.len() as u64);
        pairs.iter().for_each(|(f, _)| put_bytes(&mut data, f));
        let entries_at = data.len() as u32;
        Block { data, entries_at, live: 0, appended: 0, last_at: entries_at }
    }

    /// Bytes of the packed buffer.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    pub fn heap_size(&self) -> usize {
        self.data.capacity()
    }

    pub fn shrink(&mut self) {
        self.data.shrink_to_fit();
    }

    fn master(&self) -> MasterFields<'_> {
        let mut p = &self.data[..self.entries_at as usize];
        let n = take_varint(&mut p);
        MasterFields { n: n as usize, bytes: p }
    }

    /// Append an entry (IDs only grow: the caller checked `id` is above every present one).
    pub fn push(&mut self, base: StreamId, id: StreamId, pairs: &[(&[u8], &[u8])]) {
        let same = self.master().matches(pairs);
        self.last_at = self.data.len() as u32;
        put_varint(&mut self.data, id.ms - base.ms);
        put_varint(&mut self.data, id.seq);
        self.data.push(if same { SAME_FIELDS } else { 0 });
        if same {
            pairs.iter().for_each(|(_, v)| put_bytes(&mut self.data, v));
        } else {
            put_varint(&mut self.data, pairs.len() as u64);
            for (f, v) in pairs {
                put_bytes(&mut self.data, f);
                put_bytes(&mut self.data, v);
            }
        }
        self.live += 1;
        self.appended += 1;
    }

    /// Every present entry's ID and position, in order.
    pub fn slots(&self, base: StreamId) -> Vec<Slot> {
        let mut out = Vec::with_capacity(self.live as usize);
        out.extend(self.slot_iter(base));
        out
    }

    /// The present entries' IDs and positions, in order, decoded one at a time (a read that
    /// wants the first few stops there, as Redis's stream iterator does).
    pub fn slot_iter(&self, base: StreamId) -> impl Iterator<Item = Slot> + '_ {
        let master_n = self.master().n;
        let mut pos = self.entries_at as usize;
        std::iter::from_fn(move || {
            if pos >= self.data.len() {
                return None;
            }
            let mut p = &self.data[pos..];
            let before = p.len();
            let ms = base.ms + take_varint(&mut p);
            let seq = take_varint(&mut p);
            let flags = take_u8(&mut p);
            let n = if flags & SAME_FIELDS != 0 { master_n } else { 2 * take_varint(&mut p) as usize };
            (0..n).for_each(|_| skip_bytes(&mut p));
            let end = pos + (before - p.len());
            let slot = Slot { id: StreamId::new(ms, seq), start: pos, end };
            pos = end;
            Some(slot)
        })
    }

    /// The entry at `slot` (from [`Block::slots`] of this unchanged block).
    pub fn entry(&self, slot: Slot) -> EntryRef<'_> {
        let mut p = &self.data[slot.start..slot.end];
        take_varint(&mut p);
        take_varint(&mut p);
        let flags = take_u8(&mut p);
        let mut fields = Vec::new();
        if flags & SAME_FIELDS != 0 {
            let mut names = self.master();
            for _ in 0..names.n {
                fields.push((take_bytes(&mut names.bytes), take_bytes(&mut p)));
            }
        } else {
            let n = take_varint(&mut p);
            for _ in 0..n {
                fields.push((take_bytes(&mut p), take_bytes(&mut p)));
            }
        }
        EntryRef { id: slot.id, fields }
    }

    /// Remove the entry at `slot`.
    pub fn remove(&mut self, slot: Slot, base: StreamId) {
        self.data.drain(slot.start..slot.end);
        self.live -= 1;
        let last = self.last_at as usize;
        if slot.start < last {
            self.last_at = (last - (slot.end - slot.start)) as u32;
        } else if slot.start == last {
            self.last_at = self.slot_iter(base).last().map_or(self.entries_at, |s| s.start as u32);
        }
    }

    /// Remove the first `n` present entries (`slots` is this block's [`Block::slots`]).
    pub fn remove_first(&mut self, slots: &[Slot], n: usize) {
        if n == 0 {
            return;
        }
        let end = slots[n - 1].end;
        self.data.drain(self.entries_at as usize..end);
        self.live -= n as u32;
        self.last_at = if self.live == 0 { self.entries_at } else { self.last_at - (end as u32 - self.entries_at) };
    }

    /// The last present entry's ID.
    pub fn last_id(&self, base: StreamId) -> Option<StreamId> {
        if self.live == 0 {
            return None;
        }
        let mut p = &self.data[self.last_at as usize..];
        let ms = base.ms + take_varint(&mut p);
        Some(StreamId::new(ms, take_varint(&mut p)))
    }
}

/// The master entry's field names.
struct MasterFields<'a> {
    n: usize,
    bytes: &'a [u8],
}

impl MasterFields<'_> {
    fn matches(&self, pairs: &[(&[u8], &[u8])]) -> bool {
        if pairs.len() != self.n {
            return false;
        }
        let mut p = self.bytes;
        pairs.iter().all(|(f, _)| take_bytes(&mut p) == *f)
    }
}

pub(super) use crate::store::varint::put as put_varint;

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn take_u8(p: &mut &[u8]) -> u8 {
    let b = p[0];
    *p = &p[1..];
    b
}

fn take_varint(p: &mut &[u8]) -> u64 {
    let (v, n) = crate::store::varint::get(p, 0);
    *p = &p[n..];
    v
}

fn take_bytes<'a>(p: &mut &'a [u8]) -> &'a [u8] {
    let n = take_varint(p) as usize;
    let (b, rest) = p.split_at(n);
    *p = rest;
    b
}

fn skip_bytes(p: &mut &[u8]) {
    take_bytes(p);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_and_other_fields() {
        let base = StreamId::new(100, 5);
        let mut b = Block::new(&[(b"a", b"1"), (b"b", b"2")]);
        b.push(base, base, &[(b"a", b"1"), (b"b", b"2")]);
        b.push(base, StreamId::new(100, 6), &[(b"x", b"9")]);
        b.push(base, StreamId::new(300, 0), &[(b"a", b"3"), (b"b", b"")]);
        let slots = b.slots(base);
        let ids: Vec<_> = slots.iter().map(|s| s.id).collect();
        assert_eq!(ids, [base, StreamId::new(100, 6), StreamId::new(300, 0)]);
        assert_eq!(b.entry(slots[1]).fields, [(&b"x"[..], &b"9"[..])]);
        assert_eq!(b.entry(slots[2]).fields, [(&b"a"[..], &b"3"[..]), (&b"b"[..], &b""[..])]);
        b.remove(slots[1], base);
        assert_eq!(b.last_id(base), Some(StreamId::new(300, 0)));
        let slots = b.slots(base);
        assert_eq!((slots.len(), b.live, b.appended), (2, 2, 3));
        assert_eq!(b.entry(slots[1]).fields[0], (&b"a"[..], &b"3"[..]));
        b.remove_first(&slots, 1);
        assert_eq!(b.last_id(base), Some(StreamId::new(300, 0)));
        assert_eq!(b.slots(base).len(), 1);
        b.push(base, StreamId::new(400, 0), &[(b"z", b"1")]);
        assert_eq!(b.last_id(base), Some(StreamId::new(400, 0)));
        let slots = b.slots(base);
        b.remove(slots[1], base);
        assert_eq!(b.last_id(base), Some(StreamId::new(300, 0)));
        b.remove(b.slots(base)[0], base);
        assert_eq!((b.last_id(base), b.live), (None, 0));
        b.push(base, StreamId::new(500, 0), &[(b"a", b"1"), (b"b", b"2")]);
        assert_eq!(b.last_id(base), Some(StreamId::new(500, 0)));
    }
}
