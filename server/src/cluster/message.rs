//! The cluster bus protocol: a versioned binary message enum with length-checked decoding.
//! Every message carries the sender's header (id, address, role, epochs, claimed slots);
//! bodies carry gossip, FAIL, UPDATE, PUBLISH and failover votes. Decoding never panics and
//! never trusts a length it has not checked against the buffer: a malformed message is an
//! error that closes that link only. It need not interoperate with Redis's own bus.

use super::node::SlotSet;
use slotbox_protocol::SLOT_COUNT;

pub const MAGIC: &[u8; 4] = b"SBus";
pub const VERSION: u16 = 1;
/// Largest message accepted (PUBLISH payloads included).
pub const MAX_MESSAGE: usize = 64 * 1024 * 1024;
const PREFIX: usize = 4 + 2 + 1 + 4;

/// The sender's view of itself, sent with every message.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub sender: String,
    pub ip: String,
    pub port: u16,
    pub cport: u16,
    pub flags: u16,
    pub current_epoch: u64,
    pub config_epoch: u64,
    pub repl_offset: u64,
    /// The sender's master id when it is a replica.
    pub master: Option<String>,
    /// Slots the sender (or its master, for a replica) serves.
    pub slots: SlotSet,
    pub state_ok: bool,
    /// Manual-failover flags (bit 0: clients paused for a manual failover; bit 1: forced ack).
    pub mflags: u8,
}

/// One gossip entry: what the sender knows of a third node.
#[derive(Debug, Clone, PartialEq)]
pub struct Gossip {
    pub id: String,
    pub ip: String,
    pub port: u16,
    pub cport: u16,
    pub flags: u16,
    pub ping_sent: i64,
    pub pong_received: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Ping(Vec<Gossip>),
    Pong(Vec<Gossip>),
    Meet(Vec<Gossip>),
    Fail { id: String },
    Update { id: String, config_epoch: u64, slots: SlotSet },
    Publish { channel: Vec<u8>, message: Vec<u8> },
    PublishShard { channel: Vec<u8>, message: Vec<u8> },
    FailoverAuthRequest,
    FailoverAuthAck,
    MfStart,
}

impl Body {
    fn tag(&self) -> u8 {
        match self {
            Body::Ping(_) => 0,
            Body::Pong(_) => 1,
            Body::Meet(_) => 2,
            Body::Fail { .. } => 3,
            Body::Update { .. } => 4,
            Body::Publish { .. } => 5,
            Body::PublishShard { .. } => 6,
            Body::FailoverAuthRequest => 7,
            Body::FailoverAuthAck => 8,
            Body::MfStart => 9,
        }
    }

    /// Name used in CLUSTER INFO message counters.
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Ping(_) => "ping",
            Body::Pong(_) => "pong",
            Body::Meet(_) => "meet",
            Body::Fail { .. } => "fail",
            Body::Update { .. } => "update",
            Body::Publish { .. } => "publish",
            Body::PublishShard { .. } => "publishshard",
            Body::FailoverAuthRequest => "auth-req",
            Body::FailoverAuthAck => "auth-ack",
            Body::MfStart => "mfstart",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub header: Header,
    pub body: Body,
}

/// A malformed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusError(pub String);

impl std::fmt::Display for BusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad cluster bus message: {}", self.0)
    }
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

fn put_id(out: &mut Vec<u8>, id: Option<&str>) {
    let mut b = [0u8; 40];
    if let Some(id) = id {
        let n = id.len().min(40);
        b[..n].copy_from_slice(&id.as_bytes()[..n]);
    }
    out.extend_from_slice(&b);
}

fn put_slots(out: &mut Vec<u8>, s: &SlotSet) {
    for w in s.as_words() {
        out.extend_from_slice(&w.to_be_bytes());
    }
}

fn put_gossip(out: &mut Vec<u8>, g: &[Gossip]) {
    out.extend_from_slice(&(g.len() as u16).to_be_bytes());
    for e in g {
        put_id(out, Some(&e.id));
        put_str(out, e.ip.as_bytes());
        out.extend_from_slice(&e.port.to_be_bytes());
        out.extend_from_slice(&e.cport.to_be_bytes());
        out.extend_from_slice(&e.flags.to_be_bytes());
        out.extend_from_slice(&e.ping_sent.to_be_bytes());
        out.extend_from_slice(&e.pong_received.to_be_bytes());
    }
}

/// Encode a message (prefix + header + body).
pub fn encode(m: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(2300);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_be_bytes());
    out.push(m.body.tag());
    out.extend_from_slice(&[0; 4]);
    let h = &m.header;
    put_id(&mut out, Some(&h.sender));
    put_str(&mut out, h.ip.as_bytes());
    for v in [h.port, h.cport, h.flags] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    for v in [h.current_epoch, h.config_epoch, h.repl_offset] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.push(u8::from(h.master.is_some()));
    put_id(&mut out, h.master.as_deref());
    put_slots(&mut out, &h.slots);
    out.push(u8::from(h.state_ok));
    out.push(h.mflags);
    match &m.body {
        Body::Ping(g) | Body::Pong(g) | Body::Meet(g) => put_gossip(&mut out, g),
        Body::Fail { id } => put_id(&mut out, Some(id)),
        Body::Update { id, config_epoch, slots } => {
            put_id(&mut out, Some(id));
            out.extend_from_slice(&config_epoch.to_be_bytes());
            put_slots(&mut out, slots);
        }
        Body::Publish { channel, message } | Body::PublishShard { channel, message } => {
            put_str(&mut out, channel);
            put_str(&mut out, message);
        }
        Body::FailoverAuthRequest | Body::FailoverAuthAck | Body::MfStart => {}
    }
    let len = out.len() as u32;
    out[7..11].copy_from_slice(&len.to_be_bytes());
    out
}

/// A bounds-checked reader over one message.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BusError> {
        if self.buf.len() < n {
            return Err(BusError("truncated".into()));
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, BusError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, BusError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u64(&mut self) -> Result<u64, BusError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    fn bytes(&mut self) -> Result<Vec<u8>, BusError> {
        let b = self.take(4)?;
        let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        Ok(self.take(n)?.to_vec())
    }

    fn string(&mut self) -> Result<String, BusError> {
        String::from_utf8(self.bytes()?).map_err(|_| BusError("non-utf8 string".into()))
    }

    fn id(&mut self) -> Result<String, BusError> {
        let b = self.take(40)?;
        if !super::node::valid_node_id(b) {
            return Err(BusError("bad node id".into()));
        }
        Ok(String::from_utf8_lossy(b).into_owned())
    }

    fn slots(&mut self) -> Result<SlotSet, BusError> {
        let mut words = [0u64; SLOT_COUNT / 64];
        for w in words.iter_mut() {
            *w = self.u64()?;
        }
        Ok(SlotSet::from_words(words))
    }

    fn gossip(&mut self) -> Result<Vec<Gossip>, BusError> {
        let n = self.u16()? as usize;
        let mut v = Vec::with_capacity(n.min(self.buf.len() / 60 + 1));
        for _ in 0..n {
            v.push(Gossip {
                id: self.id()?,
                ip: self.string()?,
                port: self.u16()?,
                cport: self.u16()?,
                flags: self.u16()?,
                ping_sent: self.u64()? as i64,
                pong_received: self.u64()? as i64,
            });
        }
        Ok(v)
    }
}

/// Decode one message from the front of `buf`: `Ok(None)` until it is complete.
pub fn decode(buf: &[u8]) -> Result<Option<(Message, usize)>, BusError> {
    if buf.len() < PREFIX {
        if !MAGIC.starts_with(&buf[..buf.len().min(4)]) {
            return Err(BusError("bad magic".into()));
        }
        return Ok(None);
    }
    if &buf[..4] != MAGIC {
        return Err(BusError("bad magic".into()));
    }
    let version = u16::from_be_bytes([buf[4], buf[5]]);
    if version != VERSION {
        return Err(BusError(format!("unsupported version {version}")));
    }
    let tag = buf[6];
    let len = u32::from_be_bytes([buf[7], buf[8], buf[9], buf[10]]) as usize;
    if !(PREFIX..=MAX_MESSAGE).contains(&len) {
        return Err(BusError(format!("bad length {len}")));
    }
    if buf.len() < len {
        return Ok(None);
    }
    let mut r = Reader { buf: &buf[PREFIX..len] };
    let sender = r.id()?;
    let ip = r.string()?;
    let (port, cport, flags) = (r.u16()?, r.u16()?, r.u16()?);
    let (current_epoch, config_epoch, repl_offset) = (r.u64()?, r.u64()?, r.u64()?);
    let has_master = r.u8()? != 0;
    let master_raw = r.take(40)?;
    let master = if has_master {
        if !super::node::valid_node_id(master_raw) {
            return Err(BusError("bad master id".into()));
        }
        Some(String::from_utf8_lossy(master_raw).into_owned())
    } else {
        None
    };
    let slots = r.slots()?;
    let state_ok = r.u8()? != 0;
    let mflags = r.u8()?;
    let header = Header {
        sender,
        ip,
        port,
        cport,
        flags,
        current_epoch,
        config_epoch,
        repl_offset,
        master,
        slots,
        state_ok,
        mflags,
    };
    let body = match tag {
        0 => Body::Ping(r.gossip()?),
        1 => Body::Pong(r.gossip()?),
        2 => Body::Meet(r.gossip()?),
        3 => Body::Fail { id: r.id()? },
        4 => Body::Update { id: r.id()?, config_epoch: r.u64()?, slots: r.slots()? },
        5 => Body::Publish { channel: r.bytes()?, message: r.bytes()? },
        6 => Body::PublishShard { channel: r.bytes()?, message: r.bytes()? },
        7 => Body::FailoverAuthRequest,
        8 => Body::FailoverAuthAck,
        9 => Body::MfStart,
        t => return Err(BusError(format!("unknown type {t}"))),
    };
    if !r.buf.is_empty() {
        return Err(BusError("trailing bytes".into()));
    }
    Ok(Some((Message { header, body }, len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        let mut slots = SlotSet::default();
        slots.set(0);
        slots.set(16383);
        Header {
            sender: "a".repeat(40),
            ip: "127.0.0.1".into(),
            port: 7000,
            cport: 17000,
            flags: 2,
            current_epoch: 5,
            config_epoch: 3,
            repl_offset: 99,
            master: Some("b".repeat(40)),
            slots,
            state_ok: true,
            mflags: 0,
        }
    }

    fn all_messages() -> Vec<Message> {
        let g = Gossip {
            id: "c".repeat(40),
            ip: "10.0.0.1".into(),
            port: 1,
            cport: 2,
            flags: 3,
            ping_sent: 4,
            pong_received: 5,
        };
        let bodies = vec![
            Body::Ping(vec![g.clone(), g.clone()]),
            Body::Pong(vec![]),
            Body::Meet(vec![g]),
            Body::Fail { id: "d".repeat(40) },
            Body::Update { id: "e".repeat(40), config_epoch: 7, slots: SlotSet::default() },
            Body::Publish { channel: b"ch".to_vec(), message: b"hello".to_vec() },
            Body::PublishShard { channel: b"x".to_vec(), message: vec![] },
            Body::FailoverAuthRequest,
            Body::FailoverAuthAck,
            Body::MfStart,
        ];
        bodies.into_iter().map(|body| Message { header: header(), body }).collect()
    }

    #[test]
    fn roundtrip_every_type() {
        for m in all_messages() {
            let bytes = encode(&m);
            let (d, used) = decode(&bytes).unwrap().unwrap();
            assert_eq!(used, bytes.len());
            assert_eq!(d, m);
            // Every strict prefix is incomplete, never an error or a panic.
            for cut in 0..bytes.len() {
                assert!(decode(&bytes[..cut]).unwrap().is_none(), "cut {cut}");
            }
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode(b"GET / HTTP/1.1\r\n\r\n").is_err());
        let mut bytes = encode(&all_messages()[0]);
        bytes[6] = 200;
        assert!(decode(&bytes).is_err());
        let mut bytes = encode(&all_messages()[0]);
        bytes[7..11].copy_from_slice(&(u32::MAX).to_be_bytes());
        assert!(decode(&bytes).is_err());
        // A gossip count larger than the message: truncated, an error.
        let mut bytes = encode(&all_messages()[1]);
        let n = bytes.len();
        bytes[n - 2..].copy_from_slice(&500u16.to_be_bytes());
        assert!(decode(&bytes).is_err());
        // Random bytes after a valid magic and version never panic.
        let mut seed = 12345u64;
        for _ in 0..2000 {
            let mut b = encode(&all_messages()[0]);
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = (seed as usize) % b.len();
                b[i] = (seed >> 32) as u8;
            }
            let _ = decode(&b);
        }
    }
}
