//! The primitives of slotbox's serialization, shared by the value format (`serialize.rs`) and
//! its stream parts: the error type, CRC-64/Jones (Redis's `crc64.c`), LEB128 varints,
//! zigzag integers and length-prefixed byte strings. Reading never trusts a length.

use std::fmt;

/// Why a payload could not be turned back into a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreError {
    /// Wrong format version or checksum (RESTORE: "DUMP payload version or checksum are wrong").
    VersionOrChecksum,
    /// The body is truncated, has trailing bytes, or describes an impossible value
    /// (RESTORE: "Bad data format").
    BadData,
}

impl RestoreError {
    /// The error reply RESTORE gives for it, as Redis 7.0 words it.
    pub fn reply_text(self) -> &'static str {
        match self {
            RestoreError::VersionOrChecksum => "ERR DUMP payload version or checksum are wrong",
            RestoreError::BadData => "ERR Bad data format",
        }
    }
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestoreError::VersionOrChecksum => f.write_str("payload version or checksum are wrong"),
            RestoreError::BadData => f.write_str("bad data format"),
        }
    }
}

impl std::error::Error for RestoreError {}

pub type Result<T> = std::result::Result<T, RestoreError>;

// CRC-64/Jones (reflected, poly 0xad93d23594c935a9, init 0, no final xor), as Redis's crc64.c.

/// The bit-reversed Jones polynomial.
const CRC64_POLY_REFLECTED: u64 = 0x95ac_9329_ac4b_c9b5;

const CRC64_TABLE: [u64; 256] = crc64_table();

const fn crc64_table() -> [u64; 256] {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ CRC64_POLY_REFLECTED } else { crc >> 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// Continue a CRC-64/Jones over `data` (start with 0).
pub fn crc64(mut crc: u64, data: &[u8]) -> u64 {
    for &b in data {
        crc = CRC64_TABLE[((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

pub fn zigzag(i: i64) -> u64 {
    ((i << 1) ^ (i >> 63)) as u64
}

pub fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

pub use crate::store::varint::put as put_varint;

pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

pub fn take_u8(input: &mut &[u8]) -> Result<u8> {
    let (&b, rest) = input.split_first().ok_or(RestoreError::BadData)?;
    *input = rest;
    Ok(b)
}

/// A LEB128 varint of at most 10 bytes that fits in a u64.
pub fn take_varint(input: &mut &[u8]) -> Result<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = take_u8(input)?;
        let bits = u64::from(b & 0x7f);
        if shift == 63 && bits > 1 {
            return Err(RestoreError::BadData);
        }
        v |= bits << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(RestoreError::BadData)
}

/// A length-prefixed byte string, borrowed from the input (the length is checked against
/// what is left before anything is copied).
pub fn take_bytes<'a>(input: &mut &'a [u8]) -> Result<&'a [u8]> {
    let len = take_varint(input)?;
    if len > input.len() as u64 {
        return Err(RestoreError::BadData);
    }
    let (b, rest) = input.split_at(len as usize);
    *input = rest;
    Ok(b)
}
