//! Key hash functions, bit-for-bit the ones in twemproxy's `src/hashkit/` so a pool places
//! every key where nutcracker 0.5 places it. One function per file, each checked against the
//! published vectors (libmemcached's `hash_results.h`, twemproxy's `src/test_all.c`).
//! This module only hashes bytes: no distribution logic lives here (see `router`).
//!
//! twemproxy reads keys through `const char *`, which is signed on x86: bytes >= 0x80 are
//! sign-extended before mixing. [`signed`] reproduces that where the C code does it.

mod crc16;
mod crc32;
mod crc32a;
mod fnv1_32;
mod fnv1_64;
mod fnv1a_32;
mod fnv1a_64;
mod hsieh;
mod jenkins;
pub mod md5;
mod murmur;
mod one_at_a_time;

pub use crc16::crc16;
pub use crc32::crc32;
pub use crc32a::crc32a;
pub use fnv1_32::fnv1_32;
pub use fnv1_64::fnv1_64;
pub use fnv1a_32::fnv1a_32;
pub use fnv1a_64::fnv1a_64;
pub use hsieh::hsieh;
pub use jenkins::jenkins;
pub use md5::md5_hash as md5;
pub use murmur::murmur;
pub use one_at_a_time::one_at_a_time;

/// A byte read through a signed `char` and widened to 32 bits, as the C code does.
#[inline]
pub(crate) fn signed(b: u8) -> u32 {
    b as i8 as i32 as u32
}

/// The hash functions a pool can name in `hash:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    OneAtATime,
    Md5,
    Crc16,
    Crc32,
    Crc32a,
    Fnv1_64,
    Fnv1a64,
    Fnv1_32,
    Fnv1a32,
    Hsieh,
    Murmur,
    Jenkins,
}

impl HashKind {
    /// Every hash, with the name nutcracker.yml uses for it.
    pub const ALL: [(HashKind, &'static str); 12] = [
        (HashKind::OneAtATime, "one_at_a_time"),
        (HashKind::Md5, "md5"),
        (HashKind::Crc16, "crc16"),
        (HashKind::Crc32, "crc32"),
        (HashKind::Crc32a, "crc32a"),
        (HashKind::Fnv1_64, "fnv1_64"),
        (HashKind::Fnv1a64, "fnv1a_64"),
        (HashKind::Fnv1_32, "fnv1_32"),
        (HashKind::Fnv1a32, "fnv1a_32"),
        (HashKind::Hsieh, "hsieh"),
        (HashKind::Murmur, "murmur"),
        (HashKind::Jenkins, "jenkins"),
    ];

    /// The hash named `name` in a config file.
    pub fn from_name(name: &str) -> Option<HashKind> {
        HashKind::ALL.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }

    /// Its name in a config file.
    pub fn name(self) -> &'static str {
        HashKind::ALL.iter().find(|(k, _)| *k == self).map_or("", |(_, n)| n)
    }

    /// Hash `key` with this function.
    pub fn hash(self, key: &[u8]) -> u32 {
        match self {
            HashKind::OneAtATime => one_at_a_time(key),
            HashKind::Md5 => md5(key),
            HashKind::Crc16 => crc16(key),
            HashKind::Crc32 => crc32(key),
            HashKind::Crc32a => crc32a(key),
            HashKind::Fnv1_64 => fnv1_64(key),
            HashKind::Fnv1a64 => fnv1a_64(key),
            HashKind::Fnv1_32 => fnv1_32(key),
            HashKind::Fnv1a32 => fnv1a_32(key),
            HashKind::Hsieh => hsieh(key),
            HashKind::Murmur => murmur(key),
            HashKind::Jenkins => jenkins(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// twemproxy `src/test_all.c` (the libmemcached `hash_results.h` values for "apple").
    #[test]
    fn apple_vectors_for_every_hash() {
        let expect: [(HashKind, u32); 12] = [
            (HashKind::OneAtATime, 2297466611),
            (HashKind::Md5, 3195025439),
            (HashKind::Crc16, 3662830516),
            (HashKind::Crc32, 10542),
            (HashKind::Crc32a, 2838417488),
            (HashKind::Fnv1_32, 67176023),
            (HashKind::Fnv1a32, 280767167),
            (HashKind::Fnv1_64, 473199127),
            (HashKind::Fnv1a64, 1488911807),
            (HashKind::Hsieh, 3738850110),
            (HashKind::Jenkins, 1442444624),
            (HashKind::Murmur, 4142305122),
        ];
        for (kind, want) in expect {
            assert_eq!(kind.hash(b"apple"), want, "{kind:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for (kind, name) in HashKind::ALL {
            assert_eq!(HashKind::from_name(name), Some(kind));
            assert_eq!(kind.name(), name);
        }
        assert_eq!(HashKind::from_name("sha1"), None);
    }
}
