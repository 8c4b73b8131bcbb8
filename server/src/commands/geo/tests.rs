//! GEO commands through `commands::execute`, with the replies redis-server 7.0.15 gives
//! (the Sicily example of Redis's documentation, and the error paths).

use crate::commands::keys::testkit::{arr, bulk, err, int, nil, Harness};
use slotbox_protocol::Frame;

fn sicily() -> Harness {
    let mut h = Harness::new();
    let added = h.call(&["GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"]);
    assert_eq!(added, int(2));
    h
}

fn bulks(items: &[&str]) -> Frame {
    arr(items.iter().map(|s| bulk(s)).collect())
}

#[test]
fn scores_positions_hashes_and_distances() {
    let mut h = sicily();
    assert_eq!(
        h.call(&["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"]),
        arr(vec![
            bulk("Palermo"),
            Frame::Double(3479099956230698.0),
            bulk("Catania"),
            Frame::Double(3479447370796909.0)
        ])
    );
    assert_eq!(h.call(&["GEODIST", "Sicily", "Palermo", "Catania"]), bulk("166274.1516"));
    assert_eq!(h.call(&["GEODIST", "Sicily", "Palermo", "Catania", "KM"]), bulk("166.2742"));
    assert_eq!(h.call(&["GEODIST", "Sicily", "Palermo", "nosuch"]), nil());
    assert_eq!(h.call(&["GEODIST", "nokey", "a", "b"]), nil());
    assert_eq!(
        h.call(&["GEOHASH", "Sicily", "Palermo", "Catania", "x"]),
        arr(vec![bulk("sqc8b49rny0"), bulk("sqdtr74hyu0"), nil()])
    );
    assert_eq!(
        h.call(&["GEOPOS", "Sicily", "Palermo", "x"]),
        arr(vec![bulks(&["13.36138933897018433", "38.11555639549629859"]), Frame::NullArray])
    );
}

#[test]
fn searches_like_redis() {
    let mut h = sicily();
    assert_eq!(
        h.call(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH"]),
        arr(vec![
            arr(vec![
                bulk("Palermo"),
                bulk("190.4424"),
                int(3479099956230698),
                bulks(&["13.36138933897018433", "38.11555639549629859"])
            ]),
            arr(vec![
                bulk("Catania"),
                bulk("56.4413"),
                int(3479447370796909),
                bulks(&["15.08726745843887329", "37.50266842333162032"])
            ]),
        ])
    );
    assert_eq!(h.call(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "ASC"]), bulks(&["Catania", "Palermo"]));
    assert_eq!(h.call(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1"]), bulks(&["Catania"]));
    assert_eq!(
        h.call(&["GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km", "ASC", "WITHDIST"]),
        arr(vec![arr(vec![bulk("Palermo"), bulk("0.0000")]), arr(vec![bulk("Catania"), bulk("166.2742")])])
    );
    assert_eq!(h.call(&["GEORADIUSBYMEMBER", "Sicily", "Palermo", "100", "km"]), bulks(&["Palermo"]));
    assert_eq!(h.call(&["GEOSEARCH", "Sicily", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"]), arr(vec![]));
    assert_eq!(h.call(&["GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km"]), arr(vec![]));
}

#[test]
fn stores_like_redis() {
    let mut h = sicily();
    let store = ["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STOREDIST"];
    assert_eq!(h.call(&store), int(2));
    assert_eq!(h.call(&["ZSCORE", "d", "Catania"]), Frame::Double(56.4412578701582));
    assert_eq!(h.call(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d"]), int(2));
    assert_eq!(h.call(&["ZSCORE", "d", "Catania"]), Frame::Double(3479447370796909.0));
    assert_eq!(h.call(&["GEORADIUS", "Sicily", "0", "0", "1", "km", "STORE", "d"]), int(0));
    assert_eq!(h.call(&["EXISTS", "d"]), int(0));
    h.call(&["SET", "d", "x"]);
    assert_eq!(h.call(&["GEORADIUSBYMEMBER", "nokey", "m", "1", "km", "STORE", "d"]), int(0));
    assert_eq!(h.call(&["EXISTS", "d"]), int(0));
}

#[test]
fn errors_like_redis() {
    let mut h = sicily();
    let cases: &[(&[&str], &str)] = &[
        (&["GEOADD", "Sicily", "200", "100", "x"], "ERR invalid longitude,latitude pair 200.000000,100.000000"),
        (&["GEOADD", "Sicily", "XX", "NX", "1", "1", "a"], "ERR syntax error"),
        (&["GEOADD", "Sicily", "CH", "1", "1", "a", "2", "2"], "ERR syntax error"),
        (&["GEOADD", "Sicily", "abc", "1", "x"], "ERR value is not a valid float"),
        (&["GEODIST", "Sicily", "a", "b", "parsec"], "ERR unsupported unit provided. please use M, KM, FT, MI"),
        (&["GEODIST", "Sicily", "a", "b", "km", "x"], "ERR syntax error"),
        (&["GEORADIUS", "Sicily", "15", "37", "-1", "km"], "ERR radius cannot be negative"),
        (&["GEORADIUS", "Sicily", "15", "37", "x", "km"], "ERR need numeric radius"),
        (&["GEORADIUS", "Sicily", "15", "37", "200", "km", "ANY"], "ERR the ANY argument requires COUNT argument"),
        (&["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "0"], "ERR COUNT must be > 0"),
        (&["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "x"], "ERR syntax error"),
        (
            &["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "STORE", "x"],
            "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        ),
        (&["GEORADIUSBYMEMBER", "Sicily", "nosuch", "1", "km"], "ERR could not decode requested zset member"),
        (
            &["GEOSEARCH", "Sicily", "BYRADIUS", "1", "km", "ASC", "WITHDIST"],
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH",
        ),
        (
            &["geosearch", "Sicily", "FROMLONLAT", "1", "1", "ASC", "DESC"],
            "ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch",
        ),
        (
            &["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "1", "BYBOX", "-1", "2", "km"],
            "ERR height or width cannot be negative",
        ),
        (&["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "1", "BYBOX", "1", "x", "km"], "ERR need numeric height"),
        (
            &["GEOSEARCHSTORE", "d", "Sicily", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "km", "WITHHASH"],
            "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
        ),
    ];
    for (cmd, e) in cases {
        assert_eq!(h.call(cmd), err(e), "{cmd:?}");
    }
    h.call(&["SET", "str", "x"]);
    let wrongtype = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    for cmd in [&["GEOPOS", "str", "a"][..], &["GEOHASH", "str", "a"], &["GEORADIUS", "str", "1", "1", "1", "km"]] {
        assert_eq!(h.call(cmd), wrongtype, "{cmd:?}");
    }
}

#[test]
fn odd_scores_decode_without_panicking() {
    let mut h = Harness::new();
    for score in ["-1", "-inf", "+inf", "1e300", "0", "4503599627370496", "1.5"] {
        h.call(&["ZADD", "z", score, score]);
    }
    h.call(&["GEOPOS", "z", "-1", "-inf", "+inf", "1e300", "0"]);
    h.call(&["GEORADIUS", "z", "0", "0", "20000", "km", "WITHCOORD", "WITHDIST"]);
    h.call(&["GEOSEARCH", "z", "FROMMEMBER", "-inf", "BYBOX", "40000", "40000", "km", "WITHCOORD", "DESC"]);
}
