//! Parser for any RESP2/RESP3 value (what a client, the proxy or the cluster tool reads from a
//! server). Returns `Ok(None)` until a whole value is buffered. No I/O.

use crate::decode::DecodeError;
use crate::frame::Frame;
use bytes::Bytes;

/// Deepest nesting accepted, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

/// Most elements an aggregate may declare (hiredis's default `maxelements`).
const MAX_ELEMENTS: i64 = u32::MAX as i64;

/// Parse one value from the start of `buf`; on success returns it and the bytes it used.
pub fn parse_frame(buf: &[u8]) -> Result<Option<(Frame, usize)>, DecodeError> {
    let mut pos = 0;
    match parse_at(buf, &mut pos, 0)? {
        Some(f) => Ok(Some((f, pos))),
        None => Ok(None),
    }
}

fn err(msg: &str) -> DecodeError {
    DecodeError(msg.to_string())
}

fn read_line<'a>(buf: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let start = *pos;
    let rel = buf.get(start..)?.windows(2).position(|w| w == b"\r\n")?;
    *pos = start + rel + 2;
    Some(&buf[start..start + rel])
}

fn int_of(line: &[u8]) -> Result<i64, DecodeError> {
    std::str::from_utf8(line).ok().and_then(|s| s.parse().ok()).ok_or_else(|| err("invalid integer"))
}

fn parse_at(buf: &[u8], pos: &mut usize, depth: usize) -> Result<Option<Frame>, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(err("nesting too deep"));
    }
    let Some(&tag) = buf.get(*pos) else { return Ok(None) };
    let mut p = *pos + 1;
    let Some(line) = read_line(buf, &mut p) else { return Ok(None) };
    let frame = match tag {
        b'+' => Frame::Simple(Bytes::copy_from_slice(line)),
        b'-' => Frame::Error(Bytes::copy_from_slice(line)),
        b':' => Frame::Integer(int_of(line)?),
        b'_' => Frame::Null,
        b'#' => Frame::Boolean(line == b"t"),
        b',' => {
            let s = std::str::from_utf8(line).map_err(|_| err("invalid double"))?;
            Frame::Double(match s {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                _ => s.parse().map_err(|_| err("invalid double"))?,
            })
        }
        b'(' => Frame::BigNumber(Bytes::copy_from_slice(line)),
        b'$' | b'=' | b'!' => {
            let len = int_of(line)?;
            if len < 0 {
                Frame::Null
            } else {
                let len = len as usize;
                if buf.len() < p + len + 2 {
                    return Ok(None);
                }
                let data = Bytes::copy_from_slice(&buf[p..p + len]);
                p += len + 2;
                match tag {
                    b'$' => Frame::Bulk(data),
                    b'!' => Frame::Error(data),
                    _ => Frame::Verbatim("txt", data.slice(4.min(data.len())..)),
                }
            }
        }
        b'*' | b'~' | b'>' | b'%' => {
            let n = int_of(line)?;
            if n > MAX_ELEMENTS {
                return Err(err("aggregate length out of range"));
            }
            if n < 0 {
                Frame::NullArray
            } else {
                let count = if tag == b'%' { n as usize * 2 } else { n as usize };
                let mut items = Vec::with_capacity(count.min(1024));
                for _ in 0..count {
                    match parse_at(buf, &mut p, depth + 1)? {
                        Some(f) => items.push(f),
                        None => return Ok(None),
                    }
                }
                match tag {
                    b'*' => Frame::Array(items),
                    b'~' => Frame::Set(items),
                    b'>' => Frame::Push(items),
                    _ => {
                        let mut pairs = Vec::with_capacity(items.len() / 2);
                        let mut it = items.into_iter();
                        while let (Some(k), Some(v)) = (it.next(), it.next()) {
                            pairs.push((k, v));
                        }
                        Frame::Map(pairs)
                    }
                }
            }
        }
        other => return Err(DecodeError(format!("unexpected byte '{}'", other as char))),
    };
    *pos = p;
    Ok(Some(frame))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{to_vec, Protocol};

    #[test]
    fn roundtrip_resp3() {
        let f = Frame::Map(vec![
            (Frame::bulk_static("a"), Frame::Array(vec![Frame::Integer(1), Frame::Null])),
            (Frame::bulk_static("b"), Frame::Double(1.5)),
        ]);
        let bytes = to_vec(&f, Protocol::Resp3);
        let (g, used) = parse_frame(&bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(g, f);
        assert!(parse_frame(&bytes[..bytes.len() - 1]).unwrap().is_none());
    }

    /// Found by fuzzing (resp_reply): a RESP3 blob error holding CRLF was re-encoded as a
    /// simple error, which a reader split into two replies (the proxy relaying a backend's
    /// error to a client would have desynced it).
    #[test]
    fn blob_error_with_crlf_reencodes_as_one_reply() {
        let (f, used) = parse_frame(b"!11\r\n127.0.\r\n$xx\r\n").unwrap().unwrap();
        assert_eq!(used, 18);
        for proto in [Protocol::Resp2, Protocol::Resp3] {
            let bytes = to_vec(&f, proto);
            let (again, n) = parse_frame(&bytes).unwrap().unwrap();
            assert_eq!(n, bytes.len());
            assert_eq!(again, Frame::Error(Bytes::from_static(b"127.0.  $xx")));
        }
    }

    /// A map of 2^62 or more pairs overflowed `n * 2` (a panic with overflow checks, a wrong
    /// count without); counts past hiredis's limit are an error, as there.
    #[test]
    fn aggregate_length_out_of_range() {
        for input in [&b"%9223372036854775807\r\n"[..], b"%4611686018427387904\r\n", b"*4294967296\r\n"] {
            assert_eq!(parse_frame(input).unwrap_err().0, "aggregate length out of range");
        }
        assert!(parse_frame(b"*4294967295\r\n:1\r\n").unwrap().is_none());
    }

    #[test]
    fn nulls_and_errors() {
        assert_eq!(parse_frame(b"$-1\r\n").unwrap().unwrap().0, Frame::Null);
        assert_eq!(parse_frame(b"*-1\r\n").unwrap().unwrap().0, Frame::NullArray);
        assert!(parse_frame(b"?x\r\n").is_err());
    }
}
