//! List commands (group `list`): pushes, pops, ranges and the blocking pops. Each submodule of
//! `lists/` holds one group of commands; this file joins their handlers into the registration table
//! and its submodules share helpers through `common.rs` (typed lookups, push / pop on a key,
//! LEFT|RIGHT). Lists are always "quicklist" (Redis 7.0); a list that becomes empty is deleted.
//! Handlers see only the locked keys of their command: no sockets, no cluster state, and the
//! blocking ones only ask the dispatcher to park the client (`ctx.block`).

mod blocking;
mod common;
mod pop;
mod push;
mod range;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_block;

use super::Registration;

pub const COMMANDS: Registration = &[
    ("lpush", push::lpush),
    ("rpush", push::rpush),
    ("lpushx", push::lpushx),
    ("rpushx", push::rpushx),
    ("linsert", push::linsert),
    ("lset", push::lset),
    ("lpop", pop::lpop),
    ("rpop", pop::rpop),
    ("lmpop", pop::lmpop),
    ("lmove", pop::lmove),
    ("rpoplpush", pop::rpoplpush),
    ("llen", range::llen),
    ("lrange", range::lrange),
    ("lindex", range::lindex),
    ("lrem", range::lrem),
    ("ltrim", range::ltrim),
    ("lpos", range::lpos),
    ("blpop", blocking::blpop),
    ("brpop", blocking::brpop),
    ("blmove", blocking::blmove),
    ("brpoplpush", blocking::brpoplpush),
    ("blmpop", blocking::blmpop),
];
