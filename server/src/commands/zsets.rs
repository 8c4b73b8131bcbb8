//! Sorted-set commands (group `sorted-set`): ZADD and friends, range queries by rank, score and
//! lex, pops (blocking too), random members, ZSCAN and the set operations. Each submodule of
//! `zsets/` holds one group; this file joins their handlers into the registration table and its
//! submodules share helpers through `common.rs` (lookups, score parsing, reply shapes). Handlers
//! see only the locked keys of their command: no sockets, no cluster state.

mod add;
mod common;
mod misc;
mod pop;
mod query;
mod range;
mod setops;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_more;

use super::Registration;

/// ZADD and the score parsing GEOADD and the GEO searches share (GEOADD runs as a ZADD).
pub(crate) use add::zadd;
pub(crate) use common::strict_float;

pub const COMMANDS: Registration = &[
    ("zadd", add::zadd),
    ("zincrby", add::zincrby),
    ("zrem", add::zrem),
    ("zscore", misc::zscore),
    ("zmscore", misc::zmscore),
    ("zcard", misc::zcard),
    ("zcount", misc::zcount),
    ("zlexcount", misc::zlexcount),
    ("zrank", misc::zrank),
    ("zrevrank", misc::zrevrank),
    ("zrandmember", misc::zrandmember),
    ("zscan", misc::zscan),
    ("zrange", query::zrange),
    ("zrangestore", query::zrangestore),
    ("zrangebyscore", query::zrangebyscore),
    ("zrevrangebyscore", query::zrevrangebyscore),
    ("zrangebylex", query::zrangebylex),
    ("zrevrangebylex", query::zrevrangebylex),
    ("zrevrange", query::zrevrange),
    ("zremrangebyrank", query::zremrangebyrank),
    ("zremrangebyscore", query::zremrangebyscore),
    ("zremrangebylex", query::zremrangebylex),
    ("zpopmin", pop::zpopmin),
    ("zpopmax", pop::zpopmax),
    ("zmpop", pop::zmpop),
    ("bzpopmin", pop::bzpopmin),
    ("bzpopmax", pop::bzpopmax),
    ("bzmpop", pop::bzmpop),
    ("zunion", setops::zunion),
    ("zinter", setops::zinter),
    ("zdiff", setops::zdiff),
    ("zunionstore", setops::zunionstore),
    ("zinterstore", setops::zinterstore),
    ("zdiffstore", setops::zdiffstore),
    ("zintercard", setops::zintercard),
];
