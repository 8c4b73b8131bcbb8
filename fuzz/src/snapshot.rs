//! The snapshot loader (`store::snapshot::load`): snapshot files, the AOF preamble, and what a
//! replica receives from its master in a full sync.
//!
//! Control byte bit 0 set: the target replaces the last 8 bytes with the correct checksum,
//! so the fuzzer explores the records instead of the checksum. Checks: a snapshot that loads
//! dumps to one that loads the same number of keys into an empty keyspace.

use slotbox_server::store::serialize::crc64;
use slotbox_server::store::snapshot::{dump, load};
use slotbox_server::store::Keyspace;
use std::sync::OnceLock;

/// Two keyspaces reused across runs (building one allocates 16384 slots per database). Two
/// databases: enough for the database markers and a number out of range.
fn keyspaces() -> &'static (Keyspace, Keyspace) {
    static KEYSPACES: OnceLock<(Keyspace, Keyspace)> = OnceLock::new();
    KEYSPACES.get_or_init(|| (Keyspace::new(2), Keyspace::new(2)))
}

pub fn run(data: &[u8]) {
    let (ctl, body) = crate::control(data);
    let input = if ctl & 1 == 1 { fix_checksum(body) } else { body.to_vec() };
    let (db, copy) = keyspaces();
    let loaded = load(db, &input, Default::default());
    if loaded.is_ok() {
        let keys = db.len();
        let snap = dump(db, i64::MIN);
        let n = load(copy, &snap, Default::default()).expect("a dump of a loaded snapshot loads");
        assert_eq!(n, keys, "records in the re-dump");
        assert_eq!(copy.len(), keys, "keys after loading the re-dump");
        copy.flush_all();
    }
    // Emptying 16384 slots is most of a run's time: skip it when the loader cannot have
    // reached the records (it checks the checksum before touching the keyspace).
    if loaded.is_ok() || checksum_ok(&input) {
        db.flush_all();
    }
}

fn checksum_ok(data: &[u8]) -> bool {
    data.len() >= 8 && fix_checksum(data) == data
}

/// `data` with its last 8 bytes replaced by the CRC-64 of the bytes before them.
pub fn fix_checksum(data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    if v.len() >= 8 {
        let body = v.len() - 8;
        let crc = crc64(0, &v[..body]);
        v[body..].copy_from_slice(&crc.to_le_bytes());
    }
    v
}
