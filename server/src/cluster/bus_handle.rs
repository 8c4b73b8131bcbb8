//! How other threads reach the cluster bus thread: [`BusCmd`] requests over a channel plus
//! the bus poller's waker.

use super::message::Message;
use crossbeam_channel::Sender;
use mio::Waker;
use std::sync::Arc;

/// Requests from other threads to the bus.
pub enum BusCmd {
    /// Send to one node.
    Send(String, Message),
    /// Send to every node.
    Broadcast(Message),
    /// Look at the node list now (a MEET was added).
    Wake,
}

/// How other threads reach the bus.
pub struct BusHandle {
    tx: Sender<BusCmd>,
    waker: Arc<Waker>,
}

impl BusHandle {
    pub(super) fn new(tx: Sender<BusCmd>, waker: Arc<Waker>) -> Self {
        BusHandle { tx, waker }
    }

    pub fn send(&self, cmd: BusCmd) {
        if self.tx.send(cmd).is_ok() {
            let _ = self.waker.wake();
        }
    }
}
