//! Cluster redirects, for a worker. A MOVED / ASK answer names the node that serves the
//! request's slot: the request goes again there (after ASKING for an ASK); a MOVED also
//! updates the slot map at once, and the whole map is asked again (CLUSTER SLOTS) when a MOVED
//! was seen or the map is [`REFRESH_EVERY`] old. A blocked command (`blocking`) and a fresh
//! transaction (`tx`) follow a redirect their own way, with `learn_redirect` and `asking`.

use super::backend::{encode_request, Waiter};
use super::connect::proto_idx;
use super::pool::Target;
use super::worker::Worker;
use bytes::Bytes;
use mio::Token;
use slotbox_protocol::Protocol;
use std::time::{Duration, Instant};

/// Redirects followed for one request; the client sees the next one.
pub const MAX_REDIRECTS: u8 = 5;
/// How old the slot map may grow before it is asked again.
const REFRESH_EVERY: Duration = Duration::from_secs(10);

/// Where a MOVED / ASK answer sends a request.
pub(super) struct Redirect {
    pub ask: bool,
    pub slot: u16,
    pub addr: String,
    pub proto: Protocol,
}

/// `MOVED 3999 127.0.0.1:6381` / `ASK 3999 127.0.0.1:6381` -> (is_ask, slot, addr).
pub fn parse_redirect(text: &[u8]) -> Option<(bool, u16, String)> {
    let s = std::str::from_utf8(text).ok()?;
    let mut it = s.split(' ');
    let ask = match it.next()? {
        "MOVED" => false,
        "ASK" => true,
        _ => return None,
    };
    let slot = it.next()?.parse().ok()?;
    Some((ask, slot, it.next()?.to_string()))
}

impl Worker {
    /// Send part `part` of client request `seq` again, to the node a MOVED / ASK named.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn redirect(
        &mut self,
        pi: usize,
        to: Redirect,
        client: Token,
        seq: u64,
        part: usize,
        request: Bytes,
        redirects: u8,
    ) {
        let server = self.learn_redirect(pi, &to);
        if to.ask {
            if let Ok(bt) = self.backend_conn(pi, server, proto_idx(to.proto), self.lane_of(client)) {
                self.asking(bt);
            }
        }
        let t = Target { server: Some(server), slot: to.slot };
        self.send(pi, t, client, to.proto, seq, part, request, redirects + 1);
    }

    /// Queue ASKING on `bt`, for the request sent next on it (its reply is dropped).
    pub(super) fn asking(&mut self, bt: Token) {
        if let Some(b) = self.backends.get_mut(&bt) {
            b.send(&encode_request(&[Bytes::from_static(b"ASKING")]), Waiter::Discard);
        }
    }

    /// The server a redirect names (added to the pool if new); a MOVED also updates the slot
    /// map at once and asks for a refresh.
    pub(super) fn learn_redirect(&mut self, pi: usize, to: &Redirect) -> usize {
        let p = &mut self.pools[pi];
        let server = p.server_index(&to.addr);
        if !to.ask {
            if let Some(map) = &mut p.slots {
                map.set_master(to.slot, server);
            }
            p.refresh_wanted = true;
        }
        server
    }

    /// Ask a master for CLUSTER SLOTS when a MOVED was seen or the map is getting old.
    pub fn maybe_refresh(&mut self, pi: usize, now: Instant) {
        let p = &self.pools[pi];
        if p.slots.is_none() || p.refresh_pending || p.is_sentinel() {
            return;
        }
        let old = now.duration_since(p.last_refresh) >= REFRESH_EVERY;
        if !p.refresh_wanted && !old {
            return;
        }
        let server = p.refresh_server();
        let p = &mut self.pools[pi];
        p.refresh_wanted = false;
        p.last_refresh = now;
        if let Ok(bt) = self.backend_conn(pi, server, 0, 0) {
            let req = encode_request(&[Bytes::from_static(b"CLUSTER"), Bytes::from_static(b"SLOTS")]);
            self.backends.get_mut(&bt).expect("backend").send(&req, Waiter::Slots);
            self.pools[pi].refresh_pending = true;
            self.dirty_backends.push(bt);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redirects_parse() {
        assert_eq!(
            super::parse_redirect(b"MOVED 3999 127.0.0.1:6381"),
            Some((false, 3999, "127.0.0.1:6381".to_string()))
        );
        assert_eq!(super::parse_redirect(b"ASK 1 h:2"), Some((true, 1, "h:2".to_string())));
        assert_eq!(super::parse_redirect(b"ERR x"), None);
    }
}
