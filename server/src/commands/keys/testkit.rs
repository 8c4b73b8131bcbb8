//! Test harness for command handlers: one server state and one client, requests given as
//! string slices and run through `commands::execute` exactly as a connection would.
//! Test-only; shared with the string commands' tests.

use crate::client::ClientInfo;
use crate::commands::execute;
use crate::commands::session::ClientState;
use crate::config::Config;
use crate::shared::Shared;
use crate::store::Entry;
use bytes::Bytes;
use slotbox_protocol::{key_hash_slot, Frame};
use std::sync::Arc;

pub struct Harness {
    pub shared: Shared,
    client: ClientState,
}

impl Harness {
    pub fn new() -> Self {
        let shared = Shared::new(Config::ephemeral());
        let addr = "127.0.0.1:1".parse().expect("address");
        let info = Arc::new(ClientInfo::new(1, addr, addr, -1, 0));
        Harness { shared, client: ClientState::new(info, false) }
    }

    /// Run one command.
    pub fn call(&mut self, args: &[&str]) -> Frame {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.call_raw(&argv)
    }

    /// Run one command given as raw byte strings.
    pub fn call_raw(&mut self, args: &[&[u8]]) -> Frame {
        let argv: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        decoded(execute(&self.shared, &mut self.client, &argv))
    }

    /// The stored entry of `key`, as is (expired or not).
    pub fn entry(&self, key: &str) -> Option<Entry> {
        self.shared
            .keyspace
            .db(0)
            .shard(key_hash_slot(key.as_bytes()))
            .get(key.as_bytes())
            .map(crate::store::Node::to_entry)
    }

    /// Force the absolute expiry of an existing key (e.g. into the past).
    pub fn force_expire(&self, key: &str, at_ms: i64) {
        self.shared.keyspace.db(0).shard(key_hash_slot(key.as_bytes())).set_expire(key.as_bytes(), at_ms);
    }

    /// (keyspace_hits, keyspace_misses).
    pub fn hits_misses(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.shared.stats.keyspace_hits.load(Relaxed), self.shared.stats.keyspace_misses.load(Relaxed))
    }
}

/// A reply as a client reads it: arrays the seam built pre-encoded (`encode::bulk_array`) are
/// decoded into frames, so tests compare elements.
pub fn decoded(reply: Frame) -> Frame {
    match reply {
        Frame::Raw(raw) if raw.first() == Some(&b'*') => match slotbox_protocol::resp_parse::parse_frame(&raw) {
            Ok(Some((f, used))) if used == raw.len() => f,
            _ => Frame::Raw(raw),
        },
        Frame::Array(items) => Frame::Array(items.into_iter().map(decoded).collect()),
        Frame::Many(items) => Frame::Many(items.into_iter().map(decoded).collect()),
        Frame::Map(pairs) => Frame::Map(pairs.into_iter().map(|(k, v)| (decoded(k), decoded(v))).collect()),
        Frame::Set(items) => Frame::Set(items.into_iter().map(decoded).collect()),
        Frame::Push(items) => Frame::Push(items.into_iter().map(decoded).collect()),
        other => other,
    }
}

pub fn ok() -> Frame {
    Frame::ok()
}

pub fn bulk(s: &str) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
}

pub fn int(i: i64) -> Frame {
    Frame::Integer(i)
}

pub fn err(s: &str) -> Frame {
    Frame::error(s.to_string())
}

pub fn nil() -> Frame {
    Frame::Null
}

pub fn arr(items: Vec<Frame>) -> Frame {
    Frame::Array(items)
}

/// The bulk strings of an array reply, sorted.
pub fn sorted_bulks(f: &Frame) -> Vec<String> {
    let Frame::Array(items) = f else { panic!("not an array: {f:?}") };
    let mut v: Vec<String> =
        items.iter().map(|i| String::from_utf8_lossy(i.as_bytes().expect("bulk")).into_owned()).collect();
    v.sort();
    v
}
