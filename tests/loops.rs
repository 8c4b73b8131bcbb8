//! Event loops that follow the load: a new connection goes to the first event loop with room,
//! so a light load is served by one loop (no wake-ups shared between threads), and clients
//! that landed elsewhere gather there; the moved connections keep working. (Spreading a
//! saturated loop's clients is decided by the same policy, `slotbox_protocol::balance`, whose
//! unit tests cover it: saturating a loop on purpose is not something a test on a shared
//! machine can do reliably.)

mod common;

use common::{wait_until, RawClient};
use slotbox::protocol::Frame;
use slotbox::{Config, Server};
use std::time::Duration;

/// The event loop serving each connected client.
fn loops_of(server: &Server) -> Vec<usize> {
    let shared = server.handle().shared();
    let clients = shared.clients.lock();
    clients.values().map(|c| c.worker()).collect()
}

#[test]
fn a_light_load_is_served_by_one_event_loop() {
    let server = Server::start().unwrap();
    let mut clients: Vec<RawClient> = (0..12).map(|_| RawClient::connect(server.addr())).collect();
    for round in 0..30 {
        for (i, c) in clients.iter_mut().enumerate() {
            assert_eq!(c.call(&["SET", &format!("k{i}"), &round.to_string()]), Frame::ok());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(loops_of(&server).iter().all(|&l| l == 0), "light clients are placed on the first loop");
}

#[test]
fn clients_dealt_to_every_loop_gather_on_one_when_the_load_is_light() {
    let mut cfg = Config::ephemeral();
    cfg.round_robin_placement = true;
    let server = Server::with_config(cfg).unwrap();
    let mut clients: Vec<RawClient> = (0..10).map(|_| RawClient::connect(server.addr())).collect();
    for c in clients.iter_mut() {
        assert_eq!(c.call(&["PING"]), Frame::simple_static("PONG"));
    }
    assert!(loops_of(&server).contains(&1), "round-robin placement used both loops");
    let mut round = 0u64;
    wait_until(Duration::from_secs(20), "every client on loop 0", || {
        round += 1;
        for (i, c) in clients.iter_mut().enumerate() {
            assert_eq!(c.call(&["INCR", &format!("n{i}")]), Frame::Integer(round as i64));
        }
        std::thread::sleep(Duration::from_millis(20));
        loops_of(&server).iter().all(|&l| l == 0)
    });
    // The moved connections are the same connections: counters continue, nothing lost.
    for (i, c) in clients.iter_mut().enumerate() {
        assert_eq!(c.call(&["GET", &format!("n{i}")]), Frame::Bulk(round.to_string().into()));
    }
    let info = common::text(&clients[0].call(&["INFO", "stats"]));
    assert!(info.contains("balance_client_moves:"), "{info}");
}
