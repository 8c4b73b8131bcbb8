//! One client connection: input buffer and request decoder, the queue of replies owed in
//! request order (each slot filled by a backend, a merge, or locally), the output buffer,
//! and the client's transaction and subscription state. Knows nothing about backends or
//! routing.

use super::client_state::{Blocked, SubState, TxState};
use super::stream::ClientStream;
use crate::fanout::Merge;
use crate::local::Session;
use crate::stats::PoolStats;
use bytes::{Bytes, BytesMut};
use slotbox_protocol::{encode, Frame, Protocol, RequestDecoder};
use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Instant;

/// A reply owed to the client, in request order.
#[derive(Debug)]
pub enum Slot {
    Waiting,
    Ready(Bytes),
    Merging(Merge),
    /// An EXEC forwarded to the backend: the results of commands the proxy answered itself
    /// inside MULTI go into the reply array at these positions.
    Exec(Vec<(usize, Frame)>),
    /// A request sent on several connections (a pattern subscription and its copies on the
    /// other backends, see `pubsub`): ready once `left` more parts are in. Part 0 brings the
    /// reply (unless `reply` was known from the start), any other part only the messages
    /// its connection relayed before answering, which go first.
    Joining {
        left: usize,
        before: Vec<u8>,
        reply: Option<Bytes>,
    },
}

/// A backend's answer to one request (or one part of a split request).
#[derive(Debug)]
pub struct Reply {
    pub frame: Frame,
    /// The reply exactly as the backend sent it (same protocol as the client's).
    pub raw: Bytes,
}

pub struct Client {
    pub stream: ClientStream,
    pub pool: usize,
    pub inbuf: BytesMut,
    pub decoder: RequestDecoder,
    pub session: Session,
    queue: VecDeque<Slot>,
    base_seq: u64,
    out: Vec<u8>,
    out_pos: usize,
    /// QUIT seen: close after the queue drains.
    pub closing: bool,
    pub tx: TxState,
    /// Subscribed mode (as of the requests sent so far).
    pub sub: Option<SubState>,
    /// Waiting in a blocking command: later requests stay in `inbuf` until it is answered.
    pub blocked: Option<Blocked>,
    /// Bytes of replies ready in `queue` (not yet moved to `out`).
    ready_bytes: usize,
    /// A subscribed client's standing against the pubsub output limit.
    pub pubsub_limit: slotbox_protocol::output_limit::OutputLimit,
    /// Requests being timed: (sequence number of the first reply they owe, command row,
    /// arrival), recorded in `stats` when that reply is queued for writing.
    timings: VecDeque<(u64, u16, Instant)>,
    stats: Arc<PoolStats>,
}

impl Client {
    pub fn new(stream: ClientStream, pool: usize, id: u64, stats: Arc<PoolStats>) -> Client {
        Client {
            stream,
            pool,
            inbuf: BytesMut::with_capacity(16 * 1024),
            decoder: RequestDecoder::default(),
            session: Session { id, proto: Protocol::Resp2, authed: false, name: None },
            queue: VecDeque::new(),
            base_seq: 0,
            out: Vec::with_capacity(16 * 1024),
            out_pos: 0,
            closing: false,
            tx: TxState::default(),
            blocked: None,
            ready_bytes: 0,
            pubsub_limit: Default::default(),
            sub: None,
            timings: VecDeque::new(),
            stats,
        }
    }

    /// A request of command row `cmd` (see `crate::cmdstats`) arrived: time it until the
    /// first reply it owes is queued for writing.
    pub fn time_request(&mut self, cmd: u16) {
        let seq = self.base_seq + self.queue.len() as u64;
        self.timings.push_back((seq, cmd, Instant::now()));
    }

    /// Owe a reply; returns its sequence number.
    pub fn push(&mut self, slot: Slot) -> u64 {
        if let Slot::Ready(b) = &slot {
            self.ready_bytes += b.len();
        }
        self.queue.push_back(slot);
        self.base_seq + self.queue.len() as u64 - 1
    }

    /// A reply ready now (local command, routing error).
    pub fn push_frame(&mut self, frame: &Frame) {
        let mut v = Vec::new();
        encode(frame, self.session.proto, &mut v);
        self.push(Slot::Ready(Bytes::from(v)));
    }

    /// Deliver the reply for part `part` of request `seq`.
    pub fn complete(&mut self, seq: u64, part: usize, reply: Reply) {
        let Some(idx) = seq.checked_sub(self.base_seq) else {
            return;
        };
        let proto = self.session.proto;
        let Some(slot) = self.queue.get_mut(idx as usize) else {
            return;
        };
        match slot {
            Slot::Waiting => *slot = Slot::Ready(reply.raw),
            Slot::Merging(m) => {
                if m.add(part, reply.frame) {
                    let Slot::Merging(m) = std::mem::replace(slot, Slot::Waiting) else { unreachable!() };
                    *slot = Slot::Ready(Bytes::from(m.finish(proto)));
                }
            }
            Slot::Exec(locals) => {
                let locals = std::mem::take(locals);
                *slot = Slot::Ready(splice_exec(reply, locals, proto));
            }
            Slot::Joining { left, before, reply: main } => match join_part(left, before, main, part, reply.raw) {
                Some(all) => *slot = Slot::Ready(all),
                None => return,
            },
            Slot::Ready(_) => return,
        }
        if let Slot::Ready(b) = slot {
            self.ready_bytes += b.len();
        }
    }

    /// Between requests, with nothing tying it to its worker: no reply owed or unsent, no
    /// transaction, subscription or blocking command (see `balance`).
    pub fn movable(&self) -> bool {
        self.queue.is_empty()
            && self.out_pos == self.out.len()
            && !self.closing
            && self.sub.is_none()
            && self.blocked.is_none()
            && !self.tx.in_multi
            && self.tx.pin.is_none()
            && self.tx.draining.is_none()
    }

    /// A reply it is owed is not in yet (a request of it is still at a backend).
    pub fn awaiting_replies(&self) -> bool {
        self.queue.iter().any(|s| !matches!(s, Slot::Ready(_)))
    }

    /// Reply bytes held for this client and not yet written to its socket.
    pub fn pending_output(&self) -> usize {
        self.ready_bytes + self.out.len() - self.out_pos
    }

    /// A message from a subscription: sent after every reply owed so far.
    pub fn push_raw(&mut self, raw: Bytes) {
        self.push(Slot::Ready(raw));
    }

    /// Move replies that are ready, in order, to the output buffer.
    fn drain_ready(&mut self) {
        while let Some(Slot::Ready(_)) = self.queue.front() {
            if let Some(Slot::Ready(b)) = self.queue.pop_front() {
                self.ready_bytes -= b.len();
                self.out.extend_from_slice(&b);
                let error = matches!(b.first(), Some(b'-' | b'!'));
                while let Some(&(_, cmd, at)) = self.timings.front().filter(|t| t.0 <= self.base_seq) {
                    self.stats.commands.record(cmd, at.elapsed(), error);
                    self.timings.pop_front();
                }
            }
            self.base_seq += 1;
        }
    }

    /// Write what can be written. Returns true when the connection should now close.
    pub fn flush(&mut self) -> io::Result<bool> {
        self.drain_ready();
        while self.out_pos < self.out.len() {
            match self.stream.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.out.clear();
        self.out_pos = 0;
        Ok(self.closing && self.queue.is_empty())
    }

    /// Read everything available (see `stream::read_available`). `Ok(true)` on end of stream.
    pub fn read(&mut self, hup: bool, scratch: &mut [u8]) -> io::Result<bool> {
        super::stream::read_available(&mut self.stream, &mut self.inbuf, hup, scratch)
    }
}

/// Part `part` of a [`Slot::Joining`] is in: the whole reply when it was the last one.
fn join_part(
    left: &mut usize,
    before: &mut Vec<u8>,
    reply: &mut Option<Bytes>,
    part: usize,
    raw: Bytes,
) -> Option<Bytes> {
    if part == 0 {
        *reply = Some(raw);
    } else {
        before.extend_from_slice(&raw);
    }
    *left = left.saturating_sub(1);
    if *left > 0 {
        return None;
    }
    let mut all = std::mem::take(before);
    all.extend_from_slice(&reply.take().unwrap_or_default());
    Some(Bytes::from(all))
}

/// The EXEC reply with the proxy-answered results put back in place; the backend's bytes
/// unchanged when there are none (or when EXEC did not run: null, EXECABORT).
fn splice_exec(reply: Reply, locals: Vec<(usize, Frame)>, proto: Protocol) -> Bytes {
    let Frame::Array(items) = reply.frame else {
        return reply.raw;
    };
    if locals.is_empty() {
        return reply.raw;
    }
    let total = items.len() + locals.len();
    let mut out = Vec::with_capacity(total);
    let mut items = items.into_iter();
    let mut locals = locals.into_iter().peekable();
    while out.len() < total {
        match locals.peek() {
            Some((pos, _)) if *pos == out.len() => out.push(locals.next().expect("peeked").1),
            _ => match items.next() {
                Some(f) => out.push(f),
                None => out.extend(locals.by_ref().map(|(_, f)| f)),
            },
        }
    }
    let mut v = Vec::new();
    encode(&Frame::Array(out), proto, &mut v);
    Bytes::from(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_reply_puts_the_other_parts_messages_first() {
        let (mut left, mut before, mut reply) = (3, Vec::new(), None);
        let msg = |s: &'static [u8]| Bytes::from_static(s);
        assert_eq!(join_part(&mut left, &mut before, &mut reply, 1, msg(b"<m1>")), None);
        assert_eq!(join_part(&mut left, &mut before, &mut reply, 0, msg(b"<confirm>")), None);
        let all = join_part(&mut left, &mut before, &mut reply, 2, msg(b""));
        assert_eq!(all, Some(msg(b"<m1><confirm>")));
        // A reply known from the start (RESET): every part only brings messages.
        let (mut left, mut before, mut reply) = (1, Vec::new(), Some(msg(b"+RESET\r\n")));
        let all = join_part(&mut left, &mut before, &mut reply, 1, msg(b"<m>"));
        assert_eq!(all, Some(msg(b"<m>+RESET\r\n")));
    }

    #[test]
    fn exec_results_are_spliced_in_queue_order() {
        let raw = Bytes::from_static(b"*2\r\n:1\r\n:2\r\n");
        let frame = Frame::Array(vec![Frame::Integer(1), Frame::Integer(2)]);
        let locals = vec![(0, Frame::simple_static("PONG")), (2, Frame::bulk_static("x"))];
        let out = splice_exec(Reply { frame, raw }, locals, Protocol::Resp2);
        assert_eq!(&out[..], b"*4\r\n+PONG\r\n:1\r\n$1\r\nx\r\n:2\r\n");
        let null = Reply { frame: Frame::NullArray, raw: Bytes::from_static(b"*-1\r\n") };
        assert_eq!(&splice_exec(null, vec![(0, Frame::ok())], Protocol::Resp2)[..], b"*-1\r\n");
    }
}
