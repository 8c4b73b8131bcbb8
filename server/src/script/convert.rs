//! Conversions between command replies and Lua values, exactly Redis's table: a reply reaches
//! a script as its protocol (the script's `redis.setresp`) would carry it (pushed by
//! `cpush.rs`), and a script's return value becomes a reply by the shape of the Lua value
//! (`{err=}`, `{ok=}`, `{double=}`, `{map=}`, `{set=}`, `{big_number=}`, `{verbatim_string=}`,
//! arrays up to the first nil; read by `cpop.rs`). What both directions share is here.

use bytes::Bytes;
use mlua::{Lua, Table};
use slotbox_protocol::{Frame, Protocol};

/// Deepest nesting a script reply may have (Redis stops at its Lua stack limit).
pub(super) const MAX_DEPTH: usize = 1000;

/// "-CODE msg" or "msg" as Redis keeps an error inside Lua: "CODE msg" (ERR when there is no
/// code), without trailing CR/LF.
pub fn error_text(s: &[u8]) -> Vec<u8> {
    let (code, msg): (&[u8], &[u8]) = match s.first() {
        Some(b'-') => match s.iter().position(|&b| b == b' ') {
            Some(sp) => (&s[1..sp], &s[sp + 1..]),
            None => (b"ERR", &s[1..]),
        },
        _ => (b"ERR", s),
    };
    let is_crlf = |b: &u8| *b == b'\r' || *b == b'\n';
    let start = msg.iter().position(|b| !is_crlf(b)).unwrap_or(msg.len());
    let end = msg.iter().rposition(|b| !is_crlf(b)).map_or(start, |e| e + 1);
    let mut out = Vec::with_capacity(code.len() + 1 + end - start);
    out.extend_from_slice(code);
    out.push(b' ');
    out.extend_from_slice(&msg[start..end.max(start)]);
    out
}

/// A Lua error table `{err = text}` (text already in "CODE msg" form).
pub fn error_table(lua: &Lua, text: &[u8], ignore_stats: bool) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 2)?;
    t.raw_set("err", lua.create_string(text)?)?;
    if ignore_stats {
        t.raw_set("ignore_error_stats_update", true)?;
    }
    Ok(t)
}

pub fn double_text(d: f64) -> Vec<u8> {
    slotbox_protocol::encode::to_vec(&Frame::Double(d), Protocol::Resp2)
        .split(|&b| b == b'\n')
        .nth(1)
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
        .unwrap_or_default()
}

/// C's `(long long)` cast of a double, without its undefined cases.
pub fn number_to_i64(n: f64) -> i64 {
    if n.is_nan() {
        i64::MIN
    } else {
        n as i64
    }
}

/// A `{verbatim_string = {format = ..., string = ...}}` reply in the caller's protocol: a bulk
/// string in RESP2, a verbatim string (its format padded or cut to three bytes) in RESP3.
pub fn verbatim_frame(format: &[u8], text: Bytes, caller: Protocol) -> Frame {
    match (caller, format) {
        (Protocol::Resp2, _) => Frame::Bulk(text),
        (Protocol::Resp3, b"txt") => Frame::Verbatim("txt", text),
        (Protocol::Resp3, b"mkd") => Frame::Verbatim("mkd", text),
        (Protocol::Resp3, fmt) => {
            let mut fmt3 = [b' '; 3];
            for (d, s) in fmt3.iter_mut().zip(fmt.iter()) {
                *d = *s;
            }
            let mut out = format!("={}\r\n", text.len() + 4).into_bytes();
            out.extend_from_slice(&fmt3);
            out.push(b':');
            out.extend_from_slice(&text);
            out.extend_from_slice(b"\r\n");
            Frame::Raw(Bytes::from(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts_get_a_code() {
        assert_eq!(error_text(b"-WRONGTYPE Operation"), b"WRONGTYPE Operation");
        assert_eq!(error_text(b"-NOSCRIPT"), b"ERR NOSCRIPT");
        assert_eq!(error_text(b"plain message\r\n"), b"ERR plain message");
    }
}
