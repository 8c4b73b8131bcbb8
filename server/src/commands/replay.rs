//! Commands that come from a stream rather than a client: an AOF replayed at start. They run
//! as the master-link pseudo-client (no propagation, routing or READONLY check) through the
//! execution seam like any other command.

use crate::client::{ClientInfo, ClientState};
use crate::shared::Shared;
use bytes::Bytes;
use slotbox_protocol::Frame;
use std::sync::Arc;

/// The pseudo-client stream commands run as.
pub fn stream_client() -> ClientState {
    let addr = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
    let info = Arc::new(ClientInfo::new(0, addr, addr, -1, 0));
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
