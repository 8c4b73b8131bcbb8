//! Incremental, two-phase request decoder (what a server reads from a client).
//!
//! Phase one scans the buffered bytes without allocating and answers "complete (N bytes)",
//! "need more" or "protocol error"; phase two splits the complete request off the buffer and
//! slices its arguments without copying. Multibulk (`*N\r\n$len\r\n...`) and inline commands
//! (plain lines, as telnet sends) are both accepted, with Redis 7.0's limits and error texts.
//! This module does no I/O.

use bytes::{Bytes, BytesMut};

/// Longest inline request or length line Redis accepts (`PROTO_INLINE_MAX_SIZE`).
pub const INLINE_MAX: usize = 64 * 1024;

/// Limits applied while parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `proto-max-bulk-len`.
    pub max_bulk_len: usize,
    /// Largest multibulk count (Redis: INT_MAX).
    pub max_multibulk_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bulk_len: 512 * 1024 * 1024, max_multibulk_len: i32::MAX as usize }
    }
}

impl Limits {
    /// The stricter limits Redis applies before a client has authenticated.
    pub fn unauthenticated() -> Self {
        Limits { max_bulk_len: 16384, max_multibulk_len: 10 }
    }
}

/// A malformed request; the connection replies `-ERR Protocol error: <msg>` and closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl DecodeError {
    fn new(msg: &str) -> Self {
        DecodeError(msg.to_string())
    }

    /// The full error reply text (without the leading '-').
    pub fn reply_text(&self) -> String {
        format!("ERR Protocol error: {}", self.0)
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Protocol error: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

/// Result of phase one.
enum Scan {
    /// More bytes are needed; the value is a hint of how many bytes the request needs in all.
    Incomplete(usize),
    /// A complete multibulk request of `len` bytes with `argc` arguments.
    Multibulk { len: usize, argc: usize },
    /// A complete inline line of `len` bytes (including the newline).
    Inline { len: usize },
    /// Bytes to drop that carry no command (`*0`, `*-1`, an empty line).
    Skip(usize),
}

/// How far phase one got through a multibulk request that is not complete yet, so the next
/// call resumes there instead of rescanning from the first argument (a request of N
/// arguments arriving in pieces cost O(N²): 21 s of one event loop for a 13 MB SADD of 1M
/// members read 16 KiB at a time).
#[derive(Debug, Clone, Copy)]
struct Progress {
    /// Arguments the request declares.
    count: usize,
    /// Arguments already seen whole.
    done: usize,
    /// Where the next argument starts.
    pos: usize,
    /// The limits they were checked against.
    limits: Limits,
}

/// What the `*<count>` line says: arguments follow, or there is nothing more to scan (the
/// line is incomplete, or `*0` / `*-1`).
enum Start {
    Args(Progress),
    Nothing(Scan),
}

/// Decodes requests from a growing buffer. Between calls the caller may only append to the
/// buffer (every caller reads into its end); the decoder alone takes bytes off its front.
#[derive(Debug, Default)]
pub struct RequestDecoder {
    pub limits: Limits,
    /// After `Ok(None)`: the total size the pending request needs, when known.
    pub want: usize,
    progress: Option<Progress>,
    /// Where each argument of the request being scanned starts and how long it is (found
    /// while scanning, so that cutting the arguments out parses nothing twice).
    spans: Vec<(usize, usize)>,
}

impl RequestDecoder {
    pub fn new(limits: Limits) -> Self {
        RequestDecoder { limits, want: 0, progress: None, spans: Vec::new() }
    }

    /// Take the next complete request off `buf`. `Ok(None)` means more bytes are needed.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, DecodeError> {
        let mut args = Vec::new();
        Ok(self.decode_into(buf, &mut args)?.then_some(args))
    }

    /// [`RequestDecoder::decode`] into `args` (cleared first; an event loop's connection
    /// reuses one vector for all its requests): true when a request was taken.
    pub fn decode_into(&mut self, buf: &mut BytesMut, args: &mut Vec<Bytes>) -> Result<bool, DecodeError> {
        args.clear();
        loop {
            if buf.is_empty() {
                self.want = 0;
                return Ok(false);
            }
            let scan = if buf[0] == b'*' { self.scan_multibulk(buf)? } else { scan_inline(buf)? };
            match scan {
                Scan::Incomplete(want) => {
                    self.want = want;
                    return Ok(false);
                }
                Scan::Skip(n) => {
                    let _ = buf.split_to(n);
                }
                Scan::Multibulk { len, argc } => {
                    self.want = 0;
                    debug_assert_eq!(self.spans.len(), argc);
                    let frame = buf.split_to(len).freeze();
                    slice_multibulk(frame, &self.spans, args);
                    self.spans.clear();
                    if self.spans.capacity() > 4096 {
                        // A request of many arguments does not keep its table.
                        self.spans = Vec::new();
                    }
                    return Ok(true);
                }
                Scan::Inline { len } => {
                    let frame = buf.split_to(len).freeze();
                    let inline = split_inline(&frame)?;
                    if inline.is_empty() {
                        continue;
                    }
                    self.want = 0;
                    *args = inline;
                    return Ok(true);
                }
            }
        }
    }

    fn scan_multibulk(&mut self, buf: &[u8]) -> Result<Scan, DecodeError> {
        let limits = self.limits;
        let Progress { count, mut done, mut pos, .. } = match self.progress.take() {
            Some(p) if p.limits == limits && p.pos <= buf.len() && self.spans.len() == p.done => p,
            _ => {
                self.spans.clear();
                match self.scan_count(buf)? {
                    Start::Args(p) => p,
                    Start::Nothing(scan) => return Ok(scan),
                }
            }
        };
        while done < count {
            let pending = Progress { count, done, pos, limits };
            if pos >= buf.len() {
                self.progress = Some(pending);
                return Ok(Scan::Incomplete(0));
            }
            let (nl, len) = match short_len(buf, pos, b'$') {
                Some(found) => found,
                None => {
                    let Some(nl) = find_crlf(buf, pos) else {
                        if buf.len() - pos > INLINE_MAX {
                            return Err(DecodeError::new("too big bulk count string"));
                        }
                        self.progress = Some(pending);
                        return Ok(Scan::Incomplete(0));
                    };
                    if buf[pos] != b'$' {
                        let got = buf[pos] as char;
                        return Err(DecodeError(format!("expected '$', got '{got}'")));
                    }
                    match parse_len(&buf[pos + 1..nl]) {
                        Some(l) if l >= 0 => (nl, l as usize),
                        _ => return Err(DecodeError::new("invalid bulk length")),
                    }
                }
            };
            if len > limits.max_bulk_len {
                return Err(DecodeError::new("invalid bulk length"));
            }
            let next = nl + 2 + len + 2;
            if next > buf.len() {
                self.progress = Some(pending);
                return Ok(Scan::Incomplete(next));
            }
            self.spans.push((nl + 2, len));
            pos = next;
            done += 1;
        }
        Ok(Scan::Multibulk { len: pos, argc: count })
    }

    /// The `*<count>` line.
    fn scan_count(&self, buf: &[u8]) -> Result<Start, DecodeError> {
        if let Some((nl, count)) = short_len(buf, 0, b'*') {
            if count <= self.limits.max_multibulk_len {
                return Ok(Start::Args(Progress { count, done: 0, pos: nl + 2, limits: self.limits }));
            }
        }
        let Some(nl) = find_crlf(buf, 1) else {
            if buf.len() > INLINE_MAX {
                return Err(DecodeError::new("too big mbulk count string"));
            }
            return Ok(Start::Nothing(Scan::Incomplete(0)));
        };
        let count = match parse_len(&buf[1..nl]) {
            Some(c) if c <= self.limits.max_multibulk_len as i64 => c,
            _ => return Err(DecodeError::new("invalid multibulk length")),
        };
        if count <= 0 {
            return Ok(Start::Nothing(Scan::Skip(nl + 2)));
        }
        Ok(Start::Args(Progress { count: count as usize, done: 0, pos: nl + 2, limits: self.limits }))
    }
}

/// The common length line, read in one pass: `prefix` at `at`, then 1 to 9 digits without a
/// leading zero, then "\r\n": the position of the "\r" and the length. Anything else (zero,
/// a sign, a long or malformed or incomplete line) is left to the general path, which
/// answers it as Redis's `string2ll` does.
#[inline]
fn short_len(buf: &[u8], at: usize, prefix: u8) -> Option<(usize, usize)> {
    let line = buf.get(at..)?;
    if line.len() < 4 || line[0] != prefix || !(b'1'..=b'9').contains(&line[1]) {
        return None;
    }
    let mut n = (line[1] - b'0') as usize;
    for (i, &c) in line.iter().enumerate().take(11).skip(2) {
        match c {
            b'0'..=b'9' => n = n * 10 + (c - b'0') as usize,
            b'\r' => return (line.get(i + 1) == Some(&b'\n')).then_some((at + i, n)),
            _ => return None,
        }
    }
    None
}

/// Position of the "\r\n" that ends the line starting at or after `from`.
fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < buf.len() {
        let off = buf[i..].iter().position(|&b| b == b'\r')?;
        let at = i + off;
        if at + 1 >= buf.len() {
            return None;
        }
        if buf[at + 1] == b'\n' {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// Lengths use Redis's `string2ll` (strict digits, optional '-').
fn parse_len(digits: &[u8]) -> Option<i64> {
    crate::float::parse_i64(digits)
}

/// The arguments of a scanned multibulk `frame` (at `spans`: start, length) into `args`,
/// each a slice of it. The last one is `frame` itself, cut down: every slice costs a reference-count
/// update on the shared read buffer, and so does dropping the frame.
fn slice_multibulk(frame: Bytes, spans: &[(usize, usize)], args: &mut Vec<Bytes>) {
    let Some((&(last_start, last_len), rest)) = spans.split_last() else { return };
    args.reserve(spans.len());
    for &(start, len) in rest {
        args.push(frame.slice(start..start + len));
    }
    let mut frame = frame;
    frame.truncate(last_start + last_len);
    bytes::Buf::advance(&mut frame, last_start);
    args.push(frame);
}

fn scan_inline(buf: &[u8]) -> Result<Scan, DecodeError> {
    match buf.iter().position(|&b| b == b'\n') {
        Some(nl) => {
            if nl > INLINE_MAX {
                return Err(DecodeError::new("too big inline request"));
            }
            Ok(Scan::Inline { len: nl + 1 })
        }
        None if buf.len() > INLINE_MAX => Err(DecodeError::new("too big inline request")),
        None => Ok(Scan::Incomplete(0)),
    }
}

/// Split an inline line into arguments with `sdssplitargs` rules (quotes and escapes).
fn split_inline(line: &Bytes) -> Result<Vec<Bytes>, DecodeError> {
    let mut end = line.len();
    if end > 0 && line[end - 1] == b'\n' {
        end -= 1;
    }
    if end > 0 && line[end - 1] == b'\r' {
        end -= 1;
    }
    split_args(&line[..end])
        .map(|v| v.into_iter().map(Bytes::from).collect())
        .ok_or_else(|| DecodeError::new("unbalanced quotes in request"))
}

/// `sdscatrepr`, the inverse of [`split_args`] for one word: in double quotes, `\\` `"` `\n`
/// `\r` `\t` `\a` `\b` escaped, other bytes outside printable ASCII as `\xhh`.
pub fn repr(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &b in s {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\x");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
    out.push('"');
    out
}

/// `sdssplitargs`: whitespace-separated words, "double quotes" with C escapes (\n \xHH ...),
/// 'single quotes' with \' only. `None` on unbalanced quotes. As in C, where the line is a
/// NUL-terminated string, a NUL byte ends the line (inside quotes: unbalanced), and blanks are
/// `isspace()`'s six.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = &line[..line.iter().position(|&b| b == 0).unwrap_or(line.len())];
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_c_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 3 < n && line[i + 1] == b'x' && is_hex(line[i + 2]) && is_hex(line[i + 3]) {
                    cur.push(hex(line[i + 2]) * 16 + hex(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !is_c_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if in_sq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !is_c_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' => {
                        i += 1;
                        break;
                    }
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        args.push(cur);
    }
}

/// C's `isspace()` in the "C" locale: space, \t, \n, \v, \f, \r.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex(c: u8) -> u8 {
    (c as char).to_digit(16).unwrap_or(0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8]) -> Result<Vec<Vec<Bytes>>, DecodeError> {
        let mut d = RequestDecoder::default();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(req) = d.decode(&mut buf)? {
            out.push(req);
        }
        Ok(out)
    }

    #[test]
    fn multibulk_and_pipeline() {
        let reqs = decode_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n").unwrap();
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0], vec![Bytes::from("GET"), Bytes::from("k")]);
        assert_eq!(reqs[1], vec![Bytes::from("PING")]);
    }

    #[test]
    fn incremental_byte_by_byte() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhe\r\no\r\n";
        let mut d = RequestDecoder::default();
        let mut buf = BytesMut::new();
        let mut got = None;
        for (i, &b) in input.iter().enumerate() {
            buf.extend_from_slice(&[b]);
            if let Some(r) = d.decode(&mut buf).unwrap() {
                assert_eq!(i, input.len() - 1);
                got = Some(r);
            }
        }
        assert_eq!(got.unwrap()[2], Bytes::from("he\r\no"));
        assert!(buf.is_empty());
    }

    #[test]
    fn inline() {
        let reqs = decode_all(b"SET k \"a b\\x41\\n\" 'it\\'s'\r\n\r\nPING\n").unwrap();
        assert_eq!(reqs[0], vec![Bytes::from("SET"), Bytes::from("k"), Bytes::from("a bA\n"), Bytes::from("it's")]);
        assert_eq!(reqs[1], vec![Bytes::from("PING")]);
        assert_eq!(decode_all(b"SET \"a\r\n").unwrap_err().0, "unbalanced quotes in request");
        assert_eq!(decode_all(b"SET \"a\"b\r\n").unwrap_err().0, "unbalanced quotes in request");
    }

    /// Found by fuzzing (server_config): a NUL in a config line made empty arguments
    /// (`bind 127\0\0x` bound "127", "" and "x"), which CONFIG REWRITE could not write back.
    /// Redis's sdssplitargs reads a C string: the NUL ends the line.
    #[test]
    fn nul_ends_the_line_as_in_c() {
        assert_eq!(split_args(b"bind 127\0\0x y").unwrap(), vec![b"bind".to_vec(), b"127".to_vec()]);
        assert_eq!(split_args(b"\0set k v").unwrap(), Vec::<Vec<u8>>::new());
        assert_eq!(split_args(b"set \"a\0b\""), None);
        // Blanks before a word are isspace()'s; inside a word only space, \t, \r, \n end it.
        assert_eq!(split_args(b"\x0b\x0cset a\x0bb").unwrap(), vec![b"set".to_vec(), b"a\x0bb".to_vec()]);
        assert_eq!(decode_all(b"GET k\0junk\r\n").unwrap(), vec![vec![Bytes::from("GET"), Bytes::from("k")]]);
    }

    #[test]
    fn errors() {
        assert_eq!(decode_all(b"*x\r\n").unwrap_err().0, "invalid multibulk length");
        assert_eq!(decode_all(b"*1\r\n$-1\r\n").unwrap_err().0, "invalid bulk length");
        assert_eq!(decode_all(b"*1\r\n+PING\r\n").unwrap_err().0, "expected '$', got '+'");
        let mut d = RequestDecoder::new(Limits { max_bulk_len: 10, ..Limits::default() });
        let mut buf = BytesMut::from(&b"*1\r\n$11\r\n"[..]);
        assert_eq!(d.decode(&mut buf).unwrap_err().0, "invalid bulk length");
        let big = vec![b'a'; INLINE_MAX + 10];
        assert_eq!(decode_all(&big).unwrap_err().0, "too big inline request");
    }

    /// Length lines the one-pass reader takes and those it leaves to `string2ll`'s rules.
    #[test]
    fn length_lines() {
        assert_eq!(decode_all(b"*2\r\n$0\r\n\r\n$2\r\nab\r\n").unwrap()[0], vec![Bytes::new(), Bytes::from("ab")]);
        let long = format!("*1\r\n$123456789\r\n{}\r\n", "x".repeat(123_456_789));
        assert_eq!(decode_all(long.as_bytes()).unwrap()[0][0].len(), 123_456_789);
        for bad in [&b"*1\r\n$01\r\na\r\n"[..], b"*1\r\n$+1\r\na\r\n", b"*1\r\n$1x\r\na\r\n", b"*1\r\n$1\rxa\r\n"] {
            assert_eq!(decode_all(bad).unwrap_err().0, "invalid bulk length", "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(decode_all(b"*01\r\n$1\r\na\r\n").unwrap_err().0, "invalid multibulk length");
        // Ten digits and more: the general path, with the limit.
        assert_eq!(decode_all(b"*1\r\n$1000000000\r\n").unwrap_err().0, "invalid bulk length");
        let mut d = RequestDecoder::new(Limits { max_multibulk_len: 2, ..Limits::default() });
        let mut buf = BytesMut::from(&b"*3\r\n"[..]);
        assert_eq!(d.decode_into(&mut buf, &mut Vec::new()).unwrap_err().0, "invalid multibulk length");
    }

    #[test]
    fn empty_multibulk_is_skipped() {
        let reqs = decode_all(b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n").unwrap();
        assert_eq!(reqs.len(), 1);
    }

    /// Each call resumes where the last one stopped: the requests and the errors are the same
    /// whatever the pieces (the fuzz target checks this on random input), and one call scans
    /// only what arrived since (a million arguments in 16 KiB pieces took 21 s before).
    #[test]
    fn resumes_a_partial_multibulk() {
        let mut req = b"*100001\r\n$4\r\nSADD\r\n".to_vec();
        for i in 0..100_000 {
            req.extend_from_slice(format!("$7\r\nm{i:06}\r\n").as_bytes());
        }
        let mut d = RequestDecoder::default();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for piece in req.chunks(1000) {
            buf.extend_from_slice(piece);
            got.extend(d.decode(&mut buf).unwrap());
            let scanned = d.progress.map_or(0, |p| p.pos);
            assert!(got.len() == 1 || buf.len() - scanned < 1000 + 16, "rescanned from {scanned} of {}", buf.len());
        }
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].len(), &got[0][100_000][..]), (100_001, &b"m099999"[..]));
        // Changed limits are checked again from the start.
        let mut d = RequestDecoder::default();
        let mut buf = BytesMut::from(&b"*2\r\n$5\r\nhello\r\n"[..]);
        assert!(d.decode(&mut buf).unwrap().is_none());
        d.limits.max_bulk_len = 4;
        buf.extend_from_slice(b"$1\r\nx\r\n");
        assert_eq!(d.decode(&mut buf).unwrap_err().0, "invalid bulk length");
    }

    #[test]
    fn want_hint_for_large_bulk() {
        let mut d = RequestDecoder::default();
        let mut buf = BytesMut::from(&b"*1\r\n$100000\r\nabc"[..]);
        assert!(d.decode(&mut buf).unwrap().is_none());
        assert_eq!(d.want, 4 + 9 + 100000 + 2);
    }
}
