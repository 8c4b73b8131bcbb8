//! The near cache of one pool on one worker (`hot_key_cache:`): replies to reads of hot keys,
//! kept in the proxy's memory. Pure data: which keys are hot (reads per one-second window),
//! the replies held (per key, per distinct read request, each until its TTL), and the fills
//! under way. The worker (`net::near_cache`) decides when to fill, sends the reads on a
//! connection with `CLIENT TRACKING on`, and calls [`HotCache::invalidate`] for every key the
//! server says changed and every key a write through the proxy names.
//!
//! A fill that a write through this worker overtook is *poisoned*: its reply may predate the
//! write, so it is handed to the client but not kept.

use bytes::Bytes;
use slotbox_protocol::{encode, Frame, Protocol};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::config::HotKeyCache;

/// Replies bigger than this are passed through, not kept.
pub const MAX_REPLY_BYTES: usize = 1 << 20;
/// Distinct read requests kept per key (GET k, HGET k f1, HGET k f2, ...).
const MAX_VARIANTS: usize = 8;
/// How long the reads counted towards hotness are remembered.
const WINDOW: Duration = Duration::from_secs(1);

/// One reply held, with its encodings for RESP2 and RESP3 clients made when first asked.
#[derive(Debug)]
struct Held {
    request: Bytes,
    frame: Frame,
    encoded: [Option<Bytes>; 2],
}

#[derive(Debug)]
struct KeyEntry {
    expires: Instant,
    replies: Vec<Held>,
}

/// What to do with a cacheable read.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Answer with these bytes.
    Hit(Bytes),
    /// Hot and not held: read it through the tracking connection and keep the reply.
    Fill,
    /// Forward as usual.
    Miss,
}

/// Counts for the stats, as of one call.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Dropped {
    pub invalidated: u64,
    pub expired: u64,
}

pub struct HotCache {
    cfg: HotKeyCache,
    entries: HashMap<Bytes, KeyEntry>,
    /// Keys in the order they were added, for eviction (may name keys gone since).
    order: VecDeque<Bytes>,
    heat: HashMap<Bytes, u32>,
    window_start: Instant,
    /// Keys with a fill under way, and whether a write overtook it.
    pending: HashMap<Bytes, bool>,
}

impl HotCache {
    pub fn new(cfg: HotKeyCache, now: Instant) -> HotCache {
        HotCache {
            cfg,
            entries: HashMap::new(),
            order: VecDeque::new(),
            heat: HashMap::new(),
            window_start: now,
            pending: HashMap::new(),
        }
    }

    pub fn config(&self) -> HotKeyCache {
        self.cfg
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A read of `key` (the whole request is `request`, lowercase name first) by a client
    /// speaking `proto`. `expired` counts a held reply that outlived its TTL.
    pub fn lookup(&mut self, key: &Bytes, request: &[u8], proto: Protocol, now: Instant) -> (Lookup, Dropped) {
        let mut dropped = Dropped::default();
        if let Some(e) = self.entries.get_mut(key) {
            if now >= e.expires {
                self.entries.remove(key);
                dropped.expired = 1;
            } else if let Some(h) = e.replies.iter_mut().find(|h| h.request == request) {
                let i = usize::from(proto == Protocol::Resp3);
                let raw = h.encoded[i].get_or_insert_with(|| {
                    let mut v = Vec::new();
                    encode(&h.frame, proto, &mut v);
                    Bytes::from(v)
                });
                return (Lookup::Hit(raw.clone()), dropped);
            }
        }
        if now.duration_since(self.window_start) >= WINDOW || self.heat.len() > 16 * self.cfg.size + 1024 {
            self.heat.clear();
            self.window_start = now;
        }
        let n = self.heat.entry(key.clone()).or_insert(0);
        *n = n.saturating_add(1);
        let hot = *n >= self.cfg.min_hits;
        let verdict = if hot && !self.pending.contains_key(key) { Lookup::Fill } else { Lookup::Miss };
        (verdict, dropped)
    }

    /// A fill of `key` was sent.
    pub fn begin_fill(&mut self, key: &Bytes) {
        self.pending.insert(key.clone(), false);
    }

    /// The reply to a fill of `key` sent at `sent_at` came back; `trusted` is false when the
    /// connection's tracking is not known to be on. Returns whether it is now held.
    pub fn end_fill(&mut self, key: &Bytes, request: Bytes, frame: &Frame, sent_at: Instant, trusted: bool) -> bool {
        let poisoned = self.pending.remove(key).unwrap_or(true);
        if poisoned || !trusted || frame.is_error() || approx_size(frame) > MAX_REPLY_BYTES {
            return false;
        }
        let expires = sent_at + Duration::from_millis(self.cfg.ttl_ms);
        if !self.entries.contains_key(key) {
            self.make_room();
            self.order.push_back(key.clone());
        }
        let e = self.entries.entry(key.clone()).or_insert_with(|| KeyEntry { expires, replies: Vec::new() });
        // Every reply of a key shares the earliest expiry, so one check covers them all.
        e.expires = e.expires.min(expires);
        e.replies.retain(|h| h.request != request);
        if e.replies.len() >= MAX_VARIANTS {
            e.replies.remove(0);
        }
        e.replies.push(Held { request, frame: frame.clone(), encoded: [None, None] });
        true
    }

    fn make_room(&mut self) {
        while self.entries.len() >= self.cfg.size {
            match self.order.pop_front() {
                Some(k) => {
                    self.entries.remove(&k);
                }
                None => break,
            }
        }
        if self.order.len() > 2 * self.cfg.size + 16 {
            let entries = &self.entries;
            self.order.retain(|k| entries.contains_key(k));
        }
    }

    /// `key` changed: drop what is held and poison a fill under way. Returns whether a
    /// reply was held.
    pub fn invalidate(&mut self, key: &[u8]) -> bool {
        if let Some(p) = self.pending.get_mut(key) {
            *p = true;
        }
        self.entries.remove(key).is_some()
    }

    /// Every key may have changed (FLUSHALL, or the invalidations can no longer be trusted):
    /// drop everything and forget every fill under way (a fill no longer pending counts as
    /// poisoned when its reply comes; a fill lost with its connection never blocks its key).
    /// Returns how many keys were held.
    pub fn clear(&mut self) -> usize {
        self.pending.clear();
        self.order.clear();
        let n = self.entries.len();
        self.entries.clear();
        n
    }
}

/// Roughly how many bytes `f` takes on the wire.
fn approx_size(f: &Frame) -> usize {
    match f {
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => v.iter().map(|x| 4 + approx_size(x)).sum(),
        Frame::Map(pairs) => pairs.iter().map(|(k, v)| 8 + approx_size(k) + approx_size(v)).sum(),
        other => other.as_bytes().map_or(16, |b| b.len() + 16),
    }
}

#[cfg(test)]
#[path = "hot_cache_tests.rs"]
mod tests;
