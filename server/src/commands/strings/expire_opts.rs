//! The extended options of SET and GETEX (`NX XX GET KEEPTTL PERSIST EX PX EXAT PXAT`), parsed
//! with Redis's exact acceptance rules (`parseExtendedStringArgumentsOrReply`), and the
//! conversion of an expire argument to an absolute time (`getExpireMillisecondsOrReply`).
//! Parsing only: nothing here touches the keyspace.

use crate::commands::args;
use bytes::Bytes;
use slotbox_protocol::Frame;

/// How an expire argument is expressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireUnit {
    /// Seconds from now.
    Ex,
    /// Milliseconds from now.
    Px,
    /// Unix time in seconds.
    ExAt,
    /// Unix time in milliseconds.
    PxAt,
}

impl ExpireUnit {
    fn from_option(opt: &[u8]) -> Option<ExpireUnit> {
        [("ex", ExpireUnit::Ex), ("px", ExpireUnit::Px), ("exat", ExpireUnit::ExAt), ("pxat", ExpireUnit::PxAt)]
            .into_iter()
            .find(|(name, _)| args::is(opt, name))
            .map(|(_, unit)| unit)
    }

    /// True for EXAT / PXAT.
    pub fn is_absolute(self) -> bool {
        matches!(self, ExpireUnit::ExAt | ExpireUnit::PxAt)
    }
}

/// Which command's options are being parsed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Set,
    GetEx,
}

/// Parsed options; `expire` keeps the unparsed time argument (Redis validates it later).
#[derive(Default)]
pub struct ExtOpts<'a> {
    pub nx: bool,
    pub xx: bool,
    pub get: bool,
    pub keepttl: bool,
    pub persist: bool,
    pub expire: Option<(ExpireUnit, &'a [u8])>,
}

/// Parse the options after `SET key value` or `GETEX key`.
pub fn parse(argv: &[Bytes], mode: Mode) -> Result<ExtOpts<'_>, Frame> {
    let mut o = ExtOpts::default();
    let set = mode == Mode::Set;
    let mut j = if set { 3 } else { 2 };
    while j < argv.len() {
        let opt = &argv[j][..];
        let next = argv.get(j + 1);
        let unit = o.expire.map(|(u, _)| u);
        if args::is(opt, "nx") && !o.xx && set {
            o.nx = true;
        } else if args::is(opt, "xx") && !o.nx && set {
            o.xx = true;
        } else if args::is(opt, "get") && set {
            o.get = true;
        } else if args::is(opt, "keepttl") && !o.persist && unit.is_none() && set {
            o.keepttl = true;
        } else if args::is(opt, "persist") && !set && unit.is_none() && !o.keepttl {
            o.persist = true;
        } else {
            // An expire option may repeat itself (the last one wins) but not mix with others.
            match (ExpireUnit::from_option(opt), next) {
                (Some(u), Some(arg)) if !o.keepttl && !o.persist && unit.is_none_or(|cur| cur == u) => {
                    o.expire = Some((u, &arg[..]));
                    j += 1;
                }
                _ => return Err(args::syntax_error()),
            }
        }
        j += 1;
    }
    Ok(o)
}

/// The absolute expire time in ms for `arg` given in `unit`, or Redis's error:
/// not an integer, or `ERR invalid expire time in '<cmd>' command` when it is not positive
/// or overflows.
pub fn expire_at_ms(unit: ExpireUnit, arg: &[u8], now_ms: i64, cmd: &str) -> Result<i64, Frame> {
    let v = args::int(arg)?;
    let invalid = || Frame::error(format!("ERR invalid expire time in '{cmd}' command"));
    let seconds = matches!(unit, ExpireUnit::Ex | ExpireUnit::ExAt);
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(invalid());
    }
    let ms = if seconds { v * 1000 } else { v };
    if unit.is_absolute() {
        Ok(ms)
    } else {
        ms.checked_add(now_ms).ok_or_else(invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<Bytes> {
        s.split(' ').map(|a| Bytes::copy_from_slice(a.as_bytes())).collect()
    }

    fn ok(s: &str, mode: Mode) -> bool {
        parse(&argv(s), mode).is_ok()
    }

    #[test]
    fn set_option_matrix() {
        assert!(ok("set k v nx get ex 1", Mode::Set));
        assert!(ok("set k v ex 1 ex 2", Mode::Set));
        assert!(ok("set k v nx nx", Mode::Set));
        assert!(ok("set k v keepttl keepttl", Mode::Set));
        assert!(!ok("set k v nx xx", Mode::Set));
        assert!(!ok("set k v ex 1 px 2", Mode::Set));
        assert!(!ok("set k v keepttl ex 1", Mode::Set));
        assert!(!ok("set k v ex 1 keepttl", Mode::Set));
        assert!(!ok("set k v ex", Mode::Set));
        assert!(!ok("set k v persist", Mode::Set));
        assert!(ok("getex k persist", Mode::GetEx));
        assert!(!ok("getex k persist ex 1", Mode::GetEx));
        assert!(!ok("getex k keepttl", Mode::GetEx));
        assert!(!ok("getex k nx", Mode::GetEx));
        let a = argv("set k v PXAT 5");
        let o = parse(&a, Mode::Set).unwrap_or_default();
        assert_eq!(o.expire, Some((ExpireUnit::PxAt, &b"5"[..])));
    }

    #[test]
    fn expire_times() {
        assert_eq!(expire_at_ms(ExpireUnit::Ex, b"2", 1000, "set").ok(), Some(3000));
        assert_eq!(expire_at_ms(ExpireUnit::PxAt, b"7", 1000, "set").ok(), Some(7));
        assert!(expire_at_ms(ExpireUnit::Ex, b"0", 1000, "set").is_err());
        assert!(expire_at_ms(ExpireUnit::Ex, b"9223372036854776", 0, "set").is_err());
        assert!(expire_at_ms(ExpireUnit::Px, b"9223372036854775807", 1, "set").is_err());
        let e = expire_at_ms(ExpireUnit::Px, b"-1", 0, "psetex").err();
        assert_eq!(e, Some(Frame::error("ERR invalid expire time in 'psetex' command")));
    }
}
