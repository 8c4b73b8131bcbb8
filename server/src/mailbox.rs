//! How to reach one server's event-loop threads: a channel per loop plus its `mio::Waker`
//! ([`WorkerHandle`]), and the requests other threads send them ([`WorkerMsg`]).

use slotbox_protocol::Frame;
use std::sync::Arc;

/// A request to an event-loop thread.
pub enum WorkerMsg {
    NewConn(mio::net::TcpStream, std::net::SocketAddr),
    /// Close the client with this id (CLIENT KILL).
    Kill(u64),
    /// The blocking command of this client was served by another thread: send the reply.
    Unblock(u64, Frame),
    /// A pub/sub message for this client.
    Deliver(u64, Arc<Frame>),
}

/// How to reach one event-loop thread.
pub struct WorkerHandle {
    pub tx: crossbeam_channel::Sender<WorkerMsg>,
    pub waker: Arc<mio::Waker>,
}

impl WorkerHandle {
    pub fn send(&self, msg: WorkerMsg) {
        if self.tx.send(msg).is_ok() {
            let _ = self.waker.wake();
        }
    }
}
