//! A game leaderboard on sorted sets, against an embedded slotbox server over real sockets
//! with the redis crate: players scored concurrently from several connections, the top 10
//! read back exactly, ranks from both ends consistent with scores; and a job queue where
//! BZPOPMIN blocks until another connection's ZADD wakes it. Every wait is bounded.

mod common;

use common::{encode_command, WAIT};
use redis::Commands;
use slotbox::protocol::resp_parse::parse_frame;
use slotbox::protocol::Frame;
use slotbox::Server;
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const PLAYERS: usize = 300;
const THREADS: usize = 6;
const ROUNDS: usize = 4;

fn connect(server: &Server) -> redis::Connection {
    let client = redis::Client::open(server.url()).expect("client");
    let con = client.get_connection_with_timeout(WAIT).expect("connect with redis-rs");
    con.set_read_timeout(Some(WAIT)).expect("read timeout");
    con.set_write_timeout(Some(WAIT)).expect("write timeout");
    con
}

fn player(i: usize) -> String {
    format!("player:{i:03}")
}

/// The points thread `t` gives player `p` in round `r` (deterministic, integral, so the
/// expected totals are exact).
fn points(t: usize, p: usize, r: usize) -> i64 {
    ((p * 7 + t * 13 + r * 5) % 23) as i64 + 1
}

#[test]
fn leaderboard_scored_concurrently() {
    let server = Server::start().expect("start slotbox");
    let mut con = connect(&server);
    let mut pipe = redis::pipe();
    for p in 0..PLAYERS {
        pipe.zadd("players", player(p), 0).ignore();
    }
    let _: () = pipe.query(&mut con).expect("initial ZADDs");
    assert_eq!(con.zcard::<_, usize>("players").unwrap(), PLAYERS);

    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let mut c = connect(&server);
            std::thread::spawn(move || {
                for r in 0..ROUNDS {
                    for p in 0..PLAYERS {
                        let _: f64 = c.zincr("players", player(p), points(t, p, r)).expect("ZINCRBY");
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("scoring thread");
    }

    let mut expected: HashMap<String, i64> = HashMap::new();
    for t in 0..THREADS {
        for r in 0..ROUNDS {
            for p in 0..PLAYERS {
                *expected.entry(player(p)).or_default() += points(t, p, r);
            }
        }
    }
    // Highest score first; equal scores by member, descending, as ZREVRANGE orders them.
    let mut ranking: Vec<(String, i64)> = expected.clone().into_iter().collect();
    ranking.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));

    let top: Vec<(String, f64)> = con.zrevrange_withscores("players", 0, 9).expect("top 10");
    let want: Vec<(String, f64)> = ranking[..10].iter().map(|(m, s)| (m.clone(), *s as f64)).collect();
    assert_eq!(top, want);

    let encoding: String = redis::cmd("OBJECT").arg("ENCODING").arg("players").query(&mut con).unwrap();
    assert_eq!(encoding, "skiplist", "300 players exceed the listpack limit");
    for (pos, (member, score)) in ranking.iter().enumerate() {
        let rev: Option<usize> = con.zrevrank("players", member).unwrap();
        let asc: Option<usize> = con.zrank("players", member).unwrap();
        assert_eq!(rev, Some(pos), "{member}");
        assert_eq!(asc, Some(PLAYERS - 1 - pos), "{member}");
        let got: Option<f64> = con.zscore("players", member).unwrap();
        assert_eq!(got, Some(*score as f64), "{member}");
    }
    let missing: Option<usize> = con.zrank("players", "nobody").unwrap();
    assert_eq!(missing, None);
    let best = ranking[0].1 as f64;
    let at_top: usize = con.zcount("players", best, "+inf").unwrap();
    assert_eq!(at_top, ranking.iter().filter(|(_, s)| *s as f64 == best).count());
}

/// A raw connection for a blocking command, so the test can check that no reply has arrived.
struct Waiting {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Waiting {
    fn send(server: &Server, args: &[&str]) -> Waiting {
        let mut stream = TcpStream::connect_timeout(&server.addr(), WAIT).expect("connect");
        stream.set_write_timeout(Some(WAIT)).unwrap();
        stream.write_all(&encode_command(args)).expect("send");
        Waiting { stream, buf: Vec::new() }
    }

    /// True if nothing arrives within `d`.
    fn silent_for(&mut self, d: Duration) -> bool {
        self.stream.set_read_timeout(Some(d)).unwrap();
        let mut chunk = [0u8; 1024];
        match self.stream.read(&mut chunk) {
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                false
            }
            Err(e) => matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        }
    }

    /// The reply, waiting at most [`WAIT`].
    fn reply(&mut self) -> Frame {
        self.stream.set_read_timeout(Some(WAIT)).unwrap();
        loop {
            if let Some((frame, _)) = parse_frame(&self.buf).expect("valid RESP") {
                return frame;
            }
            let mut chunk = [0u8; 1024];
            let n = self.stream.read(&mut chunk).expect("reply within the bounded wait");
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Wait (bounded) until the server reports `n` blocked clients.
fn wait_blocked(server: &Server, n: i64) {
    let what = format!("{n} blocked client(s)");
    common::wait_until_value(common::WAIT, &what, || common::blocked_clients(server.addr()), |&b| b == n);
}

fn bulk(s: &str) -> Frame {
    Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

#[test]
fn bzpopmin_is_woken_by_zadd_from_another_connection() {
    let server = Server::start().expect("start slotbox");
    let mut con = connect(&server);

    let mut waiter = Waiting::send(&server, &["BZPOPMIN", "jobs:urgent", "jobs", "0"]);
    // Blocked for sure before the ZADD (else the ZADD would come first and the pop would not
    // be a wake-up); then no reply within a while (a window for something NOT to happen).
    wait_blocked(&server, 1);
    assert!(waiter.silent_for(Duration::from_millis(300)), "BZPOPMIN on empty keys must block");

    let added: usize = con.zadd_multiple("jobs", &[(3, "job-c"), (1, "job-a"), (2, "job-b")]).unwrap();
    assert_eq!(added, 3);
    let expected = Frame::Array(vec![bulk("jobs"), bulk("job-a"), bulk("1")]);
    assert_eq!(waiter.reply(), expected);
    let left: Vec<String> = con.zrange("jobs", 0, -1).unwrap();
    assert_eq!(left, ["job-b", "job-c"]);

    // Data already there: served at once, from the first non-empty key.
    let popped: (String, String, f64) = redis::cmd("BZPOPMAX").arg("none").arg("jobs").arg(1).query(&mut con).unwrap();
    assert_eq!(popped, ("jobs".into(), "job-c".into(), 3.0));

    // A timeout answers a null array.
    let timed_out: Option<(String, String, f64)> =
        redis::cmd("BZPOPMIN").arg("empty").arg(0.1).query(&mut con).unwrap();
    assert_eq!(timed_out, None);

    // BZMPOP woken by a write to its second key.
    let mut waiter = Waiting::send(&server, &["BZMPOP", "0", "2", "q1", "q2", "MAX", "COUNT", "2"]);
    wait_blocked(&server, 1);
    assert!(waiter.silent_for(Duration::from_millis(300)), "BZMPOP on empty keys must block");
    let _: usize = con.zadd_multiple("q2", &[(5, "x"), (9, "y"), (7, "z")]).unwrap();
    let pairs = Frame::Array(vec![Frame::Array(vec![bulk("y"), bulk("9")]), Frame::Array(vec![bulk("z"), bulk("7")])]);
    assert_eq!(waiter.reply(), Frame::Array(vec![bulk("q2"), pairs]));
    let left: Vec<(String, f64)> = con.zrange_withscores("q2", 0, -1).unwrap();
    assert_eq!(left, [("x".to_string(), 5.0)]);
}
