//! RESP2 / RESP3 encoding of a [`Frame`]. Each aggregate is encoded with the shape Redis 7.0
//! uses for the connection's protocol (maps flattened, doubles as bulk strings in RESP2...).

use crate::float::fmt_g17;
use crate::frame::Frame;

/// The protocol version negotiated with `HELLO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}

impl Protocol {
    pub fn version(self) -> i64 {
        match self {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }
}

/// Append the encoding of `frame` to `out`.
pub fn encode(frame: &Frame, proto: Protocol, out: &mut Vec<u8>) {
    match frame {
        Frame::Simple(s) => line(out, b'+', s),
        Frame::Error(e) => line(out, b'-', e),
        Frame::Integer(i) => integer(out, b':', *i),
        Frame::Bulk(b) => bulk(out, b),
        Frame::Null => match proto {
            Protocol::Resp2 => out.extend_from_slice(b"$-1\r\n"),
            Protocol::Resp3 => out.extend_from_slice(b"_\r\n"),
        },
        Frame::NullArray => match proto {
            Protocol::Resp2 => out.extend_from_slice(b"*-1\r\n"),
            Protocol::Resp3 => out.extend_from_slice(b"_\r\n"),
        },
        Frame::Array(items) => aggregate(out, b'*', items, proto),
        Frame::Set(items) => {
            let tag = if proto == Protocol::Resp3 { b'~' } else { b'*' };
            aggregate(out, tag, items, proto)
        }
        Frame::Push(items) => {
            let tag = if proto == Protocol::Resp3 { b'>' } else { b'*' };
            aggregate(out, tag, items, proto)
        }
        Frame::Map(pairs) => {
            match proto {
                Protocol::Resp3 => integer(out, b'%', pairs.len() as i64),
                Protocol::Resp2 => integer(out, b'*', pairs.len() as i64 * 2),
            }
            for (k, v) in pairs {
                encode(k, proto, out);
                encode(v, proto, out);
            }
        }
        Frame::Double(d) => double(out, *d, proto),
        Frame::Boolean(b) => match proto {
            Protocol::Resp3 => out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
            Protocol::Resp2 => out.extend_from_slice(if *b { b":1\r\n" } else { b":0\r\n" }),
        },
        Frame::Verbatim(fmt, text) => match proto {
            Protocol::Resp3 => {
                integer(out, b'=', (text.len() + 4) as i64);
                out.extend_from_slice(fmt.as_bytes());
                out.push(b':');
                out.extend_from_slice(text);
                out.extend_from_slice(b"\r\n");
            }
            Protocol::Resp2 => bulk(out, text),
        },
        Frame::BigNumber(n) => match proto {
            Protocol::Resp3 => line(out, b'(', n),
            Protocol::Resp2 => bulk(out, n),
        },
        Frame::Raw(bytes) => out.extend_from_slice(bytes),
        Frame::Many(frames) => {
            for f in frames {
                encode(f, proto, out);
            }
        }
    }
}

/// Encode a frame into a fresh buffer.
pub fn to_vec(frame: &Frame, proto: Protocol) -> Vec<u8> {
    let mut out = Vec::new();
    encode(frame, proto, &mut out);
    out
}

/// A one-line value (`+`, `-`, `(`). A CR or LF inside would end the line early and desync
/// the reader, so each becomes a space, as Redis does to error texts.
fn line(out: &mut Vec<u8>, tag: u8, text: &[u8]) {
    out.push(tag);
    if text.iter().any(|&b| b == b'\r' || b == b'\n') {
        out.extend(text.iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
    } else {
        out.extend_from_slice(text);
    }
    out.extend_from_slice(b"\r\n");
}

fn integer(out: &mut Vec<u8>, tag: u8, value: i64) {
    out.push(tag);
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(value).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// An array of `count` bulk strings, encoded at once: its encoding is the same in RESP2 and
/// RESP3, so a reply of many elements (LRANGE, ZRANGE) is built in one buffer instead of one
/// allocation per element and a second pass to encode them. `items` must yield `count`.
pub fn bulk_array<'a>(count: usize, items: impl IntoIterator<Item = &'a [u8]>) -> Frame {
    let mut out = Vec::with_capacity(16 + count * 24);
    array_header(&mut out, count);
    let mut n = 0;
    for item in items {
        bulk(&mut out, item);
        n += 1;
    }
    debug_assert_eq!(n, count, "bulk_array: count and items differ");
    Frame::Raw(out.into())
}

/// Append the header of an array of `len` elements (`*<len>`, the same in RESP2 and RESP3),
/// for replies encoded element by element.
pub fn array_header(out: &mut Vec<u8>, len: usize) {
    integer(out, b'*', len as i64);
}

/// Append a bulk string.
pub fn bulk(out: &mut Vec<u8>, data: &[u8]) {
    integer(out, b'$', data.len() as i64);
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

fn aggregate(out: &mut Vec<u8>, tag: u8, items: &[Frame], proto: Protocol) {
    integer(out, tag, items.len() as i64);
    for item in items {
        encode(item, proto, out);
    }
}

fn double(out: &mut Vec<u8>, d: f64, proto: Protocol) {
    let text = if d.is_infinite() {
        if d > 0.0 {
            "inf".to_string()
        } else {
            "-inf".to_string()
        }
    } else {
        fmt_g17(d)
    };
    match proto {
        Protocol::Resp2 => bulk(out, text.as_bytes()),
        Protocol::Resp3 => line(out, b',', text.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn both(f: &Frame) -> (String, String) {
        (String::from_utf8(to_vec(f, Protocol::Resp2)).unwrap(), String::from_utf8(to_vec(f, Protocol::Resp3)).unwrap())
    }

    #[test]
    fn scalars() {
        assert_eq!(both(&Frame::ok()).0, "+OK\r\n");
        assert_eq!(both(&Frame::Integer(-42)).0, ":-42\r\n");
        assert_eq!(both(&Frame::bulk_static("hi")).0, "$2\r\nhi\r\n");
        assert_eq!(both(&Frame::Null), ("$-1\r\n".into(), "_\r\n".into()));
        assert_eq!(both(&Frame::NullArray), ("*-1\r\n".into(), "_\r\n".into()));
        assert_eq!(both(&Frame::Boolean(true)), (":1\r\n".into(), "#t\r\n".into()));
    }

    #[test]
    fn doubles() {
        assert_eq!(both(&Frame::Double(1.5)), ("$3\r\n1.5\r\n".into(), ",1.5\r\n".into()));
        assert_eq!(both(&Frame::Double(1.1)).1, ",1.1000000000000001\r\n");
        assert_eq!(both(&Frame::Double(f64::NEG_INFINITY)).0, "$4\r\n-inf\r\n");
        assert_eq!(both(&Frame::Double(f64::INFINITY)).1, ",inf\r\n");
    }

    #[test]
    fn line_values_never_carry_a_line_break() {
        assert_eq!(both(&Frame::error("ERR a\r\nb\nc")).0, "-ERR a  b c\r\n");
        assert_eq!(both(&Frame::Simple(Bytes::from_static(b"x\ry"))).1, "+x y\r\n");
    }

    #[test]
    fn aggregates() {
        let m = Frame::Map(vec![(Frame::bulk_static("a"), Frame::Integer(1))]);
        assert_eq!(both(&m), ("*2\r\n$1\r\na\r\n:1\r\n".into(), "%1\r\n$1\r\na\r\n:1\r\n".into()));
        let s = Frame::Set(vec![Frame::bulk_static("x")]);
        assert_eq!(both(&s), ("*1\r\n$1\r\nx\r\n".into(), "~1\r\n$1\r\nx\r\n".into()));
        let p = Frame::Push(vec![Frame::bulk(Bytes::from_static(b"message"))]);
        assert_eq!(both(&p).1, ">1\r\n$7\r\nmessage\r\n");
        let v = Frame::Verbatim("txt", Bytes::from_static(b"hello"));
        assert_eq!(both(&v), ("$5\r\nhello\r\n".into(), "=9\r\ntxt:hello\r\n".into()));
    }
}
