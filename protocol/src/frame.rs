//! [`Frame`]: a reply in protocol-neutral form. Commands build a `Frame` once; the connection
//! encodes it as RESP2 or RESP3 (see `encode`). This module must not know about sockets.

use bytes::Bytes;

/// A protocol-neutral reply (or a parsed RESP value, for clients and the proxy).
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `+OK` style status.
    Simple(Bytes),
    /// `-ERR ...` (the text includes the error code prefix, without the `-`).
    Error(Bytes),
    Integer(i64),
    Bulk(Bytes),
    /// A missing value: `$-1` in RESP2, `_` in RESP3.
    Null,
    /// A missing aggregate: `*-1` in RESP2, `_` in RESP3.
    NullArray,
    Array(Vec<Frame>),
    /// RESP3 map; flattened to an array of 2N in RESP2.
    Map(Vec<(Frame, Frame)>),
    /// RESP3 set; an array in RESP2.
    Set(Vec<Frame>),
    /// RESP3 double; a bulk string (`%.17g`, or `inf`/`-inf`) in RESP2.
    Double(f64),
    /// RESP3 boolean; `:1`/`:0` in RESP2.
    Boolean(bool),
    /// RESP3 verbatim string (format, text); a bulk string in RESP2.
    Verbatim(&'static str, Bytes),
    /// RESP3 big number (digits); a bulk string in RESP2.
    BigNumber(Bytes),
    /// RESP3 push (pub/sub messages); an array in RESP2.
    Push(Vec<Frame>),
    /// Pre-encoded bytes, written as they are (used for pre-built replies of one protocol).
    Raw(Bytes),
    /// Several replies to one request, written one after the other (SUBSCRIBE a b c).
    Many(Vec<Frame>),
}

impl Frame {
    pub const fn ok() -> Frame {
        Frame::Simple(Bytes::from_static(b"OK"))
    }

    pub const fn queued() -> Frame {
        Frame::Simple(Bytes::from_static(b"QUEUED"))
    }

    pub const fn simple_static(s: &'static str) -> Frame {
        Frame::Simple(Bytes::from_static(s.as_bytes()))
    }

    /// An error; `msg` must already carry its code (`ERR ...`, `WRONGTYPE ...`).
    pub fn error(msg: impl Into<String>) -> Frame {
        Frame::Error(Bytes::from(msg.into()))
    }

    pub const fn error_static(msg: &'static str) -> Frame {
        Frame::Error(Bytes::from_static(msg.as_bytes()))
    }

    pub fn bulk(data: impl Into<Bytes>) -> Frame {
        Frame::Bulk(data.into())
    }

    pub fn bulk_from_slice(data: &[u8]) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(data))
    }

    pub const fn bulk_static(s: &'static str) -> Frame {
        Frame::Bulk(Bytes::from_static(s.as_bytes()))
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Frame::Error(_))
    }

    /// The error text if this is an error frame.
    pub fn error_text(&self) -> Option<&[u8]> {
        match self {
            Frame::Error(e) => Some(e),
            _ => None,
        }
    }

    /// Bytes of a Simple/Bulk/Verbatim frame.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Frame::Simple(b) | Frame::Bulk(b) | Frame::Verbatim(_, b) | Frame::BigNumber(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Frame::Integer(i) => Some(*i),
            _ => None,
        }
    }
}

/// Common errors with Redis 7.0's exact text.
pub mod errors {
    pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
    pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
    pub const NOT_FLOAT: &str = "ERR value is not a valid float";
    pub const SYNTAX: &str = "ERR syntax error";
    pub const NO_SUCH_KEY: &str = "ERR no such key";
    pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
    pub const NOAUTH: &str = "NOAUTH Authentication required.";
    pub const CROSSSLOT: &str = "CROSSSLOT Keys in request don't hash to the same slot";

    /// `ERR wrong number of arguments for 'name' command`.
    pub fn wrong_arity(name: &str) -> String {
        format!("ERR wrong number of arguments for '{name}' command")
    }
}
