//! criterion benches for sharding: each proxy hash function and a ketama lookup (ns per key),
//! and end-to-end SET+GET throughput through an embedded slotbox-proxy in front of 1, 3 and 6
//! embedded shards — a ketama pool over standalone servers and a cluster pool over a slotbox
//! Cluster — so the cost and the benefit of sharding show in one report.
//! Run with `cargo bench --bench sharding`.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use slotbox_proxy::hash::HashKind;
use slotbox_proxy::router::{Ketama, RingServer, Router};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn hashes(c: &mut Criterion) {
    let mut group = c.benchmark_group("hash");
    let key = b"user:1234567890:profile";
    group.throughput(Throughput::Elements(1));
    for (kind, name) in HashKind::ALL {
        group.bench_function(name, |b| b.iter(|| kind.hash(black_box(key))));
    }
    for servers in [3usize, 10] {
        let ring: Vec<RingServer> =
            (0..servers).map(|i| RingServer { name: format!("10.0.0.{i}:6379"), weight: 1, live: true }).collect();
        let ketama = Ketama::new(HashKind::Md5, &ring);
        group.bench_with_input(BenchmarkId::new("ketama_route", servers), &ketama, |b, k| {
            b.iter(|| k.route(black_box(key)))
        });
    }
    group.finish();
}

/// One pipelined round: `n` SETs and `n` GETs, all replies read.
struct Pipeline {
    conn: TcpStream,
    request: Vec<u8>,
    replies: usize,
    buf: Vec<u8>,
}

impl Pipeline {
    fn new(addr: std::net::SocketAddr, n: usize) -> Pipeline {
        let conn = TcpStream::connect(addr).expect("connect to proxy");
        conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        conn.set_nodelay(true).unwrap();
        let mut request = Vec::new();
        for i in 0..n {
            let k = format!("key:{i}");
            request.extend_from_slice(format!("*3\r\n$3\r\nSET\r\n${}\r\n{k}\r\n$5\r\nvalue\r\n", k.len()).as_bytes());
            request.extend_from_slice(format!("*2\r\n$3\r\nGET\r\n${}\r\n{k}\r\n", k.len()).as_bytes());
        }
        Pipeline { conn, request, replies: 2 * n, buf: vec![0; 1 << 16] }
    }

    /// Send the batch and wait for every reply line ("+OK" and "$5\r\nvalue").
    fn round(&mut self) {
        self.conn.write_all(&self.request).unwrap();
        let mut lines = 0;
        let want = self.replies + self.replies / 2; // GET replies are two lines
        while lines < want {
            let n = self.conn.read(&mut self.buf).unwrap();
            assert!(n > 0, "proxy closed the connection");
            lines += self.buf[..n].iter().filter(|&&b| b == b'\n').count();
        }
    }
}

fn through_proxy(c: &mut Criterion) {
    let mut group = c.benchmark_group("sharding");
    group.sample_size(10).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_millis(500));
    let batch = 100;
    group.throughput(Throughput::Elements(2 * batch as u64));
    for shards in [1usize, 3, 6] {
        let servers: Vec<slotbox::Server> = (0..shards).map(|_| slotbox::Server::start().unwrap()).collect();
        let mut yaml =
            String::from("p:\n  listen: 127.0.0.1:0\n  hash: fnv1a_64\n  distribution: ketama\n  servers:\n");
        for s in &servers {
            yaml.push_str(&format!("   - {}:1\n", s.addr()));
        }
        let proxy = slotbox::Proxy::start(&yaml).unwrap();
        let mut p = Pipeline::new(proxy.addr(), batch);
        group.bench_function(BenchmarkId::new("ketama_pool", shards), |b| b.iter(|| p.round()));
        drop(p);
        drop(proxy);

        let cluster = slotbox::Cluster::start(shards).unwrap();
        let mut yaml = String::from("c:\n  listen: 127.0.0.1:0\n  cluster: true\n  servers:\n");
        for a in cluster.addrs() {
            yaml.push_str(&format!("   - {a}:1\n"));
        }
        let proxy = slotbox::Proxy::start(&yaml).unwrap();
        let mut p = Pipeline::new(proxy.addr(), batch);
        group.bench_function(BenchmarkId::new("cluster_pool", shards), |b| b.iter(|| p.round()));
    }
    group.finish();
}

criterion_group!(benches, hashes, through_proxy);
criterion_main!(benches);
