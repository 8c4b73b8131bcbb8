//! Hash commands (group `hash`): HSET and friends, counters, HRANDFIELD and HSCAN. Each submodule
//! of `hashes/` holds one group of commands; this file joins their handlers into the registration
//! table and its submodules share helpers through `common.rs`. Handlers see only the locked keys of
//! their command: no sockets, no cluster state. `scan` is shared with the set family.

mod common;
mod counters;
mod fields;
pub(super) mod random;
pub(super) mod scan;
#[cfg(test)]
mod tests;

use super::Registration;

pub const COMMANDS: Registration = &[
    ("hset", fields::hset),
    ("hmset", fields::hmset),
    ("hsetnx", fields::hsetnx),
    ("hget", fields::hget),
    ("hmget", fields::hmget),
    ("hdel", fields::hdel),
    ("hexists", fields::hexists),
    ("hlen", fields::hlen),
    ("hstrlen", fields::hstrlen),
    ("hkeys", fields::hkeys),
    ("hvals", fields::hvals),
    ("hgetall", fields::hgetall),
    ("hincrby", counters::hincrby),
    ("hincrbyfloat", counters::hincrbyfloat),
    ("hrandfield", random::hrandfield),
    ("hscan", scan::hscan),
];
