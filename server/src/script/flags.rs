//! Script flags: the `#!lua flags=...` shebang of an EVAL script and the `flags` of a
//! registered function, with Redis's names and error texts.

/// The script may not write (and so may run on OOM, on read-only replicas, through *_RO).
pub const NO_WRITES: u32 = 1;
pub const ALLOW_OOM: u32 = 1 << 1;
pub const ALLOW_STALE: u32 = 1 << 2;
pub const NO_CLUSTER: u32 = 1 << 3;
pub const ALLOW_CROSS_SLOT: u32 = 1 << 4;
/// An EVAL script without a shebang: the pre-7.0 rules.
pub const EVAL_COMPAT: u32 = 1 << 5;

/// The flags by name, in Redis's order (FUNCTION LIST shows them so).
pub const NAMES: &[(&str, u32)] = &[
    ("no-writes", NO_WRITES),
    ("allow-oom", ALLOW_OOM),
    ("allow-stale", ALLOW_STALE),
    ("no-cluster", NO_CLUSTER),
    ("allow-cross-slot-keys", ALLOW_CROSS_SLOT),
];

/// A flag by its name (case-insensitive, as `redis.register_function` compares).
pub fn by_name_nocase(name: &[u8]) -> Option<u32> {
    NAMES.iter().find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name)).map(|&(_, f)| f)
}

/// The shebang of an EVAL body: its flags and the length of the shebang line (kept out of
/// the compiled code, its line feed kept so line numbers stay), or Redis's error.
pub fn parse_shebang(body: &[u8]) -> Result<(u32, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((EVAL_COMPAT, 0));
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err("Invalid script shebang".into());
    };
    let line = &body[..end];
    let parts = match slotbox_protocol::decode::split_args(line) {
        Some(p) if !p.is_empty() => p,
        _ => return Err("Invalid engine in script shebang".into()),
    };
    if parts[0] != b"#!lua" {
        return Err(format!("Unexpected engine in script shebang: {}", String::from_utf8_lossy(&parts[0])));
    }
    let mut flags = 0;
    for p in &parts[1..] {
        let Some(list) = p.strip_prefix(b"flags=") else {
            return Err(format!("Unknown lua shebang option: {}", String::from_utf8_lossy(p)));
        };
        if list.is_empty() {
            continue;
        }
        for f in list.split(|&b| b == b',') {
            match NAMES.iter().find(|(n, _)| n.as_bytes() == f) {
                Some(&(_, bit)) => flags |= bit,
                None => return Err(format!("Unexpected flag in script shebang: {}", String::from_utf8_lossy(f))),
            }
        }
    }
    Ok((flags, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs() {
        assert_eq!(parse_shebang(b"return 1").unwrap(), (EVAL_COMPAT, 0));
        assert_eq!(parse_shebang(b"#!lua\nreturn 1").unwrap(), (0, 5));
        assert_eq!(parse_shebang(b"#!lua flags=no-writes,allow-oom\nx").unwrap().0, NO_WRITES | ALLOW_OOM);
        assert_eq!(parse_shebang(b"#!lua").unwrap_err(), "Invalid script shebang");
        assert_eq!(parse_shebang(b"#!py\n").unwrap_err(), "Unexpected engine in script shebang: #!py");
        assert_eq!(parse_shebang(b"#!lua x=1\n").unwrap_err(), "Unknown lua shebang option: x=1");
        assert_eq!(parse_shebang(b"#!lua flags=bad\n").unwrap_err(), "Unexpected flag in script shebang: bad");
    }
}
