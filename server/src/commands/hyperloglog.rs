//! HyperLogLog commands (group `hyperloglog`): PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.
//! HLLs are string values holding Redis's exact bytes (`hyperloglog/repr.rs`: header, dense
//! and sparse encodings), so GET / SET / DUMP move them between slotbox and Redis unchanged.
//! `repr`, `sparse`, `murmur` and `estimate` are pure byte functions; `commands` and `debug`
//! are the handlers and see only the locked keys of their command.

mod commands;
mod debug;
mod estimate;
mod murmur;
mod repr;
mod sparse;
#[cfg(test)]
mod tests;

use super::Registration;

pub const COMMANDS: Registration = &[
    ("pfadd", commands::pfadd),
    ("pfcount", commands::pfcount),
    ("pfmerge", commands::pfmerge),
    ("pfdebug", debug::pfdebug),
    ("pfselftest", debug::pfselftest),
];
