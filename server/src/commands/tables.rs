//! Every family's registration table, in one list: the registry is built from it (once, before
//! the first lookup). Above the families and below the seam, so no family imports the seam or
//! the list.

use super::registry::{self, Registration, Resolved};
use super::{
    bitops, client_cmd, cluster, command_info, config_cmd, connection, geo, hashes, hyperloglog, info, keys, lists,
    memory, migrate, monitoring, persist, pubsub, replication, scripting, server, sets, sort, streams, strings, tx,
    zsets,
};
use bytes::Bytes;
use slotbox_protocol::Frame;

fn tables() -> Vec<Registration> {
    vec![
        strings::COMMANDS,
        bitops::COMMANDS,
        keys::COMMANDS,
        connection::COMMANDS,
        server::COMMANDS,
        tx::COMMANDS,
        pubsub::COMMANDS,
        cluster::COMMANDS,
        replication::COMMANDS,
        client_cmd::COMMANDS,
        command_info::COMMANDS,
        config_cmd::COMMANDS,
        info::COMMANDS,
        lists::COMMANDS,
        hashes::COMMANDS,
        sets::COMMANDS,
        zsets::COMMANDS,
        streams::COMMANDS,
        migrate::COMMANDS,
        persist::COMMANDS,
        monitoring::COMMANDS,
        memory::COMMANDS,
        hyperloglog::COMMANDS,
        geo::COMMANDS,
        scripting::EVAL_COMMANDS,
        scripting::FUNCTION_COMMANDS,
        sort::COMMANDS,
    ]
}

/// Make sure the registry is built.
pub fn install() {
    registry::install(tables);
}

/// Resolve a request to its handler, or the error reply Redis gives.
pub fn resolve(args: &[Bytes]) -> Result<Resolved, Frame> {
    install();
    registry::resolve(args)
}

/// [`resolve`], with the id of a command refused for its arity (commandstats counts it).
pub(super) fn resolve_or_refuse(args: &[Bytes]) -> Result<Resolved, (Frame, Option<u16>)> {
    install();
    registry::resolve_or_refuse(args)
}
