//! `RESTORE` / DUMP payloads (`store::serialize::restore_value`), which arrive from any client
//! (RESTORE) and from another node (MIGRATE).
//!
//! Control byte bit 0 clear: the bytes are the payload as sent (version, value, checksum).
//! Set: the bytes are the value and the target adds the version and a correct checksum, so the
//! fuzzer explores the value reader instead of the checksum. Checks: a restored value dumps to
//! a payload that restores to an equal value with the same encoding.

use slotbox_server::store::serialize::{crc64, dump_value, restore_value, FORMAT_VERSION};

pub fn run(data: &[u8]) {
    let (ctl, body) = crate::control(data);
    let payload = if ctl & 1 == 0 { body.to_vec() } else { with_checksum(body) };
    let Ok(value) = restore_value(&payload, Default::default()) else { return };
    let again = restore_value(&dump_value(&value), Default::default()).expect("a restored value's own DUMP restores");
    assert_eq!(again, value, "DUMP of a restored value restores to a different value");
    assert_eq!(again.encoding(), value.encoding(), "encoding changed across DUMP / RESTORE");
}

/// `FORMAT_VERSION · value · CRC-64` around `value`.
pub fn with_checksum(value: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(value.len() + 9);
    p.push(FORMAT_VERSION);
    p.extend_from_slice(value);
    let crc = crc64(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}
