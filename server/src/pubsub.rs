//! The pub/sub registry: who is subscribed to which channel, pattern and shard channel.
//! PUBLISH sends each message to the subscribers' event loops over their channels, so
//! messages from one publisher arrive in publish order. Knows nothing about commands.

use crate::core::Core;
use crate::mailbox::WorkerMsg;
use crate::store::glob::glob_match;
use bytes::Bytes;
use hashbrown::HashMap;
use parking_lot::RwLock;
use slotbox_protocol::Frame;
use std::sync::Arc;

/// A subscribed client: its id and event loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subscriber {
    pub client_id: u64,
    pub worker: usize,
}

#[derive(Default)]
pub struct PubSub {
    channels: RwLock<HashMap<Bytes, Vec<Subscriber>>>,
    patterns: RwLock<Vec<(Bytes, Subscriber)>>,
    shard_channels: RwLock<HashMap<Bytes, Vec<Subscriber>>>,
}

/// Which kind of subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl PubSub {
    pub fn subscribe(&self, kind: Kind, name: &Bytes, sub: Subscriber) {
        match kind {
            Kind::Channel => self.channels.write().entry(name.clone()).or_default().push(sub),
            Kind::Shard => self.shard_channels.write().entry(name.clone()).or_default().push(sub),
            Kind::Pattern => self.patterns.write().push((name.clone(), sub)),
        }
    }

    pub fn unsubscribe(&self, kind: Kind, name: &[u8], sub: Subscriber) {
        let remove = |map: &RwLock<HashMap<Bytes, Vec<Subscriber>>>| {
            let mut m = map.write();
            if let Some(v) = m.get_mut(name) {
                v.retain(|s| *s != sub);
                if v.is_empty() {
                    m.remove(name);
                }
            }
        };
        match kind {
            Kind::Channel => remove(&self.channels),
            Kind::Shard => remove(&self.shard_channels),
            Kind::Pattern => self.patterns.write().retain(|(p, s)| !(p.as_ref() == name && *s == sub)),
        }
    }

    /// Deliver a message; returns how many clients received it.
    pub fn publish(&self, core: &Core, channel: &Bytes, message: &Bytes) -> i64 {
        let Some(workers) = core.workers.get() else { return 0 };
        let mut n = 0;
        {
            let chans = self.channels.read();
            if let Some(subs) = chans.get(channel) {
                let f = Arc::new(Frame::Push(vec![
                    Frame::bulk_static("message"),
                    Frame::Bulk(channel.clone()),
                    Frame::Bulk(message.clone()),
                ]));
                for s in subs {
                    workers[s.worker].send(WorkerMsg::Deliver(s.client_id, f.clone()));
                    n += 1;
                }
            }
        }
        let pats = self.patterns.read();
        for (p, s) in pats.iter() {
            if glob_match(p, channel, false) {
                let f = Arc::new(Frame::Push(vec![
                    Frame::bulk_static("pmessage"),
                    Frame::Bulk(p.clone()),
                    Frame::Bulk(channel.clone()),
                    Frame::Bulk(message.clone()),
                ]));
                workers[s.worker].send(WorkerMsg::Deliver(s.client_id, f));
                n += 1;
            }
        }
        n
    }

    /// SPUBLISH: deliver to shard-channel subscribers.
    pub fn spublish(&self, core: &Core, channel: &Bytes, message: &Bytes) -> i64 {
        let Some(workers) = core.workers.get() else { return 0 };
        let chans = self.shard_channels.read();
        let Some(subs) = chans.get(channel) else { return 0 };
        let f = Arc::new(Frame::Push(vec![
            Frame::bulk_static("smessage"),
            Frame::Bulk(channel.clone()),
            Frame::Bulk(message.clone()),
        ]));
        for s in subs {
            workers[s.worker].send(WorkerMsg::Deliver(s.client_id, f.clone()));
        }
        subs.len() as i64
    }

    /// Active channels (with at least one subscriber) matching an optional pattern.
    pub fn channel_names(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let map = if kind == Kind::Shard { self.shard_channels.read() } else { self.channels.read() };
        map.keys().filter(|c| pattern.is_none_or(|p| glob_match(p, c, false))).cloned().collect()
    }

    pub fn num_subscribers(&self, kind: Kind, channel: &[u8]) -> usize {
        let map = if kind == Kind::Shard { self.shard_channels.read() } else { self.channels.read() };
        map.get(channel).map_or(0, |v| v.len())
    }

    /// Number of distinct patterns subscribed (PUBSUB NUMPAT).
    pub fn num_patterns(&self) -> usize {
        let pats = self.patterns.read();
        let mut names: Vec<&Bytes> = pats.iter().map(|(p, _)| p).collect();
        names.sort();
        names.dedup();
        names.len()
    }

    /// Totals for INFO stats: (channels, patterns, shard channels).
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.channels.read().len(), self.num_patterns(), self.shard_channels.read().len())
    }
}
