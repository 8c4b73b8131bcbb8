//! Stream commands (group `stream`): entries (XADD, XRANGE, XDEL, XTRIM, XSETID), reads
//! (XREAD, XREADGROUP, blocking through the dispatcher like the blocking pops), consumer
//! groups (XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM) and XINFO. Each submodule of
//! `streams/` holds one group of commands; this file joins their handlers into the
//! registration table. Handlers see only the locked keys of their command; what they send
//! to replicas instead of themselves goes through `ctx.propagate`.

mod add;
mod claim;
mod common;
mod groups;
mod info;
mod pending;
mod range;
mod read;
#[cfg(test)]
mod tests;

use super::Registration;

pub const COMMANDS: Registration = &[
    ("xadd", add::xadd),
    ("xtrim", add::xtrim),
    ("xdel", add::xdel),
    ("xsetid", add::xsetid),
    ("xrange", range::xrange),
    ("xrevrange", range::xrevrange),
    ("xlen", range::xlen),
    ("xread", read::xread),
    ("xreadgroup", read::xreadgroup),
    ("xgroup|create", groups::create),
    ("xgroup|setid", groups::setid),
    ("xgroup|destroy", groups::destroy),
    ("xgroup|createconsumer", groups::createconsumer),
    ("xgroup|delconsumer", groups::delconsumer),
    ("xgroup|help", groups::help),
    ("xack", pending::xack),
    ("xpending", pending::xpending),
    ("xclaim", claim::xclaim),
    ("xautoclaim", claim::xautoclaim),
    ("xinfo|stream", info::stream),
    ("xinfo|groups", info::groups),
    ("xinfo|consumers", info::consumers),
    ("xinfo|help", info::help),
];
