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
//! 0fff ffff · vvvv vvvv     otherwise: field length (< 128), value length (< 256)
//! ```
//!
//! Entries of a listpack hash are at most `LISTPACK_MAX_VALUE` (64) bytes, well inside both.
//! The pair count is not stored: counting is a walk over the headers (at most 128 of them).

use super::thin::ThinBytes;

/// Field / value pairs in one buffer (8 bytes; empty means no allocation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listpack {
    buf: ThinBytes,
}

/// Header of the pair at `pos`: (header length, field length, value length).
#[inline]
fn header(buf: &[u8], pos: usize) -> (usize, usize, usize) {
    let b = buf[pos];
    if b & 0x80 != 0 {
        (1, ((b >> 4) & 0x7) as usize, (b & 0xf) as usize)
    } else {
        (2, b as usize, buf[pos + 1] as usize)
    }
}

/// Bytes a pair takes once encoded.
pub fn encoded_len(field: &[u8], value: &[u8]) -> usize {
    let hdr = if field.len() < 8 && value.len() < 16 { 1 } else { 2 };
    hdr + field.len() + value.len()
}

/// Append one encoded pair to `out`.
fn encode(out: &mut Vec<u8>, field: &[u8], value: &[u8]) {
    debug_assert!(field.len() < 128 && value.len() < 256, "entry too long for a listpack");
    if field.len() < 8 && value.len() < 16 {
        out.push(0x80 | ((field.len() as u8) << 4) | value.len() as u8);
    } else {
        out.extend_from_slice(&[field.len() as u8, value.len() as u8]);
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
