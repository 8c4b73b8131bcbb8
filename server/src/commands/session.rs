//! [`ClientState`]: one connection's session as command handlers see it — protocol, auth,
//! transaction (MULTI queue, WATCHed keys), blocking, pub/sub subscriptions, reply mode —
//! owned by the connection's event loop. Its shared, readable part is `client::ClientInfo`.

use crate::client::ClientInfo;
use bytes::Bytes;
use slotbox_protocol::{Frame, Protocol};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What a blocking command waits for.
pub struct BlockOn {
    pub keys: Vec<Bytes>,
    /// Unix ms deadline, 0 = forever.
    pub deadline_ms: i64,
    /// The reply on timeout (null of the command's shape).
    pub timeout_reply: Frame,
    /// The arguments to re-run the command with when a key is ready, if not its own (XREAD
    /// turns `$` into the stream's last ID at the time it blocked).
    pub rerun_args: Option<Vec<Bytes>>,
}

/// CLIENT REPLY mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyMode {
    #[default]
    On,
    Off,
    /// Skip the reply of the next command only.
    SkipNext,
    /// Skipping the current command's reply.
    Skip,
}

/// A command queued between MULTI and EXEC: its registry id, its table row (for the checks
/// EXEC makes on the whole queue) and its arguments.
pub struct Queued {
    pub id: u16,
    pub spec: &'static slotbox_protocol::command::CommandSpec,
    pub args: Vec<Bytes>,
}

/// Commands queued between MULTI and EXEC.
#[derive(Default)]
pub struct MultiState {
    pub queued: Vec<Queued>,
    /// A command was rejected while queueing: EXEC answers EXECABORT.
    pub failed: bool,
}

/// A key this client WATCHes: its slot, the key, and its expiry time when watched.
pub struct WatchedKey {
    pub db: usize,
    pub slot: u16,
    pub key: Box<[u8]>,
    pub expire_at: i64,
}

/// State of one connection, owned by its event loop.
pub struct ClientState {
    /// The selected database (`SELECT`).
    pub db: usize,
    /// Set while the client waits in a blocking command; its later requests wait too.
    pub blocked: Option<Arc<crate::blocking::Waiter>>,
    /// Set by a blocking command that found nothing to do; turned into `blocked` by the
    /// dispatcher (or, when re-run for a blocked client, meaning "still nothing").
    pub want_block: Option<BlockOn>,
    /// This state stands in for a blocked client while another thread re-runs its command.
    pub serving_blocked: bool,
    /// The last command was held back by a client pause of this kind: the connection runs it
    /// again once the pause in force is less restrictive (CLIENT LIST shows it blocked).
    pub postponed: Option<crate::pause::PauseKind>,
    /// Keys written by this client's command that blocked clients wait for.
    pub ready_keys: Vec<(usize, Bytes)>,
    /// Running EXEC's queue: blocking commands must not block.
    pub in_exec: bool,
    /// Pub/sub subscriptions, in subscription order.
    pub channels: Vec<Bytes>,
    pub patterns: Vec<Bytes>,
    pub shard_channels: Vec<Bytes>,
    /// Cluster: the next command may be served for an importing slot (one-shot).
    pub asking: bool,
    /// Cluster: READONLY was sent (reads may be served by a replica).
    pub readonly: bool,
    /// The connection of this node's master (replication stream): never refused, never
    /// redirected, never propagated again.
    pub is_master_link: bool,
    /// WAIT in progress: (offset, replicas wanted, deadline ms or 0).
    pub waiting: Option<(u64, usize, i64)>,
    /// Replication offset after this client's last write (for WAIT).
    pub last_write_offset: u64,
    /// PSYNC / SYNC received: the connection becomes a replica link (replid, offset).
    pub handoff: Option<(String, i64)>,
    /// REPLCONF listening-port of a replica connection.
    pub repl_listening_port: u64,
    /// MULTI was fed to the replication stream for the running EXEC.
    pub exec_fed_multi: bool,
    /// The session a script runs its commands in.
    pub in_script: bool,
    /// A script's `redis.set_repl(redis.REPL_NONE)`: its writes are not propagated.
    pub no_propagate: bool,
    /// Inside MULTI.
    pub multi: Option<MultiState>,
    pub watched: Vec<WatchedKey>,
    /// Set by any write to a watched key.
    pub watch_dirty: Arc<AtomicBool>,
    pub info: Arc<ClientInfo>,
    pub resp: Protocol,
    pub authenticated: bool,
    /// Close the connection once the pending replies are written (QUIT, protocol error).
    pub close_after_reply: bool,
    pub reply_mode: ReplyMode,
    /// CLIENT NO-EVICT: protect this client from client eviction.
    pub no_evict: bool,
    /// The clock of the batch of requests being run: a command starts when the previous one
    /// ended, and ends at a time-stamp counter reading (see `clock::BatchClock`). Reset
    /// between batches.
    pub batch_clock: crate::clock::BatchClock,
    /// The slot of the last command's keys when they all were in one slot, or
    /// `gate::WHOLE_GATE_SLOT` when it ran under the whole gate (hot-slot affinity,
    /// `net::affinity`).
    pub cmd_slot: Option<u16>,
    /// A key's slot the event loop computed already (it prefetched that slot while the
    /// request before ran): the key's address and length in the read buffer, and its slot.
    /// The seam uses it for the key at that very address instead of hashing it again.
    pub slot_hint: Option<SlotHint>,
    /// CLIENT CACHING YES / NO given for the next command (or transaction).
    pub tracking_caching: bool,
    /// Invalidation messages for this very connection, written after the reply of the
    /// command that caused them (as Redis's pending tracking keys).
    pub pending_pushes: Vec<Frame>,
    /// Invalidations of keys evicted to make room for the running command: written before
    /// its reply, as Redis sends them (`pushes_early` routes them here).
    pub early_pushes: Vec<Frame>,
    pub pushes_early: bool,
}

impl ClientState {
    pub fn new(info: Arc<ClientInfo>, auth_required: bool) -> Self {
        ClientState {
            db: 0,
            blocked: None,
            want_block: None,
            serving_blocked: false,
            postponed: None,
            ready_keys: Vec::new(),
            in_exec: false,
            channels: Vec::new(),
            patterns: Vec::new(),
            shard_channels: Vec::new(),
            is_master_link: false,
            waiting: None,
            last_write_offset: 0,
            handoff: None,
            repl_listening_port: 0,
            exec_fed_multi: false,
            asking: false,
            readonly: false,
            in_script: false,
            no_propagate: false,
            multi: None,
            watched: Vec::new(),
            watch_dirty: Arc::new(AtomicBool::new(false)),
            tracking_caching: false,
            pending_pushes: Vec::new(),
            early_pushes: Vec::new(),
            pushes_early: false,
            info,
            resp: Protocol::Resp2,
            authenticated: !auth_required,
            close_after_reply: false,
            reply_mode: ReplyMode::On,
            no_evict: false,
            batch_clock: Default::default(),
            cmd_slot: None,
            slot_hint: None,
        }
    }

    /// Between commands with nothing in progress that ties it to its event loop (see
    /// `net::affinity`): not blocked, waiting, in a transaction, subscribed, monitoring or a
    /// link.
    pub fn movable(&self) -> bool {
        self.blocked.is_none()
            && self.postponed.is_none()
            && self.waiting.is_none()
            && self.handoff.is_none()
            && self.multi.is_none()
            && !self.is_master_link
            && !self.close_after_reply
            && !self.in_pubsub()
            && !self.info.monitor.load(Ordering::Relaxed)
    }

    /// Copy what CLIENT LIST shows of this connection into its shared info (cheap: a few
    /// relaxed stores; the event loop calls it after each event).
    pub fn publish(&self) {
        let s = &self.info.shown;
        s.sub.store(self.channels.len() as u64, Ordering::Relaxed);
        s.psub.store(self.patterns.len() as u64, Ordering::Relaxed);
        s.ssub.store(self.shard_channels.len() as u64, Ordering::Relaxed);
        s.multi.store(self.multi.as_ref().map_or(-1, |m| m.queued.len() as i64), Ordering::Relaxed);
        s.blocked
            .store(self.blocked.is_some() || self.waiting.is_some() || self.postponed.is_some(), Ordering::Relaxed);
        s.readonly.store(self.readonly, Ordering::Relaxed);
        s.master.store(self.is_master_link, Ordering::Relaxed);
        s.closing.store(self.close_after_reply, Ordering::Relaxed);
        s.no_evict.store(self.no_evict, Ordering::Relaxed);
        s.db.store(self.db as u64, Ordering::Relaxed);
    }

    /// Subscribed to anything (RESP2 clients are then limited to pub/sub commands).
    /// Is this client still subscribed to what a pub/sub message (`message`, `pmessage`,
    /// `smessage` push) was published to? A message published before an unsubscribe may
    /// reach the event loop after it: it is dropped, never written after the confirmation.
    pub fn wants_message(&self, push: &Frame) -> bool {
        let (Frame::Push(parts) | Frame::Array(parts)) = push else { return true };
        let (Some(Frame::Bulk(kind)), Some(Frame::Bulk(name))) = (parts.first(), parts.get(1)) else {
            return true;
        };
        match kind.as_ref() {
            b"message" => self.channels.contains(name),
            b"pmessage" => self.patterns.contains(name),
            b"smessage" => self.shard_channels.contains(name),
            _ => true,
        }
    }

    pub fn in_pubsub(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard_channels.is_empty())
    }

    pub fn id(&self) -> u64 {
        self.info.id
    }

    pub fn set_resp(&mut self, resp: Protocol) {
        self.resp = resp;
        self.info.resp.store(resp.version() as u8, Ordering::Relaxed);
    }
}

/// See [`ClientState::slot_hint`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotHint {
    pub addr: usize,
    pub len: usize,
    pub slot: u16,
}

impl SlotHint {
    pub fn of(key: &[u8], slot: u16) -> SlotHint {
        SlotHint { addr: key.as_ptr() as usize, len: key.len(), slot }
    }

    /// The slot, if `key` is the very bytes the hint was computed from.
    #[inline]
    pub fn slot_of(self, key: &[u8]) -> Option<u16> {
        (key.as_ptr() as usize == self.addr && key.len() == self.len).then_some(self.slot)
    }
}
