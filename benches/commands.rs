//! The execution seam in-process: the cost of one command run through
//! `commands::execute_in_batch` as an event loop runs a pipeline (the batch's locks and clock
//! kept from one command to the next), without the network. What a request costs the server
//! beyond reading and writing sockets; compare commits with `--save-baseline` / `--baseline`.
//!
//! ```text
//! cargo bench --bench commands                 # every row
//! cargo bench --bench commands -- evalsha      # rows whose name matches
//! ```
//!
//! Rows: GET and INCR of random keys among 100k, XADD to one stream, EVALSHA of
//! `return redis.call('incr', KEYS[1])` on random keys, FCALL of the same as a function.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use slotbox_server::client::ClientInfo;
use slotbox_server::commands::session::ClientState;
use slotbox_server::commands::{execute_in_batch, Held};
use slotbox_server::config::Config;
use slotbox_server::shared::Shared;
use std::sync::Arc;

const KEYS: usize = 100_000;
/// Requests per batch, as a pipeline of 16 from each of the clients an event loop serves.
const BATCH: usize = 256;

fn args(parts: &[&[u8]]) -> Vec<Bytes> {
    parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
}

struct Bench {
    shared: Shared,
    client: ClientState,
}

impl Bench {
    fn new() -> Bench {
        let shared = Shared::new(Config::ephemeral());
        let addr = "127.0.0.1:1".parse().expect("address");
        let info = Arc::new(ClientInfo::new(1, addr, addr, -1, 0));
        Bench { shared, client: ClientState::new(info, false) }
    }

    /// Run `batch` as one pipelined batch.
    fn run(&mut self, batch: &[Vec<Bytes>]) {
        let mut held = Held::new(self.shared.exec_gate.service_stripe());
        self.client.batch_clock.reset();
        for req in batch {
            std::hint::black_box(execute_in_batch(&self.shared, &mut self.client, req, &mut held));
        }
        held.release();
    }
}

/// Requests `make(i)` for random-looking keys, cycling through `KEYS` keys.
fn requests(make: impl Fn(usize) -> Vec<Bytes>) -> Vec<Vec<Bytes>> {
    (0..KEYS).map(|i| make(i.wrapping_mul(7919) % KEYS)).collect()
}

fn rows(c: &mut Criterion) {
    let mut b = Bench::new();
    let sha = {
        let r = slotbox_server::commands::execute(
            &b.shared,
            &mut b.client,
            &args(&[b"SCRIPT", b"LOAD", b"return redis.call('incr', KEYS[1])"]),
        );
        match r {
            slotbox_protocol::Frame::Bulk(s) => s,
            other => panic!("SCRIPT LOAD: {other:?}"),
        }
    };
    let lib =
        b"#!lua name=bench\nredis.register_function('incr1', function(keys) return redis.call('incr', keys[1]) end)";
    let loaded = slotbox_server::commands::execute(&b.shared, &mut b.client, &args(&[b"FUNCTION", b"LOAD", lib]));
    assert!(!loaded.is_error(), "FUNCTION LOAD: {loaded:?}");
    let incr = requests(|i| args(&[b"INCR", format!("key:{i:06}").as_bytes()]));
    b.run(&incr);
    let get = requests(|i| args(&[b"GET", format!("key:{i:06}").as_bytes()]));
    let evalsha = requests(|i| args(&[b"EVALSHA", &sha, b"1", format!("key:{i:06}").as_bytes()]));
    let fcall = requests(|i| args(&[b"FCALL", b"incr1", b"1", format!("key:{i:06}").as_bytes()]));
    let xadd: Vec<Vec<Bytes>> = (0..KEYS).map(|_| args(&[b"XADD", b"events", b"*", b"f", b"v"])).collect();

    let mut group = c.benchmark_group("per command");
    group.throughput(criterion::Throughput::Elements(BATCH as u64));
    for (name, reqs) in
        [("GET", &get), ("INCR", &incr), ("XADD one stream", &xadd), ("EVALSHA", &evalsha), ("FCALL", &fcall)]
    {
        let mut at = 0;
        group.bench_function(name, |bench| {
            bench.iter_batched(
                || {
                    at = (at + BATCH) % (KEYS - BATCH);
                    at
                },
                |from| b.run(&reqs[from..from + BATCH]),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, rows);
criterion_main!(benches);
