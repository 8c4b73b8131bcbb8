//! criterion benches for the pure protocol parts: request decoding (1000 pipelined SETs),
//! reply encoding (arrays of bulks in RESP2 and RESP3) and `key_hash_slot`.
//! Run with `make bench` (`cargo bench --bench protocol`).

use bytes::{Bytes, BytesMut};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use slotbox::protocol::{encode, key_hash_slot, Frame, Protocol, RequestDecoder};

/// 1000 pipelined `SET key:<n> <100-byte value>` requests, as redis-benchmark -P 1000 sends.
fn pipelined_sets() -> Vec<u8> {
    let value = "v".repeat(100);
    let mut buf = Vec::new();
    for i in 0..1000 {
        let key = format!("key:{i:012}");
        buf.extend_from_slice(
            format!("*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n", key.len(), value.len()).as_bytes(),
        );
    }
    buf
}

fn decode(c: &mut Criterion) {
    let input = pipelined_sets();
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("1000_pipelined_sets", |b| {
        b.iter(|| {
            let mut buf = BytesMut::from(&input[..]);
            let mut decoder = RequestDecoder::default();
            let mut n = 0;
            while let Some(args) = decoder.decode(&mut buf).expect("valid input") {
                n += args.len();
            }
            assert_eq!(n, 3000);
            black_box(n)
        })
    });
    group.finish();
}

fn encode_arrays(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    for (len, size) in [(10usize, 16usize), (100, 100), (1000, 10)] {
        let frame = Frame::Array((0..len).map(|i| Frame::Bulk(Bytes::from(format!("{i:0size$}")))).collect());
        let mut out = Vec::new();
        encode(&frame, Protocol::Resp2, &mut out);
        group.throughput(Throughput::Bytes(out.len() as u64));
        for proto in [Protocol::Resp2, Protocol::Resp3] {
            let id = BenchmarkId::new(format!("array_of_bulks_resp{}", proto.version()), format!("{len}x{size}B"));
            group.bench_with_input(id, &frame, |b, frame| {
                let mut out = Vec::with_capacity(64 * 1024);
                b.iter(|| {
                    out.clear();
                    encode(black_box(frame), proto, &mut out);
                    black_box(out.len())
                })
            });
        }
    }
    // A map with nulls and doubles: the shapes that differ between RESP2 and RESP3.
    let map = Frame::Map(
        (0..100)
            .map(|i| {
                (
                    Frame::Bulk(Bytes::from(format!("field:{i}"))),
                    if i % 2 == 0 { Frame::Double(i as f64 + 0.5) } else { Frame::Null },
                )
            })
            .collect(),
    );
    for proto in [Protocol::Resp2, Protocol::Resp3] {
        group.bench_function(format!("map_100_doubles_nulls_resp{}", proto.version()), |b| {
            let mut out = Vec::with_capacity(16 * 1024);
            b.iter(|| {
                out.clear();
                encode(black_box(&map), proto, &mut out);
                black_box(out.len())
            })
        });
    }
    group.finish();
}

fn hash_slot(c: &mut Criterion) {
    let long = "x".repeat(1024);
    let keys: [(&str, &[u8]); 4] = [
        ("short", b"key:000000001234"),
        ("long_1k", long.as_bytes()),
        ("tagged", b"{user1000}.following"),
        ("empty_tag", b"foo{}{bar}"),
    ];
    let mut group = c.benchmark_group("key_hash_slot");
    for (name, key) in keys {
        group.throughput(Throughput::Bytes(key.len() as u64));
        group.bench_with_input(name, key, |b, key| b.iter(|| key_hash_slot(black_box(key))));
    }
    group.finish();
}

criterion_group!(benches, decode, encode_arrays, hash_slot);
criterion_main!(benches);
