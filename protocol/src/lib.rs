//! slotbox-protocol: everything about the Redis wire protocol that does no I/O.
//!
//! - [`Frame`]: a reply in protocol-neutral form, encoded per connection as RESP2 or RESP3
//!   ([`encode`]).
//! - [`RequestDecoder`]: the incremental two-phase request decoder (multibulk and inline),
//!   with Redis's limits and error strings.
//! - [`key_hash_slot`]: CRC16/XMODEM slot of a key with hash-tag rules.
//! - [`command`]: the command table as data, with key specs and key extraction.
//! - [`float`]: Redis's number formatting (`%.17g`, long-double style) and parsing rules.

pub mod balance;
pub mod command;
pub mod decode;
pub mod encode;
pub mod float;
pub mod frame;
pub mod output_limit;
pub mod peek;
pub mod resp_parse;
pub mod slot;

pub use decode::{DecodeError, Limits, RequestDecoder};
pub use encode::{encode, Protocol};
pub use frame::Frame;
pub use slot::{key_hash_slot, SLOT_COUNT};
