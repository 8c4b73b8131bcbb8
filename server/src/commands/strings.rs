//! String commands (group `string`): GET/SET and friends, counters, ranges, LCS. Each submodule of
//! `strings/` holds one group of commands; this file joins their handlers into the registration
//! table and its submodules share helpers through `common.rs`. Handlers see only the locked keys of
//! their command: no sockets, no cluster state.

mod bigint;
mod common;
mod counters;
mod expire_opts;
mod get_set;
mod lcs;
pub(crate) mod long_double;
mod ranges;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_more;

use super::Registration;

pub const COMMANDS: Registration = &[
    ("get", get_set::get),
    ("set", get_set::set),
    ("setnx", get_set::setnx),
    ("setex", get_set::setex),
    ("psetex", get_set::psetex),
    ("getset", get_set::getset),
    ("getdel", get_set::getdel),
    ("getex", get_set::getex),
    ("mget", get_set::mget),
    ("mset", get_set::mset),
    ("msetnx", get_set::msetnx),
    ("incr", counters::incr),
    ("decr", counters::decr),
    ("incrby", counters::incrby),
    ("decrby", counters::decrby),
    ("incrbyfloat", counters::incrbyfloat),
    ("append", ranges::append),
    ("strlen", ranges::strlen),
    ("getrange", ranges::getrange),
    ("substr", ranges::getrange),
    ("setrange", ranges::setrange),
    ("lcs", lcs::lcs),
];
