//! [`Ctx`]: what a command handler sees — the server, the client's session, the locked slots
//! of its keys, the command's clock and table row — and what it may hand back to the seam (a
//! block, a replacement for propagation). Handlers never look at sockets.

use super::session::{BlockOn, ClientState};
use crate::shared::Shared;
use crate::store::KeyView;
use bytes::Bytes;
use slotbox_protocol::command::CommandSpec;
use slotbox_protocol::Frame;

/// What a handler sees.
pub struct Ctx<'a, 's> {
    pub shared: &'s Shared,
    pub client: &'a mut ClientState,
    /// The slots of this command's keys, locked (borrowed from the seam, which may keep them
    /// for the connection's next request: a view is never moved per command).
    pub keys: &'a mut KeyView<'s>,
    /// The command's clock (ms since the epoch), fixed for the whole command as in Redis.
    pub now_ms: i64,
    /// The command's table row (the subcommand's for container commands).
    pub spec: &'static CommandSpec,
    /// A blocking command that found nothing to do sets this instead of replying
    /// (only honoured when `may_block`).
    pub block: Option<BlockOn>,
    /// False inside EXEC: blocking commands answer their timeout reply at once.
    pub may_block: bool,
    /// What to send to replicas instead of the command itself (SPOP → SREM, MIGRATE → DEL).
    pub propagate: Option<Vec<Vec<Bytes>>>,
    /// The write stream (replicas, the AOF) was on when the command started: the seam feeds
    /// the command to it only then, and a handler may skip building a replacement for
    /// [`Ctx::propagate`] when it is off (the seam then only counts the write for
    /// `rdb_changes_since_last_save`). A stream switched on while the command runs starts after it (the snapshot
    /// that starts a replica or an AOF rewrite is cut under the whole gate, so it holds the
    /// command's effect).
    pub streaming: bool,
    /// The whole exec gate is held (only for commands that need it: `exec::needs_whole_gate`).
    pub exclusive: bool,
    /// The seam's entry for running a registered command (by id) from inside this one, with
    /// the gate already held: EXEC's queue. Handed in so no handler imports the seam.
    pub run: RunFn,
}

/// What a handler returns: its reply, or (with `?`) the error reply that ended it early.
/// Both go to the client; an error is counted as a failed call either way.
pub type Reply = Result<Frame, Frame>;

/// See [`Ctx::run`].
pub type RunFn = fn(&Shared, &mut ClientState, u16, &[Bytes]) -> Frame;

impl Ctx<'_, '_> {
    /// Report a keyspace event on `key` of the client's database (`notify-keyspace-events`;
    /// nothing is done when its class is off).
    pub fn notify(&self, class: u32, event: &str, key: &[u8]) {
        self.notify_in(self.client.db, class, event, key);
    }

    /// [`Ctx::notify`] for a key of database `db` (MOVE, COPY ... DB).
    pub fn notify_in(&self, db: usize, class: u32, event: &str, key: &[u8]) {
        crate::notify::emit(self.shared, &self.shared.pubsub, class, event, key, db);
    }
}
