//! [`Listpack`]: the compact encoding of a small hash, as Redis's listpack: one exactly-sized
//! byte buffer holding the pairs (field, value, field, value...) in insertion order. It is the
//! whole payload of `Value::Hash`, so a small hash costs one allocation of its bytes plus one
//! or two bytes per pair, and nothing else. Lookups are linear scans.
//!
//! # Layout
//!
//! Each pair is a header followed by the field bytes and the value bytes:
//!
//! ```text
//! 1fff vvvv                 field < 8 bytes and value < 16 bytes (one header byte)
//! 0fff ffff · vvvv vvvv     field < 127 bytes and value < 256 bytes
//! 0111 1111 · F · V         longer: both lengths as LEB128 varints
//! ```
//!
//! Entries are at most `hash-max-listpack-value` bytes (64 by default: the first two forms);
//! the pair count is not stored: counting is a walk over the headers (at most
//! `hash-max-listpack-entries` of them, as Redis walks its listpack).

use super::thin::ThinBytes;
use super::varint;

/// When a hash leaves the listpack encoding for a hashtable: more than `entries` fields, or a
/// field or value longer than `value` bytes (`hash-max-listpack-entries` / `-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub entries: usize,
    pub value: usize,
}

impl Default for Limits {
    /// Redis 7.0's defaults.
    fn default() -> Self {
        Limits { entries: 512, value: 64 }
    }
}

impl Limits {
    /// May a listpack hold this pair (its count aside)?
    pub fn fits(&self, field: &[u8], value: &[u8]) -> bool {
        field.len() <= self.value && value.len() <= self.value
    }
}

/// Field / value pairs in one buffer (8 bytes; empty means no allocation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listpack {
    buf: ThinBytes,
}

/// The first byte of a header with varint lengths.
const LONG: u8 = 0x7f;

/// Header of the pair at `pos`: (header length, field length, value length).
#[inline]
fn header(buf: &[u8], pos: usize) -> (usize, usize, usize) {
    let b = buf[pos];
    if b & 0x80 != 0 {
        (1, ((b >> 4) & 0x7) as usize, (b & 0xf) as usize)
    } else if b != LONG {
        (2, b as usize, buf[pos + 1] as usize)
    } else {
        let (fl, a) = varint::get(buf, pos + 1);
        let (vl, b) = varint::get(buf, pos + 1 + a);
        (1 + a + b, fl as usize, vl as usize)
    }
}

/// Bytes a pair takes once encoded.
pub fn encoded_len(field: &[u8], value: &[u8]) -> usize {
    let hdr = if field.len() < 8 && value.len() < 16 {
        1
    } else if field.len() < LONG as usize && value.len() < 256 {
        2
    } else {
        1 + varint::len(field.len() as u64) + varint::len(value.len() as u64)
    };
    hdr + field.len() + value.len()
}

/// Append one encoded pair to `out`.
fn encode(out: &mut Vec<u8>, field: &[u8], value: &[u8]) {
    if field.len() < 8 && value.len() < 16 {
        out.push(0x80 | ((field.len() as u8) << 4) | value.len() as u8);
    } else if field.len() < LONG as usize && value.len() < 256 {
        out.extend_from_slice(&[field.len() as u8, value.len() as u8]);
    } else {
        out.push(LONG);
        varint::put(out, field.len() as u64);
        varint::put(out, value.len() as u64);
    }
    out.extend_from_slice(field);
    out.extend_from_slice(value);
}

/// The pairs of a listpack, in order.
#[derive(Clone)]
pub struct Iter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iter<'a> {
    /// The next pair with its byte range in the buffer.
    fn next_span(&mut self) -> Option<(&'a [u8], &'a [u8], std::ops::Range<usize>)> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let start = self.pos;
        let (h, fl, vl) = header(self.buf, start);
        let f = start + h;
        let v = f + fl;
        self.pos = v + vl;
        Some((&self.buf[f..v], &self.buf[v..self.pos], start..self.pos))
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        self.next_span().map(|(f, v, _)| (f, v))
    }
}

/// Where a field is: its pair's byte range, or the pair count when absent.
fn locate(buf: &[u8], field: &[u8]) -> Result<std::ops::Range<usize>, usize> {
    let mut it = Iter { buf, pos: 0 };
    let mut n = 0;
    while let Some((f, _, span)) = it.next_span() {
        if f == field {
            return Ok(span);
        }
        n += 1;
    }
    Err(n)
}

/// What [`Listpack::upsert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    /// The field existed; its value was replaced in place.
    Replaced,
    /// The field was new and was appended.
    Added,
    /// The field was new but the listpack already holds `max_pairs`: nothing changed.
    Full,
}

impl Listpack {
    pub fn new() -> Self {
        Listpack::default()
    }

    /// Number of pairs (a walk over the headers).
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter { buf: &self.buf, pos: 0 }
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.iter().find(|(f, _)| *f == field).map(|(_, v)| v)
    }

    /// The `i`-th pair in order.
    pub fn nth(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.iter().nth(i)
    }

    /// Set `field` (which, like `value`, must fit a listpack entry): replace its value where it
    /// is, or append it unless there are already `max_pairs` pairs.
    pub fn upsert(&mut self, field: &[u8], value: &[u8], max_pairs: usize) -> Upsert {
        match locate(&self.buf, field) {
            Ok(span) => {
                self.splice(span, Some((field, value)));
                Upsert::Replaced
            }
            Err(n) if n >= max_pairs => Upsert::Full,
            Err(_) => {
                let end = self.buf.len();
                self.splice(end..end, Some((field, value)));
                Upsert::Added
            }
        }
    }

    /// Append a pair (the caller checked the field is absent and both fit an entry).
    pub fn push(&mut self, field: &[u8], value: &[u8]) {
        let end = self.buf.len();
        self.splice(end..end, Some((field, value)));
    }

    pub fn remove(&mut self, field: &[u8]) -> bool {
        match locate(&self.buf, field) {
            Ok(span) => {
                self.splice(span, None);
                true
            }
            Err(_) => false,
        }
    }

    /// Replace the bytes `span` with one encoded pair (or nothing), keeping the buffer exactly
    /// sized: in place when the length does not change, else one new allocation.
    fn splice(&mut self, span: std::ops::Range<usize>, pair: Option<(&[u8], &[u8])>) {
        let new_len = pair.map_or(0, |(f, v)| encoded_len(f, v));
        if new_len == span.len() {
            if let Some((f, v)) = pair {
                let mut enc = Vec::with_capacity(new_len);
                encode(&mut enc, f, v);
                self.buf[span].copy_from_slice(&enc);
            }
            return;
        }
        let mut enc = Vec::with_capacity(new_len);
        if let Some((f, v)) = pair {
            encode(&mut enc, f, v);
        }
        self.buf = ThinBytes::from_parts(&[&self.buf[..span.start], &enc, &self.buf[span.end..]]);
    }

    /// Bytes of heap memory used (the buffer is exactly sized).
    pub fn heap_size(&self) -> usize {
        self.buf.len()
    }
}

/// Builds a listpack in a growable buffer, then hands it over exactly sized (restoring a
/// value: one final allocation instead of one per pair).
#[derive(Debug, Default)]
pub struct Builder {
    buf: Vec<u8>,
}

impl Builder {
    /// A builder for pairs taking `bytes` bytes once encoded (see [`encoded_len`]).
    pub fn with_capacity(bytes: usize) -> Self {
        Builder { buf: Vec::with_capacity(bytes) }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        locate(&self.buf, field).is_ok()
    }

    /// Append a pair (the caller checked the field is absent and both fit an entry).
    pub fn push(&mut self, field: &[u8], value: &[u8]) {
        encode(&mut self.buf, field, value);
    }

    pub fn finish(self) -> Listpack {
        Listpack { buf: ThinBytes::from(self.buf) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_replace_remove() {
        let mut lp = Listpack::default();
        lp.push(b"a", b"1");
        lp.push(b"b", b"22");
        lp.push(b"", b"");
        assert_eq!(lp.get(b"b"), Some(&b"22"[..]));
        assert_eq!(lp.upsert(b"a", b"long value", 3), Upsert::Replaced);
        assert_eq!(lp.upsert(b"c", b"", 3), Upsert::Full);
        assert_eq!(lp.iter().collect::<Vec<_>>(), vec![(&b"a"[..], &b"long value"[..]), (b"b", b"22"), (b"", b"")]);
        assert!(lp.remove(b"b"));
        assert!(!lp.remove(b"b"));
        assert_eq!(lp.len(), 2);
        assert_eq!(lp.nth(1), Some((&b""[..], &b""[..])));
        assert_eq!(lp.get(b"zz"), None);
        assert_eq!(lp.upsert(b"c", b"3", 3), Upsert::Added);
        assert_eq!(lp.len(), 3);
        assert!(lp.remove(b"a") && lp.remove(b"") && lp.remove(b"c"));
        assert!(lp.is_empty());
        assert_eq!(lp.heap_size(), 0);
    }

    #[test]
    fn long_entries_take_varint_headers() {
        let big = vec![b'y'; 70_000];
        let cases: [(&[u8], &[u8]); 5] = [
            (&big[..127], b""),
            (b"f", &big[..256]),
            (&big[..300], &big),
            (b"short", b"v"),
            (&big[..126], &big[..255]),
        ];
        let mut lp = Listpack::new();
        let mut size = 0;
        for (f, v) in cases {
            assert_eq!(lp.upsert(f, v, 10), Upsert::Added);
            size += encoded_len(f, v);
        }
        assert_eq!(lp.heap_size(), size);
        assert_eq!(encoded_len(&big[..127], b""), 1 + 1 + 1 + 127);
        assert_eq!(encoded_len(&big[..300], &big), 1 + 2 + 3 + 300 + 70_000);
        assert_eq!(encoded_len(&big[..126], &big[..255]), 2 + 126 + 255);
        assert_eq!(lp.iter().collect::<Vec<_>>(), cases.to_vec());
        assert_eq!(lp.get(&big[..300]), Some(&big[..]));
        assert_eq!(lp.upsert(&big[..300], b"small now", 10), Upsert::Replaced);
        assert_eq!(lp.get(&big[..300]), Some(&b"small now"[..]));
        assert_eq!(lp.get(b"short"), Some(&b"v"[..]));
        assert!(lp.remove(b"f") && lp.len() == 4);
    }

    #[test]
    fn both_header_forms_and_exact_size() {
        let long = [b'x'; 64];
        let cases: [(&[u8], &[u8]); 6] = [
            (b"f1", b"vvvvvvvvvv"),
            (b"1234567", b"123456789012345"),
            (b"12345678", b""),
            (b"", &long),
            (&long, &long),
            (&long[..63], b""),
        ];
        let mut lp = Listpack::new();
        let mut size = 0;
        for (f, v) in cases {
            lp.push(f, v);
            size += encoded_len(f, v);
        }
        assert_eq!(encoded_len(b"f1", b"vvvvvvvvvv"), 13);
        assert_eq!(lp.heap_size(), size);
        assert_eq!(lp.iter().collect::<Vec<_>>(), cases.to_vec());
        // Replacing with a value of another header form moves nothing else.
        assert_eq!(lp.upsert(b"f1", &long, 10), Upsert::Replaced);
        assert_eq!(lp.upsert(b"f1", b"x", 10), Upsert::Replaced);
        assert_eq!(lp.iter().collect::<Vec<_>>()[1..], cases[1..]);
        assert_eq!(lp.get(b"f1"), Some(&b"x"[..]));
        let mut b = Builder::with_capacity(64);
        cases.iter().for_each(|(f, v)| {
            assert!(!b.contains(f));
            b.push(f, v)
        });
        assert!(b.contains(b"12345678"));
        let built = b.finish();
        assert_eq!(built.iter().collect::<Vec<_>>(), cases.to_vec());
        assert_eq!(built.heap_size(), size);
    }
}
