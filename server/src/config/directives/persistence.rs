//! Persistence directives: where data lives (`dir`), snapshots (`save`, `dbfilename`, RDB
//! options) and the append-only file.

use super::super::special::{DIR, SAVE};
use super::checks;
use super::row::{
    field, int, mem, one_of, special, string, yes, Directive, HIDDEN, INT_MAX, LONG_MAX, MUTABLE, PROTECTED,
};

type D = Directive;

const APPENDFSYNC: &[(&str, u32)] = &[("everysec", 1), ("always", 2), ("no", 0)];

pub static ROWS: &[Directive] = &[
    D::new("dir", MUTABLE | PROTECTED, special(&DIR)).field(field!(dir)),
    // Snapshots.
    D::new("save", MUTABLE, special(&SAVE)).field(field!(save)),
    D::new("dbfilename", MUTABLE | PROTECTED, string("dump.rdb")).check(checks::dbfilename).field(field!(dbfilename)),
    D::new("stop-writes-on-bgsave-error", MUTABLE, yes(true)),
    D::new("rdbcompression", MUTABLE, yes(true)),
    D::new("rdbchecksum", 0, yes(true)),
    D::new("rdb-del-sync-files", MUTABLE, yes(false)),
    D::new("rdb-save-incremental-fsync", MUTABLE, yes(true)),
    D::new("rdb-key-save-delay", MUTABLE | HIDDEN, int(i32::MIN as i128, INT_MAX, 0)),
    D::new("key-load-delay", MUTABLE | HIDDEN, int(i32::MIN as i128, INT_MAX, 0)),
    D::new("loading-process-events-interval-bytes", MUTABLE | HIDDEN, int(1024, INT_MAX, 2 * 1024 * 1024)),
    // The append-only file.
    D::new("appendonly", MUTABLE, yes(false)).field(field!(appendonly)),
    D::new("appendfilename", 0, string("appendonly.aof")).check(checks::appendfilename).field(field!(appendfilename)),
    D::new("appenddirname", 0, string("appendonlydir")).check(checks::appenddirname).field(field!(appenddirname)),
    D::new("appendfsync", MUTABLE, one_of(APPENDFSYNC, 1)).field(field!(appendfsync)),
    D::new("no-appendfsync-on-rewrite", MUTABLE, yes(false)),
    D::new("auto-aof-rewrite-percentage", MUTABLE, int(0, INT_MAX, 100)).field(field!(auto_aof_rewrite_percentage)),
    D::new("auto-aof-rewrite-min-size", MUTABLE, mem(0, LONG_MAX, 64 * 1024 * 1024))
        .field(field!(auto_aof_rewrite_min_size)),
    D::new("aof-load-truncated", MUTABLE, yes(true)).field(field!(aof_load_truncated)),
    D::new("aof-use-rdb-preamble", MUTABLE, yes(true)),
    D::new("aof-timestamp-enabled", MUTABLE, yes(false)),
    D::new("aof-rewrite-incremental-fsync", MUTABLE, yes(true)),
    D::new("aof-disable-auto-gc", MUTABLE, yes(false)),
];
