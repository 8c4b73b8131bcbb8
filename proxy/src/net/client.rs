//! One client connection: input buffer and request decoder, the queue of replies owed in
//! request order (each slot filled by a backend, a merge, or locally), and the output
//! buffer. Knows nothing about backends or routing.

use crate::fanout::Merge;
use crate::local::Session;
use bytes::{Bytes, BytesMut};
use mio::net::TcpStream;
use slotbox_protocol::{encode, Frame, Protocol, RequestDecoder};
use std::collections::VecDeque;
use std::io::{self, Read, Write};

/// A reply owed to the client, in request order.
#[derive(Debug)]
pub enum Slot {
    Waiting,
    Ready(Bytes),
    Merging(Merge),
}

/// A backend's answer to one request (or one part of a split request).
#[derive(Debug)]
pub struct Reply {
    pub frame: Frame,
    /// The reply exactly as the backend sent it (same protocol as the client's).
    pub raw: Bytes,
}

pub struct Client {
    pub stream: TcpStream,
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
}

impl Client {
    pub fn new(stream: TcpStream, pool: usize, id: u64) -> Client {
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
        }
    }

    /// Owe a reply; returns its sequence number.
    pub fn push(&mut self, slot: Slot) -> u64 {
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
            Slot::Ready(_) => {}
        }
    }

    /// Move replies that are ready, in order, to the output buffer.
    fn drain_ready(&mut self) {
        while let Some(Slot::Ready(_)) = self.queue.front() {
            if let Some(Slot::Ready(b)) = self.queue.pop_front() {
                self.out.extend_from_slice(&b);
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

    /// Read everything available. `Ok(true)` on end of stream.
    pub fn read(&mut self) -> io::Result<bool> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return Ok(true),
                Ok(n) => self.inbuf.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}
