//! [`Listpack`]: the compact encoding of a small hash, as Redis's listpack: one byte buffer
//! holding `len, bytes` entries (field, value, field, value...) in insertion order. Entries are
//! at most `LISTPACK_MAX_VALUE` (64) bytes, so a one-byte length suffices. Lookups are linear
//! scans, which is what makes it small: one allocation per hash instead of two per field.

/// Field / value pairs in one buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listpack {
    buf: Vec<u8>,
    pairs: u32,
}

impl Listpack {
    pub fn with_capacity(pairs: usize) -> Self {
        Listpack { buf: Vec::with_capacity(pairs * 16), pairs: 0 }
    }

    pub fn len(&self) -> usize {
        self.pairs as usize
    }

    pub fn is_empty(&self) -> bool {
        self.pairs == 0
    }

    /// (field, value, byte offset of the field entry, byte length of the pair).
    fn entries(&self) -> impl Iterator<Item = (&[u8], &[u8], usize, usize)> + '_ {
        let mut pos = 0;
        std::iter::from_fn(move || {
            if pos >= self.buf.len() {
                return None;
            }
            let start = pos;
            let fl = self.buf[pos] as usize;
            let f = &self.buf[pos + 1..pos + 1 + fl];
            pos += 1 + fl;
            let vl = self.buf[pos] as usize;
            let v = &self.buf[pos + 1..pos + 1 + vl];
            pos += 1 + vl;
            Some((f, v, start, pos - start))
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.entries().map(|(f, v, _, _)| (f, v))
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.iter().find(|(f, _)| *f == field).map(|(_, v)| v)
    }

    /// Append a pair (the caller checked the field is absent and both fit in 255 bytes).
    pub fn push(&mut self, field: &[u8], value: &[u8]) {
        debug_assert!(field.len() <= 255 && value.len() <= 255);
        self.buf.push(field.len() as u8);
        self.buf.extend_from_slice(field);
        self.buf.push(value.len() as u8);
        self.buf.extend_from_slice(value);
        self.pairs += 1;
    }

    /// Replace the value of an existing field in place (keeps its position).
    pub fn replace(&mut self, field: &[u8], value: &[u8]) -> bool {
        let Some((start, len)) = self.entries().find(|(f, _, _, _)| *f == field).map(|(_, _, s, l)| (s, l)) else {
            return false;
        };
        let mut pair = Vec::with_capacity(2 + field.len() + value.len());
        pair.push(field.len() as u8);
        pair.extend_from_slice(field);
        pair.push(value.len() as u8);
        pair.extend_from_slice(value);
        self.buf.splice(start..start + len, pair);
        true
    }

    pub fn remove(&mut self, field: &[u8]) -> bool {
        let Some((start, len)) = self.entries().find(|(f, _, _, _)| *f == field).map(|(_, _, s, l)| (s, l)) else {
            return false;
        };
        self.buf.drain(start..start + len);
        self.pairs -= 1;
        if self.buf.capacity() > 2 * self.buf.len() + 64 {
            self.buf.shrink_to_fit();
        }
        true
    }

    /// The `i`-th pair in order.
    pub fn nth(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.iter().nth(i)
    }

    /// Bytes of heap memory used.
    pub fn heap_size(&self) -> usize {
        self.buf.capacity()
    }

    /// Drop spare capacity (after a burst of inserts).
    pub fn shrink(&mut self) {
        self.buf.shrink_to_fit();
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
        assert!(lp.replace(b"a", b"long value"));
        assert_eq!(lp.iter().collect::<Vec<_>>(), vec![(&b"a"[..], &b"long value"[..]), (b"b", b"22"), (b"", b"")]);
        assert!(lp.remove(b"b"));
        assert!(!lp.remove(b"b"));
        assert_eq!(lp.len(), 2);
        assert_eq!(lp.nth(1), Some((&b""[..], &b""[..])));
        assert_eq!(lp.get(b"zz"), None);
    }
}
