//! Keyspace commands (group `generic`): DEL, EXISTS, TYPE, the EXPIRE / TTL families, RENAME,
//! COPY, KEYS, SCAN, RANDOMKEY, OBJECT. Each submodule of `keys/` holds one group; this file
//! joins their handlers into the registration table. `lookup` is shared with the other
//! families (reads that count keyspace hits / misses). Handlers never look at sockets or
//! cluster state.

mod basic;
pub(crate) mod databases;
mod expire;
pub(crate) mod lookup;
pub(crate) mod object;
mod rename;
mod scan;
#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;

use super::Registration;

pub const COMMANDS: Registration = &[
    ("del", basic::del),
    ("unlink", basic::unlink),
    ("exists", basic::exists),
    ("touch", basic::touch),
    ("type", basic::type_),
    ("expire", expire::expire),
    ("pexpire", expire::pexpire),
    ("expireat", expire::expireat),
    ("pexpireat", expire::pexpireat),
    ("ttl", expire::ttl),
    ("pttl", expire::pttl),
    ("expiretime", expire::expiretime),
    ("pexpiretime", expire::pexpiretime),
    ("persist", expire::persist),
    ("rename", rename::rename),
    ("renamenx", rename::renamenx),
    ("copy", rename::copy),
    ("move", databases::move_key),
    ("swapdb", databases::swapdb),
    ("keys", scan::keys),
    ("scan", scan::scan),
    ("randomkey", scan::randomkey),
    ("object|encoding", object::encoding),
    ("object|refcount", object::refcount),
    ("object|freq", object::freq),
    ("object|idletime", object::idletime),
    ("object|help", object::help),
];
