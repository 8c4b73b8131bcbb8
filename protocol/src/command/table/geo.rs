//! Geospatial commands (group `geo`): sorted sets whose scores are 52-bit geohashes.
//!
//! Data only: rows copied from Redis 7.0 (`COMMAND INFO` / `COMMAND DOCS`); no behaviour here.

use super::super::flags::*;
use super::super::{CommandSpec, KeySpec};
use super::{index, key, keyword, range};

const RADIUS_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";
const SEARCH_COMPLEXITY: &str = "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape";

/// The source key of a read, at argument 1.
const SOURCE: &[KeySpec] = &[key(index(1), range(0, 1, 0), &["RO", "access"])];

/// GEORADIUS's keys: the source, and the STORE / STOREDIST destination found by keyword from
/// argument 6 on.
const RADIUS_KEYS: &[KeySpec] = &[
    key(index(1), range(0, 1, 0), &["RO", "access"]),
    key(keyword("STORE", 6), range(0, 1, 0), &["OW", "update"]),
    key(keyword("STOREDIST", 6), range(0, 1, 0), &["OW", "update"]),
];

/// GEORADIUSBYMEMBER's keys: as GEORADIUS, the keywords searched from argument 5 on.
const BYMEMBER_KEYS: &[KeySpec] = &[
    key(index(1), range(0, 1, 0), &["RO", "access"]),
    key(keyword("STORE", 5), range(0, 1, 0), &["OW", "update"]),
    key(keyword("STOREDIST", 5), range(0, 1, 0), &["OW", "update"]),
];

pub(super) const ROWS: &[CommandSpec] = &[
    CommandSpec {
        name: "geoadd",
        arity: -5,
        flags: WRITE | DENYOOM,
        acl: &["write", "geo", "slow"],
        group: "geo",
        since: "3.2.0",
        summary: "Add one or more geospatial items in the geospatial index represented using a sorted set",
        complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        key_specs: &[key(index(1), range(0, 1, 0), &["RW", "update"])],
        subcommands: &[],
    },
    CommandSpec {
        name: "geodist",
        arity: -4,
        flags: READONLY,
        acl: &["read", "geo", "slow"],
        group: "geo",
        since: "3.2.0",
        summary: "Returns the distance between two members of a geospatial index",
        complexity: "O(log(N))",
        key_specs: SOURCE,
        subcommands: &[],
    },
    CommandSpec {
        name: "geohash",
        arity: -2,
        flags: READONLY,
        acl: &["read", "geo", "slow"],
        group: "geo",
        since: "3.2.0",
        summary: "Returns members of a geospatial index as standard geohash strings",
        complexity: "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
        key_specs: SOURCE,
        subcommands: &[],
    },
    CommandSpec {
        name: "geopos",
        arity: -2,
        flags: READONLY,
        acl: &["read", "geo", "slow"],
        group: "geo",
        since: "3.2.0",
        summary: "Returns longitude and latitude of members of a geospatial index",
        complexity: "O(N) where N is the number of members requested.",
        key_specs: SOURCE,
        subcommands: &[],
    },
    CommandSpec {
        name: "georadius",
        arity: -6,
        flags: WRITE | DENYOOM,
        acl: &["write", "geo", "slow"],
        group: "geo",
        since: "3.2.0",
        summary: "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
        complexity: RADIUS_COMPLEXITY,
        key_specs: RADIUS_KEYS,
        subcommands: &[],
    },
    CommandSpec {
        name: "georadius_ro",
        arity: -6,
        flags: READONLY,
        acl: &["read", "geo", "slow"],
        group: "geo",
        since: "3.2.10",
        summary: "A read-only variant for GEORADIUS",
        complexity: RADIUS_COMPLEXITY,
        key_specs: SOURCE,
        subcommands: &[],
    },
    CommandSpec {
        name: "georadiusbymember",
        arity: -5,
        flags: WRITE | DENYOOM,
        acl: &["write", "geo", "slow"],
        group: "geo",
        since: "3.2.0",
        summary: "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
        complexity: RADIUS_COMPLEXITY,
        key_specs: BYMEMBER_KEYS,
        subcommands: &[],
    },
    CommandSpec {
        name: "georadiusbymember_ro",
        arity: -5,
        flags: READONLY,
        acl: &["read", "geo", "slow"],
        group: "geo",
        since: "3.2.10",
        summary: "A read-only variant for GEORADIUSBYMEMBER",
        complexity: RADIUS_COMPLEXITY,
        key_specs: SOURCE,
        subcommands: &[],
    },
    CommandSpec {
        name: "geosearch",
        arity: -7,
        flags: READONLY,
        acl: &["read", "geo", "slow"],
        group: "geo",
        since: "6.2.0",
        summary: "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
        complexity: SEARCH_COMPLEXITY,
        key_specs: SOURCE,
        subcommands: &[],
    },
    CommandSpec {
        name: "geosearchstore",
        arity: -8,
        flags: WRITE | DENYOOM,
        acl: &["write", "geo", "slow"],
        group: "geo",
        since: "6.2.0",
        summary: "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
        complexity: SEARCH_COMPLEXITY,
        key_specs: &[
            key(index(1), range(0, 1, 0), &["OW", "update"]),
            key(index(2), range(0, 1, 0), &["RO", "access"]),
        ],
        subcommands: &[],
    },
];
