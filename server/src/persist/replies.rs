//! How persistence meets the event loops: a batch's replies wait until the AOF holds its
//! writes (written; with `appendfsync always`, fsynced), one `write(2)` per loop turn, fsyncs
//! grouped across loops by the syncer. Writers outside an event loop (a replica applying its
//! master's stream, the expiry cron) [`Persistence::commit`] their writes themselves.

use super::aof::FsyncPolicy;
use super::state::Persistence;
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Persistence {
    /// The AOF position after everything appended so far (read after a batch).
    pub fn position(&self) -> u64 {
        self.aof.position()
    }

    /// An event loop starts a turn with work to do; true if counted (`appendfsync always`:
    /// the syncer waits for counted turns to end before an fsync). Pair it with
    /// [`Persistence::turn_end`].
    pub fn turn_begin(&self) -> bool {
        let always = self.aof.policy() == FsyncPolicy::Always;
        if always {
            self.syncer.turn_begin();
        }
        always
    }

    /// The counted turn of [`Persistence::turn_begin`] ended.
    pub fn turn_end(&self) {
        self.syncer.turn_end();
    }

    /// Must replies wait for the AOF to hold position `end`?
    pub fn replies_wait(&self, end: u64) -> bool {
        self.aof.replies_must_wait(end)
    }

    /// Before the replies of a loop turn: write every append so far to the file (one
    /// `write(2)` for the whole turn). With `always` the replies also need an fsync covering
    /// them: if `end` is not synced yet, one is requested from the syncer thread, which wakes
    /// `waker` when it is done. The event loop keeps serving other connections meanwhile, and
    /// the next fsync covers their writes too (group commit across threads and loop turns).
    pub fn prepare_replies(&self, end: u64, waker: &Arc<mio::Waker>) {
        self.aof.flush();
        if self.aof.policy() == FsyncPolicy::Always && self.aof.synced.load(Ordering::Acquire) < end {
            self.syncer.request(&self.aof, end, waker);
        }
    }

    /// Make the appends so far reach the file now (with `always`, durably): for writers that
    /// are not event loops and have no reply to hold back.
    pub fn commit(&self) {
        self.aof.flush();
        if self.aof.policy() == FsyncPolicy::Always {
            self.aof.sync_pending();
        }
    }
}
