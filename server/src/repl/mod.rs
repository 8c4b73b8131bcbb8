//! Replication. A master feeds every write (RESP-encoded, expiry made absolute) into its
//! [`Backlog`]; each attached replica has a sender thread that streams a snapshot then the
//! backlog, and an ack reader (REPLCONF ACK) for WAIT and lag. A replica runs one link thread
//! (`replica.rs`) that syncs from its master and applies the stream. [`Replication`] is the
//! state both sides share; `master.rs` and `replica.rs` are the two halves.

pub mod backlog;
pub mod master;
pub mod replica;

use crate::core::Core;
use crate::stream::{StreamSink, WriteStream};
use backlog::Backlog;
use bytes::Bytes;
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

/// One replica attached to this master.
pub struct ReplicaInfo {
    pub id: u64,
    pub addr: SocketAddr,
    pub listening_port: AtomicU64,
    /// Offset the replica acknowledged.
    pub ack_offset: AtomicU64,
    /// Unix ms of the last ACK.
    pub last_ack: AtomicI64,
    /// "wait_bgsave", "send_bulk", "online".
    pub state: Mutex<&'static str>,
    pub gone: AtomicBool,
}

/// Where a replica's link to its master stands (Redis's `repl_state`, as ROLE names it).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum LinkState {
    /// Not connected; the link thread will (re)connect.
    Connect = 0,
    /// The TCP connection is being made.
    Connecting = 1,
    /// PING / AUTH / REPLCONF / PSYNC.
    Handshake = 2,
    /// Receiving a full sync's snapshot.
    Transfer = 3,
    /// Applying the master's stream.
    Connected = 4,
}

impl LinkState {
    /// ROLE's name for it.
    pub fn name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Transfer => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// This node's link to its master, when it is a replica.
pub struct MasterLink {
    pub host: String,
    pub port: u16,
    state: std::sync::atomic::AtomicU8,
    pub stop: Arc<AtomicBool>,
    /// CLIENT KILL TYPE master: drop this connection (the link reconnects).
    pub kill: AtomicBool,
    /// Unix ms of the last byte received from the master.
    pub last_io: AtomicI64,
    /// Unix ms when the link went down (0 = it was never up).
    pub down_since: AtomicI64,
    /// A full sync's snapshot: its size and the bytes received so far.
    pub sync_total: AtomicU64,
    pub sync_read: AtomicU64,
}

impl MasterLink {
    pub fn new(host: String, port: u16) -> Self {
        MasterLink {
            host,
            port,
            state: (LinkState::Connect as u8).into(),
            stop: Arc::new(false.into()),
            kill: false.into(),
            last_io: 0.into(),
            down_since: 0.into(),
            sync_total: 0.into(),
            sync_read: 0.into(),
        }
    }

    pub fn state(&self) -> LinkState {
        match self.state.load(Ordering::Acquire) {
            1 => LinkState::Connecting,
            2 => LinkState::Handshake,
            3 => LinkState::Transfer,
            4 => LinkState::Connected,
            _ => LinkState::Connect,
        }
    }

    pub fn set_state(&self, s: LinkState) {
        let was = self.state.swap(s as u8, Ordering::AcqRel);
        if was == LinkState::Connected as u8 && s != LinkState::Connected {
            self.down_since.store(crate::clock::unix_time_ms(), Ordering::Relaxed);
        }
        if s == LinkState::Connected {
            self.down_since.store(0, Ordering::Relaxed);
        }
    }

    /// Is the link up (`master_link_status:up`)?
    pub fn is_up(&self) -> bool {
        self.state() == LinkState::Connected
    }
}

/// Applies the master's stream on a replica (commands and, under the same hold of the exec
/// gate, their feed into this node's own write stream). The command layer provides it when the
/// server is assembled; replication itself never runs a command.
pub trait StreamApplier: Send {
    /// Apply every command of `batch` in order, leaving it empty.
    fn apply(&mut self, batch: &mut Vec<Vec<Bytes>>);
}

/// Makes the applier of one link to a master (given the link's peer and local addresses).
pub type ApplierFactory = Box<dyn Fn(SocketAddr, SocketAddr) -> Box<dyn StreamApplier> + Send + Sync>;

pub struct Replication {
    pub core: Arc<Core>,
    pub replid: Mutex<String>,
    /// The previous history id and the offset up to which it is valid (PSYNC after failover).
    pub replid2: Mutex<(String, u64)>,
    /// The replication buffer: the write stream's sink on this side (see `backlog.rs`).
    pub backlog: Arc<Backlog>,
    pub replicas: Mutex<Vec<Arc<ReplicaInfo>>>,
    pub master: Mutex<Option<Arc<MasterLink>>>,
    /// The byte offset a replica has applied (replica role).
    pub applied: AtomicU64,
    /// See [`StreamApplier`]; set when the server is assembled.
    pub applier: std::sync::OnceLock<ApplierFactory>,
    /// The database the master's stream is in (its last SELECT), kept across reconnections: a
    /// partial resync continues in it. A full sync starts over in database 0.
    pub stream_db: std::sync::atomic::AtomicUsize,
}

impl Replication {
    pub fn new(core: Arc<Core>) -> Self {
        let backlog_size = core.config.read().repl_backlog_size;
        Replication {
            core,
            replid: Mutex::new(crate::rand::random_hex(40)),
            replid2: Mutex::new(("0".repeat(40), 0)),
            backlog: Arc::new(Backlog::new(backlog_size)),
            replicas: Mutex::new(Vec::new()),
            master: Mutex::new(None),
            applied: AtomicU64::new(0),
            applier: std::sync::OnceLock::new(),
            stream_db: 0.into(),
        }
    }

    pub fn is_replica(&self) -> bool {
        self.master.lock().is_some()
    }

    /// The master replication offset.
    pub fn offset(&self) -> u64 {
        self.backlog.offset()
    }

    /// Start a new history (a replica promoted to master): keep the old id as replid2 so the
    /// other replicas can continue with a partial resync.
    pub fn new_history(&self) {
        let mut id = self.replid.lock();
        let off = self.backlog.offset();
        *self.replid2.lock() = (id.clone(), off + 1);
        *id = crate::rand::random_hex(40);
    }

    /// Online replicas that acknowledged `offset` (WAIT).
    pub fn acked(&self, offset: u64) -> usize {
        self.replicas
            .lock()
            .iter()
            .filter(|r| {
                !r.gone.load(Ordering::Relaxed)
                    && *r.state.lock() == "online"
                    && r.ack_offset.load(Ordering::Relaxed) >= offset
            })
            .count()
    }

    /// Every attached replica as a shutdown reports it: (name `ip:listening-port`, offset it
    /// acknowledged, seconds since its last ACK when online (else 0), state).
    pub fn replica_acks(&self) -> Vec<(String, u64, i64, &'static str)> {
        let now = crate::clock::unix_time_ms();
        self.replicas
            .lock()
            .iter()
            .filter(|r| !r.gone.load(Ordering::Relaxed))
            .map(|r| {
                let state = *r.state.lock();
                let port = match r.listening_port.load(Ordering::Relaxed) {
                    0 => r.addr.port() as u64,
                    p => p,
                };
                let lag = if state == "online" { (now - r.last_ack.load(Ordering::Relaxed)) / 1000 } else { 0 };
                (format!("{}:{port}", r.addr.ip()), r.ack_offset.load(Ordering::Relaxed), lag, state)
            })
            .collect()
    }

    /// Replicas that acknowledged within `max_lag_secs`.
    pub fn good_replicas(&self, max_lag_secs: i64) -> usize {
        let now = crate::clock::unix_time_ms();
        self.replicas
            .lock()
            .iter()
            .filter(|r| {
                !r.gone.load(Ordering::Relaxed)
                    && *r.state.lock() == "online"
                    && now - r.last_ack.load(Ordering::Relaxed) <= max_lag_secs * 1000
            })
            .count()
    }

    /// Ask every replica for an ACK now (WAIT). The caller holds the exec gate, as for any
    /// write to the stream.
    pub fn request_acks(&self, stream: &WriteStream) {
        if !self.replicas.lock().is_empty() {
            stream.feed(&[Bytes::from_static(b"REPLCONF"), Bytes::from_static(b"GETACK"), Bytes::from_static(b"*")]);
        }
    }
}

/// Once per cron tick (main loop): a master with replicas feeds them a PING every
/// `repl-ping-replica-period`, so a replica can tell a silent master from a dead link (it drops
/// a link silent for `repl-timeout`). Fed under the gate like any write, so it never lands
/// inside a transaction's MULTI … EXEC in the stream.
/// `busy`: a script holds the gate past its threshold; the PING waits for the next tick.
pub fn cron(repl: &Replication, last_ping: &mut std::time::Instant, busy: &dyn Fn() -> bool) {
    let core = &repl.core;
    let period = core.hot.repl_ping_period_secs.load(Ordering::Relaxed).max(1);
    if last_ping.elapsed() < std::time::Duration::from_secs(period) {
        return;
    }
    if repl.is_replica() || repl.replicas.lock().is_empty() {
        *last_ping = std::time::Instant::now();
        return;
    }
    let Some(_gate) = core.exec_gate.read_unless(core.exec_gate.service_stripe(), busy) else { return };
    *last_ping = std::time::Instant::now();
    core.stream.feed(&[Bytes::from_static(b"PING")]);
}

/// The replication buffer is the write stream's sink on the replication side.
impl StreamSink for Backlog {
    fn feed(&self, _name: &[u8], encoded: &[u8]) {
        self.append(encoded);
    }
}
