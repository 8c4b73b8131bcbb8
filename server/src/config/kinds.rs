//! The kinds of directive values — yes/no, numbers, enumerations, strings, and a few with a
//! syntax of their own — and for each how Redis 7.0 reads a value, checks it (with Redis's
//! error strings), prints it for CONFIG GET and writes it back for CONFIG REWRITE. No
//! directive names here: the rows are in `directives/`, the own syntaxes in `special.rs`.

use super::numbers::{format_memory, memtoull, string2ll, strtoll};
use slotbox_protocol::decode::repr;

/// A directive's value as it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Bool(bool),
    /// A number (an unsigned directive's value as its `u64`; a percentage as its negation).
    Int(i128),
    /// A string, an enumeration's canonical name, or an own syntax's canonical text.
    Text(String),
}

impl Value {
    pub fn as_bool(&self) -> bool {
        matches!(self, Value::Bool(true))
    }

    pub fn as_int(&self) -> i128 {
        match self {
            Value::Int(n) => *n,
            Value::Bool(b) => *b as i128,
            Value::Text(_) => 0,
        }
    }

    pub fn as_text(&self) -> &str {
        match self {
            Value::Text(s) => s,
            _ => "",
        }
    }
}

/// How a number is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Plain,
    /// Memory units (`64mb`).
    Memory,
    /// Memory units or a percentage (`10%`, stored negated).
    MemoryOrPercent,
    /// Octal digits (`unixsocketperm 700`).
    Octal,
}

/// A numeric directive: Redis's bounds (inclusive) and C type signedness, which decides how an
/// out-of-range value is reported (`-1` for an unsigned directive is 18446744073709551615).
#[derive(Debug, Clone, Copy)]
pub struct Num {
    pub min: i128,
    pub max: i128,
    pub default: i128,
    pub unsigned: bool,
    pub form: Form,
}

/// An enumeration; with `flags`, several names combine (`shutdown-on-sigterm nosave now`).
#[derive(Debug, Clone, Copy)]
pub struct Enum {
    pub names: &'static [(&'static str, u32)],
    pub default: u32,
    pub flags: bool,
}

/// A string; with `empty_is_null`, the empty string means "unset" (no line in a rewritten
/// file), else it is a value like any other.
#[derive(Debug, Clone, Copy)]
pub struct Str {
    pub default: Option<&'static str>,
    pub empty_is_null: bool,
}

/// A directive with a syntax of its own (`save`, `bind`, `client-output-buffer-limit`...).
pub struct Special {
    /// Takes several words (a single file argument is split into words first).
    pub multi: bool,
    pub default: fn() -> Value,
    /// Read the words given the current value (`client-output-buffer-limit` changes only the
    /// classes it names).
    pub parse: fn(&[String], &Value) -> Result<Value, String>,
    pub show: fn(&Value) -> String,
    pub rewrite: fn(&str, &Value) -> Rewrite,
}

/// A directive's kind of value.
#[derive(Clone, Copy)]
pub enum Kind {
    Bool(bool),
    Num(Num),
    Enum(Enum),
    Str(Str),
    Special(&'static Special),
}

/// What CONFIG REWRITE does with one directive.
#[derive(Debug, PartialEq, Eq)]
pub enum Rewrite {
    /// No line: the file's lines for it are blanked (an unset string, the default `bind`).
    Drop,
    /// These lines, each replacing the file's next line for the directive, or appended when
    /// the file has none left and the flag says the value must be written (not the default).
    Lines(Vec<(String, bool)>),
}

impl Rewrite {
    fn one(line: String, force: bool) -> Rewrite {
        Rewrite::Lines(vec![(line, force)])
    }
}

impl Kind {
    /// Takes several words (checked by the kind itself) rather than exactly one.
    pub fn multi(&self) -> bool {
        match self {
            Kind::Enum(e) => e.flags,
            Kind::Special(s) => s.multi,
            _ => false,
        }
    }

    pub fn default_value(&self) -> Value {
        match self {
            Kind::Bool(d) => Value::Bool(*d),
            Kind::Num(n) => Value::Int(n.default),
            Kind::Enum(e) => Value::Text(enum_name(e, e.default)),
            Kind::Str(s) => Value::Text(s.default.unwrap_or("").to_string()),
            Kind::Special(s) => (s.default)(),
        }
    }

    /// Read a value from its words (exactly one unless [`Kind::multi`]).
    pub fn parse(&self, args: &[String], current: &Value) -> Result<Value, String> {
        if let Kind::Special(s) = self {
            return (s.parse)(args, current);
        }
        if let Kind::Enum(e) = self {
            return parse_enum(e, args);
        }
        let [arg] = args else {
            return Err("wrong number of arguments".into());
        };
        match self {
            Kind::Bool(_) => match arg.to_ascii_lowercase().as_str() {
                "yes" => Ok(Value::Bool(true)),
                "no" => Ok(Value::Bool(false)),
                _ => Err("argument must be 'yes' or 'no'".into()),
            },
            Kind::Num(n) => parse_num(n, arg).map(Value::Int),
            _ => Ok(Value::Text(arg.clone())),
        }
    }

    /// CONFIG GET's text.
    pub fn show(&self, v: &Value) -> String {
        match (self, v) {
            (Kind::Special(s), v) => (s.show)(v),
            (_, Value::Bool(b)) => yes_no(*b).into(),
            (Kind::Num(n), Value::Int(i)) => show_num(n, *i),
            (_, v) => v.as_text().to_string(),
        }
    }

    /// The config-file lines for `name` holding `v`.
    pub fn rewrite(&self, name: &str, v: &Value) -> Rewrite {
        let force = *v != self.default_value();
        match self {
            Kind::Special(s) => (s.rewrite)(name, v),
            Kind::Bool(_) => Rewrite::one(format!("{name} {}", yes_no(v.as_bool())), force),
            Kind::Num(n) => Rewrite::one(format!("{name} {}", rewrite_num(n, v.as_int())), force),
            Kind::Enum(_) => Rewrite::one(format!("{name} {}", v.as_text()), force),
            Kind::Str(s) => {
                let text = v.as_text();
                if s.empty_is_null && text.is_empty() {
                    return Rewrite::Drop;
                }
                let force = s.default.is_none_or(|d| d != text);
                Rewrite::one(format!("{name} {}", repr(text.as_bytes())), force)
            }
        }
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The number a value text stands for, as Redis's `numericParseString` reads it (a C
/// `long long`), before the bounds are checked.
fn read_number(form: Form, s: &str) -> Result<i64, &'static str> {
    if matches!(form, Form::Memory | Form::MemoryOrPercent) {
        if let Some(v) = memtoull(s) {
            return Ok(v as i64);
        }
    }
    if form == Form::MemoryOrPercent && s.len() > 1 {
        if let Some(v) = s.strip_suffix('%').and_then(|d| string2ll(d.as_bytes())).filter(|v| *v >= 0) {
            return Ok(-v);
        }
    }
    match form {
        Form::Octal => strtoll(s, 8).ok_or("argument couldn't be parsed as an octal number"),
        Form::Plain => string2ll(s.as_bytes()).ok_or("argument couldn't be parsed into an integer"),
        Form::Memory => Err("argument must be a memory value"),
        Form::MemoryOrPercent => Err("argument must be a memory or percent value"),
    }
}

fn parse_num(n: &Num, s: &str) -> Result<i128, String> {
    let ll = read_number(n.form, s)?;
    if n.unsigned {
        let (u, lo, hi) = (ll as u64, n.min as u64, n.max as u64);
        if u < lo || u > hi {
            return Err(match n.form {
                Form::Octal => format!("argument must be between {lo:o} and {hi:o} inclusive"),
                _ => format!("argument must be between {lo} and {hi} inclusive"),
            });
        }
        return Ok(u as i128);
    }
    let v = ll as i128;
    if n.form == Form::MemoryOrPercent && v < 0 {
        if v < n.min {
            return Err(format!("percentage argument must be less or equal to {}", -n.min));
        }
    } else if v < n.min || v > n.max {
        return Err(format!("argument must be between {} and {} inclusive", n.min, n.max));
    }
    Ok(v)
}

fn show_num(n: &Num, v: i128) -> String {
    match n.form {
        Form::MemoryOrPercent if v < 0 => format!("{}%", -v),
        Form::Octal => format!("{v:o}"),
        _ => v.to_string(),
    }
}

fn rewrite_num(n: &Num, v: i128) -> String {
    match n.form {
        Form::MemoryOrPercent if v < 0 => format!("{}%", -v),
        Form::Memory | Form::MemoryOrPercent => format_memory(v),
        Form::Octal => format!("{v:o}"),
        Form::Plain => v.to_string(),
    }
}

fn parse_enum(e: &Enum, args: &[String]) -> Result<Value, String> {
    let mut bits = 0;
    let ok = !args.is_empty() && (e.flags || args.len() == 1);
    for a in args.iter().filter(|_| ok) {
        let matched: Vec<u32> = e.names.iter().filter(|(n, _)| n.eq_ignore_ascii_case(a)).map(|(_, v)| *v).collect();
        if matched.is_empty() {
            return Err(enum_error(e));
        }
        bits |= matched.iter().fold(0, |acc, v| acc | v);
    }
    if !ok {
        return Err(enum_error(e));
    }
    Ok(Value::Text(enum_name(e, bits)))
}

fn enum_error(e: &Enum) -> String {
    let names: Vec<&str> = e.names.iter().map(|(n, _)| *n).collect();
    let mut msg = format!("argument(s) must be one of the following: {}", names.join(", "));
    msg.truncate(255);
    msg
}

/// Redis's `configEnumGetName`: the first name with exactly these bits, else (for flags) the
/// names whose bits make them up, in table order; "unknown" when nothing fits.
pub fn enum_name(e: &Enum, bits: u32) -> String {
    if let Some((n, _)) = e.names.iter().find(|(_, v)| *v == bits) {
        return n.to_string();
    }
    let mut unmatched = bits;
    let mut names = Vec::new();
    for (n, v) in e.names {
        if e.flags && *v != 0 && *v == unmatched & v {
            names.push(*n);
            unmatched &= !v;
        }
    }
    if names.is_empty() || unmatched != 0 {
        return "unknown".into();
    }
    names.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    const INT: Kind = Kind::Num(Num { min: 0, max: 65535, default: 6379, unsigned: false, form: Form::Plain });
    const UINT: Kind =
        Kind::Num(Num { min: 1, max: u32::MAX as i128, default: 10000, unsigned: true, form: Form::Plain });
    const MEMPCT: Kind =
        Kind::Num(Num { min: -100, max: i64::MAX as i128, default: 0, unsigned: false, form: Form::MemoryOrPercent });
    const SIG: Kind = Kind::Enum(Enum {
        names: &[("default", 0), ("save", 1), ("nosave", 2), ("now", 4), ("force", 8)],
        default: 0,
        flags: true,
    });

    fn set(k: &Kind, v: &[&str]) -> Result<String, String> {
        k.parse(&args(v), &k.default_value()).map(|v| k.show(&v))
    }

    #[test]
    fn numbers_with_redis_errors() {
        assert_eq!(set(&INT, &["80"]), Ok("80".into()));
        assert_eq!(set(&INT, &["70000"]), Err("argument must be between 0 and 65535 inclusive".into()));
        assert_eq!(set(&INT, &["08"]), Err("argument couldn't be parsed into an integer".into()));
        assert_eq!(set(&UINT, &["-1"]), Err("argument must be between 1 and 4294967295 inclusive".into()));
        assert_eq!(set(&MEMPCT, &["5%"]), Ok("5%".into()));
        assert_eq!(set(&MEMPCT, &["1kb"]), Ok("1024".into()));
        assert_eq!(set(&MEMPCT, &["101%"]), Err("percentage argument must be less or equal to 100".into()));
        assert_eq!(set(&MEMPCT, &["-5"]), Err("argument must be a memory or percent value".into()));
        assert_eq!(set(&INT, &["1", "2"]), Err("wrong number of arguments".into()));
    }

    #[test]
    fn enums_and_flags() {
        assert_eq!(set(&SIG, &["NOW", "save"]), Ok("save now".into()));
        assert_eq!(set(&SIG, &["default"]), Ok("default".into()));
        let err = set(&SIG, &["bogus"]).unwrap_err();
        assert_eq!(err, "argument(s) must be one of the following: default, save, nosave, now, force");
        assert_eq!(set(&SIG, &[]), Err(err));
    }

    #[test]
    fn rewrite_lines() {
        let pct = MEMPCT.parse(&args(&["10%"]), &Value::Int(0)).unwrap();
        assert_eq!(MEMPCT.rewrite("maxmemory-clients", &pct), Rewrite::one("maxmemory-clients 10%".into(), true));
        let s = Kind::Str(Str { default: Some("dump.rdb"), empty_is_null: false });
        let v = Value::Text("dump.rdb".into());
        assert_eq!(s.rewrite("dbfilename", &v), Rewrite::one("dbfilename \"dump.rdb\"".into(), false));
        let null = Kind::Str(Str { default: None, empty_is_null: true });
        assert_eq!(null.rewrite("pidfile", &Value::Text(String::new())), Rewrite::Drop);
        assert_eq!(INT.rewrite("port", &Value::Int(6379)), Rewrite::one("port 6379".into(), false));
    }
}
