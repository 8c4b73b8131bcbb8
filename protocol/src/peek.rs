//! [`first_key`]: the second argument of the next request in a read buffer, found without
//! decoding it, so an event loop can start fetching that key's slot while it runs the
//! request before it (a pipeline's keys are then waited for one at a time no more).

/// `*<n>\r\n$<len>\r\n<command>\r\n$<len>\r\n<key>\r\n` at the start of `buf`: the key's
/// bytes, if the buffer already holds them and the request has at least two arguments.
/// Anything else (an inline request, a partial one, a malformed one) is `None`; the decoder
/// judges it later.
pub fn first_key(buf: &[u8]) -> Option<&[u8]> {
    let (n, at) = header(buf, 0, b'*')?;
    if n < 2 {
        return None;
    }
    let (len, at) = header(buf, at, b'$')?;
    let at = at.checked_add(len)?.checked_add(2)?;
    let (len, at) = header(buf, at, b'$')?;
    buf.get(at..at.checked_add(len)?)
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
}
