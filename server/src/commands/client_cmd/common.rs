//! What the CLIENT subcommands share: the client registry in connection order and the
//! client types (`TYPE normal|replica|master|pubsub`) of CLIENT LIST and CLIENT KILL.

use crate::client::ClientInfo;
use crate::commands::args::is;
use crate::shared::Shared;
use slotbox_protocol::Frame;
use std::sync::Arc;

/// Every connected client, oldest first (Redis lists them in connection order).
pub(super) fn all_clients(shared: &Shared) -> Vec<Arc<ClientInfo>> {
    let mut v: Vec<_> = shared.clients.lock().values().cloned().collect();
    v.sort_by_key(|c| c.id);
    v
}

/// The client types CLIENT KILL / LIST TYPE name.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Normal,
    Replica,
    Master,
    Pubsub,
}

pub(super) fn kind_by_name(name: &[u8]) -> Option<Kind> {
    match () {
        _ if is(name, "normal") => Some(Kind::Normal),
        _ if is(name, "slave") || is(name, "replica") => Some(Kind::Replica),
        _ if is(name, "master") => Some(Kind::Master),
        _ if is(name, "pubsub") => Some(Kind::Pubsub),
        _ => None,
    }
}

/// A connection's type as Redis's `getClientType`: `pubsub` while it holds any subscription,
/// else `normal` (MONITOR clients included). Replication links are not in the registry.
pub(super) fn kind_of(c: &ClientInfo) -> Kind {
    if c.shown.subscriptions() > 0 {
        Kind::Pubsub
    } else {
        Kind::Normal
    }
}

pub(super) fn unknown_type(name: &[u8]) -> Frame {
    Frame::error(format!("ERR Unknown client type '{}'", String::from_utf8_lossy(name)))
}
