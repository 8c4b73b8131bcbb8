//! One pipelined connection to a backend server: requests are appended to the output
//! buffer as they come, and each reply is matched to the oldest request in flight. A
//! connection is either shared by the worker's clients (one of `server_connections` lanes)
//! or dedicated to one client (a transaction or a subscription, see [`Role`]). The worker
//! decides what a reply means; this module only moves bytes and keeps the FIFO.

use crate::stats::ServerStats;
use bytes::{Bytes, BytesMut};
use mio::net::TcpStream;
use mio::Token;
use slotbox_protocol::resp_parse::ReplyDecoder;
use slotbox_protocol::{DecodeError, Frame};
use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Instant;

/// Who is waiting for a reply.
#[derive(Debug, Clone)]
pub enum Waiter {
    /// Part `part` of client request `seq`; `request` is kept to follow redirects.
    Client { client: Token, seq: u64, part: usize, request: Bytes, redirects: u8 },
    /// A command the proxy sent for itself (AUTH, SELECT, READONLY, ASKING, HELLO): dropped.
    Discard,
    /// A `CLUSTER SLOTS` refresh.
    Slots,
    /// A `ROLE` check of a replica's link (see `role_check`).
    Role,
    /// A request of client request `seq` on a subscription connection, answered by `left`
    /// more frames (SUBSCRIBE a b: two confirmations). Gathered in `raw` until the last one:
    /// the messages the backend sent before the answer, then the answer itself, except on a
    /// `mirror` (a copy of the request on another backend, see `pubsub`), whose answer is
    /// dropped (the client sees the first backend's).
    Sub { client: Token, seq: u64, mirror: bool, left: usize, raw: Vec<u8> },
    /// The confirmations (`left` more frames) of patterns copied to a backend that came back
    /// (see `mirror`), with no client request waiting: dropped.
    SubQuiet { left: usize },
    /// A read of hot key `key` on a tracking connection, for client request `seq`; its reply
    /// fills the near cache under `norm` (the request, lowercase name) and goes to the client.
    Fill { client: Token, seq: u64, key: Bytes, norm: Bytes, request: Bytes },
    /// The answer to `CLIENT TRACKING on` on a tracking connection.
    TrackingOn,
}

/// What a connection is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Shared pipelined connection number `lane` (of `server_connections`).
    Shared { lane: usize },
    /// Pinned to one client for WATCH / MULTI ... EXEC.
    Tx,
    /// Pinned to one subscribed client: frames that are messages are relayed, not matched.
    Sub,
    /// RESP3 with `CLIENT TRACKING on`, shared by the worker's near cache fills (one per
    /// server): `invalidate` pushes are kept in `pushes`, not matched to requests.
    Tracking,
}

#[derive(Debug)]
pub struct Inflight {
    pub waiter: Waiter,
    pub sent_at: Instant,
    /// When the pool's `timeout` starts counting (`None`: never, a blocking command
    /// without a timeout).
    pub timeout_from: Option<Instant>,
    /// The request's size on the wire (the stats' queue bytes).
    pub bytes: u64,
}

pub struct Backend {
    pub stream: TcpStream,
    pub pool: usize,
    pub server: usize,
    /// 0: RESP2 connection, 1: RESP3 connection.
    pub proto_idx: usize,
    pub role: Role,
    /// The client a dedicated connection serves (`None` once it let go).
    pub owner: Option<Token>,
    /// Close (or park for reuse) once nothing is in flight.
    pub retire: bool,
    /// The server's counters (kept here so a server removed by a reload still counts).
    pub stats: Arc<ServerStats>,
    out: Vec<u8>,
    out_pos: usize,
    inbuf: BytesMut,
    /// Resumes the scan of a reply that is not whole yet (`inbuf` only grows at its end).
    replies: ReplyDecoder,
    pub inflight: VecDeque<Inflight>,
    /// Tracking connections: the server confirmed `CLIENT TRACKING on`.
    pub tracking_on: bool,
    /// Tracking connections: push frames read and not yet handled, in order.
    pub pushes: Vec<Frame>,
    /// Requests appended to `out` but not wholly written yet: (end offset counted from the
    /// connection's first byte, size) — nutcracker's `in_queue`.
    unsent: VecDeque<(u64, u64)>,
    /// Bytes appended to `out` and bytes written, since the connection opened.
    appended: u64,
    written: u64,
}

/// A connection's queues as nutcracker counts them: requests (and bytes) waiting to be
/// written (`in_queue`), written and waiting for their reply (`out_queue`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Queues {
    pub in_queue: i64,
    pub in_queue_bytes: i64,
    pub out_queue: i64,
    pub out_queue_bytes: i64,
}

impl Backend {
    pub fn new(
        stream: TcpStream,
        pool: usize,
        server: usize,
        proto_idx: usize,
        role: Role,
        stats: Arc<ServerStats>,
    ) -> Backend {
        Backend {
            stream,
            pool,
            server,
            proto_idx,
            role,
            owner: None,
            retire: false,
            stats,
            out: Vec::with_capacity(16 * 1024),
            out_pos: 0,
            inbuf: BytesMut::with_capacity(16 * 1024),
            replies: ReplyDecoder::default(),
            inflight: VecDeque::new(),
            tracking_on: false,
            pushes: Vec::new(),
            unsent: VecDeque::new(),
            appended: 0,
            written: 0,
        }
    }

    /// Queue `request` (already RESP-encoded) for `waiter`.
    pub fn send(&mut self, request: &[u8], waiter: Waiter) {
        self.out.extend_from_slice(request);
        let bytes = request.len() as u64;
        self.appended += bytes;
        self.unsent.push_back((self.appended, bytes));
        let now = Instant::now();
        self.inflight.push_back(Inflight { waiter, sent_at: now, timeout_from: Some(now), bytes });
    }

    /// This connection's queues now.
    pub fn queues(&self) -> Queues {
        let in_queue = self.unsent.len() as i64;
        let in_queue_bytes = self.unsent.iter().map(|&(_, n)| n).sum::<u64>() as i64;
        let all_bytes = self.inflight.iter().map(|i| i.bytes).sum::<u64>() as i64;
        Queues {
            in_queue,
            in_queue_bytes,
            out_queue: (self.inflight.len() as i64 - in_queue).max(0),
            out_queue_bytes: (all_bytes - in_queue_bytes).max(0),
        }
    }

    fn wrote(&mut self, n: usize) {
        self.out_pos += n;
        self.written += n as u64;
        while self.unsent.front().is_some_and(|&(end, _)| end <= self.written) {
            self.unsent.pop_front();
        }
    }

    /// The request just queued blocks for up to `block` (`None`: forever): the pool's
    /// `timeout` counts from the end of that.
    pub fn block_last(&mut self, block: Option<std::time::Duration>) {
        if let Some(i) = self.inflight.back_mut() {
            i.timeout_from = block.and_then(|d| i.sent_at.checked_add(d));
        }
    }

    /// Write what the socket takes. A not-yet-connected socket just waits.
    pub fn flush(&mut self) -> io::Result<()> {
        while self.out_pos < self.out.len() {
            match self.stream.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.wrote(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.out.clear();
        self.out_pos = 0;
        Ok(())
    }

    /// Read everything available (see `stream::read_available`). `Ok(true)` on end of stream.
    pub fn read(&mut self, hup: bool, scratch: &mut [u8]) -> io::Result<bool> {
        super::stream::read_available(&mut self.stream, &mut self.inbuf, hup, scratch)
    }

    /// The next complete frame, parsed and as sent.
    pub fn next_frame(&mut self) -> Result<Option<(Frame, Bytes)>, DecodeError> {
        let Some((frame, used)) = self.replies.decode(&self.inbuf)? else {
            return Ok(None);
        };
        Ok(Some((frame, self.inbuf.split_to(used).freeze())))
    }

    /// The next complete reply with the request it answers (a reply nobody asked for is
    /// dropped; on a tracking connection, a push is set aside in `pushes`).
    pub fn next_reply(&mut self) -> Result<Option<(Frame, Bytes, Inflight)>, DecodeError> {
        while let Some((frame, raw)) = self.next_frame()? {
            if self.role == Role::Tracking && matches!(frame, Frame::Push(_)) {
                self.pushes.push(frame);
                continue;
            }
            if let Some(inf) = self.inflight.pop_front() {
                return Ok(Some((frame, raw, inf)));
            }
        }
        Ok(None)
    }

    /// True for a connection pinned to one client.
    pub fn is_dedicated(&self) -> bool {
        matches!(self.role, Role::Tx | Role::Sub)
    }

    /// When the pool's timeout started counting for the oldest request still waiting.
    pub fn oldest(&self) -> Option<Instant> {
        self.inflight.front().and_then(|i| i.timeout_from)
    }
}

/// RESP multibulk encoding of a request.
pub fn encode_request(args: &[Bytes]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    out.push(b'*');
    out.extend_from_slice(args.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in args {
        slotbox_protocol::encode::bulk(&mut out, a);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_multibulk() {
        let args = vec![bytes::Bytes::from_static(b"GET"), bytes::Bytes::from_static(b"k")];
        assert_eq!(super::encode_request(&args), b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    }
}
