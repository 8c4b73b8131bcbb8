//! Hot-slot affinity over real sockets: on a server with two event loops, connections that
//! hammer one key are moved to the loop that owns its slot (INFO's `hot_slot_client_moves`),
//! and a moved connection is the same connection: its pipelined replies stay in order, no
//! command is lost or run twice, and blocking, CLIENT KILL and pub/sub still reach it.
//! Every wait is bounded by the socket timeouts of [`RawClient`] and [`common::WAIT`].

mod common;

use common::{bulk, encode_command, text, wait_for, RawClient, WAIT};
use slotbox::protocol::Frame;
use slotbox::Server;

fn info_field(c: &mut RawClient, section: &str, name: &str) -> i64 {
    let t = text(&c.call(&["INFO", section]));
    t.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("INFO {section} has no {name}"))
}

/// Send `n` INCRs of `key` in one write and return the replies, in order.
fn pipelined_incrs(c: &mut RawClient, key: &str, n: usize) -> Vec<i64> {
    let one = encode_command(&["INCR", key]);
    c.send_raw(&one.repeat(n));
    (0..n)
        .map(|_| match c.read_reply().0 {
            Frame::Integer(i) => i,
            other => panic!("INCR replied {other:?}"),
        })
        .collect()
}

#[test]
fn hot_key_clients_move_and_keep_their_order() {
    // Connections dealt to both loops in turn (by load they would all start on one).
    let mut cfg = slotbox::Config::ephemeral();
    cfg.round_robin_placement = true;
    let server = Server::with_config(cfg).expect("start");
    let mut clients: Vec<RawClient> = (0..8).map(|_| RawClient::connect(server.addr())).collect();
    let mut admin = RawClient::connect(server.addr());
    let mut last = vec![0i64; clients.len()];
    for _round in 0..20 {
        for (i, c) in clients.iter_mut().enumerate() {
            for v in pipelined_incrs(c, "hot", 50) {
                assert!(v > last[i], "client {i}: INCR replies out of order ({v} after {})", last[i]);
                last[i] = v;
            }
        }
    }
    assert_eq!(admin.call(&["GET", "hot"]), bulk("8000"), "every INCR ran exactly once");
    let moves = info_field(&mut admin, "stats", "hot_slot_client_moves");
    assert!(moves >= 1, "clients spread over two event loops and one hot slot: some must move");
    assert_eq!(info_field(&mut admin, "clients", "connected_clients"), 9);

    // A moved client still blocks and is woken by a push from another connection.
    let (first, rest) = clients.split_at_mut(1);
    // A timeout far longer than the test needs, so the push always comes first; the read
    // timeout still bounds a server that never answers.
    first[0].send_raw(&encode_command(&["BLPOP", "jobs", "60"]));
    assert!(wait_for(WAIT, || info_field(&mut admin, "clients", "blocked_clients") == 1), "BLPOP did not block");
    assert_eq!(rest[0].call(&["RPUSH", "jobs", "j1"]), Frame::Integer(1));
    assert_eq!(first[0].read_reply().0, Frame::Array(vec![bulk("jobs"), bulk("j1")]));

    // Pub/sub reaches a moved client.
    assert_eq!(
        rest[1].call(&["SUBSCRIBE", "news"]),
        Frame::Array(vec![bulk("subscribe"), bulk("news"), Frame::Integer(1)])
    );
    assert_eq!(admin.call(&["PUBLISH", "news", "hello"]), Frame::Integer(1));
    assert_eq!(rest[1].read_reply().0, Frame::Array(vec![bulk("message"), bulk("news"), bulk("hello")]));

    // CLIENT KILL closes every hammering client wherever it is now served.
    for c in rest[2..].iter_mut() {
        let id = match c.call(&["CLIENT", "ID"]) {
            Frame::Integer(i) => i,
            other => panic!("CLIENT ID replied {other:?}"),
        };
        assert_eq!(admin.call(&["CLIENT", "KILL", "ID", &id.to_string()]), Frame::Integer(1));
        assert!(c.is_closed_by_server(), "client {id} still open after CLIENT KILL");
    }
    assert!(
        wait_for(WAIT, || info_field(&mut admin, "clients", "connected_clients") == 4),
        "killed clients still counted"
    );
}

#[test]
fn clients_spread_over_many_slots_do_not_move() {
    let mut cfg = slotbox::Config::ephemeral();
    cfg.round_robin_placement = true;
    let server = Server::with_config(cfg).expect("start");
    let mut clients: Vec<RawClient> = (0..4).map(|_| RawClient::connect(server.addr())).collect();
    for round in 0..10 {
        for (i, c) in clients.iter_mut().enumerate() {
            let mut batch = Vec::new();
            for k in 0..50 {
                batch.extend(encode_command(&["SET", &format!("key:{i}:{round}:{k}"), "v"]));
            }
            c.send_raw(&batch);
            for _ in 0..50 {
                assert_eq!(c.read_reply().0, Frame::Simple("OK".into()));
            }
        }
    }
    let mut admin = RawClient::connect(server.addr());
    assert_eq!(admin.call(&["DBSIZE"]), Frame::Integer(2000));
    assert_eq!(info_field(&mut admin, "stats", "hot_slot_client_moves"), 0);
}
