//! Integration tests of blocking list commands over real sockets against an embedded server:
//! wake-ups across connections, timeouts, FIFO order of waiters, disconnects while blocked,
//! BLMOVE chains, MULTI, and a job queue drained by several workers.
//!
//! Every wait is bounded: replies are read with the socket timeouts of [`RawClient`] and
//! "is the client blocked yet" polls `INFO clients` for at most [`common::WAIT`]. The only
//! timing checked is one the server guarantees: a timeout does not answer early (that it does
//! not hang is the read timeout's job, however slow the machine).

mod common;

use common::{bulk, encode_command, RawClient, WAIT};
use slotbox::protocol::Frame;
use slotbox::Server;
use std::collections::HashSet;
use std::time::{Duration, Instant};

fn connect(server: &Server) -> RawClient {
    RawClient::connect(server.addr())
}

/// Send a command without waiting for its reply (the client is expected to block).
fn send(c: &mut RawClient, args: &[&str]) {
    c.send_raw(&encode_command(args));
}

fn reply(c: &mut RawClient) -> Frame {
    c.read_reply().0
}

fn arr(items: &[&str]) -> Frame {
    Frame::Array(items.iter().map(|s| bulk(s)).collect())
}

/// `blocked_clients` from `INFO clients`.
fn blocked_clients(c: &mut RawClient) -> u64 {
    let info = c.call(&["INFO", "clients"]);
    let text = String::from_utf8_lossy(info.as_bytes().expect("INFO is a bulk string")).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no blocked_clients in INFO clients:\n{text}"))
}

/// Poll until the server reports `n` blocked clients.
fn wait_blocked(c: &mut RawClient, n: u64) {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = blocked_clients(c);
        if now == n {
            return;
        }
        assert!(Instant::now() < deadline, "blocked_clients stayed {now}, expected {n}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn blpop_is_woken_by_a_push_from_another_connection() {
    let server = Server::start().unwrap();
    let (mut waiter, mut pusher) = (connect(&server), connect(&server));
    send(&mut waiter, &["BLPOP", "nothing", "queue", "0"]);
    wait_blocked(&mut pusher, 1);
    assert_eq!(pusher.call(&["RPUSH", "queue", "hello", "world"]), Frame::Integer(2));
    assert_eq!(reply(&mut waiter), arr(&["queue", "hello"]));
    assert_eq!(pusher.call(&["LRANGE", "queue", "0", "-1"]), arr(&["world"]));
    wait_blocked(&mut pusher, 0);
    // The woken connection is usable again.
    assert_eq!(waiter.call(&["LLEN", "queue"]), Frame::Integer(1));
}

#[test]
fn a_timeout_answers_nil_after_the_timeout() {
    let server = Server::start().unwrap();
    let mut c = connect(&server);
    for (cmd, raw) in [
        (&["BLPOP", "empty", "0.1"][..], &b"*-1\r\n"[..]),
        (&["BRPOP", "empty", "other", "0.1"], b"*-1\r\n"),
        (&["BLMPOP", "0.1", "1", "empty", "LEFT"], b"*-1\r\n"),
        // Redis answers every timed-out list wait with a null array, BLMOVE's too.
        (&["BLMOVE", "empty", "dst", "LEFT", "RIGHT", "0.1"], b"*-1\r\n"),
    ] {
        let start = Instant::now();
        let got = c.call_raw(cmd);
        let took = start.elapsed();
        assert_eq!(got, raw, "{cmd:?}");
        assert!(took >= Duration::from_millis(90), "{cmd:?} answered after {took:?}");
    }
    assert_eq!(blocked_clients(&mut c), 0);
    // RESP3: the null is `_`.
    c.call(&["HELLO", "3"]);
    assert_eq!(c.call_raw(&["BLPOP", "empty", "0.05"]), b"_\r\n");
}

#[test]
fn waiters_are_served_in_the_order_they_blocked() {
    let server = Server::start().unwrap();
    let mut pusher = connect(&server);
    let mut waiters: Vec<RawClient> = (0..3).map(|_| connect(&server)).collect();
    for (i, w) in waiters.iter_mut().enumerate() {
        send(w, &["BLPOP", "fifo", "0"]);
        wait_blocked(&mut pusher, i as u64 + 1);
    }
    assert_eq!(pusher.call(&["RPUSH", "fifo", "first", "second", "third"]), Frame::Integer(3));
    for (w, want) in waiters.iter_mut().zip(["first", "second", "third"]) {
        assert_eq!(reply(w), arr(&["fifo", want]));
    }
    // Again with one push per element.
    for (i, w) in waiters.iter_mut().enumerate() {
        send(w, &["BRPOP", "fifo", "0"]);
        wait_blocked(&mut pusher, i as u64 + 1);
    }
    for item in ["a", "b", "c"] {
        assert_eq!(pusher.call(&["LPUSH", "fifo", item]), Frame::Integer(1));
    }
    for (w, want) in waiters.iter_mut().zip(["a", "b", "c"]) {
        assert_eq!(reply(w), arr(&["fifo", want]));
    }
    assert_eq!(pusher.call(&["EXISTS", "fifo"]), Frame::Integer(0));
}

#[test]
fn a_client_that_disconnects_while_blocked_leaves_no_trace() {
    let server = Server::start().unwrap();
    let mut other = connect(&server);
    {
        let mut gone = connect(&server);
        send(&mut gone, &["BLPOP", "jobs", "0"]);
        wait_blocked(&mut other, 1);
    }
    wait_blocked(&mut other, 0);
    assert_eq!(other.call(&["RPUSH", "jobs", "kept"]), Frame::Integer(1));
    assert_eq!(other.call(&["LRANGE", "jobs", "0", "-1"]), arr(&["kept"]));
    assert_eq!(blocked_clients(&mut other), 0);
}

#[test]
fn blmove_into_a_watched_list_wakes_its_waiter() {
    let server = Server::start().unwrap();
    let (mut mover, mut popper, mut pusher) = (connect(&server), connect(&server), connect(&server));
    send(&mut mover, &["BLMOVE", "incoming", "work", "LEFT", "RIGHT", "0"]);
    wait_blocked(&mut pusher, 1);
    send(&mut popper, &["BLPOP", "work", "0"]);
    wait_blocked(&mut pusher, 2);
    assert_eq!(pusher.call(&["RPUSH", "incoming", "job-1"]), Frame::Integer(1));
    assert_eq!(reply(&mut mover), bulk("job-1"));
    assert_eq!(reply(&mut popper), arr(&["work", "job-1"]));
    wait_blocked(&mut pusher, 0);
    assert_eq!(pusher.call(&["EXISTS", "incoming", "work"]), Frame::Integer(0));
}

#[test]
fn blocking_pops_inside_multi_answer_at_once() {
    let server = Server::start().unwrap();
    let mut c = connect(&server);
    assert_eq!(c.call(&["MULTI"]), common::simple("OK"));
    for cmd in [
        &["BLPOP", "empty", "0"][..],
        &["BLMOVE", "empty", "dst", "LEFT", "LEFT", "0"],
        &["BLMPOP", "0", "1", "empty", "RIGHT"],
    ] {
        assert_eq!(c.call(cmd), common::simple("QUEUED"));
    }
    // Answered at once: were they to block, the read would time out.
    let got = c.call(&["EXEC"]);
    assert_eq!(got, Frame::Array(vec![Frame::NullArray, Frame::Null, Frame::NullArray]));
    assert_eq!(blocked_clients(&mut c), 0);
}

/// One worker: BRPOP jobs until it receives "stop"; returns the jobs it got.
fn drain_jobs(mut c: RawClient) -> Vec<String> {
    let mut got = Vec::new();
    loop {
        match c.call(&["BRPOP", "jobs", "0"]) {
            Frame::Array(items) if items.len() == 2 => {
                let job = String::from_utf8_lossy(items[1].as_bytes().expect("bulk")).into_owned();
                if job == "stop" {
                    return got;
                }
                got.push(job);
            }
            other => panic!("unexpected BRPOP reply {other:?}"),
        }
    }
}

#[test]
fn a_job_queue_delivers_every_job_exactly_once() {
    const JOBS: usize = 1000;
    const WORKERS: usize = 4;
    let server = Server::start().unwrap();
    let mut producer = connect(&server);
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let c = connect(&server);
            std::thread::spawn(move || drain_jobs(c))
        })
        .collect();
    wait_blocked(&mut producer, WORKERS as u64);
    for i in 0..JOBS {
        let job = format!("job-{i}");
        let len = producer.call(&["LPUSH", "jobs", &job]);
        assert!(matches!(len, Frame::Integer(n) if n >= 1), "{len:?}");
    }
    // Sentinels go in after every job: LPUSH + BRPOP is FIFO.
    for _ in 0..WORKERS {
        producer.call(&["LPUSH", "jobs", "stop"]);
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for w in workers {
        let got = w.join().expect("worker thread");
        total += got.len();
        seen.extend(got);
    }
    assert_eq!(total, JOBS, "a job was delivered twice or lost");
    let expected: HashSet<String> = (0..JOBS).map(|i| format!("job-{i}")).collect();
    assert_eq!(seen, expected);
    assert_eq!(producer.call(&["LLEN", "jobs"]), Frame::Integer(0));
    assert_eq!(blocked_clients(&mut producer), 0);
}
