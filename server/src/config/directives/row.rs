//! One row of the directive table: [`Directive`] (name, alias, flags, kind of value, where
//! the value lives, a further check), the flags, and the constructors the group files write
//! their rows with (Redis's `create*Config` kinds). No directive here.

use super::super::kinds::{Enum, Form, Kind, Num, Special, Str, Value};
use super::super::values::Config;

/// CONFIG SET may change it.
pub const MUTABLE: u8 = 1;
/// A CONFIG GET pattern does not list it (its exact name does).
pub const HIDDEN: u8 = 2;
/// CONFIG SET only where `enable-protected-configs` allows it.
pub const PROTECTED: u8 = 4;
/// The value is a secret (a password).
pub const SENSITIVE: u8 = 8;

/// Where a directive's value lives.
pub enum Store {
    /// In [`Config::inert`]: no behaviour here.
    Inert,
    /// In a field of [`Config`] that the server acts on.
    Field { get: fn(&Config) -> Value, set: fn(&mut Config, Value) },
}

/// A [`Store::Field`] for a field of `Config` (of a type with [`AsValue`](super::field::AsValue)).
macro_rules! field {
    ($f:ident) => {
        $crate::config::directives::row::Store::Field {
            get: |c| $crate::config::field::AsValue::to_value(&c.$f),
            set: |c, v| c.$f = $crate::config::field::AsValue::from_value(v),
        }
    };
}
pub(crate) use field;

/// A further check of a parsed value, with the error to give.
pub type Check = fn(&Value) -> Result<(), String>;

/// One config directive.
pub struct Directive {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    /// slotbox's own name for it (`threads`): found by its exact name, never listed by a
    /// CONFIG GET pattern (Redis's tools see only Redis's names).
    pub own_name: Option<&'static str>,
    pub flags: u8,
    pub kind: Kind,
    pub store: Store,
    /// A further check of a parsed value: Redis's (file names, flag combinations), or a
    /// value that needs what slotbox does not have (a TLS port, a unix socket).
    pub check: Option<Check>,
}

impl Directive {
    pub const fn new(name: &'static str, flags: u8, kind: Kind) -> Directive {
        Directive { name, alias: None, own_name: None, flags, kind, store: Store::Inert, check: None }
    }

    pub const fn alias(mut self, alias: &'static str) -> Directive {
        self.alias = Some(alias);
        self
    }

    pub const fn own_name(mut self, name: &'static str) -> Directive {
        self.own_name = Some(name);
        self
    }

    pub const fn field(mut self, store: Store) -> Directive {
        self.store = store;
        self
    }

    pub const fn check(mut self, check: Check) -> Directive {
        self.check = Some(check);
        self
    }

    pub fn mutable(&self) -> bool {
        self.flags & MUTABLE != 0
    }

    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Has behaviour here (else accepted and reported only).
    pub fn is_inert(&self) -> bool {
        matches!(self.store, Store::Inert)
    }

    /// Read and check a value from its words (CONFIG SET's, or a file line's after the name).
    pub fn parse(&self, args: &[String], current: &Value) -> Result<Value, String> {
        let v = self.kind.parse(args, current)?;
        if let Some(check) = self.check {
            check(&v)?;
        }
        Ok(v)
    }
}

// Kinds, as Redis's `create*Config` macros declare them. Redis's C type decides whether an
// out-of-range value is reported as signed or unsigned.

pub const INT_MAX: i128 = i32::MAX as i128;
pub const UINT_MAX: i128 = u32::MAX as i128;
pub const LONG_MAX: i128 = i64::MAX as i128;
pub const ULLONG_MAX: i128 = u64::MAX as i128;

pub const fn yes(default: bool) -> Kind {
    Kind::Bool(default)
}

pub const fn num(min: i128, max: i128, default: i128, unsigned: bool, form: Form) -> Kind {
    Kind::Num(Num { min, max, default, unsigned, form })
}

/// A signed integer (`int`, `long`, `long long`, `unsigned long`, `time_t`).
pub const fn int(min: i128, max: i128, default: i128) -> Kind {
    num(min, max, default, false, Form::Plain)
}

/// An unsigned integer (`unsigned int`, `size_t`).
pub const fn uint(min: i128, max: i128, default: i128) -> Kind {
    num(min, max, default, true, Form::Plain)
}

/// A signed size with memory units (`long long`, `off_t`).
pub const fn mem(min: i128, max: i128, default: i128) -> Kind {
    num(min, max, default, false, Form::Memory)
}

/// An unsigned size with memory units (`size_t`, `unsigned long long`).
pub const fn umem(min: i128, max: i128, default: i128) -> Kind {
    num(min, max, default, true, Form::Memory)
}

pub const fn one_of(names: &'static [(&'static str, u32)], default: u32) -> Kind {
    Kind::Enum(Enum { names, default, flags: false })
}

pub const fn flags(names: &'static [(&'static str, u32)], default: u32) -> Kind {
    Kind::Enum(Enum { names, default, flags: true })
}

/// A string where empty is a value (Redis's `ALLOW_EMPTY_STRING`).
pub const fn string(default: &'static str) -> Kind {
    Kind::Str(Str { default: Some(default), empty_is_null: false })
}

/// A string unset by default, where empty means unset (`EMPTY_STRING_IS_NULL`).
pub const fn nullable() -> Kind {
    Kind::Str(Str { default: None, empty_is_null: true })
}

pub const fn special(s: &'static Special) -> Kind {
    Kind::Special(s)
}

/// `no` / `yes` / `local` (`enable-debug-command` and friends).
pub const PROTECTED_ACTION: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("local", 2)];
