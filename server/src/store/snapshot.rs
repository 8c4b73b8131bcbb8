//! Whole-keyspace snapshots in slotbox's own format: `SLOTBOX` magic, a version byte, one
//! record per live key (key, absolute expiry in ms, value as `serialize::write_value`), an end
//! marker and a CRC-64 of everything before it. Used for replication full sync and for
//! snapshot files. Loading checks the checksum before touching the keyspace.

use super::serialize::{crc64, read_value, write_value};
use super::{Db, Entry};
use slotbox_protocol::{key_hash_slot, SLOT_COUNT};

const MAGIC: &[u8; 7] = b"SLOTBOX";
const VERSION: u8 = 1;
const RECORD: u8 = 1;
const END: u8 = 0xFF;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(input: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = input.split_first()?;
        *input = rest;
        v |= ((b & 0x7F) as u64) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Serialize every live key. Each slot is copied under its own lock; callers that need one
/// consistent instant across slots hold the exec gate exclusively while this runs.
pub fn dump(db: &Db, now_ms: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    for slot in 0..SLOT_COUNT as u16 {
        let shard = db.shard(slot);
        for (k, e) in shard.map.iter() {
            if e.is_expired(now_ms) {
                continue;
            }
            out.push(RECORD);
            put_varint(&mut out, k.len() as u64);
            out.extend_from_slice(k);
            out.extend_from_slice(&e.expire_at.to_le_bytes());
            write_value(&mut out, &e.value);
        }
    }
    out.push(END);
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Load a snapshot into `db` (keys are added / replaced). Returns the number of keys.
pub fn load(db: &Db, data: &[u8]) -> Result<usize, String> {
    if data.len() < MAGIC.len() + 1 + 1 + 8 || &data[..MAGIC.len()] != MAGIC {
        return Err("not a slotbox snapshot (bad magic)".into());
    }
    if data[MAGIC.len()] != VERSION {
        return Err(format!("unsupported snapshot version {}", data[MAGIC.len()]));
    }
    let (body, crc) = data.split_at(data.len() - 8);
    let want = u64::from_le_bytes(crc.try_into().map_err(|_| "short checksum")?);
    if crc64(0, body) != want {
        return Err("snapshot checksum mismatch".into());
    }
    let mut input = &body[MAGIC.len() + 1..];
    let mut n = 0;
    loop {
        let Some((&tag, rest)) = input.split_first() else { return Err("snapshot truncated".into()) };
        input = rest;
        match tag {
            END if input.is_empty() => return Ok(n),
            END => return Err("trailing bytes after the end marker".into()),
            RECORD => {
                let len = get_varint(&mut input).ok_or("bad key length")? as usize;
                if input.len() < len + 8 {
                    return Err("snapshot truncated".into());
                }
                let (key, rest) = input.split_at(len);
                let expire_at = i64::from_le_bytes(rest[..8].try_into().map_err(|_| "bad expiry")?);
                input = &rest[8..];
                let value = read_value(&mut input).map_err(|e| format!("bad value for a key: {e:?}"))?;
                let mut shard = db.shard(key_hash_slot(key));
                let mut entry = Entry::with_expiry(value, expire_at);
                entry.lru = db.clock.initial();
                shard.insert(key, entry);
                n += 1;
            }
            t => return Err(format!("unknown record type {t}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Value;

    #[test]
    fn roundtrip_and_corruption() {
        let db = Db::new();
        for i in 0..500 {
            let k = format!("k{i}");
            let mut e = Entry::new(Value::string(format!("v{i}").as_bytes()));
            if i % 3 == 0 {
                e.expire_at = 10_000_000_000_000;
            }
            db.shard(key_hash_slot(k.as_bytes())).insert(k.as_bytes(), e);
        }
        let snap = dump(&db, 0);
        let db2 = Db::new();
        assert_eq!(load(&db2, &snap).unwrap(), 500);
        assert_eq!(db2.counts(), (500, 167));
        let mut bad = snap.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 1;
        assert!(load(&Db::new(), &bad).is_err());
        assert!(load(&Db::new(), &snap[..snap.len() - 1]).is_err());
    }
}
