//! [`first_key`]: the second argument of the next request in a read buffer, found without
//! decoding it, so an event loop can start fetching that key's slot while it runs the
//! request before it (a pipeline's keys are then waited for one at a time no more).

/// `*<n>\r\n$<len>\r\n<command>\r\n$<len>\r\n<key>\r\n` at the start of `buf`: the key's
/// bytes, if the buffer already holds them and the request has at least two arguments.
/// Anything else (an inline request, a partial one, a malformed one) is `None`; the decoder
/// judges it later.
///
/// For a script (EVAL, EVALSHA, FCALL and their read-only forms) the key is its first
/// declared key, after the script and `numkeys`: the one the script's commands will lock.
pub fn first_key(buf: &[u8]) -> Option<&[u8]> {
    let (n, at) = header(buf, 0, b'*')?;
    if n < 2 {
        return None;
    }
    let (name, at) = bulk(buf, at)?;
    let (second, at) = bulk(buf, at)?;
    if !is_script_command(name) {
        return Some(second);
    }
    let (numkeys, at) = bulk(buf, at)?;
    if n < 4 || numkeys.is_empty() || numkeys == b"0" || !numkeys.iter().all(u8::is_ascii_digit) {
        return None;
    }
    bulk(buf, at).map(|(key, _)| key)
}

/// EVAL, EVALSHA, FCALL or a read-only form of them (any case): a command whose keys follow
/// a script and `numkeys`.
pub fn is_script_command(name: &[u8]) -> bool {
    const SCRIPTS: [&[u8]; 6] = [b"evalsha", b"eval", b"fcall", b"evalsha_ro", b"eval_ro", b"fcall_ro"];
    (4..=10).contains(&name.len()) && SCRIPTS.iter().any(|s| name.eq_ignore_ascii_case(s))
}

/// The bulk string at `at` and where the line after it starts.
fn bulk(buf: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let (len, at) = header(buf, at, b'$')?;
    let end = at.checked_add(len)?;
    let bytes = buf.get(at..end)?;
    Some((bytes, end.checked_add(2)?))
}

/// A `<mark><digits>\r\n` line at `at`: its number and where the next line starts.
fn header(buf: &[u8], at: usize, mark: u8) -> Option<(usize, usize)> {
    if *buf.get(at)? != mark {
        return None;
    }
    let mut n: usize = 0;
    let mut i = at + 1;
    loop {
        let b = *buf.get(i)?;
        match b {
            b'0'..=b'9' if i - at <= 10 => n = n * 10 + usize::from(b - b'0'),
            b'\r' if i > at + 1 => return (buf.get(i + 1) == Some(&b'\n')).then_some((n, i + 2)),
            _ => return None,
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::first_key;

    #[test]
    fn finds_the_key_of_a_complete_request_only() {
        let req = b"*3\r\n$3\r\nSET\r\n$5\r\nuser1\r\n$1\r\nv\r\n";
        assert_eq!(first_key(req), Some(&b"user1"[..]));
        for cut in 0..21 {
            assert_eq!(first_key(&req[..cut]), None, "cut at {cut}");
        }
        assert_eq!(first_key(&req[..22]), Some(&b"user1"[..]));
        assert_eq!(first_key(b"*1\r\n$4\r\nPING\r\n"), None);
        assert_eq!(first_key(b"GET k\r\n"), None);
        assert_eq!(first_key(b"*2\r\n$-1\r\n"), None);
        assert_eq!(first_key(b"*2\r\n$99999999999999999999\r\n"), None);
        assert_eq!(first_key(b"*2\r\n$\r\nx"), None);
    }

    #[test]
    fn a_script_s_key_is_its_first_declared_key() {
        let req = b"*4\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n1\r\n$3\r\nkey\r\n";
        assert_eq!(first_key(req), Some(&b"key"[..]));
        assert_eq!(first_key(&req[..req.len() - 3]), None);
        assert_eq!(first_key(b"*4\r\n$5\r\nfcall\r\n$1\r\nf\r\n$2\r\n12\r\n$1\r\nk\r\n"), Some(&b"k"[..]));
        assert_eq!(first_key(b"*3\r\n$4\r\neval\r\n$8\r\nreturn 1\r\n$1\r\n0\r\n"), None);
        assert_eq!(first_key(b"*4\r\n$4\r\neval\r\n$1\r\nx\r\n$1\r\n0\r\n$1\r\na\r\n"), None);
        assert_eq!(first_key(b"*4\r\n$4\r\neval\r\n$1\r\nx\r\n$2\r\n-1\r\n$1\r\na\r\n"), None);
        // Other commands: the second argument, as before.
        assert_eq!(first_key(b"*2\r\n$4\r\nEVAX\r\n$1\r\nk\r\n"), Some(&b"k"[..]));
    }
}
