//! A client connection to the sentinel: request decoding, the output buffer, and the
//! pub/sub subscriptions it holds. Knows nothing of the commands.

use bytes::{Bytes, BytesMut};
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use slotbox_protocol::decode::{Limits, RequestDecoder};
use slotbox_protocol::encode::{encode, Protocol};
use slotbox_protocol::frame::Frame;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;

/// A subscriber that lets this much output pile up is disconnected (Redis's default
/// `client-output-buffer-limit pubsub` hard limit).
const PUBSUB_OUTPUT_LIMIT: usize = 32 * 1024 * 1024;

pub struct Client {
    pub id: u64,
    pub addr: SocketAddr,
    pub local: Option<SocketAddr>,
    pub proto: Protocol,
    pub name: Option<String>,
    pub channels: Vec<Bytes>,
    pub patterns: Vec<Bytes>,
    pub created: i64,
    pub last_cmd: String,
    /// Close once the output is written (QUIT, protocol error).
    pub close_after_reply: bool,
    /// Over the output limit: dropped without writing what is left.
    overflow: bool,
    stream: TcpStream,
    token: Token,
    inbuf: BytesMut,
    decoder: RequestDecoder,
    out: Vec<u8>,
    writable_registered: bool,
}

/// What reading a client produced.
pub enum Input {
    Requests(Vec<Vec<Bytes>>),
    /// The peer closed or the socket failed.
    Closed,
}

impl Client {
    pub fn new(
        id: u64,
        mut stream: TcpStream,
        addr: SocketAddr,
        token: Token,
        reg: &Registry,
    ) -> std::io::Result<Client> {
        reg.register(&mut stream, token, Interest::READABLE)?;
        let local = stream.local_addr().ok();
        Ok(Client {
            id,
            addr,
            local,
            proto: Protocol::Resp2,
            name: None,
            channels: Vec::new(),
            patterns: Vec::new(),
            created: super::instance::mstime(),
            last_cmd: "NULL".into(),
            close_after_reply: false,
            overflow: false,
            stream,
            token,
            inbuf: BytesMut::new(),
            decoder: RequestDecoder::new(Limits::default()),
            out: Vec::new(),
            writable_registered: false,
        })
    }

    pub fn subscriptions(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    pub fn reply(&mut self, f: &Frame) {
        if self.overflow {
            return;
        }
        encode(f, self.proto, &mut self.out);
        if self.subscriptions() > 0 && self.out.len() > PUBSUB_OUTPUT_LIMIT {
            crate::log::warning(&format!(
                "Client id={} addr={} scheduled to be closed ASAP for overcoming of output buffer limits.",
                self.id, self.addr
            ));
            self.overflow = true;
            self.out.clear();
        }
    }

    pub fn read(&mut self) -> Input {
        let mut buf = [0u8; 16384];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return Input::Closed,
                Ok(n) => self.inbuf.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Input::Closed,
            }
        }
        let mut reqs = Vec::new();
        loop {
            match self.decoder.decode(&mut self.inbuf) {
                Ok(Some(args)) if args.is_empty() => {}
                Ok(Some(args)) => reqs.push(args),
                Ok(None) => break,
                Err(e) => {
                    self.reply(&Frame::error(e.reply_text()));
                    self.close_after_reply = true;
                    break;
                }
            }
        }
        Input::Requests(reqs)
    }

    /// Write what is buffered; false when the connection is finished (error, or closing and
    /// everything written).
    pub fn flush(&mut self, reg: &Registry) -> bool {
        if self.overflow {
            return false;
        }
        while !self.out.is_empty() {
            match self.stream.write(&self.out) {
                Ok(0) => return false,
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        if self.close_after_reply && self.out.is_empty() {
            return false;
        }
        let want = !self.out.is_empty();
        if want != self.writable_registered {
            let interest = if want { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
            if reg.reregister(&mut self.stream, self.token, interest).is_err() {
                return false;
            }
            self.writable_registered = want;
        }
        true
    }

    pub fn deregister(&mut self, reg: &Registry) {
        let _ = reg.deregister(&mut self.stream);
    }
}
