//! `notify-keyspace-events`: the event classes (Redis's `NOTIFY_*` bits) and the value's
//! syntax, as Redis 7.0 reads and prints it. Publishing is `crate::notify`.

/// Event classes and the two channel kinds (Redis's `NOTIFY_*` bits).
pub mod class {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const KEYEVENT: u32 = 1 << 1;
    pub const GENERIC: u32 = 1 << 2;
    pub const STRING: u32 = 1 << 3;
    pub const LIST: u32 = 1 << 4;
    pub const SET: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const ZSET: u32 = 1 << 7;
    pub const EXPIRED: u32 = 1 << 8;
    pub const EVICTED: u32 = 1 << 9;
    pub const STREAM: u32 = 1 << 10;
    pub const KEY_MISS: u32 = 1 << 11;
    pub const MODULE: u32 = 1 << 13;
    pub const NEW: u32 = 1 << 14;
    /// `A`: every class but key misses and new keys.
    pub const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

const LETTERS: &[(u8, u32)] = &[
    (b'g', class::GENERIC),
    (b'$', class::STRING),
    (b'l', class::LIST),
    (b's', class::SET),
    (b'h', class::HASH),
    (b'z', class::ZSET),
    (b'x', class::EXPIRED),
    (b'e', class::EVICTED),
    (b't', class::STREAM),
    (b'd', class::MODULE),
    (b'n', class::NEW),
];

/// The flags of a `notify-keyspace-events` value; `None` for an unknown character.
pub fn parse(text: &str) -> Option<u32> {
    text.bytes().try_fold(0, |flags, c| {
        let bit = match c {
            b'A' => class::ALL,
            b'K' => class::KEYSPACE,
            b'E' => class::KEYEVENT,
            b'm' => class::KEY_MISS,
            c => LETTERS.iter().find(|(l, _)| *l == c)?.1,
        };
        Some(flags | bit)
    })
}

/// The canonical form CONFIG GET shows (`A` for every class, then `K`, `E`, `m`).
pub fn to_text(flags: u32) -> String {
    let mut out = String::new();
    if flags & class::ALL == class::ALL {
        out.push('A');
    } else {
        LETTERS.iter().filter(|(_, bit)| flags & bit != 0).for_each(|(l, _)| out.push(*l as char));
    }
    for (bit, l) in [(class::KEYSPACE, 'K'), (class::KEYEVENT, 'E'), (class::KEY_MISS, 'm')] {
        if flags & bit != 0 {
            out.push(l);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_and_print_as_redis() {
        assert_eq!(parse(""), Some(0));
        assert_eq!(parse("KEA").map(to_text).as_deref(), Some("AKE"));
        assert_eq!(parse("Ex").map(to_text).as_deref(), Some("xE"));
        assert_eq!(parse("g$lshzxetdnKEm").map(to_text).as_deref(), Some("AKEm"), "as Redis, A hides n");
        assert_eq!(parse("Kx").map(to_text).as_deref(), Some("xK"));
        assert_eq!(parse("Q"), None);
    }
}
