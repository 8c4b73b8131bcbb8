//! The AOF loader's scan (`persist::load::scan`): the optional snapshot preamble, then RESP
//! commands, as `slotbox-server` replays at start and `--check-aof` checks. The snapshot
//! callback loads the preamble into a scratch keyspace, as `--check-aof` does.
//!
//! Control byte bit 0 set: when the input starts with the preamble magic, the target fixes the
//! preamble's length and checksum, so mutations reach the snapshot records and the commands
//! after them. Checks: offsets stay inside the file and increase; a file cut where the scan
//! says it is truncated (what `--check-aof --fix` and `aof-load-truncated` do) scans clean;
//! a file cut where it is corrupt scans without corruption.

use bytes::Bytes;
use slotbox_server::persist::load::{scan, End};
use slotbox_server::persist::rewrite::PREAMBLE_MAGIC;
use slotbox_server::store::Keyspace;
use std::sync::OnceLock;

/// The scratch keyspace the preamble loads into (as `--check-aof`'s), reused across runs.
fn keyspace() -> &'static Keyspace {
    static KEYSPACE: OnceLock<Keyspace> = OnceLock::new();
    KEYSPACE.get_or_init(|| Keyspace::new(2))
}

pub fn run(data: &[u8]) {
    let (ctl, body) = crate::control(data);
    let file = if ctl & 1 == 1 { fix_preamble(body) } else { body.to_vec() };
    let db = keyspace();
    let mut offsets = Vec::new();
    let mut loaded = false;
    let end = scan(
        &file,
        |snap| {
            loaded = true;
            slotbox_server::store::snapshot::load(db, snap, Default::default()).map(|_| ())
        },
        |at, args: Vec<Bytes>| {
            assert!(!args.is_empty(), "a command with no arguments at {at}");
            offsets.push(at);
            Ok(())
        },
    );
    if loaded {
        db.flush_all();
    }
    assert!(offsets.windows(2).all(|w| w[0] < w[1]), "offsets do not increase: {offsets:?}");
    assert!(offsets.iter().all(|&o| o < file.len()), "offset past the end");
    let rescan = |len: usize| scan(&file[..len], |_| Ok(()), |_, _| Ok(()));
    match end {
        End::Clean => {}
        End::Truncated(at) => {
            assert!(at <= file.len(), "truncated at {at} of {}", file.len());
            assert_eq!(rescan(at), End::Clean, "the file cut at {at} (where it was truncated)");
        }
        End::Corrupt(at, why) => {
            assert!(at <= file.len(), "corrupt at {at} of {}: {why}", file.len());
            let cut = rescan(at);
            assert!(!matches!(cut, End::Corrupt(..)), "the file cut at {at} ({why}) is still corrupt: {cut:?}");
        }
    }
}

/// When `data` starts with the preamble magic: make the declared length fit the data (taken
/// modulo what is there) and the snapshot's checksum right.
pub fn fix_preamble(data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    let hdr = PREAMBLE_MAGIC.len() + 8;
    if !v.starts_with(PREAMBLE_MAGIC) || v.len() < hdr {
        return v;
    }
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&v[PREAMBLE_MAGIC.len()..hdr]);
    let len = (u64::from_le_bytes(raw) % (v.len() - hdr + 1) as u64) as usize;
    v[PREAMBLE_MAGIC.len()..hdr].copy_from_slice(&(len as u64).to_le_bytes());
    let snap = crate::snapshot::fix_checksum(&v[hdr..hdr + len]);
    v[hdr..hdr + len].copy_from_slice(&snap);
    v
}
