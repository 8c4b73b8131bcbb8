//! Commands that come from a stream rather than a client: an AOF replayed at start, and a
//! replica applying its master's stream. They run as the master-link pseudo-client (no
//! propagation, routing or READONLY check) through the execution seam like any other command.

use super::Held;
use crate::client::ClientInfo;
use crate::commands::session::ClientState;
use crate::shared::Shared;
use bytes::Bytes;
use slotbox_protocol::Frame;
use std::net::SocketAddr;
use std::sync::Arc;

/// The pseudo-client stream commands run as.
pub fn stream_client() -> ClientState {
    let addr = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
    link_client(addr, addr)
}

fn link_client(peer: SocketAddr, local: SocketAddr) -> ClientState {
    let info = Arc::new(ClientInfo::new(0, peer, local, -1, 0));
    let mut c = ClientState::new(info, false);
    c.is_master_link = true;
    c
}

/// Replays AOF commands for `persist::Persistence::start`: an unknown command makes the file
/// unusable (any other error reply is what the command answered when it first ran).
pub fn aof_replayer(shared: &Shared) -> impl FnMut(Vec<Bytes>) -> Result<(), String> + '_ {
    let mut client = stream_client();
    move |args| match super::execute(shared, &mut client, &args) {
        Frame::Error(e) if e.starts_with(b"ERR unknown command") => Err(String::from_utf8_lossy(&e).into_owned()),
        _ => Ok(()),
    }
}

/// A replica's applier of its master's stream (`repl::StreamApplier`), for one link.
pub struct ReplicaApplier {
    shared: Arc<Shared>,
    master: ClientState,
    /// MULTI and the commands queued after it, fed to this node's stream when EXEC runs.
    tx: Vec<Vec<Bytes>>,
}

impl ReplicaApplier {
    pub fn new(shared: Arc<Shared>, peer: SocketAddr, local: SocketAddr) -> Self {
        let mut master = link_client(peer, local);
        master.db = shared.repl.stream_db.load(std::sync::atomic::Ordering::Relaxed);
        ReplicaApplier { shared, master, tx: Vec::new() }
    }
}

impl crate::repl::StreamApplier for ReplicaApplier {
    fn apply(&mut self, batch: &mut Vec<Vec<Bytes>>) {
        if batch.is_empty() {
            return;
        }
        let ReplicaApplier { shared, master, tx } = self;
        let shared: &Shared = shared;
        let mut held = Held::new(shared.exec_gate.service_stripe());
        for args in batch.drain(..) {
            apply_one(shared, master, &mut held, tx, args);
        }
        drop(held);
        shared.repl.stream_db.store(master.db, std::sync::atomic::Ordering::Relaxed);
        // The applied stream reaches this node's AOF as it would after a client's batch.
        shared.persist.commit();
    }
}

/// Apply one command of the master's stream through the execution seam and mirror it into
/// this node's own stream (backlog, AOF) under the same hold of the gate, so a snapshot cut
/// (which takes the whole gate) sees each command either applied and fed, or neither. A
/// transaction is fed whole when its EXEC runs: MULTI and the queued commands wait in `tx`
/// (fed earlier, a cut between them and EXEC would keep the MULTI and lose the effects).
fn apply_one<'s>(
    shared: &'s Shared,
    master: &mut ClientState,
    held: &mut Held<'s>,
    tx: &mut Vec<Vec<Bytes>>,
    args: Vec<Bytes>,
) {
    // EXEC, MOVE, SWAPDB... need the whole gate: taken here rather than by the seam so it is
    // still held for the feed below.
    let whole = super::tables::resolve(&args).is_ok_and(|r| super::gating::needs_whole_gate(r, &args));
    if whole {
        held.exclusive(&shared.exec_gate);
    } else {
        held.shared(&shared.exec_gate);
    }
    super::execute_in_batch(shared, master, &args, held);
    if master.multi.is_some() {
        tx.push(args);
        return;
    }
    for queued in tx.drain(..) {
        shared.stream.feed(&queued);
    }
    shared.stream.feed(&args);
    if whole {
        held.release();
    }
}
