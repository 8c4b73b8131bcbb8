//! The near cache for hot keys (`hot_key_cache:`), for a worker: reads of hot keys answered
//! from the pool's `HotCache`, fills read through the server's tracking connection (RESP3,
//! `CLIENT TRACKING on`: the server then pushes `invalidate` for every key read there once it
//! changes, after the reply that read it), and local invalidation of the keys a write through
//! this worker names, before it is forwarded.
//!
//! Consistency: a client's own writes through the proxy drop its worker's copies at once, and
//! a fill is only sent for a client with no reply outstanding (so its earlier writes have
//! been applied), which gives a client read-your-writes. Writes through other workers or
//! straight to the backend reach the cache when the server's invalidation arrives (one round
//! trip after the write), and nothing is served past `ttl_ms`. A lost tracking connection,
//! `invalidate` with no keys (FLUSHALL) or a reload drop the whole cache.

use super::backend::{encode_request, Inflight, Waiter};
use super::client::Slot;
use super::pool::Target;
use super::redirect::{parse_redirect, Redirect};
use super::request::spec_for;
use super::worker::Worker;
use crate::hot_cache::Lookup;
use crate::stats::incr;
use bytes::Bytes;
use mio::Token;
use slotbox_protocol::command::{self, flags};
use slotbox_protocol::{Frame, Protocol};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Reads the near cache keeps: one key each, a reply that depends only on that key's value
/// and the arguments, and whose RESP3 form turns into the RESP2 one type by type (not ZRANGE
/// WITHSCORES, whose pairs nest in RESP3 only).
const CACHEABLE: &[&str] = &[
    "get",
    "strlen",
    "getrange",
    "substr",
    "getbit",
    "bitcount",
    "hget",
    "hmget",
    "hgetall",
    "hlen",
    "hexists",
    "hstrlen",
    "hkeys",
    "hvals",
    "lrange",
    "llen",
    "lindex",
    "smembers",
    "sismember",
    "smismember",
    "scard",
    "zscore",
    "zmscore",
    "zcard",
    "zrank",
    "zrevrank",
    "exists",
    "type",
];

/// The request as the cache tells reads apart: lowercase name, then the arguments.
fn normalized(name: &str, args: &[Bytes]) -> Bytes {
    let mut all = Vec::with_capacity(args.len());
    all.push(Bytes::copy_from_slice(name.as_bytes()));
    all.extend(args[1..].iter().cloned());
    Bytes::from(encode_request(&all))
}

impl Worker {
    /// Before a request of pool `pi` goes anywhere: a command that may write drops the
    /// cached replies of its keys (a pipelined read after it must not see the old value).
    pub fn cache_note_write(&mut self, pi: usize, args: &[Bytes]) {
        if self.pools[pi].cache.is_none() {
            return;
        }
        let Some(spec) = command::lookup(&args[0]) else { return };
        let spec = spec_for(spec, args);
        if spec.has(flags::READONLY) || !spec.arity_ok(args.len()) {
            return;
        }
        let keys = command::extract_keys(spec, args);
        let pool = &mut self.pools[pi];
        let Some(cache) = pool.cache.as_mut() else { return };
        let dropped = keys.iter().filter(|&&i| cache.invalidate(&args[i])).count();
        pool.shared.stats.hot_cache_invalidations.fetch_add(dropped as u64, Ordering::Relaxed);
        pool.cache_report();
    }

    /// A read of one key routed to `target`: answered from the cache (true), sent as a fill
    /// (true), or left to the caller to forward (false).
    pub fn cache_read(&mut self, ct: Token, pi: usize, name: &str, args: &[Bytes], key: usize, target: Target) -> bool {
        if self.pools[pi].cache.is_none() || !CACHEABLE.contains(&name) || (name == "exists" && args.len() != 2) {
            return false;
        }
        let Some(server) = target.server else { return false };
        let Some(c) = self.clients.get(&ct) else { return false };
        if c.tx.in_multi || c.tx.pin.is_some() || c.tx.draining.is_some() {
            return false;
        }
        let (proto, idle) = (c.session.proto, !c.awaiting_replies());
        let norm = normalized(name, args);
        let k = args[key].clone();
        let pool = &mut self.pools[pi];
        let Some(cache) = pool.cache.as_mut() else { return false };
        let (verdict, dropped) = cache.lookup(&k, &norm, proto, Instant::now());
        let st = pool.shared.stats.clone();
        st.hot_cache_expirations.fetch_add(dropped.expired, Ordering::Relaxed);
        pool.cache_report();
        match verdict {
            Lookup::Hit(raw) => {
                incr(&st.hot_cache_hits);
                self.push_slot(ct, Slot::Ready(raw));
                self.dirty_clients.push(ct);
                true
            }
            Lookup::Miss => {
                incr(&st.hot_cache_misses);
                false
            }
            Lookup::Fill => {
                incr(&st.hot_cache_misses);
                if !idle || pool.servers[server].tracking_refused {
                    return false;
                }
                let Ok(bt) = self.tracking_conn(pi, server) else { return false };
                if let Some(cache) = self.pools[pi].cache.as_mut() {
                    cache.begin_fill(&k);
                }
                let seq = self.push_slot(ct, Slot::Waiting);
                let request = Bytes::from(encode_request(args));
                self.send_on(bt, &request, Waiter::Fill { client: ct, seq, key: k, norm, request: request.clone() });
                true
            }
        }
    }

    /// The reply to a fill: kept when nothing overtook it, and handed to its client (a
    /// redirect is followed the usual way, uncached).
    pub fn fill_answered(&mut self, bt: Token, frame: Frame, raw: Bytes, inflight: Inflight, now: Instant) {
        let Waiter::Fill { client, seq, key, norm, request } = inflight.waiter else { return };
        let Some(b) = self.backends.get(&bt) else { return };
        let (pi, trusted, st) = (b.pool, b.tracking_on, b.stats.clone());
        incr(&st.responses);
        st.response_bytes.fetch_add(raw.len() as u64, Ordering::Relaxed);
        st.latency.observe(now.saturating_duration_since(inflight.sent_at));
        if frame.is_error() {
            incr(&st.error_replies);
        }
        let pool = &mut self.pools[pi];
        if let Some(cache) = pool.cache.as_mut() {
            if cache.end_fill(&key, norm, &frame, inflight.sent_at, trusted) {
                incr(&pool.shared.stats.hot_cache_fills);
            }
            pool.cache_report();
        }
        let proto = self.clients.get(&client).map_or(Protocol::Resp2, |c| c.session.proto);
        if self.pools[pi].slots.is_some() {
            if let Some((ask, slot, addr)) = frame.error_text().and_then(parse_redirect) {
                return self.redirect(pi, Redirect { ask, slot, addr, proto }, client, seq, 0, request, 0);
            }
        }
        // The tracking connection speaks RESP3: a RESP2 client gets the reply re-encoded.
        let raw = (proto == Protocol::Resp3).then_some(raw);
        self.deliver(client, seq, 0, frame, raw);
    }

    /// `CLIENT TRACKING on` answered on tracking connection `bt`.
    pub fn tracking_answered(&mut self, bt: Token, frame: &Frame) {
        let Some(b) = self.backends.get_mut(&bt) else { return };
        b.tracking_on = !frame.is_error();
        if frame.is_error() {
            let (pi, server) = (b.pool, b.server);
            if let Some(s) = self.pools[pi].servers.get_mut(server) {
                s.tracking_refused = true;
            }
        }
    }

    /// The push frames read on tracking connection `bt`: `invalidate` drops the keys named,
    /// or everything (no keys: a flush).
    pub fn tracking_pushes(&mut self, bt: Token) {
        let Some(b) = self.backends.get_mut(&bt) else { return };
        let pushes = std::mem::take(&mut b.pushes);
        let pool = &mut self.pools[b.pool];
        for push in pushes {
            let Frame::Push(items) = push else { continue };
            if items.first().and_then(Frame::as_bytes) != Some(b"invalidate") {
                continue;
            }
            match (items.get(1), pool.cache.as_mut()) {
                (Some(Frame::Array(keys)), Some(cache)) => {
                    let n = keys.iter().filter_map(Frame::as_bytes).filter(|k| cache.invalidate(k)).count();
                    pool.shared.stats.hot_cache_invalidations.fetch_add(n as u64, Ordering::Relaxed);
                }
                _ => pool.cache_clear(),
            }
        }
        pool.cache_report();
    }
}
