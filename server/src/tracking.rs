//! Client-side caching bookkeeping (`CLIENT TRACKING`), as Redis 7.0's `tracking.c`: which
//! clients track keys and how (default, BCAST with prefixes, OPTIN / OPTOUT, NOLOOP,
//! REDIRECT), the table of keys each default-mode client read (key names, whatever the
//! database), and the keys modified under each BCAST prefix since the last broadcast.
//!
//! This module only decides *who* is told about *which* keys; the caller turns that into
//! messages (a RESP3 `invalidate` push, or a `__redis__:invalidate` message for a RESP2
//! client redirecting to a subscriber) and delivers them. It knows nothing of connections.

use bytes::Bytes;
use hashbrown::{HashMap, HashSet};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A tracking client's options (`CLIENT TRACKING ON ...`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// Client id the messages go to (0: the client itself).
    pub redirect: u64,
}

/// What CLIENT TRACKINGINFO and CLIENT LIST show of a tracking client.
#[derive(Clone, Debug, Default)]
pub struct Status {
    pub options: Options,
    pub broken_redirect: bool,
    pub prefixes: Vec<Bytes>,
}

#[derive(Default)]
struct Client {
    status: Status,
}

#[derive(Default)]
struct Prefix {
    clients: HashSet<u64>,
    /// Keys modified since the last broadcast, each with the client that modified it last
    /// (NOLOOP leaves a client's own changes out).
    keys: BTreeMap<Bytes, Option<u64>>,
}

#[derive(Default)]
struct Inner {
    /// Key → ids of the default-mode clients that read it.
    keys: HashMap<Bytes, HashSet<u64>>,
    /// Sum of the id sets' sizes (INFO `tracking_total_items`).
    items: u64,
    prefixes: BTreeMap<Bytes, Prefix>,
    clients: HashMap<u64, Client>,
}

/// One server's tracking state.
#[derive(Default)]
pub struct Tracking {
    inner: Mutex<Inner>,
    /// Keys evicted before the running command, told once its admission is done.
    evicted: Mutex<Vec<Bytes>>,
    /// Clients with tracking on (INFO `tracking_clients`): zero means nothing to do.
    clients: AtomicUsize,
}

/// Do two prefixes overlap (one is a prefix of the other)?
fn overlap(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

impl Tracking {
    /// Is any client tracking? (Cheap: checked around every command.)
    #[inline]
    pub fn active(&self) -> bool {
        self.clients.load(Ordering::Relaxed) > 0
    }

    pub fn tracking_clients(&self) -> usize {
        self.clients.load(Ordering::Relaxed)
    }

    /// (keys, items, prefixes) for INFO.
    pub fn totals(&self) -> (usize, u64, usize) {
        let i = self.inner.lock();
        (i.keys.len(), i.items, i.prefixes.len())
    }

    pub fn status(&self, id: u64) -> Option<Status> {
        self.inner.lock().clients.get(&id).map(|c| c.status.clone())
    }

    /// Check BCAST prefixes for overlaps with each other and with the client's own, with
    /// Redis's error text.
    pub fn check_prefixes(&self, id: u64, prefixes: &[Bytes]) -> Result<(), String> {
        let i = self.inner.lock();
        let own: &[Bytes] = i.clients.get(&id).map(|c| &c.status.prefixes[..]).unwrap_or(&[]);
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        for (n, p) in prefixes.iter().enumerate() {
            if let Some(have) = own.iter().find(|have| overlap(have, p)) {
                return Err(format!(
                    "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                    text(p),
                    text(have)
                ));
            }
            if let Some(other) = prefixes[n + 1..].iter().find(|q| overlap(p, q)) {
                return Err(format!(
                    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                    text(p),
                    text(other)
                ));
            }
        }
        Ok(())
    }

    /// Turn tracking on for `id` (or change its options), as Redis's `enableTracking`: the
    /// options replace the old ones, BCAST prefixes are added to those it has.
    pub fn enable(&self, id: u64, options: Options, prefixes: &[Bytes]) {
        let mut i = self.inner.lock();
        let i = &mut *i;
        let c = i.clients.entry(id).or_insert_with(|| {
            self.clients.fetch_add(1, Ordering::Relaxed);
            Client::default()
        });
        c.status.options = options;
        c.status.broken_redirect = false;
        if !options.bcast {
            return;
        }
        let empty = [Bytes::new()];
        let wanted = if prefixes.is_empty() { &empty[..] } else { prefixes };
        for p in wanted {
            if i.prefixes.entry(p.clone()).or_default().clients.insert(id) {
                c.status.prefixes.push(p.clone());
            }
        }
        c.status.prefixes.sort();
    }

    /// Turn tracking off for `id` (CLIENT TRACKING OFF, RESET, disconnection). Its ids in
    /// the key table go lazily, as in Redis.
    pub fn disable(&self, id: u64) {
        let mut i = self.inner.lock();
        let Some(c) = i.clients.remove(&id) else { return };
        self.clients.fetch_sub(1, Ordering::Relaxed);
        if i.clients.is_empty() {
            // No tracking client left: nobody is told about the keys the table holds.
            i.keys = HashMap::new();
            i.items = 0;
        }
        for p in &c.status.prefixes {
            if let Some(state) = i.prefixes.get_mut(p) {
                state.clients.remove(&id);
                if state.clients.is_empty() {
                    i.prefixes.remove(p);
                }
            }
        }
    }

    /// Note that the redirect of `id` is gone (CLIENT TRACKINGINFO `broken_redirect`).
    pub fn mark_broken(&self, id: u64) {
        if let Some(c) = self.inner.lock().clients.get_mut(&id) {
            c.status.broken_redirect = true;
        }
    }

    /// A default-mode client read `keys` (after a read-only command): remember them, unless
    /// OPTIN without `CLIENT CACHING yes` or OPTOUT with `CLIENT CACHING no` (`caching`).
    pub fn remember(&self, id: u64, keys: &[&[u8]], caching: bool) {
        let mut i = self.inner.lock();
        let Some(c) = i.clients.get(&id) else { return };
        let o = c.status.options;
        if o.bcast || (o.optin && !caching) || (o.optout && caching) {
            return;
        }
        for key in keys {
            let added = match i.keys.get_mut(*key) {
                Some(ids) => ids.insert(id),
                None => i.keys.insert(Bytes::copy_from_slice(key), HashSet::from_iter([id])).is_none(),
            };
            if added {
                i.items += 1;
            }
        }
    }

    /// `key` was modified by client `by` (None: expiry, eviction): note it for the BCAST
    /// prefixes it matches, and return the default-mode clients to tell now (the key leaves
    /// the table). `bcast` false only drops the key from the table (its clients are still
    /// told): the table-size limit.
    pub fn invalidate(&self, key: &[u8], by: Option<u64>, bcast: bool) -> Vec<u64> {
        let mut i = self.inner.lock();
        let i = &mut *i;
        if bcast && !i.prefixes.is_empty() {
            for (p, state) in i.prefixes.iter_mut() {
                if key.starts_with(p) {
                    state.keys.insert(Bytes::copy_from_slice(key), by);
                }
            }
        }
        let Some(ids) = i.keys.remove(key) else { return Vec::new() };
        i.items -= ids.len() as u64;
        ids.into_iter()
            .filter(|id| {
                // Gone, switched to BCAST since it read the key, or its own change under NOLOOP.
                let told = |o: Options| !o.bcast && (!o.noloop || by != Some(*id));
                i.clients.get(id).is_some_and(|c| told(c.status.options))
            })
            .collect()
    }

    /// A key was evicted (to make room for a command about to run).
    pub fn note_evicted(&self, key: &[u8]) {
        self.evicted.lock().push(Bytes::copy_from_slice(key));
    }

    pub fn take_evicted(&self) -> Vec<Bytes> {
        std::mem::take(&mut *self.evicted.lock())
    }

    /// The BCAST messages due: for each prefix with modified keys, each of its clients with
    /// the keys (a NOLOOP client without its own changes; nothing if none is left).
    pub fn take_broadcasts(&self) -> Vec<(u64, Vec<Bytes>)> {
        let mut i = self.inner.lock();
        let i = &mut *i;
        let mut out = Vec::new();
        for state in i.prefixes.values_mut() {
            if state.keys.is_empty() {
                continue;
            }
            let keys = std::mem::take(&mut state.keys);
            let mut ids: Vec<u64> = state.clients.iter().copied().collect();
            ids.sort_unstable();
            for id in ids {
                let noloop = i.clients.get(&id).is_some_and(|c| c.status.options.noloop);
                let list: Vec<Bytes> =
                    keys.iter().filter(|(_, by)| !noloop || **by != Some(id)).map(|(k, _)| k.clone()).collect();
                if !list.is_empty() {
                    out.push((id, list));
                }
            }
        }
        out
    }

    /// FLUSHALL / FLUSHDB: every tracking client is told "everything" (a null), and the key
    /// table is emptied. Returns the clients.
    pub fn flush(&self) -> Vec<u64> {
        let mut i = self.inner.lock();
        i.keys = HashMap::new();
        i.items = 0;
        let mut ids: Vec<u64> = i.clients.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Over `tracking-table-max-keys` (0: no limit): keys to drop from the table (their
    /// clients are told as if they were modified), at most `effort` of them.
    pub fn over_limit(&self, max_keys: usize, effort: usize) -> Vec<Bytes> {
        if max_keys == 0 {
            return Vec::new();
        }
        let i = self.inner.lock();
        let over = i.keys.len().saturating_sub(max_keys).min(effort);
        i.keys.keys().take(over).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn default_mode_tells_readers_once() {
        let t = Tracking::default();
        t.enable(1, Options::default(), &[]);
        t.enable(2, Options { noloop: true, ..Default::default() }, &[]);
        t.remember(1, &[b"k"], false);
        t.remember(2, &[b"k"], false);
        assert_eq!(t.totals(), (1, 2, 0));
        let mut who = t.invalidate(b"k", Some(2), true);
        who.sort();
        assert_eq!(who, vec![1], "NOLOOP leaves out the client's own change");
        assert!(t.invalidate(b"k", None, true).is_empty(), "the key left the table");
        t.disable(1);
        t.disable(2);
        assert!(!t.active());
    }

    #[test]
    fn optin_and_optout_follow_caching() {
        let t = Tracking::default();
        t.enable(1, Options { optin: true, ..Default::default() }, &[]);
        t.remember(1, &[b"a"], false);
        t.remember(1, &[b"b"], true);
        assert!(t.invalidate(b"a", None, true).is_empty());
        assert_eq!(t.invalidate(b"b", None, true), vec![1]);
        t.enable(2, Options { optout: true, ..Default::default() }, &[]);
        t.remember(2, &[b"c"], true);
        assert!(t.invalidate(b"c", None, true).is_empty());
    }

    #[test]
    fn bcast_groups_keys_by_prefix_and_checks_overlaps() {
        let t = Tracking::default();
        let bcast = Options { bcast: true, noloop: true, ..Default::default() };
        t.enable(1, bcast, &[b("a:"), b("b:")]);
        assert!(t.check_prefixes(1, &[b("a:x")]).unwrap_err().contains("overlaps with an existing prefix 'a:'"));
        assert!(t.check_prefixes(1, &[b("c"), b("cd")]).unwrap_err().contains("another provided prefix 'cd'"));
        t.invalidate(b"a:1", Some(9), true);
        t.invalidate(b"a:2", Some(1), true);
        t.invalidate(b"c:1", Some(9), true);
        assert_eq!(t.take_broadcasts(), vec![(1, vec![b("a:1")])]);
        assert!(t.take_broadcasts().is_empty(), "sent once");
        assert_eq!(t.status(1).unwrap().prefixes, vec![b("a:"), b("b:")]);
    }
}
