//! Drop-in placement: real nutcracker (twemproxy 0.5, Debian's /usr/sbin/nutcracker) and
//! slotbox-proxy run the same nutcracker.yml over the same three backends; 10k keys written
//! through each must land on the same backend, for ketama with and without server names and
//! for modula. Skipped (with a message) when nutcracker is not installed.

mod common;

use common::{encode_command, free_port, RawClient, TempDir, WAIT};
use slotbox::protocol::Frame;
use slotbox::{Proxy, Server};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

const NUTCRACKER: &str = "/usr/sbin/nutcracker";
const KEYS: usize = 10_000;

struct Nutcracker(Child);

impl Drop for Nutcracker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_nutcracker(dir: &TempDir, yaml: &str) -> Nutcracker {
    let conf = dir.path().join("nutcracker.yml");
    std::fs::write(&conf, yaml).unwrap();
    let child = Command::new(NUTCRACKER)
        .arg("-c")
        .arg(&conf)
        .args(["-s", &free_port().to_string(), "-o"])
        .arg(dir.path().join("nutcracker.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn nutcracker");
    Nutcracker(child)
}

fn wait_connect(addr: SocketAddr) -> RawClient {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(c) = RawClient::try_connect(addr) {
            return c;
        }
        assert!(Instant::now() < deadline, "nutcracker did not start on {addr}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// SET every key through `addr`, pipelined in batches.
fn write_keys(addr: SocketAddr) {
    let mut c = wait_connect(addr);
    for chunk in (0..KEYS).collect::<Vec<_>>().chunks(500) {
        let mut batch = Vec::new();
        for i in chunk {
            batch.extend(encode_command(&["SET", &key(*i), "v"]));
        }
        c.send_raw(&batch);
        for _ in chunk {
            let (f, _) = c.read_reply();
            assert!(matches!(f, Frame::Simple(_)), "{f:?}");
        }
    }
}

fn key(i: usize) -> String {
    format!("user:{i}:profile")
}

/// key -> index of the backend holding it; empties the backends afterwards.
fn placement(backends: &[Server]) -> HashMap<Vec<u8>, usize> {
    let mut map = HashMap::new();
    for (i, s) in backends.iter().enumerate() {
        let mut c = RawClient::connect(s.addr());
        let Frame::Array(keys) = c.call(&["KEYS", "*"]) else { panic!("KEYS") };
        for k in keys {
            map.insert(k.as_bytes().unwrap().to_vec(), i);
        }
        c.call(&["FLUSHALL"]);
    }
    map
}

fn compare(body: &str, backends: &[Server]) {
    let dir = TempDir::new("placement");
    let nc_port = free_port();
    let nc_yaml = format!("pool:\n  listen: 127.0.0.1:{nc_port}\n{body}");
    let _nc = start_nutcracker(&dir, &nc_yaml);
    write_keys(format!("127.0.0.1:{nc_port}").parse().unwrap());
    let theirs = placement(backends);
    assert_eq!(theirs.len(), KEYS, "nutcracker wrote every key");

    let proxy = Proxy::start(&format!("pool:\n  listen: 127.0.0.1:0\n{body}")).unwrap();
    write_keys(proxy.addr());
    let ours = placement(backends);
    assert_eq!(ours.len(), KEYS);
    let moved = theirs.iter().filter(|(k, b)| ours.get(*k) != Some(b)).count();
    assert_eq!(moved, 0, "{moved} of {KEYS} keys placed differently than nutcracker ({body})");
    let used = (0..backends.len()).filter(|b| ours.values().any(|x| x == b)).count();
    assert_eq!(used, backends.len(), "every backend holds keys");
}

#[test]
fn same_placement_as_nutcracker() {
    if !std::path::Path::new(NUTCRACKER).exists() {
        eprintln!("skipping: {NUTCRACKER} not installed (apt-get install nutcracker)");
        return;
    }
    let backends: Vec<Server> = (0..3).map(|_| Server::start().unwrap()).collect();
    let servers = |named: bool, weights: [u32; 3]| {
        let mut s = String::from("  servers:\n");
        for (i, b) in backends.iter().enumerate() {
            let name = if named { format!(" cache{i}") } else { String::new() };
            s.push_str(&format!("   - {}:{}{name}\n", b.addr(), weights[i]));
        }
        s
    };
    let common = "  redis: true\n";
    compare(&format!("{common}  hash: fnv1a_64\n  distribution: ketama\n{}", servers(false, [1, 1, 1])), &backends);
    compare(&format!("{common}  hash: murmur\n  distribution: ketama\n{}", servers(true, [1, 2, 3])), &backends);
    compare(
        &format!("{common}  hash: md5\n  distribution: modula\n  hash_tag: \"{{}}\"\n{}", servers(false, [1, 1, 2])),
        &backends,
    );
}
