//! Conversions between command replies and Lua values, exactly Redis's table: a reply reaches
//! a script as its protocol (the script's `redis.setresp`) would carry it (pushed by
//! `cpush.rs`), and a script's return value becomes a reply by the shape of the Lua value (`{err=}`, `{ok=}`, `{double=}`,
//! `{map=}`, `{set=}`, `{big_number=}`, `{verbatim_string=}`, arrays up to the first nil).

use bytes::Bytes;
use mlua::{Lua, Table, Value};
use slotbox_protocol::{Frame, Protocol};

/// Deepest nesting a script reply may have (Redis stops at its Lua stack limit).
const MAX_DEPTH: usize = 1000;

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

/// What a script's return value (or a value it hands back) becomes as a reply. `script_resp` is
/// the script's protocol (booleans), `caller` the protocol the reply is written in.
pub fn lua_to_reply(v: &Value, script_resp: Protocol, caller: Protocol) -> Frame {
    to_reply(v, script_resp, caller, 0)
}

fn to_reply(v: &Value, script_resp: Protocol, caller: Protocol, depth: usize) -> Frame {
    if depth > MAX_DEPTH {
        return Frame::error_static("ERR reached lua stack limit");
    }
    match v {
        Value::String(s) => Frame::Bulk(Bytes::copy_from_slice(&s.as_bytes())),
        Value::Boolean(b) => match script_resp {
            Protocol::Resp2 if *b => Frame::Integer(1),
            Protocol::Resp2 => Frame::Null,
            Protocol::Resp3 => Frame::Boolean(*b),
        },
        Value::Integer(i) => Frame::Integer(*i),
        Value::Number(n) => Frame::Integer(number_to_i64(*n)),
        Value::Table(t) => table_to_reply(t, script_resp, caller, depth),
        _ => Frame::Null,
    }
}

/// C's `(long long)` cast of a double, without its undefined cases.
pub fn number_to_i64(n: f64) -> i64 {
    if n.is_nan() {
        i64::MIN
    } else {
        n as i64
    }
}

fn one_line(s: &[u8]) -> Bytes {
    Bytes::from(s.iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }).collect::<Vec<u8>>())
}

fn table_to_reply(t: &Table, script_resp: Protocol, caller: Protocol, depth: usize) -> Frame {
    if let Ok(Value::String(e)) = t.raw_get::<Value>("err") {
        return Frame::Error(Bytes::copy_from_slice(&e.as_bytes()));
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("ok") {
        return Frame::Simple(one_line(&s.as_bytes()));
    }
    match t.raw_get::<Value>("double") {
        Ok(Value::Number(d)) => return Frame::Double(d),
        Ok(Value::Integer(i)) => return Frame::Double(i as f64),
        _ => {}
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("big_number") {
        return Frame::BigNumber(one_line(&s.as_bytes()));
    }
    if let Some(f) = verbatim(t, caller) {
        return f;
    }
    if let Ok(Value::Table(m)) = t.raw_get::<Value>("map") {
        let mut pairs = Vec::new();
        let _ = m.for_each(|k: Value, v: Value| {
            pairs.push((to_reply(&k, script_resp, caller, depth + 1), to_reply(&v, script_resp, caller, depth + 1)));
            Ok(())
        });
        return Frame::Map(pairs);
    }
    if let Ok(Value::Table(s)) = t.raw_get::<Value>("set") {
        let mut items = Vec::new();
        let _ = s.for_each(|k: Value, _v: Value| {
            items.push(to_reply(&k, script_resp, caller, depth + 1));
            Ok(())
        });
        return Frame::Set(items);
    }
    let mut items = Vec::new();
    for i in 1.. {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(to_reply(&v, script_resp, caller, depth + 1)),
        }
        if depth + 1 > MAX_DEPTH {
            break;
        }
    }
    Frame::Array(items)
}

fn verbatim(t: &Table, caller: Protocol) -> Option<Frame> {
    let Ok(Value::Table(v)) = t.raw_get::<Value>("verbatim_string") else { return None };
    let Ok(Value::String(format)) = v.raw_get::<Value>("format") else { return None };
    let Ok(Value::String(text)) = v.raw_get::<Value>("string") else { return None };
    let text = Bytes::copy_from_slice(&text.as_bytes());
    let format = format.as_bytes();
    match (caller, &format[..]) {
        (Protocol::Resp2, _) => Some(Frame::Bulk(text)),
        (Protocol::Resp3, b"txt") => Some(Frame::Verbatim("txt", text)),
        (Protocol::Resp3, b"mkd") => Some(Frame::Verbatim("mkd", text)),
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
            Some(Frame::Raw(Bytes::from(out)))
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
