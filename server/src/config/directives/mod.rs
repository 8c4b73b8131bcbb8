//! The directive table: one row per Redis 7.0 directive (name, alias, flags, kind of value,
//! where the value lives), kept by group in the files of this folder, and the lookups that
//! CONFIG GET / SET, the config file reader and CONFIG REWRITE share. A row whose value has no
//! behaviour here is [`Store::Inert`]: accepted with Redis's checks, reported, rewritten.

mod checks;
mod cluster;
mod encoding;
mod general;
mod memory;
mod network;
mod persistence;
mod replication;
mod tls;

use super::kinds::{Enum, Form, Kind, Num, Special, Str, Value};
use super::values::Config;

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
        $crate::config::directives::Store::Field {
            get: |c| $crate::config::field::AsValue::to_value(&c.$f),
            set: |c, v| c.$f = $crate::config::field::AsValue::from_value(v),
        }
    };
}
use field;

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

static GROUPS: &[&[Directive]] = &[
    general::ROWS,
    network::ROWS,
    persistence::ROWS,
    replication::ROWS,
    cluster::ROWS,
    memory::ROWS,
    encoding::ROWS,
    tls::ROWS,
];

/// Every directive, in table order.
pub fn all() -> impl Iterator<Item = &'static Directive> {
    GROUPS.iter().flat_map(|g| g.iter())
}

/// A directive found by one of its names: Redis treats an alias as a directive of its own
/// name that shares the value (CONFIG GET lists both, CONFIG SET errors name the alias).
#[derive(Clone, Copy)]
pub struct Named {
    pub directive: &'static Directive,
    pub name: &'static str,
    /// Not listed by a CONFIG GET pattern (a hidden directive, slotbox's own name).
    pub hidden: bool,
}

impl Named {
    pub fn is_alias(&self) -> bool {
        self.name != self.directive.name
    }
}

/// Every name (primary names, aliases, slotbox's own names), in table order.
pub fn names() -> impl Iterator<Item = Named> {
    all().flat_map(|d| {
        let hidden = d.has(HIDDEN);
        let named = move |name, hidden| Named { directive: d, name, hidden };
        std::iter::once(named(d.name, hidden))
            .chain(d.alias.map(move |a| named(a, hidden)))
            .chain(d.own_name.map(move |o| named(o, true)))
    })
}

/// Find a directive by name or alias, case-insensitively.
pub fn lookup(name: &str) -> Option<Named> {
    names().find(|n| n.name.eq_ignore_ascii_case(name))
}

impl Config {
    /// Find a directive by name or alias, case-insensitively.
    pub fn directive(name: &str) -> Option<&'static Directive> {
        lookup(name).map(|n| n.directive)
    }

    /// A directive's current value.
    pub fn value(&self, d: &Directive) -> Value {
        match d.store {
            Store::Field { get, .. } => get(self),
            Store::Inert => self.inert.get(d.name).cloned().unwrap_or_else(|| d.kind.default_value()),
        }
    }

    /// Store a value already read and checked by [`Directive::parse`].
    pub fn set_value(&mut self, d: &'static Directive, v: Value) {
        match d.store {
            Store::Field { set, .. } => set(self, v),
            Store::Inert => {
                self.inert.insert(d.name, v);
            }
        }
    }

    /// Apply a directive as a config file line gives it (the words after its name): one word
    /// unless the directive takes several, and a single word of a multi-word directive is
    /// split (`--save "3600 1"`).
    pub fn apply(&mut self, name: &str, args: &[String]) -> Result<(), String> {
        let d = Config::directive(name).ok_or_else(|| "Bad directive or wrong number of arguments".to_string())?;
        let v = d.parse(&file_words(d, args)?, &self.value(d))?;
        self.set_value(d, v);
        Ok(())
    }

    /// The value of a directive as CONFIG GET prints it.
    pub fn get(&self, name: &str) -> Option<String> {
        Config::directive(name).map(|d| d.kind.show(&self.value(d)))
    }
}

/// The words a file line gives a directive, as Redis takes them: exactly one for a
/// single-valued directive; a lone non-empty word of a multi-word directive split into words.
pub fn file_words(d: &Directive, args: &[String]) -> Result<Vec<String>, String> {
    if !d.kind.multi() {
        return match args {
            [_] => Ok(args.to_vec()),
            _ => Err("wrong number of arguments".into()),
        };
    }
    match args {
        [one] if !one.is_empty() => {
            let words = slotbox_protocol::decode::split_args(one.as_bytes())
                .ok_or_else(|| "Unbalanced quotes in configuration line".to_string())?;
            Ok(words.into_iter().map(|w| String::from_utf8_lossy(&w).into_owned()).collect())
        }
        _ => Ok(args.to_vec()),
    }
}

// Kinds, as Redis's `create*Config` macros declare them. Redis's C type decides whether an
// out-of-range value is reported as signed or unsigned.

const INT_MAX: i128 = i32::MAX as i128;
const UINT_MAX: i128 = u32::MAX as i128;
const LONG_MAX: i128 = i64::MAX as i128;
const ULLONG_MAX: i128 = u64::MAX as i128;

const fn yes(default: bool) -> Kind {
    Kind::Bool(default)
}

const fn num(min: i128, max: i128, default: i128, unsigned: bool, form: Form) -> Kind {
    Kind::Num(Num { min, max, default, unsigned, form })
}

/// A signed integer (`int`, `long`, `long long`, `unsigned long`, `time_t`).
const fn int(min: i128, max: i128, default: i128) -> Kind {
    num(min, max, default, false, Form::Plain)
}

/// An unsigned integer (`unsigned int`, `size_t`).
const fn uint(min: i128, max: i128, default: i128) -> Kind {
    num(min, max, default, true, Form::Plain)
}

/// A signed size with memory units (`long long`, `off_t`).
const fn mem(min: i128, max: i128, default: i128) -> Kind {
    num(min, max, default, false, Form::Memory)
}

/// An unsigned size with memory units (`size_t`, `unsigned long long`).
const fn umem(min: i128, max: i128, default: i128) -> Kind {
    num(min, max, default, true, Form::Memory)
}

const fn one_of(names: &'static [(&'static str, u32)], default: u32) -> Kind {
    Kind::Enum(Enum { names, default, flags: false })
}

const fn flags(names: &'static [(&'static str, u32)], default: u32) -> Kind {
    Kind::Enum(Enum { names, default, flags: true })
}

/// A string where empty is a value (Redis's `ALLOW_EMPTY_STRING`).
const fn string(default: &'static str) -> Kind {
    Kind::Str(Str { default: Some(default), empty_is_null: false })
}

/// A string unset by default, where empty means unset (`EMPTY_STRING_IS_NULL`).
const fn nullable() -> Kind {
    Kind::Str(Str { default: None, empty_is_null: true })
}

const fn special(s: &'static Special) -> Kind {
    Kind::Special(s)
}

/// `no` / `yes` / `local` (`enable-debug-command` and friends).
const PROTECTED_ACTION: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("local", 2)];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_name_once() {
        let mut seen = HashSet::new();
        for n in names() {
            assert!(seen.insert(n.name.to_ascii_lowercase()), "{} twice", n.name);
        }
        // Redis 7.0.15 (built with TLS): 178 directives and 19 aliases; slotbox adds `threads`.
        assert_eq!(all().count(), 178);
        assert_eq!(names().filter(|n| n.is_alias() && !n.hidden).count(), 19);
        assert_eq!(lookup("THREADS").map(|n| (n.directive.name, n.hidden)), Some(("io-threads", true)));
    }

    /// A field's starting value is Redis's default (but `io-threads`: one event loop per core),
    /// and every default reads back as itself from what CONFIG GET prints.
    #[test]
    fn defaults_agree_and_read_back() {
        let c = Config::default();
        for d in all() {
            let v = c.value(d);
            if d.name != "io-threads" && d.name != "dir" {
                assert_eq!(v, d.kind.default_value(), "{}", d.name);
            }
            if d.name == "replicaof" {
                continue; // None is "no one", not what CONFIG GET prints (as in Redis)
            }
            let shown = d.kind.show(&v);
            let words =
                if d.kind.multi() { shown.split(' ').map(str::to_string).collect() } else { vec![shown.clone()] };
            let words = if d.kind.multi() && shown.is_empty() { Vec::new() } else { words };
            let back = d.parse(&words, &v).unwrap_or_else(|e| panic!("{} {shown:?}: {e}", d.name));
            if d.name != "dir" {
                assert_eq!(back, v, "{} reads back from {shown:?}", d.name);
            }
        }
    }

    #[test]
    fn inert_values_are_kept_by_name() {
        let mut c = Config::default();
        c.apply("zset-max-ziplist-entries", &["7".into()]).unwrap();
        assert_eq!(c.get("zset-max-listpack-entries").as_deref(), Some("7"));
        assert_eq!(c.inert.get("zset-max-listpack-entries"), Some(&Value::Int(7)));
        assert!(c.apply("zset-max-listpack-entries", &["-1".into()]).is_err());
        assert_eq!(c.get("list-max-ziplist-size").as_deref(), Some("-2"));
        c.apply("save", &["60 1 10 5".into()]).unwrap();
        assert_eq!(c.save, "60 1 10 5", "one file argument of a multi-word directive is split");
        assert_eq!(c.apply("port", &["1".into(), "2".into()]), Err("wrong number of arguments".into()));
    }
}
