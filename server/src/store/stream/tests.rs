use super::*;

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

fn filled(n: u64, limits: NodeLimits) -> Stream {
    let mut s = Stream::new();
    for i in 1..=n {
        s.append(id(i, 0), &[(b"f", b"v"), (b"g", format!("{i}").as_bytes())], limits);
    }
    s
}

fn ids(entries: &[EntryRef]) -> Vec<u64> {
    entries.iter().map(|e| e.id.ms).collect()
}

#[test]
fn ranges_both_ways_across_blocks() {
    let s = filled(25, NodeLimits { max_bytes: 4096, max_entries: 10 });
    assert_eq!((s.len(), s.block_count()), (25, 3));
    assert_eq!(ids(&s.range(id(9, 0), id(12, 0), false, 0)), [9, 10, 11, 12]);
    assert_eq!(ids(&s.range(id(9, 1), id(12, 0), true, 0)), [12, 11, 10]);
    assert_eq!(ids(&s.range(StreamId::MIN, StreamId::MAX, true, 2)), [25, 24]);
    assert_eq!(ids(&s.range(id(30, 0), StreamId::MAX, false, 0)), [] as [u64; 0]);
    assert_eq!(s.get(id(7, 0)).map(|e| e.fields[1].1.to_vec()), Some(b"7".to_vec()));
    assert_eq!((s.edge_id(false), s.edge_id(true)), (Some(id(1, 0)), Some(id(25, 0))));
}

#[test]
fn remove_and_trim() {
    let limits = NodeLimits { max_bytes: 0, max_entries: 10 };
    let mut s = filled(30, limits);
    assert!(s.remove(id(1, 0)) && !s.remove(id(1, 0)));
    assert_eq!(s.first_id, id(2, 0));
    assert_eq!(s.trim(TrimTo::MaxLen(25), true, 0), 0, "no whole block fits");
    assert_eq!(s.trim(TrimTo::MaxLen(20), true, 0), 9, "one whole block");
    assert_eq!(s.trim(TrimTo::MaxLen(15), false, 0), 5);
    assert_eq!((s.len(), s.first_id), (15, id(16, 0)));
    assert_eq!(s.trim(TrimTo::MinId(id(18, 0)), false, 0), 2);
    assert_eq!(s.trim(TrimTo::MinId(id(100, 0)), true, 5), 3, "the next block is over the limit");
    assert_eq!(s.trim(TrimTo::MinId(id(100, 0)), false, 0), 10);
    assert_eq!((s.len(), s.block_count(), s.first_id), (0, 0, StreamId::MIN));
    assert_eq!(s.last_id, id(30, 0));
}

#[test]
fn groups_track_pending() {
    let mut g = Group::new(StreamId::MIN, 0);
    g.consumer(b"a", 1);
    g.consumer(b"b", 1);
    g.deliver(id(1, 0), b"a", 5, 1);
    g.deliver(id(2, 0), b"a", 5, 1);
    g.deliver(id(1, 0), b"b", 6, 2);
    assert_eq!(g.consumers[&b"a"[..]].pel.len(), 1);
    assert_eq!(g.pel[&id(1, 0)].consumer, b"b");
    assert!(g.ack(id(2, 0)) && !g.ack(id(2, 0)));
    let mut s = Stream::new();
    s.append(id(1, 0), &[(b"f", b"v")], NodeLimits::default());
    assert_eq!(s.group_lag(&Group::new(id(1, 0), 3)), Some(-2), "a counter ahead of the stream");
    assert_eq!(g.delete_consumer(b"b"), Some(1));
    assert!(g.pel.is_empty());
}

/// Entries with their block's field names pack as IDs (deltas) and values only: the layout
/// keeps a 3-field entry under 30 bytes (redis-server 7.0 needs about 37 for the same).
#[test]
fn entries_pack_tightly() {
    let mut s = Stream::new();
    let pairs: &[(&[u8], &[u8])] = &[(b"field1", b"value1"), (b"field2", b"value2"), (b"field3", b"value3")];
    for i in 0..10_000u64 {
        s.append(id(1_700_000_000_000 + i / 50, i % 50), pairs, NodeLimits::default());
    }
    assert_eq!(s.block_count(), 100);
    let per_entry = s.heap_size() / 10_000;
    assert!(per_entry < 30, "{per_entry} bytes per entry");
}
