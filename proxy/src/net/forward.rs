//! Forwarding, for a worker: the backend a request's keys map to, sending a request (or one
//! part of a split one) on the right connection, and handing replies to clients in request
//! order. Every feature (`tx`, `blocking`, `pubsub`, `dispatch`) sends and answers through
//! these. A client's commands follow its WATCH connection (or the connection its last EXEC is
//! still finishing on) to the server it is on, so nothing it sends overtakes them there.

use super::backend::Waiter;
use super::client::{Reply, Slot};
use super::connect::proto_idx;
use super::pool::Target;
use super::worker::Worker;
use crate::fanout;
use crate::stats::incr;
use bytes::Bytes;
use mio::Token;
use slotbox_protocol::{encode, Frame, Protocol};

impl Worker {
    /// Answer an error right away (and count it).
    pub fn reply_error(&mut self, ct: Token, f: Frame) {
        if let Some(c) = self.clients.get_mut(&ct) {
            incr(&self.pools[c.pool].shared.stats.errors);
            c.push_frame(&f);
        }
    }

    /// The one target of the keys at `keys`, or the error for keys that span backends
    /// (CROSSSLOT in cluster pools).
    pub fn common_target(&self, pi: usize, name: &str, args: &[Bytes], keys: &[usize]) -> Result<Target, Frame> {
        let pool = &self.pools[pi];
        let first = pool.target(&args[keys[0]]);
        for &k in &keys[1..] {
            let t = pool.target(&args[k]);
            if pool.slots.is_some() && t.slot != first.slot {
                return Err(Frame::error(slotbox_protocol::frame::errors::CROSSSLOT));
            }
            if t.server != first.server {
                return Err(fanout::span_error(name));
            }
        }
        Ok(first)
    }

    /// The reply for a request whose key maps to no live backend.
    pub fn no_backend(&self, pi: usize) -> Frame {
        Frame::error(format!("ERR no live backend in pool '{}'", self.pools[pi].cfg().name))
    }

    /// Owe client `ct` a reply in `slot`; returns its sequence number.
    pub(super) fn push_slot(&mut self, ct: Token, slot: Slot) -> u64 {
        self.clients.get_mut(&ct).map(|c| c.push(slot)).unwrap_or(0)
    }

    /// The connection client `ct`'s last EXEC on `server` went out on, while it still
    /// finishes (released, not yet parked or reused).
    pub fn draining_conn(&self, ct: Token, pi: usize, server: usize) -> Option<Token> {
        let pin = self.clients.get(&ct)?.tx.draining?;
        let b = self.backends.get(&pin.backend)?;
        (pin.pool == pi && pin.server == server && b.retire && b.owner.is_none()).then_some(pin.backend)
    }

    /// The client's WATCH connection when it is on `server` (its commands there keep their
    /// order relative to the WATCH).
    fn pinned_conn(&self, ct: Token, pi: usize, server: usize, proto: usize) -> Option<Token> {
        let Some(pin) = self.clients.get(&ct)?.tx.pin else {
            // Right after EXEC: follow its connection until it finished (see `TxState`).
            let t = self.draining_conn(ct, pi, server)?;
            return (self.backends.get(&t)?.proto_idx == proto).then_some(t);
        };
        let b = self.backends.get(&pin.backend)?;
        (pin.pool == pi && pin.server == server && b.proto_idx == proto).then_some(pin.backend)
    }

    /// Send one request (or part) to the target's backend, or fail it right away.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn send(
        &mut self,
        pi: usize,
        t: Target,
        client: Token,
        proto: Protocol,
        seq: u64,
        part: usize,
        request: Bytes,
        redirects: u8,
    ) {
        let Some(server) = t.server else {
            return self.deliver(client, seq, part, self.no_backend(pi), None);
        };
        let pidx = proto_idx(proto);
        let pinned = if redirects == 0 { self.pinned_conn(client, pi, server, pidx) } else { None };
        let conn = match pinned {
            Some(bt) => Ok(bt),
            None => self.backend_conn(pi, server, pidx, self.lane_of(client)),
        };
        match conn {
            Ok(bt) => {
                let waiter = Waiter::Client { client, seq, part, request: request.clone(), redirects };
                self.send_on(bt, &request, waiter);
            }
            Err(e) => {
                self.connect_failed(pi, server, &e);
                incr(&self.pools[pi].shared.stats.forward_error);
                self.deliver(client, seq, part, Frame::error(format!("ERR {e}")), None);
            }
        }
    }

    /// Hand a reply (or an error) to a client; `raw` is the backend's own encoding.
    pub fn deliver(&mut self, ct: Token, seq: u64, part: usize, frame: Frame, raw: Option<Bytes>) {
        let Some(c) = self.clients.get_mut(&ct) else {
            return;
        };
        if frame.is_error() {
            incr(&self.pools[c.pool].shared.stats.errors);
        }
        let raw = raw.unwrap_or_else(|| {
            let mut v = Vec::new();
            encode(&frame, c.session.proto, &mut v);
            Bytes::from(v)
        });
        c.complete(seq, part, Reply { frame, raw });
        let unblocks = c.blocked.is_some_and(|b| b.seq == seq);
        self.dirty_clients.push(ct);
        if unblocks {
            self.unblock(ct);
        }
    }
}
