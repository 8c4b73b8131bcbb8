//! A node's member bytes, kept inline when short (as most sorted-set members are) so comparing
//! members on a score tie misses the cache once less than through a `Box`, and short members
//! need no allocation of their own.

/// Longest member stored inline: the enum stays 24 bytes, the size of a boxed slice plus tag.
const INLINE: usize = 22;

#[derive(Clone, Debug)]
pub(super) enum Member {
    Inline(u8, [u8; INLINE]),
    Heap(Box<[u8]>),
}

impl Member {
    pub(super) const EMPTY: Member = Member::Inline(0, [0; INLINE]);

    pub(super) fn new(bytes: &[u8]) -> Self {
        if bytes.len() <= INLINE {
            let mut inline = [0; INLINE];
            inline[..bytes.len()].copy_from_slice(bytes);
            Member::Inline(bytes.len() as u8, inline)
        } else {
            Member::Heap(bytes.into())
        }
    }

    #[inline]
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            Member::Inline(len, inline) => &inline[..*len as usize],
            Member::Heap(b) => b,
        }
    }

    /// Bytes allocated outside the enum.
    pub(super) fn heap_len(&self) -> usize {
        match self {
            Member::Inline(..) => 0,
            Member::Heap(b) => b.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_heap_round_trip() {
        assert_eq!(std::mem::size_of::<Member>(), 24);
        for len in [0, 1, 21, INLINE, INLINE + 1, 100] {
            let b: Vec<u8> = (0..len as u8).collect();
            let m = Member::new(&b);
            assert_eq!(m.bytes(), &b[..]);
            assert_eq!(m.heap_len() > 0, len > INLINE);
        }
        assert_eq!(Member::EMPTY.bytes(), b"");
    }
}
