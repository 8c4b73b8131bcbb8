//! Outgoing connections of a sentinel: the command link (`cc`) and the pub/sub link (`pc`) to
//! one instance, as non-blocking mio sockets. A `Conn` queues commands with what their reply
//! is for (`Pending`) and hands back decoded replies; it never interprets them.

use bytes::BytesMut;
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use slotbox_protocol::frame::Frame;
use slotbox_protocol::resp_parse::ReplyDecoder;
use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;

/// What the reply to a queued command is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    Discard,
    Ping,
    Info,
    Publish,
    IsMasterDown,
}

/// One TCP connection to an instance.
pub struct Conn {
    stream: TcpStream,
    token: Token,
    /// The connect completed (first writable event without error).
    established: bool,
    out: Vec<u8>,
    inbuf: BytesMut,
    decoder: ReplyDecoder,
    pub pending: VecDeque<Pending>,
    pub conn_time: i64,
    writable_registered: bool,
}

/// Why a connection had to be closed.
pub type LinkError = String;

impl Conn {
    pub fn connect(addr: SocketAddr, token: Token, registry: &Registry, now: i64) -> std::io::Result<Conn> {
        let mut stream = TcpStream::connect(addr)?;
        registry.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)?;
        Ok(Conn {
            stream,
            token,
            established: false,
            out: Vec::new(),
            inbuf: BytesMut::new(),
            decoder: ReplyDecoder::default(),
            pending: VecDeque::new(),
            conn_time: now,
            writable_registered: true,
        })
    }

    /// Queue a command; its reply will be returned tagged with `what`.
    pub fn command(&mut self, args: &[&[u8]], what: Pending) {
        self.out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
        for a in args {
            slotbox_protocol::encode::bulk(&mut self.out, a);
        }
        self.pending.push_back(what);
    }

    pub fn local_ip(&self) -> Option<String> {
        self.stream.local_addr().ok().map(|a| a.ip().to_string())
    }

    /// Write what is queued; register for writable events only while something is left.
    pub fn flush(&mut self, registry: &Registry) -> Result<(), LinkError> {
        if self.established {
            while !self.out.is_empty() {
                match self.stream.write(&self.out) {
                    Ok(0) => return Err("connection closed".into()),
                    Ok(n) => {
                        self.out.drain(..n);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
        }
        let want = !self.established || !self.out.is_empty();
        if want != self.writable_registered {
            let interest = if want { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
            registry.reregister(&mut self.stream, self.token, interest).map_err(|e| e.to_string())?;
            self.writable_registered = want;
        }
        Ok(())
    }

    /// Handle a readiness event: finish connecting, read and decode replies.
    /// Returns the replies read and whether the peer closed the connection after them.
    pub fn on_event(&mut self, registry: &Registry, writable: bool) -> Result<(Vec<Frame>, bool), LinkError> {
        if !self.established && writable {
            if let Ok(Some(e)) | Err(e) = self.stream.take_error() {
                return Err(e.to_string());
            }
            match self.stream.peer_addr() {
                Ok(_) => self.established = true,
                Err(e) if e.kind() == ErrorKind::NotConnected => return Ok((Vec::new(), false)),
                Err(e) => return Err(e.to_string()),
            }
        }
        let mut frames = Vec::new();
        let mut closed = false;
        if self.established {
            closed = self.read_frames(&mut frames)?;
        }
        if !closed {
            self.flush(registry)?;
        }
        Ok((frames, closed))
    }

    fn read_frames(&mut self, frames: &mut Vec<Frame>) -> Result<bool, LinkError> {
        let mut buf = [0u8; 16384];
        let mut closed = false;
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => self.inbuf.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        loop {
            match self.decoder.decode(&self.inbuf) {
                Ok(Some((frame, used))) => {
                    let _ = self.inbuf.split_to(used);
                    frames.push(frame);
                }
                Ok(None) => break,
                Err(e) => return Err(format!("protocol error: {}", e.0)),
            }
        }
        Ok(closed)
    }

    pub fn deregister(&mut self, registry: &Registry) {
        let _ = registry.deregister(&mut self.stream);
    }
}

/// Both links to one instance and the liveness times Redis keeps in its `instanceLink`.
pub struct InstanceLink {
    pub cc: Option<Conn>,
    pub pc: Option<Conn>,
    /// When the oldest ping still unanswered was sent (0: none pending).
    pub act_ping_time: i64,
    pub last_ping_time: i64,
    pub last_pong_time: i64,
    pub last_avail_time: i64,
    pub last_reconn_time: i64,
    pub pc_last_activity: i64,
    /// Masters and replicas also have a pub/sub link; sentinels only the command link.
    pub uses_pubsub: bool,
}

impl InstanceLink {
    pub fn new(now: i64, uses_pubsub: bool) -> InstanceLink {
        InstanceLink {
            uses_pubsub,
            cc: None,
            pc: None,
            act_ping_time: now,
            last_ping_time: 0,
            last_pong_time: now,
            last_avail_time: now,
            last_reconn_time: 0,
            pc_last_activity: 0,
        }
    }

    /// Redis's `link->disconnected`: a link (command or pub/sub) is missing.
    pub fn disconnected(&self) -> bool {
        self.cc.is_none() || (self.uses_pubsub && self.pc.is_none())
    }

    pub fn pending_commands(&self) -> usize {
        self.cc.as_ref().map_or(0, |c| c.pending.len())
    }

    pub fn close(&mut self, registry: &Registry) {
        if let Some(mut c) = self.cc.take() {
            c.deregister(registry);
        }
        if let Some(mut c) = self.pc.take() {
            c.deregister(registry);
        }
    }
}
