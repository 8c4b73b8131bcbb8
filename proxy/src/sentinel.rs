//! Sentinel pools (`sentinels:` + `master_name:`): asking Redis Sentinels where a group's
//! master and replicas are, and following them. The answer is a one-row slot map (every key
//! on the master, reads on its replicas), the same shape a cluster pool uses, so the workers
//! route a sentinel pool with the cluster machinery. Blocking I/O only, on the proxy's own
//! watcher thread (one per sentinel pool), never on a worker.

use crate::router::SlotRange;
use slotbox_protocol::frame::Frame;
use slotbox_protocol::resp_parse::parse_frame;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const IO_TIMEOUT: Duration = Duration::from_secs(1);
/// Without events, the topology is checked again this often (replicas coming and going).
const RECHECK: Duration = Duration::from_secs(2);
/// The sentinel events after which the topology may have changed. The failover's leader
/// already names the promoted replica at `+promoted-slave` (its `+switch-master` comes once
/// the other replicas are repointed); the others switch at `+config-update-from`.
const CHANNELS: [&str; 8] = [
    "+switch-master",
    "+promoted-slave",
    "+config-update-from",
    "+sdown",
    "-sdown",
    "+slave",
    "+failover-end",
    "+convert-to-slave",
];

/// A blocking RESP connection to one sentinel.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn open(addr: &str) -> std::io::Result<Conn> {
        let a = addr.to_socket_addrs()?.next().ok_or_else(|| std::io::Error::new(ErrorKind::NotFound, "no address"))?;
        let stream = TcpStream::connect_timeout(&a, IO_TIMEOUT)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        let _ = stream.set_nodelay(true);
        Ok(Conn { stream, buf: Vec::new() })
    }

    fn send(&mut self, args: &[&str]) -> std::io::Result<()> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        self.stream.write_all(&out)
    }

    /// The next reply; `Ok(None)` when the read timed out with nothing complete.
    fn read(&mut self) -> std::io::Result<Option<Frame>> {
        loop {
            match parse_frame(&self.buf) {
                Ok(Some((f, used))) => {
                    self.buf.drain(..used);
                    return Ok(Some(f));
                }
                Ok(None) => {}
                Err(e) => return Err(std::io::Error::new(ErrorKind::InvalidData, e.0)),
            }
            let mut chunk = [0u8; 16384];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    fn call(&mut self, args: &[&str]) -> Option<Frame> {
        self.send(args).ok()?;
        self.read().ok()?
    }
}

fn text(f: &Frame) -> Option<String> {
    match f {
        Frame::Bulk(b) | Frame::Simple(b) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
}

fn field(items: &[Frame], name: &str) -> Option<String> {
    items.chunks(2).find(|kv| text(&kv[0]).as_deref() == Some(name)).and_then(|kv| kv.get(1)).and_then(text)
}

fn addr(ip: &str, port: &str) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// Ask one sentinel: the master, and the replicas it does not consider down.
fn topology_from(c: &mut Conn, name: &str) -> Option<Vec<SlotRange>> {
    let Frame::Array(m) = c.call(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", name])? else { return None };
    let master = addr(&text(m.first()?)?, &text(m.get(1)?)?);
    let Frame::Array(rows) = c.call(&["SENTINEL", "REPLICAS", name])? else { return None };
    let mut replicas = Vec::new();
    for row in rows {
        let Frame::Array(items) = row else { continue };
        let flags = field(&items, "flags").unwrap_or_default();
        if flags.split(',').any(|f| matches!(f, "s_down" | "o_down" | "disconnected")) {
            continue;
        }
        if let (Some(ip), Some(port)) = (field(&items, "ip"), field(&items, "port")) {
            let a = addr(&ip, &port);
            if a != master {
                replicas.push(a);
            }
        }
    }
    replicas.sort();
    Some(vec![SlotRange { start: 0, end: 16383, master, replicas }])
}

/// The group's topology from the first sentinel that answers (empty if none does).
pub fn fetch(sentinels: &[String], name: &str) -> Vec<SlotRange> {
    for s in sentinels {
        if let Some(t) = Conn::open(s).ok().and_then(|mut c| topology_from(&mut c, name)) {
            return t;
        }
    }
    Vec::new()
}

/// Follow the group until `shutdown`: subscribe to a sentinel's events and hand every new
/// topology to `publish`. Moves on to the next sentinel when one stops answering.
pub fn watch(
    sentinels: &[String],
    name: &str,
    mut last: Vec<SlotRange>,
    shutdown: &AtomicBool,
    mut publish: impl FnMut(Vec<SlotRange>),
) {
    let mut next = 0;
    while !shutdown.load(Ordering::Relaxed) {
        let s = &sentinels[next % sentinels.len()];
        next += 1;
        let (Ok(mut events), Ok(mut query)) = (Conn::open(s), Conn::open(s)) else {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        };
        let mut sub = vec!["SUBSCRIBE"];
        sub.extend(CHANNELS);
        if events.send(&sub).is_err() {
            continue;
        }
        let mut checked = Instant::now() - RECHECK;
        let mut changed = true;
        while !shutdown.load(Ordering::Relaxed) {
            if changed || checked.elapsed() >= RECHECK {
                checked = Instant::now();
                let Some(t) = topology_from(&mut query, name) else { break };
                if t != last {
                    last = t.clone();
                    publish(t);
                }
            }
            match events.read() {
                Ok(Some(Frame::Array(v))) => changed = matches!(v.first().and_then(text).as_deref(), Some("message")),
                Ok(_) => changed = false,
                Err(_) => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{parse, ReadFrom};

    #[test]
    fn sentinel_pool_config() {
        let ok = "ha:\n  listen: 127.0.0.1:0\n  master_name: mymaster\n  read_from: prefer_replica\n  \
                  sentinels: [127.0.0.1:26379, \"127.0.0.1:26380\"]\n";
        let p = parse(ok).unwrap().remove(0);
        assert_eq!(p.sentinels, vec!["127.0.0.1:26379", "127.0.0.1:26380"]);
        assert_eq!((p.master_name.as_deref(), p.read_from), (Some("mymaster"), ReadFrom::PreferReplica));
        let bad = |yaml: &str| parse(yaml).unwrap_err();
        let e = bad("ha:\n  listen: 127.0.0.1:0\n  sentinels: [127.0.0.1:26379]\n");
        assert_eq!(e.key.as_deref(), Some("master_name"));
        let e = bad("ha:\n  listen: 127.0.0.1:0\n  master_name: m\n");
        assert_eq!(e.key.as_deref(), Some("sentinels"));
        let e = bad("ha:\n  listen: 127.0.0.1:0\n  master_name: m\n  sentinels: [nope]\n");
        assert!(e.problem.contains("not host:port"), "{}", e.problem);
        let e = bad("ha:\n  listen: 127.0.0.1:0\n  master_name: m\n  sentinels: [h:1]\n  cluster: true\n");
        assert_eq!(e.key.as_deref(), Some("cluster"));
        let e = bad("ha:\n  listen: 127.0.0.1:0\n  master_name: m\n  sentinels: [h:1]\n  servers: [\"h:2:1\"]\n");
        assert_eq!(e.key.as_deref(), Some("servers"));
    }

    #[test]
    fn no_sentinel_answers_no_topology() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        assert!(super::fetch(&[format!("127.0.0.1:{port}")], "m").is_empty());
    }
}
