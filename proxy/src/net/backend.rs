//! One pipelined connection to a backend server: requests are appended to the output
//! buffer as they come, and each reply is matched to the oldest request in flight. The
//! worker decides what a reply means; this module only moves bytes and keeps the FIFO.

use bytes::{Bytes, BytesMut};
use mio::net::TcpStream;
use mio::Token;
use slotbox_protocol::resp_parse::parse_frame;
use slotbox_protocol::{DecodeError, Frame};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
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
}

#[derive(Debug)]
pub struct Inflight {
    pub waiter: Waiter,
    pub sent_at: Instant,
}

pub struct Backend {
    pub stream: TcpStream,
    pub pool: usize,
    pub server: usize,
    /// 0: RESP2 connection, 1: RESP3 connection.
    pub proto_idx: usize,
    out: Vec<u8>,
    out_pos: usize,
    inbuf: BytesMut,
    pub inflight: VecDeque<Inflight>,
}

impl Backend {
    pub fn new(stream: TcpStream, pool: usize, server: usize, proto_idx: usize) -> Backend {
        Backend {
            stream,
            pool,
            server,
            proto_idx,
            out: Vec::with_capacity(16 * 1024),
            out_pos: 0,
            inbuf: BytesMut::with_capacity(16 * 1024),
            inflight: VecDeque::new(),
        }
    }

    /// Queue `request` (already RESP-encoded) for `waiter`.
    pub fn send(&mut self, request: &[u8], waiter: Waiter) {
        self.out.extend_from_slice(request);
        self.inflight.push_back(Inflight { waiter, sent_at: Instant::now() });
    }

    /// Write what the socket takes. A not-yet-connected socket just waits.
    pub fn flush(&mut self) -> io::Result<()> {
        while self.out_pos < self.out.len() {
            match self.stream.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.out_pos += n,
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

    /// Read everything available. `Ok(true)` on end of stream.
    pub fn read(&mut self) -> io::Result<bool> {
        let mut buf = [0u8; 32 * 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return Ok(true),
                Ok(n) => self.inbuf.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The next complete reply with the request it answers (a reply nobody asked for is
    /// dropped).
    pub fn next_reply(&mut self) -> Result<Option<(Frame, Bytes, Inflight)>, DecodeError> {
        loop {
            let Some((frame, used)) = parse_frame(&self.inbuf)? else {
                return Ok(None);
            };
            let raw = self.inbuf.split_to(used).freeze();
            if let Some(inf) = self.inflight.pop_front() {
                return Ok(Some((frame, raw, inf)));
            }
        }
    }

    /// Age of the oldest request still waiting.
    pub fn oldest(&self) -> Option<Instant> {
        self.inflight.front().map(|i| i.sent_at)
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
