//! Bitmap commands (group `bitmap`): SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD,
//! BITFIELD_RO, on string values (an integer-encoded string is read as its decimal text and
//! becomes `raw` once written). `bits.rs` holds the pure bit arithmetic; each other submodule
//! is one group of commands. Handlers see only the locked keys of their command.

mod bitfield;
mod bitop;
mod bits;
mod common;
mod count;
mod single;
#[cfg(test)]
mod tests;

use super::Registration;

pub const COMMANDS: Registration = &[
    ("setbit", single::setbit),
    ("getbit", single::getbit),
    ("bitcount", count::bitcount),
    ("bitpos", count::bitpos),
    ("bitop", bitop::bitop),
    ("bitfield", bitfield::bitfield),
    ("bitfield_ro", bitfield::bitfield_ro),
];
