//! examples/client_partitioning.rs over three standalone servers: every key lands on the
//! server the ring names and on no other, reads come back, hash tags colocate. The example's
//! own code runs here (included by path), so the example cannot rot.

#[path = "../examples/client_partitioning.rs"]
mod example;

use example::{owner, Plan};
use slotbox::partition::hash::HashKind;
use slotbox::partition::router::{Distribution, RingServer};
use slotbox::Server;

fn servers() -> Vec<Server> {
    (0..3).map(|_| Server::start().expect("server")).collect()
}

fn con(s: &Server) -> redis::Connection {
    redis::Client::open(s.url()).unwrap().get_connection().unwrap()
}

fn check(dist: Distribution, hash: HashKind) {
    let nodes = servers();
    let plan = Plan { servers: nodes.iter().map(|s| s.addr().to_string()).collect(), dist, hash, keys: 600 };
    let sum = example::run(&plan).expect("example run");
    assert_eq!(sum.read_back, 600, "{dist:?}");
    assert_eq!(sum.per_server.iter().sum::<usize>(), 600);
    // Every server gets keys (how evenly depends on the hash: `ring-sim` measures that).
    assert!(sum.per_server.iter().all(|&n| n > 0), "{dist:?} spread {:?}", sum.per_server);
    // The servers hold exactly what the ring says: each key on its owner only.
    let ring: Vec<RingServer> = plan.servers.iter().map(|s| RingServer::new(s)).collect();
    let ring = dist.build(hash, &ring);
    let mut cons: Vec<redis::Connection> = nodes.iter().map(con).collect();
    for i in (0..600).step_by(7) {
        let k = format!("cp:user:{i}");
        let at = owner(ring.as_ref(), &k);
        for (s, c) in cons.iter_mut().enumerate() {
            let exists: bool = redis::cmd("EXISTS").arg(&k).query(c).unwrap();
            assert_eq!(exists, s == at, "{dist:?} {k}: on server {s}, owner {at}");
        }
    }
    for (s, c) in cons.iter_mut().enumerate() {
        let n: usize = redis::cmd("DBSIZE").query(c).unwrap();
        let tagged = if s == sum.tagged_on { 2 } else { 0 };
        assert_eq!(n, sum.per_server[s] + tagged, "{dist:?} server {s}");
    }
    let email: Option<String> = redis::cmd("GET").arg("cp:{user:42}:email").query(&mut cons[sum.tagged_on]).unwrap();
    assert_eq!(email.as_deref(), Some("ada@example.org"));
    assert!(sum.would_move > 0 && sum.would_move < 600);
}

#[test]
fn ketama_over_three_servers() {
    // Not fnv1a_64: on keys this similar it can leave a server empty (see README).
    check(Distribution::Ketama, HashKind::Murmur);
    check(Distribution::Ketama, HashKind::Md5);
}

#[test]
fn modula_jump_and_rendezvous_over_three_servers() {
    check(Distribution::Modula, HashKind::Murmur);
    check(Distribution::Jump, HashKind::Md5);
    check(Distribution::Rendezvous, HashKind::Crc32a);
}
