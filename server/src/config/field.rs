//! How a [`Config`](super::Config) field holds a directive's [`Value`]: one conversion per
//! field type, used by the `field!` rows of the directive table. Values reach a field already
//! checked by their directive's kind (bounds, names), so the conversions cannot fail.

use super::kinds::Value;
use super::units::{format_output_limits, read_output_limits};
use super::values::Limits;
use std::path::PathBuf;

/// A field type that holds a directive's value.
pub trait AsValue {
    fn to_value(&self) -> Value;
    fn from_value(v: Value) -> Self;
}

impl AsValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
    fn from_value(v: Value) -> Self {
        v.as_bool()
    }
}

macro_rules! numeric {
    ($($t:ty),*) => {$(
        impl AsValue for $t {
            fn to_value(&self) -> Value {
                Value::Int(*self as i128)
            }
            fn from_value(v: Value) -> Self {
                v.as_int() as $t
            }
        }
    )*};
}
numeric!(u16, u32, u64, usize, i64);

impl AsValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
    fn from_value(v: Value) -> Self {
        match v {
            Value::Text(s) => s,
            other => other.as_text().to_string(),
        }
    }
}

/// Unset is the empty string.
impl AsValue for Option<String> {
    fn to_value(&self) -> Value {
        Value::Text(self.clone().unwrap_or_default())
    }
    fn from_value(v: Value) -> Self {
        Some(String::from_value(v)).filter(|s| !s.is_empty())
    }
}

impl AsValue for Option<Vec<u8>> {
    fn to_value(&self) -> Value {
        Value::Text(self.as_deref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default())
    }
    fn from_value(v: Value) -> Self {
        Option::<String>::from_value(v).map(String::into_bytes)
    }
}

impl AsValue for PathBuf {
    fn to_value(&self) -> Value {
        Value::Text(self.display().to_string())
    }
    fn from_value(v: Value) -> Self {
        PathBuf::from(String::from_value(v))
    }
}

impl AsValue for Option<PathBuf> {
    fn to_value(&self) -> Value {
        Value::Text(self.as_ref().map(|p| p.display().to_string()).unwrap_or_default())
    }
    fn from_value(v: Value) -> Self {
        Option::<String>::from_value(v).map(PathBuf::from)
    }
}

/// Words joined by single spaces (`bind`).
impl AsValue for Vec<String> {
    fn to_value(&self) -> Value {
        Value::Text(self.join(" "))
    }
    fn from_value(v: Value) -> Self {
        match v.as_text() {
            "" => Vec::new(),
            words => words.split(' ').map(str::to_string).collect(),
        }
    }
}

/// `host port`, or empty for none (`replicaof`).
impl AsValue for Option<(String, u16)> {
    fn to_value(&self) -> Value {
        Value::Text(self.as_ref().map(|(h, p)| format!("{h} {p}")).unwrap_or_default())
    }
    fn from_value(v: Value) -> Self {
        let (host, port) = v.as_text().rsplit_once(' ')?;
        Some((host.to_string(), port.parse().ok()?))
    }
}

impl AsValue for [Limits; 3] {
    fn to_value(&self) -> Value {
        Value::Text(format_output_limits(self))
    }
    fn from_value(v: Value) -> Self {
        read_output_limits(v.as_text())
    }
}
