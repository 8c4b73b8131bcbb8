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
mod row;
mod tls;

use super::kinds::Value;
use super::values::Config;
pub use row::{Check, Directive, Store, HIDDEN, MUTABLE, PROTECTED, SENSITIVE};

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
