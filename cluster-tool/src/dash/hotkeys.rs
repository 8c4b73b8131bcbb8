//! [`HotKeys`]: the top keys of one node by access frequency, sampled as `redis-cli
//! --hotkeys` does (SCAN, then OBJECT FREQ of each key, which needs an LFU
//! `maxmemory-policy`). A bounded number of keys per poll, resuming the SCAN cursor on the
//! next poll, so a big keyspace costs the node little; keys not seen in a whole pass drop out.

use crate::conn::{frame_text, Conn};
use slotbox_protocol::Frame;
use std::collections::HashMap;

/// Keys whose frequency is read per poll and node.
const KEYS_PER_POLL: usize = 2000;
/// Keys shown per node.
pub const TOP: usize = 10;

#[derive(Default)]
pub struct HotKeys {
    cursor: String,
    /// Frequency of every key seen in the current and the previous pass.
    table: HashMap<String, u64>,
    /// Keys seen in the current pass.
    this_pass: HashMap<String, ()>,
}

impl HotKeys {
    pub fn clear(&mut self) {
        *self = HotKeys::default();
    }

    /// Read up to `KEYS_PER_POLL` more keys' frequencies; the current top `TOP` and the
    /// number of commands sent.
    pub fn sample(&mut self, c: &mut Conn) -> (Vec<super::model::HotKey>, u64) {
        let mut read = 0;
        let mut sent = 0;
        loop {
            let cursor = if self.cursor.is_empty() { "0".to_string() } else { self.cursor.clone() };
            sent += 1;
            let Ok(Frame::Array(reply)) = c.call(&["SCAN", cursor.as_str(), "COUNT", "500"]) else { break };
            let next = reply.first().and_then(frame_text).unwrap_or_else(|| "0".into());
            let keys: Vec<String> = match reply.get(1) {
                Some(Frame::Array(k)) => k.iter().filter_map(frame_text).collect(),
                _ => Vec::new(),
            };
            self.read_freqs(c, &keys);
            read += keys.len();
            sent += keys.len() as u64;
            if next == "0" {
                // A whole pass: forget keys it did not see (deleted or moved away).
                let seen = std::mem::take(&mut self.this_pass);
                self.table.retain(|k, _| seen.contains_key(k));
                self.cursor.clear();
                break;
            }
            self.cursor = next;
            if read >= KEYS_PER_POLL {
                break;
            }
        }
        (self.top(), sent)
    }

    /// OBJECT FREQ of `keys`, pipelined.
    fn read_freqs(&mut self, c: &mut Conn, keys: &[String]) {
        for k in keys {
            if c.send(&["OBJECT", "FREQ", k.as_str()]).is_err() {
                return;
            }
        }
        for k in keys {
            match c.read_reply() {
                Ok(Frame::Integer(f)) => {
                    self.table.insert(k.clone(), f.max(0) as u64);
                    self.this_pass.insert(k.clone(), ());
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    }

    fn top(&self) -> Vec<super::model::HotKey> {
        let mut all: Vec<(&String, &u64)> = self.table.iter().filter(|(_, f)| **f > 0).collect();
        all.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        all.into_iter().take(TOP).map(|(k, f)| super::model::HotKey { key: k.clone(), freq: *f }).collect()
    }
}
