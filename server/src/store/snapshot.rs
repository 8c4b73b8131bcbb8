//! Whole-keyspace snapshots in slotbox's own format: `SLOTBOX` magic, a version byte, then for
//! each database that has keys a database marker (its number) and one record per live key
//! (key, absolute expiry in ms, value as `serialize::write_value`), an end marker and a CRC-64
//! of everything before it; function libraries' code, when there is any, comes before the end
//! marker. Version 1 files (no database markers) load into database 0. Used for replication full sync and for
//! snapshot files. Loading checks the checksum before touching the keyspace.

use super::listpack::Limits;
use super::serialize::{crc64, read_value, write_value};
use super::{Entry, Keyspace};
use slotbox_protocol::{key_hash_slot, SLOT_COUNT};

const MAGIC: &[u8; 7] = b"SLOTBOX";
const VERSION: u8 = 2;
const RECORD: u8 = 1;
/// The records that follow belong to the database whose number (a varint) follows.
const SELECT_DB: u8 = 2;
/// Function libraries: a count, then each library's code (length-prefixed).
const FUNCTIONS: u8 = 3;
const END: u8 = 0xFF;

use super::varint::put as put_varint;

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
pub fn dump(keyspace: &Keyspace, now_ms: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    for db in keyspace.iter().filter(|db| db.in_use()) {
        let mut marked = false;
        for slot in 0..SLOT_COUNT as u16 {
            let shard = db.shard(slot);
            for (k, e) in shard.iter() {
                if e.is_expired(now_ms) {
                    continue;
                }
                if !marked {
                    out.push(SELECT_DB);
                    put_varint(&mut out, db.id as u64);
                    marked = true;
                }
                out.push(RECORD);
                put_varint(&mut out, k.len() as u64);
                out.extend_from_slice(k);
                out.extend_from_slice(&e.expire_at().to_le_bytes());
                write_value(&mut out, &e.value);
            }
        }
    }
    let functions = keyspace.functions.get();
    if !functions.is_empty() {
        out.push(FUNCTIONS);
        put_varint(&mut out, functions.len() as u64);
        for code in functions {
            put_varint(&mut out, code.len() as u64);
            out.extend_from_slice(&code);
        }
    }
    out.push(END);
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Load a snapshot into `keyspace` (keys are added / replaced). Returns the number of keys.
pub fn load(keyspace: &Keyspace, data: &[u8], limits: Limits) -> Result<usize, String> {
    if data.len() < MAGIC.len() + 1 + 1 + 8 || &data[..MAGIC.len()] != MAGIC {
        return Err("not a slotbox snapshot (bad magic)".into());
    }
    if !(1..=VERSION).contains(&data[MAGIC.len()]) {
        return Err(format!("unsupported snapshot version {}", data[MAGIC.len()]));
    }
    let (body, crc) = data.split_at(data.len() - 8);
    let want = u64::from_le_bytes(crc.try_into().map_err(|_| "short checksum")?);
    if crc64(0, body) != want {
        return Err("snapshot checksum mismatch".into());
    }
    let mut input = &body[MAGIC.len() + 1..];
    let mut n = 0;
    let mut db = keyspace.db(0);
    let mut functions = Vec::new();
    loop {
        let Some((&tag, rest)) = input.split_first() else { return Err("snapshot truncated".into()) };
        input = rest;
        match tag {
            END if input.is_empty() => {
                keyspace.functions.replace_loaded(functions);
                return Ok(n);
            }
            FUNCTIONS => {
                let count = get_varint(&mut input).ok_or("bad function count")?;
                for _ in 0..count {
                    let len = get_varint(&mut input).ok_or("bad function length")?;
                    if len > input.len() as u64 {
                        return Err("snapshot truncated".into());
                    }
                    let (code, rest) = input.split_at(len as usize);
                    functions.push(bytes::Bytes::copy_from_slice(code));
                    input = rest;
                }
            }
            END => return Err("trailing bytes after the end marker".into()),
            SELECT_DB => {
                let id = get_varint(&mut input).ok_or("bad database number")? as usize;
                if id >= keyspace.count() {
                    return Err(format!("database {id} out of range (databases {})", keyspace.count()));
                }
                db = keyspace.db(id);
            }
            RECORD => {
                let len = get_varint(&mut input).ok_or("bad key length")?;
                // Checked against what is left before any arithmetic: a declared length near
                // 2^64 must not wrap around into a small one.
                if input.len() < 8 || len > (input.len() - 8) as u64 {
                    return Err("snapshot truncated".into());
                }
                let len = len as usize;
                let (key, rest) = input.split_at(len);
                let expire_at = i64::from_le_bytes(rest[..8].try_into().map_err(|_| "bad expiry")?);
                input = &rest[8..];
                let value = read_value(&mut input, limits).map_err(|e| format!("bad value for a key: {e:?}"))?;
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
        let ks = Keyspace::new(16);
        for i in 0..500 {
            let k = format!("k{i}");
            let mut e = Entry::new(Value::string(format!("v{i}").as_bytes()));
            if i % 3 == 0 {
                e.expire_at = 10_000_000_000_000;
            }
            ks.db(i % 4).shard(key_hash_slot(k.as_bytes())).insert(k.as_bytes(), e);
        }
        let snap = dump(&ks, 0);
        let ks2 = Keyspace::new(16);
        assert_eq!(load(&ks2, &snap, Limits::default()).unwrap(), 500);
        let counts: Vec<_> = (0..5).map(|d| ks2.db(d).counts().0).collect();
        assert_eq!(counts, [125, 125, 125, 125, 0], "each key back in its database");
        assert_eq!((0..4).map(|d| ks2.db(d).counts().1).sum::<usize>(), 167);
        let mut bad = snap.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 1;
        assert!(load(&Keyspace::new(16), &bad, Limits::default()).is_err());
        assert!(load(&Keyspace::new(16), &snap[..snap.len() - 1], Limits::default()).is_err());
        assert!(
            load(&Keyspace::new(2), &snap, Limits::default()).is_err(),
            "database 3 does not exist with databases 2"
        );
    }

    #[test]
    fn version_1_files_load_into_database_0() {
        let ks = Keyspace::new(1);
        ks.db(0).shard(key_hash_slot(b"k")).insert(b"k", Entry::new(Value::string(b"v")));
        let mut v1 = dump(&ks, 0);
        // A version 1 file: no database markers.
        let body_end = v1.len() - 8;
        let mut body = v1[..body_end].to_vec();
        body[MAGIC.len()] = 1;
        let marker = MAGIC.len() + 1;
        assert_eq!(body[marker], SELECT_DB);
        body.drain(marker..marker + 2);
        let crc = crc64(0, &body);
        body.extend_from_slice(&crc.to_le_bytes());
        v1 = body;
        let into = Keyspace::new(16);
        assert_eq!(load(&into, &v1, Limits::default()).unwrap(), 1);
        assert_eq!(into.db(0).len(), 1);
    }

    /// A key length near 2^64 (with a valid checksum, as a master or a file could send) made
    /// `len + 8` wrap: a panic in `split_at` instead of an error.
    #[test]
    fn huge_key_length_is_an_error() {
        for len in [u64::MAX, u64::MAX - 7, 1 << 40] {
            let mut snap = MAGIC.to_vec();
            snap.push(VERSION);
            snap.push(RECORD);
            put_varint(&mut snap, len);
            snap.extend_from_slice(&[0; 12]);
            snap.push(END);
            let crc = crc64(0, &snap);
            snap.extend_from_slice(&crc.to_le_bytes());
            assert_eq!(
                load(&Keyspace::new(1), &snap, Limits::default()),
                Err("snapshot truncated".to_string()),
                "len {len}"
            );
        }
    }
}
