//! Geospatial commands (group `geo`): sorted sets whose scores are Redis's 52-bit geohashes
//! (`geo/geohash.rs`), searched by radius or box over the same nine geohash boxes Redis scans
//! (`geo/helper.rs`), so scores, distances, coordinates and result orders match Redis's.
//! GEOADD runs as the ZADD Redis rewrites it to. Handlers see only the locked keys of their
//! command: no sockets, no cluster state.

mod common;
mod geohash;
mod helper;
mod points;
mod pqsort;
mod query;
mod search;
#[cfg(test)]
mod tests;

use super::Registration;

pub const COMMANDS: Registration = &[
    ("geoadd", points::geoadd),
    ("geodist", points::geodist),
    ("geohash", points::geohash_cmd),
    ("geopos", points::geopos),
    ("georadius", search::georadius),
    ("georadius_ro", search::georadius_ro),
    ("georadiusbymember", search::georadiusbymember),
    ("georadiusbymember_ro", search::georadiusbymember_ro),
    ("geosearch", search::geosearch),
    ("geosearchstore", search::geosearchstore),
];
