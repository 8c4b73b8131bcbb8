//! Set commands (group `set`): membership, SPOP / SRANDMEMBER, SMOVE, SSCAN and the set algebra
//! (SINTER, SUNION, SDIFF and their STORE / CARD forms). Each submodule of `sets/` holds one group
//! of commands; this file joins their handlers into the registration table and its submodules share
//! helpers through `common.rs`. Handlers see only the locked keys of their command: no sockets, no
//! cluster state.

mod algebra;
mod common;
mod members;
mod random;
#[cfg(test)]
mod tests;

use super::Registration;

pub const COMMANDS: Registration = &[
    ("sadd", members::sadd),
    ("srem", members::srem),
    ("smembers", members::smembers),
    ("sismember", members::sismember),
    ("smismember", members::smismember),
    ("scard", members::scard),
    ("smove", members::smove),
    ("sscan", members::sscan),
    ("spop", random::spop),
    ("srandmember", random::srandmember),
    ("sinter", algebra::sinter),
    ("sintercard", algebra::sintercard),
    ("sinterstore", algebra::sinterstore),
    ("sunion", algebra::sunion),
    ("sunionstore", algebra::sunionstore),
    ("sdiff", algebra::sdiff),
    ("sdiffstore", algebra::sdiffstore),
];
