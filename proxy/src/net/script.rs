//! SCRIPT LOAD / EXISTS / FLUSH through the proxy: sent to every backend and the replies
//! merged, so EVALSHA (routed by its first key, like EVAL and FCALL) finds its script on
//! whichever backend holds the key.

use super::backend::encode_request;
use super::client::Slot;
use super::worker::Worker;
use crate::fanout::{Merge, MergeKind};
use bytes::Bytes;
use mio::Token;
use slotbox_protocol::Frame;

impl Worker {
    /// SCRIPT LOAD / EXISTS / FLUSH, sent to every live backend (every master in a cluster
    /// pool) so an EVALSHA finds its script wherever its key lives: LOAD answers the SHA,
    /// EXISTS 1 where every backend has the script, FLUSH +OK (any error wins).
    pub fn script_fanout(&mut self, ct: Token, args: &[Bytes]) -> Result<(), Frame> {
        let sub = args.get(1).map(|a| String::from_utf8_lossy(a).to_ascii_lowercase()).unwrap_or_default();
        let kind = match sub.as_str() {
            "load" => MergeKind::Same,
            "exists" => MergeKind::AllOf,
            "flush" => MergeKind::Ok,
            _ => return Err(super::request::unsupported(&format!("script|{sub}"))),
        };
        let (pi, proto) = {
            let c = &self.clients[&ct];
            (c.pool, c.session.proto)
        };
        let targets = self.pools[pi].every_target();
        if targets.is_empty() {
            return Err(self.no_backend(pi));
        }
        let request = Bytes::from(encode_request(args));
        let seq = self.push_slot(ct, Slot::Merging(Merge::new(kind, targets.len())));
        for (part, t) in targets.into_iter().enumerate() {
            self.send(pi, t, ct, proto, seq, part, request.clone(), 0);
        }
        Ok(())
    }
}
