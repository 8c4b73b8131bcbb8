//! Encoding directives: the sizes below which Redis keeps a value in a compact encoding
//! (listpack, intset) and how it compresses lists and splits stream nodes. slotbox accepts,
//! checks and reports them all; these are followed as in Redis: hashes (a listpack up to
//! `hash-max-listpack-entries` fields of `-value` bytes), HyperLogLogs (dense past
//! `hll-sparse-max-bytes`) and streams (a node holds up to `stream-node-max-entries` entries
//! and about `-bytes` bytes). Sorted sets and sets keep Redis's default thresholds.

use super::row::{field, int, uint, umem, yes, Directive, INT_MAX, LONG_MAX, MUTABLE};

type D = Directive;

pub static ROWS: &[Directive] = &[
    D::new("hash-max-listpack-entries", MUTABLE, uint(0, LONG_MAX, 512))
        .alias("hash-max-ziplist-entries")
        .field(field!(hash_max_listpack_entries)),
    D::new("hash-max-listpack-value", MUTABLE, umem(0, LONG_MAX, 64))
        .alias("hash-max-ziplist-value")
        .field(field!(hash_max_listpack_value)),
    D::new("list-max-listpack-size", MUTABLE, int(i32::MIN as i128, INT_MAX, -2)).alias("list-max-ziplist-size"),
    D::new("list-compress-depth", MUTABLE, int(0, INT_MAX, 0)),
    D::new("set-max-intset-entries", MUTABLE, uint(0, LONG_MAX, 512)),
    D::new("zset-max-listpack-entries", MUTABLE, uint(0, LONG_MAX, 128)).alias("zset-max-ziplist-entries"),
    D::new("zset-max-listpack-value", MUTABLE, umem(0, LONG_MAX, 64)).alias("zset-max-ziplist-value"),
    D::new("hll-sparse-max-bytes", MUTABLE, umem(0, LONG_MAX, 3000)).field(field!(hll_sparse_max_bytes)),
    D::new("stream-node-max-bytes", MUTABLE, umem(0, LONG_MAX, 4096)).field(field!(stream_node_max_bytes)),
    D::new("stream-node-max-entries", MUTABLE, int(0, LONG_MAX, 100)).field(field!(stream_node_max_entries)),
    D::new("activerehashing", MUTABLE, yes(true)),
];
