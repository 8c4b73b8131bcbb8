//! The values a key can hold and their Redis type / encoding names. Strings keep Redis's
//! `int` / `embstr` / `raw` distinction because `OBJECT ENCODING` shows it.

use super::types::{HashValue, SetValue, ZSetValue};
use slotbox_protocol::float::parse_i64;
use std::collections::VecDeque;

/// Longest string Redis stores as `embstr`.
pub const EMBSTR_MAX: usize = 44;

/// A stored value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string that is a canonical integer (`OBJECT ENCODING int`).
    Int(i64),
    /// Any other string; `raw` is true once it was modified in place (APPEND, SETRANGE), which
    /// Redis reports as `raw` whatever its length.
    Str {
        data: Box<[u8]>,
        raw: bool,
    },
    Hash(Box<HashValue>),
    /// Always "quicklist" in Redis 7.0.
    List(Box<VecDeque<Box<[u8]>>>),
    Set(Box<SetValue>),
    ZSet(Box<ZSetValue>),
}

impl Value {
    /// A string value encoded as Redis's `tryObjectEncoding` would.
    pub fn string(data: &[u8]) -> Value {
        if data.len() <= 20 {
            if let Some(i) = parse_i64(data) {
                return Value::Int(i);
            }
        }
        Value::Str { data: data.into(), raw: false }
    }

    /// A string value that Redis creates without trying the int encoding (INCRBYFLOAT,
    /// GETRANGE results...).
    pub fn plain_string(data: &[u8]) -> Value {
        Value::Str { data: data.into(), raw: false }
    }

    /// The `TYPE` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) | Value::Str { .. } => "string",
            Value::Hash(_) => "hash",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    /// The `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Str { data, raw } => {
                if !raw && data.len() <= EMBSTR_MAX {
                    "embstr"
                } else {
                    "raw"
                }
            }
            Value::Hash(h) => h.encoding(),
            Value::List(_) => "quicklist",
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
        }
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Str { .. })
    }

    /// The bytes of a string value (integers formatted).
    pub fn string_bytes(&self) -> Option<StrBytes<'_>> {
        match self {
            Value::Int(i) => Some(StrBytes::Int(itoa::Buffer::new(), *i)),
            Value::Str { data, .. } => Some(StrBytes::Slice(data)),
            _ => None,
        }
    }

    /// Bytes of heap memory this value owns (for `used_memory`-style estimates).
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Int(_) => 0,
            Value::Str { data, .. } => data.len(),
            Value::Hash(h) => h.heap_size(),
            Value::List(l) => l.iter().map(|e| e.len() + 16).sum(),
            Value::Set(s) => s.heap_size(),
            Value::ZSet(z) => z.heap_size(),
        }
    }
}

/// The bytes of a string value without allocating.
pub enum StrBytes<'a> {
    Slice(&'a [u8]),
    Int(itoa::Buffer, i64),
}

impl StrBytes<'_> {
    pub fn with<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            StrBytes::Slice(s) => f(s),
            StrBytes::Int(buf, i) => f(buf.format(*i).as_bytes()),
        }
    }

    pub fn to_vec(&mut self) -> Vec<u8> {
        self.with(|b| b.to_vec())
    }

    pub fn len(&mut self) -> usize {
        self.with(|b| b.len())
    }

    pub fn is_empty(&mut self) -> bool {
        self.len() == 0
    }
}

/// A key's entry: its value and absolute expiry time in ms (0 = no expiry).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub value: Value,
    pub expire_at: i64,
}

impl Entry {
    pub fn new(value: Value) -> Self {
        Entry { value, expire_at: 0 }
    }

    pub fn is_expired(&self, now_ms: i64) -> bool {
        self.expire_at != 0 && now_ms > self.expire_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(Value::string(b"123").encoding(), "int");
        assert_eq!(Value::string(b"0123").encoding(), "embstr");
        assert_eq!(Value::string(&[b'a'; 44]).encoding(), "embstr");
        assert_eq!(Value::string(&[b'a'; 45]).encoding(), "raw");
        assert_eq!(Value::plain_string(b"3").encoding(), "embstr");
        assert_eq!(std::mem::size_of::<Value>(), 24);
    }
}
