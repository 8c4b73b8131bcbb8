//! Dataset and value digests, bit for bit Redis 7.0's (`DEBUG DIGEST`, `DEBUG DIGEST-VALUE`),
//! so a master and its replicas, or slotbox and real Redis, can be compared by one hex string.
//!
//! Two SHA1-based steps build every digest (`d` is 20 bytes):
//! - *xor* `d ^= SHA1(data)`: order-free, for the members of sets, hashes, sorted sets and for
//!   the keys of the dataset;
//! - *mix* `d = SHA1(d ^ SHA1(data))`: ordered, for a list's elements and a key's parts.
//!
//! A key's digest starts zeroed and takes: mix(key), mix(type code as 4 big-endian bytes),
//! then its value, then xor("!!expire!!") when the key has a TTL (the time itself is not part
//! of it). Values: a string mixes its bytes; a list mixes each element, head to tail; a set
//! xors each member; a hash xors, per pair, the pair's own digest (zeroed, mix(field),
//! mix(value)); a sorted set the same with the member and its score printed `%.17g`.
//! The dataset digest is zeroed, mixed with the database id (0), then xored with every key's
//! digest; an empty dataset is all zeros. Expired keys not yet reclaimed count, as in Redis
//! (a replica keeps them until its master's DEL arrives, so master and replica agree once the
//! stream is applied). Encodings (int / embstr, listpack / hashtable...) never change a digest.
//!
//! This module reads the store only; it knows nothing about commands.

use super::{Db, Keyspace, Node, Value};
use slotbox_protocol::float::fmt_g17;
use slotbox_protocol::SLOT_COUNT;

/// A 20-byte SHA1-sized digest.
pub type Digest = [u8; 20];

/// Redis's type codes (`OBJ_STRING`...), mixed into each value's digest.
const OBJ_STRING: u32 = 0;
const OBJ_LIST: u32 = 1;
const OBJ_SET: u32 = 2;
const OBJ_ZSET: u32 = 3;
const OBJ_HASH: u32 = 4;
const OBJ_STREAM: u32 = 6;

fn sha1(data: &[u8]) -> Digest {
    sha1_smol::Sha1::from(data).digest().bytes()
}

/// `d ^= SHA1(data)` (Redis's `xorDigest`).
pub fn xor_in(d: &mut Digest, data: &[u8]) {
    let h = sha1(data);
    d.iter_mut().zip(h).for_each(|(a, b)| *a ^= b);
}

/// `d = SHA1(d ^ SHA1(data))` (Redis's `mixDigest`).
pub fn mix_in(d: &mut Digest, data: &[u8]) {
    xor_in(d, data);
    *d = sha1(d);
}

/// Lower-case hex, as DEBUG prints a digest.
pub fn hex(d: &Digest) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA1 of the two parts mixed into a zeroed digest (one hash field or sorted-set member).
fn pair(a: &[u8], b: &[u8]) -> Digest {
    let mut d = Digest::default();
    mix_in(&mut d, a);
    mix_in(&mut d, b);
    d
}

/// Fold the value and TTL of `entry` into `d` (Redis's `xorObjectDigest`).
fn fold_value(d: &mut Digest, entry: &Node) {
    let v = &entry.value;
    let code = match v {
        Value::Int(_) | Value::Str { .. } => OBJ_STRING,
        Value::List(_) => OBJ_LIST,
        Value::Set(_) => OBJ_SET,
        Value::ZSet(_) => OBJ_ZSET,
        Value::Hash(_) | Value::HashTable(_) => OBJ_HASH,
        Value::Stream(_) => OBJ_STREAM,
    };
    mix_in(d, &code.to_be_bytes());
    match v {
        Value::Int(_) | Value::Str { .. } => {
            let mut bytes = v.string_bytes().expect("a string value");
            bytes.with(|b| mix_in(d, b));
        }
        Value::List(l) => l.iter().for_each(|e| mix_in(d, e)),
        Value::Set(s) => s.iter().for_each(|m| match m {
            super::types::SetMember::Int(i) => xor_in(d, itoa::Buffer::new().format(i).as_bytes()),
            super::types::SetMember::Str(b) => xor_in(d, b),
        }),
        Value::ZSet(z) => z.iter().for_each(|(score, member)| xor_in(d, &pair(member, fmt_g17(score).as_bytes()))),
        Value::Hash(_) | Value::HashTable(_) => {
            let h = v.as_hash().expect("a hash value");
            h.iter().for_each(|(field, value)| xor_in(d, &pair(field, value)));
        }
        Value::Stream(s) => {
            for e in s.range(super::stream::StreamId::MIN, super::stream::StreamId::MAX, false, 0) {
                mix_in(d, format!("{}.{}", e.id.ms, e.id.seq).as_bytes());
                for (field, value) in e.fields {
                    mix_in(d, field);
                    mix_in(d, value);
                }
            }
        }
    }
    if entry.expire_at() != 0 {
        xor_in(d, b"!!expire!!");
    }
}

/// The digest of one value and its TTL, without its key (`DEBUG DIGEST-VALUE`).
pub fn value_digest(entry: &Node) -> Digest {
    let mut d = Digest::default();
    fold_value(&mut d, entry);
    d
}

/// The digest of one key with its value and TTL (the dataset digest xors in its SHA1).
pub fn key_digest(key: &[u8], entry: &Node) -> Digest {
    let mut d = Digest::default();
    mix_in(&mut d, key);
    fold_value(&mut d, entry);
    d
}

/// Xor of SHA1(key digest) over one slot's keys (zero for an empty slot), and its key count.
fn slot_digest(db: &Db, slot: u16) -> (Digest, usize) {
    let shard = db.shard(slot);
    let mut d = Digest::default();
    for (k, e) in shard.iter() {
        xor_in(&mut d, &key_digest(k, e));
    }
    (d, shard.len())
}

impl Db {
    /// Xor of every key's digest, and the number of keys, locking one slot at a time. Xor
    /// makes it independent of the order keys are visited in.
    fn keys_digest(&self) -> (Digest, usize) {
        let mut keys_xor = Digest::default();
        if !self.in_use() {
            return (keys_xor, 0);
        }
        let mut keys = 0usize;
        for slot in 0..SLOT_COUNT as u16 {
            let (d, n) = slot_digest(self, slot);
            keys_xor.iter_mut().zip(d).for_each(|(a, b)| *a ^= b);
            keys += n;
        }
        (keys_xor, keys)
    }
}

impl Keyspace {
    /// The dataset digest (`DEBUG DIGEST`): as Redis's `computeDatasetDigest`, each database
    /// that has keys mixes its number (big-endian) into the running result, then xors in its
    /// keys. Zero for an empty dataset.
    pub fn digest(&self) -> Digest {
        let mut out = Digest::default();
        for db in self.iter() {
            let (keys_xor, keys) = db.keys_digest();
            if keys == 0 {
                continue;
            }
            mix_in(&mut out, &(db.id as u32).to_be_bytes());
            out.iter_mut().zip(keys_xor).for_each(|(a, b)| *a ^= b);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::quicklist::QuickList;
    use crate::store::types::{SetValue, ZSetValue};
    use crate::store::Entry;
    use slotbox_protocol::key_hash_slot;

    fn put(ks: &Keyspace, key: &str, entry: Entry) {
        ks.db(0).shard(key_hash_slot(key.as_bytes())).insert(key.as_bytes(), entry);
    }

    fn list(items: &[&str]) -> Value {
        Value::List(Box::new(items.iter().map(|s| s.as_bytes()).collect::<QuickList>()))
    }

    fn set(members: &[&str]) -> Value {
        let mut s = SetValue::default();
        members.iter().for_each(|m| {
            s.insert(m.as_bytes());
        });
        Value::Set(Box::new(s))
    }

    fn zset(members: &[(&str, f64)]) -> Value {
        let mut z = ZSetValue::default();
        members.iter().for_each(|(m, s)| {
            z.insert(m.as_bytes(), *s);
        });
        Value::ZSet(Box::new(z))
    }

    fn hash(pairs: &[(&str, &str)]) -> Value {
        let mut v = Value::new_hash();
        let mut h = v.as_hash_mut(Default::default()).expect("hash");
        pairs.iter().for_each(|(f, x)| {
            h.set(f.as_bytes(), x.as_bytes());
        });
        v
    }

    fn value_hex(v: Value) -> String {
        hex(&value_digest(&Node::new(b"k", Entry::new(v))))
    }

    #[test]
    fn empty_dataset_is_zero() {
        assert_eq!(hex(&Keyspace::new(1).digest()), "0".repeat(40));
    }

    #[test]
    fn the_database_number_counts() {
        let (in0, in3) = (Keyspace::new(16), Keyspace::new(16));
        put(&in0, "k", Entry::new(Value::string(b"v")));
        in3.db(3).shard(key_hash_slot(b"k")).insert(b"k", Entry::new(Value::string(b"v")));
        assert_ne!(in0.digest(), in3.digest(), "the same key in another database digests differently");
    }

    /// Expected values: real redis-server 7.0.15, `DEBUG DIGEST-VALUE` after the commands in
    /// each comment (and `DEBUG DIGEST` of the keys s, l, h, e for the dataset).
    #[test]
    fn values_match_redis() {
        // SET s hello / SET n 12345
        assert_eq!(value_hex(Value::string(b"hello")), REDIS_STRING_HELLO);
        assert_eq!(value_hex(Value::string(b"12345")), REDIS_STRING_12345);
        // RPUSH l a b c
        assert_eq!(value_hex(list(&["a", "b", "c"])), REDIS_LIST_ABC);
        // SADD si 3 1 2 / SADD ss x y z
        assert_eq!(value_hex(set(&["3", "1", "2"])), REDIS_SET_123);
        assert_eq!(value_hex(set(&["x", "y", "z"])), REDIS_SET_XYZ);
        // ZADD z 1.5 a 2 b -inf c 0.1 d
        assert_eq!(value_hex(zset(&[("a", 1.5), ("b", 2.0), ("c", f64::NEG_INFINITY), ("d", 0.1)])), REDIS_ZSET);
        // HSET h f1 v1 f2 v2
        assert_eq!(value_hex(hash(&[("f1", "v1"), ("f2", "v2")])), REDIS_HASH);
        // SET e v EX 100
        assert_eq!(
            hex(&value_digest(&Node::new(b"k", Entry::with_expiry(Value::string(b"v"), i64::MAX)))),
            REDIS_STRING_V_EX
        );
    }

    #[test]
    fn dataset_matches_redis_and_ignores_encoding_and_order() {
        let db = Keyspace::new(1);
        put(&db, "s", Entry::new(Value::string(b"hello")));
        put(&db, "l", Entry::new(list(&["a", "b", "c"])));
        put(&db, "h", Entry::new(hash(&[("f1", "v1"), ("f2", "v2")])));
        put(&db, "e", Entry::with_expiry(Value::string(b"v"), i64::MAX));
        assert_eq!(hex(&db.digest()), REDIS_DATASET);

        // The same data written in another order and encoding digests the same.
        let other = Keyspace::new(1);
        put(&other, "e", Entry::with_expiry(Value::plain_string(b"v"), 1));
        let long = "y".repeat(100);
        let mut big = hash(&[("x", long.as_str())]);
        let mut h = big.as_hash_mut(Default::default()).expect("hash");
        h.remove(b"x");
        h.set(b"f2", b"v2");
        h.set(b"f1", b"v1");
        assert_eq!(big.encoding(), "hashtable");
        put(&other, "h", Entry::new(big));
        put(&other, "l", Entry::new(list(&["a", "b", "c"])));
        put(&other, "s", Entry::new(Value::string(b"hello")));
        assert_eq!(db.digest(), other.digest());

        // Order matters inside a list, the TTL's presence matters, its time does not.
        let reordered = Keyspace::new(1);
        put(&reordered, "l", Entry::new(list(&["b", "a", "c"])));
        let ordered = Keyspace::new(1);
        put(&ordered, "l", Entry::new(list(&["a", "b", "c"])));
        assert_ne!(reordered.digest(), ordered.digest());
        put(&ordered, "l", Entry::with_expiry(list(&["a", "b", "c"]), 5));
        let ttl5 = ordered.digest();
        put(&ordered, "l", Entry::with_expiry(list(&["a", "b", "c"]), 7));
        assert_eq!(ordered.digest(), ttl5);
    }

    #[test]
    fn int_and_string_sets_agree() {
        // An intset and a hashtable set of the same members digest the same.
        let ints = set(&["1", "2", "3"]);
        let mut strs = set(&["1", "2", "3", "x"]);
        if let Value::Set(s) = &mut strs {
            s.remove(b"x");
        }
        assert_ne!(ints.encoding(), strs.encoding());
        assert_eq!(value_hex(ints), value_hex(strs));
    }

    const REDIS_STRING_HELLO: &str = "36b23a1456b2dce2c3ed252c456761301dba8060";
    const REDIS_STRING_12345: &str = "e1cf90774e995ae03de66e8109dc5cb9d9c2dc83";
    const REDIS_LIST_ABC: &str = "8bf72d812571eea9b927f3c11beb0c4165a6ff89";
    const REDIS_SET_123: &str = "2a462a3f51a1db89738ebbeef0c47ce1bbc85246";
    const REDIS_SET_XYZ: &str = "0fd9977d57e46b1b9b87439f5ac5b338416ccc24";
    const REDIS_ZSET: &str = "62bfb771f8c711d0b763a389e9495b93e8f0bfb5";
    const REDIS_HASH: &str = "047cc60ea73a34cde6d08a2721a4a26d19ee6570";
    const REDIS_STRING_V_EX: &str = "311b17018163335616e089f6b951c82c477335ac";
    const REDIS_DATASET: &str = "dda0802f4756343c1ea9407a4d9bb13c583552cd";
}
